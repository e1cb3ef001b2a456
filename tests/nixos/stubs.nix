# Declarations of the NixOS options nixos/module.nix sets, with the types
# NixOS gives them, so that lib.evalModules can evaluate the module offline
# (nixpkgs' own modules are not here, only its lib).
{ lib, ... }:
let
  inherit (lib) mkOption types;
  any = mkOption { type = types.anything; default = null; };
in
{
  options = {
    assertions = mkOption {
      type = types.listOf (types.submodule { options = { assertion = mkOption { type = types.bool; }; message = mkOption { type = types.str; }; }; });
      default = [ ];
    };
    warnings = mkOption { type = types.listOf types.str; default = [ ]; };
    users.users = mkOption {
      type = types.attrsOf (types.submodule {
        options = {
          isSystemUser = mkOption { type = types.bool; default = false; };
          group = mkOption { type = types.str; default = ""; };
          description = mkOption { type = types.str; default = ""; };
          home = mkOption { type = types.path; default = "/var/empty"; };
          createHome = mkOption { type = types.bool; default = false; };
          useDefaultShell = mkOption { type = types.bool; default = false; };
          openssh.authorizedKeys.keys = mkOption { type = types.listOf types.singleLineStr; default = [ ]; };
        };
      });
      default = { };
    };
    users.groups = mkOption { type = types.attrsOf (types.submodule { }); default = { }; };
    nix.package = mkOption { type = types.attrs; default = { pname = "nix"; version = "2.8.0"; }; };
    nix.buildMachines = mkOption { type = types.listOf types.attrs; default = [ ]; };
    nix.settings = mkOption {
      type = types.submodule {
        freeformType = types.attrsOf types.anything;
        options.trusted-users = mkOption { type = types.listOf types.str; default = [ "root" ]; };
      };
      default = { };
    };
    environment.etc = mkOption {
      type = types.attrsOf (types.submodule { options = { source = any; text = any; }; });
      default = { };
    };
    environment.systemPackages = mkOption { type = types.listOf types.package; default = [ ]; };
    systemd.tmpfiles.rules = mkOption { type = types.listOf types.str; default = [ ]; };
    services.openssh.enable = mkOption { type = types.bool; default = false; };
    services.openssh.extraConfig = mkOption { type = types.lines; default = ""; };
  };
}
