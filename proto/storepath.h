/* storepath: /nix/store/<32 base32 chars>-<name>, and the path[!outputs]
 * form of build requests. */
#ifndef NIXGATE_STOREPATH_H
#define NIXGATE_STOREPATH_H

#include <stddef.h>

#define STORE_DIR "/nix/store"
#define STORE_HASH_CHARS 32
#define STORE_NAME_MAX 211
/* STORE_DIR "/" hash "-" name */
#define STORE_PATH_MAX (sizeof STORE_DIR + STORE_HASH_CHARS + 1 + STORE_NAME_MAX)
/* path!out1,out2,...: outputs are names too; a handful is the norm. */
#define PATH_OUTPUTS_MAX (STORE_PATH_MAX + 1 + 4096)

/* 0 if s is a valid store path; otherwise -1 with fail() naming what. */
int storepath_check(const char *s, size_t len, int kind, const char *what);
int storename_check(const char *s, size_t len);
/* The name part of a valid store path. */
const char *storepath_name(const char *path);
/* 1 if the valid store path's name ends in ".drv". */
int storepath_is_drv(const char *path);
/* path or path!out[,out...] or path!* */
int path_outputs_check(const char *s, size_t len, int kind);

#endif
