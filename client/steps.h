/* steps: where one hook run's time goes, step by step (NIXGATE_HOOK_TIMES),
 * so that the next thing to cut shows in the build log. */
#ifndef NIXGATE_STEPS_H
#define NIXGATE_STEPS_H

#define STEPS_MAX 16

/* The clock starts, the steps so far forgotten. */
void steps_start(void);
/* The time since the last mark (or the start) is step name's; a name
 * marked again adds up. */
void steps_mark(const char *name);
/* "name ms, name ms, ..., total ms" */
const char *steps_text(void);

#endif
