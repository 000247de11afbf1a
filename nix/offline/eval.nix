# flake.nix evaluated offline against stand-ins for its inputs:
#   nix-instantiate --eval --strict --json nix/offline/eval.nix
# Prints its inputs and, per system, the devShell's packages, environment and
# Rust toolchain (channel and components read from rust-toolchain.toml).
let
  flake = import ../../flake.nix;
  nixpkgs = { outPath = ./nixpkgs; lib = import ./lib.nix; };
  outputs = flake.outputs { self = { }; inherit nixpkgs; rust-overlay = { overlays.default = null; }; };
  show = shell: {
    packages = map (p: p.name) shell.shellAttrs.packages;
    env = removeAttrs shell.shellAttrs [ "packages" ];
    rust = (builtins.head shell.shellAttrs.packages).args // { file = (builtins.head shell.shellAttrs.packages).toolchainFile; };
  };
in
{
  inputs = builtins.mapAttrs (n: i: i.url) flake.inputs;
  outputs = builtins.attrNames outputs;
  devShells = builtins.mapAttrs (system: shells: builtins.mapAttrs (n: show) shells) outputs.devShells;
}
