/* err: the one error a library call reports back to main or the top loop. */
#ifndef NIXGATE_ERR_H
#define NIXGATE_ERR_H

/* Exit statuses, as TinySSH uses them: a refusal of the peer's input, or a
 * failure of this system (I/O, daemon, memory). */
#define EXIT_REFUSED 100
#define EXIT_SYSTEM 111

/* Record an error and return -1, so callers can write `return fail(...)`. */
int fail(int kind, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Like fail, with strerror(errno) appended. */
int fail_sys(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
const char *err_msg(void);
int err_kind(void);
void err_clear(void);

#endif
