# The few nixpkgs.lib functions flake.nix uses, from builtins.
{
  genAttrs = names: f: builtins.listToAttrs (map (n: { name = n; value = f n; }) names);
  optionalAttrs = c: a: if c then a else { };
  concatStringsSep = builtins.concatStringsSep;
}
