#include <string.h>

#include "serveopts.h"

int serve_opts_read(struct rd *r, unsigned minor, struct serve_opts *o)
{
	memset(o, 0, sizeof *o);
	if (rd_u64(r, &o->max_silent_time) < 0 || rd_u64(r, &o->build_timeout) < 0)
		return -1;
	if (minor >= 2 && rd_u64(r, &o->max_log_size) < 0)
		return -1;
	if (minor >= 3 && (rd_u64(r, &o->repeats) < 0 ||
			   rd_bool(r, &o->enforce_determinism, "enforce determinism") < 0))
		return -1;
	if (minor >= 7 && rd_u64(r, &o->keep_failed) < 0)
		return -1;
	return 0;
}

int serve_opts_write(struct wr *w, unsigned minor, const struct serve_opts *o)
{
	if (wr_u64(w, o->max_silent_time) < 0 || wr_u64(w, o->build_timeout) < 0)
		return -1;
	if (minor >= 2 && wr_u64(w, o->max_log_size) < 0)
		return -1;
	if (minor >= 3 && (wr_u64(w, o->repeats) < 0 || wr_u64(w, (uint64_t)o->enforce_determinism) < 0))
		return -1;
	if (minor >= 7 && wr_u64(w, o->keep_failed) < 0)
		return -1;
	return 0;
}
