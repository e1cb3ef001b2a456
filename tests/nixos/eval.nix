# The module evaluated with lib.evalModules, the stubs and the test's own
# configuration, and what the tests compare: failed assertions abort the
# evaluation as NixOS's system.build.toplevel does.
{ lib, config, package }:
let
  # the few packages the module uses: the checked policy file is a real
  # derivation the bed's Nix builds (sandbox off, so /bin/sh and cp)
  pkgs = {
    writeText = name: text: builtins.toFile name text;
    runCommand = name: env: script: derivation (env // {
      inherit name;
      system = builtins.currentSystem;
      builder = "/bin/sh";
      args = [ "-c" "set -e; PATH=/usr/bin:/bin\n${script}" ];
    });
    callPackage = throw "the tests set services.nixgate.package";
  };
  ev = lib.evalModules {
    modules = [ ../../nixos/module.nix ./stubs.nix config { _module.args.pkgs = pkgs; services.nixgate.package = package; } ];
  };
  c = ev.config;
  failed = map (a: a.message) (lib.filter (a: !a.assertion) c.assertions);
  ok = if failed == [ ] then c else throw "\nFailed assertions:\n${lib.concatMapStrings (m: "- ${m}\n") failed}";
  user = ok.services.nixgate.user;
in
{
  authorizedKeys = lib.concatMapStrings (l: l + "\n") ok.users.users.${user}.openssh.authorizedKeys.keys;
  sshd = ok.services.openssh.extraConfig;
  inherit (ok) warnings;
  trustedUsers = ok.nix.settings.trusted-users;
  buildHook = ok.nix.settings.build-hook or null;
  shell = ok.users.users.${user}.useDefaultShell;
  tmpfiles = ok.systemd.tmpfiles.rules;
  policyDrv = ok.environment.etc."nixgate/policy.conf".source.drvPath;
  policy = ok.environment.etc."nixgate/policy.conf".source;
}
