/* parser: the process that reads the client. It holds the client's input,
 * its channel to the monitor and stderr, nothing else (no daemon socket,
 * audit log, spool or slot file). It reads each request whole with the same
 * bounded readers as the monitor, checks every NAR it carries (structure,
 * size, hash, content address), and forwards what it read (the tee), so a
 * bug here can reach the monitor's checks but never the daemon. */
#ifndef NIXGATE_PARSER_H
#define NIXGATE_PARSER_H

#include "import.h"
#include "serve.h"

/* The request's parse, for the command table: reads it whole from s->in. */
int parse_query_valid(struct serve *s);
int parse_query_infos(struct serve *s);
int parse_dump_path(struct serve *s);
int parse_export_paths(struct serve *s);
int parse_build_paths(struct serve *s);
int parse_query_closure(struct serve *s);
int parse_build_derivation(struct serve *s);
int parse_nothing(struct serve *s);
/* Imports (upload.c): metadata, the monitor's go-ahead, the NAR checked. */
int parse_add_to_store_nar(struct serve *s);
int parse_import_paths(struct serve *s);
/* An import's NAR (a->nar_size bytes of r) checked as it passes on to the
 * monitor (r's tee); -1 with the refusal. */
int upload_nar(struct serve *s, struct rd *r, const struct addinfo *a);
/* The parser's word that what it forwarded passed its checks. */
int vouch(struct serve *s);

/* Waits for the monitor's go-ahead: 0 go, 1 the monitor has ended the
 * session, -1 on an error. */
int parser_wait(struct serve *s);
/* The handshake and the requests until the client ends the session: 0, or
 * -1 on an error (err.h holds it, s->req.rule names a refusal's rule). */
int parser_run(struct serve *s);

#endif
