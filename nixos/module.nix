# services.nixgate: a NixOS build host whose SSH keys each get a nixgate-serve
# forced command and a policy, and (client) nixgate's build hook for the
# machines that send builds.
#
# Coming from nix.sshServe: each of its keys becomes one entry of
# services.nixgate.keys. `write = false` is `allow = [ "query" "export" ]`;
# `write = true` with the nix-ssh user in trusted-users is `trusted = true`
# (all four operations, as before); a key that needs less gets an untrusted
# policy (the default): signed or content-addressed imports and builds of
# derivations by path. protocol = "ssh-ng" needs no counterpart: the same
# forced command serves ssh:// and ssh-ng:// stores, told apart by the
# command the client sends.
{ config, lib, pkgs, ... }:

let
  inherit (lib) mkOption mkEnableOption mkIf types concatStringsSep concatMapStrings
    mapAttrsToList optional optionalString filterAttrs attrNames;

  cfg = config.services.nixgate;

  # What the policy file, sshd and nixgate-serve all accept as a key's name:
  # it names a section, the slot files and the audit lines.
  keyName = "[A-Za-z0-9._@+-]{1,64}";
  size = types.either types.ints.positive (types.strMatching "[0-9]+[KMGT]?|none");
  duration = types.either types.ints.positive (types.strMatching "[0-9]+[smhd]?|none");
  count = types.nullOr (types.ints.between 1 256);
  ops = [ "query" "export" "import" "build" ];

  keyOptions = { name, ... }: {
    options = {
      publicKey = mkOption {
        type = types.nullOr types.str;
        default = null;
        example = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA... root@laptop";
        description = "The client's SSH public key (this or `publicKeyFile`).";
      };
      publicKeyFile = mkOption {
        type = types.nullOr types.path;
        default = null;
        description = "A file holding the client's SSH public key, read at evaluation time.";
      };
      trusted = mkOption {
        type = types.bool;
        default = false;
        description = ''
          Like a Nix trusted user: the key may import unsigned input-addressed paths and
          build any derivation with the outputs its client claims. A key that is not
          trusted may import content-addressed paths and paths signed by one of its
          `trustedPublicKeys`, and build derivations by path.
        '';
      };
      allow = mkOption {
        type = types.listOf (types.enum ops);
        default = ops;
        description = ''
          The operations the key may use. `[ "query" "export" ]` is what
          `nix.sshServe` with `write = false` gave.
        '';
      };
      systems = mkOption {
        type = types.nullOr (types.listOf types.str);
        default = null;
        example = [ "x86_64-linux" ];
        description = "The systems a build may be for, its inputs included; null: any.";
      };
      features = mkOption {
        type = types.nullOr (types.listOf types.str);
        default = null;
        example = [ "big-parallel" ];
        description = "The requiredSystemFeatures a build may ask for; null: any, [ ]: none.";
      };
      maxNarSize = mkOption {
        type = types.nullOr size;
        default = null;
        example = "4G";
        description = "Largest NAR accepted on import (bytes, or K/M/G/T). null: nixgate's default (4G untrusted, none trusted).";
      };
      maxBuildTime = mkOption {
        type = types.nullOr duration;
        default = null;
        example = "2h";
        description = "Cap on a build's time (seconds, or s/m/h/d). null: nixgate's default (10h untrusted).";
      };
      maxSilentTime = mkOption {
        type = types.nullOr duration;
        default = null;
        description = "Cap on a build's time without output. null: nixgate's default (2h untrusted).";
      };
      maxLogSize = mkOption {
        type = types.nullOr size;
        default = null;
        description = "Cap on a build's log size.";
      };
      maxJobs = mkOption {
        type = count;
        default = null;
        description = "Builds this key runs at once, across its sessions.";
      };
      maxSessions = mkOption {
        type = count;
        default = null;
        description = "Sessions this key has open at once.";
      };
      idleTimeout = mkOption {
        type = types.nullOr duration;
        default = null;
        description = "How long a session may move no byte (nixgate's default: 10m).";
      };
      substitute = mkOption {
        type = types.bool;
        default = true;
        description = "Whether the host substitutes when the client asks it to (builders-use-substitutes).";
      };
      trustedPublicKeys = mkOption {
        type = types.listOf types.str;
        default = [ ];
        example = [ "laptop-1:H7vJwcRAr64va2fujVmSXbICbxPGw5xSZQjW6jOxSrg=" ];
        description = "Nix signing keys (name:base64) whose signatures make an import acceptable.";
      };
      from = mkOption {
        type = types.listOf types.str;
        default = [ ];
        example = [ "10.0.0.0/8" ];
        description = "sshd's `from=` patterns: where the key may connect from; [ ]: anywhere.";
      };
    };
  };

  value = v: if builtins.isInt v then toString v else v;

  # One [key NAME] section: only what the key sets, so nixgate's defaults
  # (and --check-policy's report of them) stay the ones that apply.
  section = name: k: concatStringsSep "\n" ([ "[key ${name}]" ]
    ++ optional k.trusted "trusted = true"
    ++ optional (k.allow != ops) "allow = ${concatStringsSep ", " k.allow}"
    ++ optional (k.systems != null) "systems = ${concatStringsSep " " k.systems}"
    ++ optional (k.features != null) "features = ${concatStringsSep " " k.features}"
    ++ optional (k.maxNarSize != null) "max-nar-size = ${value k.maxNarSize}"
    ++ optional (k.maxBuildTime != null) "max-build-time = ${value k.maxBuildTime}"
    ++ optional (k.maxSilentTime != null) "max-silent-time = ${value k.maxSilentTime}"
    ++ optional (k.maxLogSize != null) "max-log-size = ${value k.maxLogSize}"
    ++ optional (!k.substitute) "substitute = false"
    ++ optional (k.trustedPublicKeys != [ ]) "trusted-public-keys = ${concatStringsSep " " k.trustedPublicKeys}"
    ++ optional (k.maxJobs != null) "max-jobs = ${toString k.maxJobs}"
    ++ optional (k.maxSessions != null) "max-sessions = ${toString k.maxSessions}"
    ++ optional (k.idleTimeout != null) "idle-timeout = ${value k.idleTimeout}") + "\n";

  policyText = concatStringsSep "\n" ([
    (''
      # generated by the NixOS module services.nixgate
      audit-log = ${cfg.auditLog}
      state-dir = ${cfg.stateDir}
    '' + optionalString (cfg.hostMaxJobs != null) "host-max-jobs = ${toString cfg.hostMaxJobs}\n")
  ] ++ mapAttrsToList section cfg.keys);

  # Checked at build time by the nixgate-serve that will read it: a file it
  # would refuse never reaches /etc.
  policyFile = let text = pkgs.writeText "nixgate-policy.conf" policyText; in
    pkgs.runCommand "nixgate-policy.conf" { } ''
      if ! ${cfg.package}/bin/nixgate-serve --check-policy ${text} >&2; then exit 1; fi
      cp ${text} $out
    '';

  publicKey = k: if k.publicKey != null then k.publicKey else lib.fileContents k.publicKeyFile;

  authorizedKey = name: k:
    "restrict,"
    + optionalString (k.from != [ ]) "from=\"${concatStringsSep "," k.from}\","
    + "command=\"${cfg.package}/bin/nixgate-serve --policy ${cfg.policyPath} --key ${name}\" ${publicKey k}";

  badNames = lib.filter (n: builtins.match keyName n == null) (attrNames cfg.keys);
  keyProblems = lib.concatLists (mapAttrsToList (name: k:
    optional ((k.publicKey == null) == (k.publicKeyFile == null))
      "services.nixgate.keys.${name}: set one of publicKey and publicKeyFile"
    ++ optional (k.publicKey != null && builtins.match "(ssh|ecdsa|sk)-[^ ]+ [A-Za-z0-9+/=]+( .*)?" k.publicKey == null)
      "services.nixgate.keys.${name}.publicKey: an SSH public key is written 'TYPE BASE64 [COMMENT]', on one line"
    ++ optional (lib.any (f: builtins.match "[^\",[:space:]]+" f == null) k.from)
      "services.nixgate.keys.${name}.from: sshd patterns without spaces, commas or quotes"
    ++ optional (k.allow == [ ])
      "services.nixgate.keys.${name}.allow: an empty list allows nothing; remove the key instead"
    ++ optional (k.trusted && k.trustedPublicKeys != [ ])
      "services.nixgate.keys.${name}: a trusted key imports unsigned paths anyway; trustedPublicKeys are for untrusted keys"
  ) cfg.keys);

  nixName = lib.toLower (config.nix.package.pname or (lib.getName config.nix.package));
  nixVersion = config.nix.package.version or (lib.getVersion config.nix.package);
in
{
  options.services.nixgate = {
    enable = mkEnableOption "nixgate-serve as the forced command of this build host's SSH keys";

    package = mkOption {
      type = types.package;
      default = pkgs.callPackage ./package.nix { };
      defaultText = lib.literalExpression "pkgs.callPackage ./package.nix { }";
      description = "The nixgate package (nixgate-serve, nixgate, nixgate-build-hook).";
    };

    user = mkOption {
      type = types.str;
      default = "nixgate";
      description = ''
        The user the clients log in as. It gets a real login shell, since sshd runs
        each key's `command=` through it, and is put in `nix.settings.trusted-users`:
        the daemon trusts it because nixgate-serve, the only thing it runs, applies
        each key's policy before a request reaches the daemon.
      '';
    };

    group = mkOption {
      type = types.str;
      default = "nixgate";
      description = "The group of `user`.";
    };

    auditLog = mkOption {
      type = types.str;
      default = "syslog";
      example = "/var/log/nixgate/audit.log";
      description = "Where the audit lines go: syslog, none, or an absolute file path (its directory is made for `user`).";
    };

    stateDir = mkOption {
      type = types.str;
      default = "/var/lib/nixgate";
      description = "Where the slot lock files live; made for `user`, and its home.";
    };

    hostMaxJobs = mkOption {
      type = count;
      default = null;
      description = "Builds all keys run at once; null: no limit.";
    };

    policyPath = mkOption {
      type = types.str;
      default = "/etc/nixgate/policy.conf";
      readOnly = true;
      description = "Where the generated policy file is installed.";
    };

    policyFile = mkOption {
      type = types.package;
      readOnly = true;
      default = policyFile;
      defaultText = lib.literalMD "the policy file, checked with `nixgate-serve --check-policy`";
      description = "The generated policy file, checked at build time.";
    };

    keys = mkOption {
      type = types.attrsOf (types.submodule keyOptions);
      default = { };
      example = lib.literalExpression ''
        {
          laptop = { publicKey = "ssh-ed25519 AAAA... root@laptop"; trustedPublicKeys = [ "laptop-1:..." ]; };
          ci = { publicKeyFile = ./ci.pub; allow = [ "query" "export" "build" ]; systems = [ "x86_64-linux" ]; maxJobs = 2; };
        }
      '';
      description = ''
        One entry per client SSH key: its line in `user`'s authorized keys
        (`restrict,command="nixgate-serve --policy ... --key NAME"`) and its
        `[key NAME]` section in the policy file.
      '';
    };

    client = {
      enable = mkEnableOption "nixgate's build hook for this machine's nix-daemon, building on `nix.buildMachines`";
    };
  };

  config = lib.mkMerge [
    (mkIf cfg.enable {
      assertions = map (n: {
        assertion = false;
        message = "services.nixgate.keys.${n}: a key name is up to 64 letters, digits and ._@+- (it names the policy section, the slot files and the audit lines)";
      }) badNames
      ++ map (m: { assertion = false; message = m; }) keyProblems
      ++ [
        {
          assertion = cfg.auditLog == "syslog" || cfg.auditLog == "none" || lib.hasPrefix "/" cfg.auditLog;
          message = "services.nixgate.auditLog: syslog, none or an absolute path, not '${cfg.auditLog}'";
        }
        {
          assertion = lib.hasPrefix "/" cfg.stateDir;
          message = "services.nixgate.stateDir: an absolute path, not '${cfg.stateDir}'";
        }
      ];

      users.users.${cfg.user} = {
        isSystemUser = true;
        group = cfg.group;
        description = "nixgate build host clients";
        home = cfg.stateDir;
        createHome = true;
        useDefaultShell = true;
        openssh.authorizedKeys.keys = mapAttrsToList authorizedKey cfg.keys;
      };
      users.groups.${cfg.group} = { };

      # root too: a definition replaces NixOS's default [ "root" ] where it
      # is the only one
      nix.settings.trusted-users = [ "root" cfg.user ];

      environment.etc."nixgate/policy.conf".source = policyFile;

      systemd.tmpfiles.rules = [ "d ${cfg.stateDir} 0750 ${cfg.user} ${cfg.group} -" ]
        ++ optional (lib.hasPrefix "/" cfg.auditLog)
          "d ${dirOf cfg.auditLog} 0750 ${cfg.user} ${cfg.group} -";

      services.openssh.enable = true;
      # command= of each key decides what runs; a session gets nothing else.
      services.openssh.extraConfig = ''
        Match User ${cfg.user}
          DisableForwarding yes
          AllowAgentForwarding no
          AllowTcpForwarding no
          AllowStreamLocalForwarding no
          PermitTTY no
          PermitTunnel no
          PermitUserRC no
          X11Forwarding no
        Match All
      '';
    })

    (mkIf cfg.client.enable {
      assertions = [{
        assertion = !(lib.hasInfix "lix" nixName);
        message = "services.nixgate.client: Lix's build hook protocol differs from Nix's; nixgate's hook speaks Nix's. Use nix.package = pkgs.nix, or leave the client part off.";
      }];
      warnings = optional (lib.versionOlder nixVersion "2.8" || lib.versionOlder "2.34.99" nixVersion)
        "services.nixgate.client: nixgate's build hook is tested with Nix 2.8 to 2.34, and nix.package is ${nixVersion}; a Nix that ignores build-hook in nix.conf builds with its own hook. Check with: nix show-config | grep build-hook"
        ++ optional (config.nix.buildMachines == [ ])
        "services.nixgate.client: nix.buildMachines is empty: the hook has no builder to choose";
      nix.settings.build-hook = "${cfg.package}/bin/nixgate-build-hook";
      environment.systemPackages = [ cfg.package ];
    })
  ];
}
