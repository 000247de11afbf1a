# A stand-in for nixpkgs with just what flake.nix uses, so that its outputs
# evaluate without fetching anything. It checks the flake's own logic (per
# system: packages, environment, Rust targets), not that nixpkgs or
# rust-overlay provide these attributes: only a real `nix develop` does.
{ system, overlays ? [ ] }:
let
  drv = name: { outPath = "/nix/store/stub-${name}"; inherit name; };
  cc = prefix: drv "${prefix}gcc-wrapper" // { targetPrefix = prefix; bintools = drv "${prefix}bintools-wrapper"; };
in
{
  lib = import ../lib.nix;
  rust-bin.fromRustupToolchainFile = file: {
    override = args: drv "rust" // { toolchainFile = builtins.fromTOML (builtins.readFile file); inherit args; };
  };
  stdenv.cc = cc "";
  pkgsCross.aarch64-multiplatform = {
    stdenv.cc = cc "aarch64-unknown-linux-gnu-";
    glibc.static = drv "glibc-aarch64-static";
  };
  glibc.static = drv "glibc-static";
  runCommand = name: env: script: drv name // { inherit script; };
  mkShell = attrs: drv "shell" // { shellAttrs = attrs; };
  python3.withPackages = f: drv "python3-with-${builtins.concatStringsSep "-" (map (p: p.name) (f { pip = drv "pip"; }))}";
  git = drv "git"; qemu-user = drv "qemu-user"; openssh = drv "openssh"; rsync = drv "rsync";
  hyperfine = drv "hyperfine"; docker-client = drv "docker-client"; debootstrap = drv "debootstrap";
  shellcheck = drv "shellcheck";
}
