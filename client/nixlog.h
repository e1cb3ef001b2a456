/* nixlog: words for the user of nix-build from the build hook before it
 * takes a build. The daemon passes lines in Nix's JSON log format on to its
 * client; plain lines stay in the daemon's own log. */
#ifndef NIXGATE_NIXLOG_H
#define NIXGATE_NIXLOG_H

enum { NIX_ERROR = 0, NIX_WARN = 1, NIX_NOTICE = 2, NIX_INFO = 3 };

void nix_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The build log once the hook has taken a build: the daemon reads this
 * descriptor as the builder's output. */
#define HOOK_LOG_FD 4
/* A line of progress there (stderr if it is closed). */
void nix_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
