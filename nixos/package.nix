# nixgate for nixpkgs' callPackage: both binaries static (musl), as the
# Makefile insists, with the manual pages.
{ lib, pkgsStatic, file }:

pkgsStatic.stdenv.mkDerivation {
  pname = "nixgate";
  version = "0.1";

  src = lib.cleanSource ./..;

  # the Makefile refuses binaries that are not static: it asks file(1)
  nativeBuildInputs = [ file ];
  buildInputs = [ pkgsStatic.libsodium pkgsStatic.libseccomp pkgsStatic.linuxHeaders ];

  makeFlags = [ "CC=${pkgsStatic.stdenv.cc.targetPrefix}cc" "PREFIX=$(out)" ];
  buildFlags = [ "build/nixgate-serve" "build/nixgate" "build/static-ok" ];
  installTargets = [ "install" ];

  meta = {
    description = "A Nix build host's SSH forced command with a policy per key, and its build hook";
    platforms = lib.platforms.linux;
    mainProgram = "nixgate";
  };
}
