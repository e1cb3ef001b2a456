/* serveproto: the numbers of the serve protocol (nix-store --serve), which
 * the server, the build hook and nixgate ping all speak. */
#ifndef NIXGATE_SERVEPROTO_H
#define NIXGATE_SERVEPROTO_H

#define SERVE_MAGIC_1 0x390c9deb
#define SERVE_MAGIC_2 0x5452eecb
#define SERVE_VERSION 0x208   /* 2.8: Nix 2.35 and later; each side uses the lower */
#define EXPORT_MAGIC 0x4558494e

enum {
	CMD_QUERY_VALID_PATHS = 1, CMD_QUERY_PATH_INFOS, CMD_DUMP_STORE_PATH, CMD_IMPORT_PATHS,
	CMD_EXPORT_PATHS, CMD_BUILD_PATHS, CMD_QUERY_CLOSURE, CMD_BUILD_DERIVATION, CMD_ADD_TO_STORE_NAR
};

/* nixgate's extension: the key's policy as the host applies it, as
 * name/value strings. nix-store ends the session at this unknown command,
 * which is how a client tells the two apart. */
#define CMD_NIXGATE_INFO 0x6e676901

#endif
