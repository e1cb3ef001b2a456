#include <stdio.h>
#include <string.h>
#include <time.h>

#include "steps.h"

static struct {
	const char *name;
	double ms;
} step[STEPS_MAX];
static unsigned nstep;
static double t0, last;

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1000 + (double)t.tv_nsec / 1e6;
}

void steps_start(void)
{
	nstep = 0;
	t0 = last = now_ms();
}

void steps_mark(const char *name)
{
	double t = now_ms();
	unsigned i;

	for (i = 0; i < nstep && strcmp(step[i].name, name); i++)
		;
	if (i == nstep && nstep < STEPS_MAX) {
		step[nstep].name = name;
		step[nstep++].ms = 0;
	}
	if (i < nstep)
		step[i].ms += t - last;
	last = t;
}

const char *steps_text(void)
{
	static char text[STEPS_MAX * 48 + 32];
	size_t n = 0;
	unsigned i;

	text[0] = 0;
	for (i = 0; i < nstep; i++)
		n += (size_t)snprintf(text + n, sizeof text - n, "%s %.1f, ", step[i].name, step[i].ms);
	snprintf(text + n, sizeof text - n, "total %.1f", last - t0);
	return text;
}
