/*
 * kcall.c - narration and teaching errors for every kernel call.
 *
 * This file and cli.c are the only parts of common/ that print: everything
 * a learner reads on stderr goes through here, so it all has one shape,
 *
 *	PROG: what we were doing: call(args) failed: ENAME (text); hint: ...
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hints.h"
#include "kcall.h"

const char *boxlab_prog = "boxlab";
int boxlab_verbose;

static void (*undo_fn)(void *);
static void *undo_arg;
static pid_t undo_pid;

void on_die(void (*undo)(void *), void *arg)
{
	undo_fn = undo;
	undo_arg = arg;
	undo_pid = getpid();
}

static void __attribute__((noreturn)) finish(int status)
{
	void (*undo)(void *) = undo_fn;

	fflush(NULL);
	/* Run the undo once, and never in a child that inherited it. */
	undo_fn = NULL;
	if (undo && undo_pid == getpid())
		undo(undo_arg);
	/*
	 * _exit, not exit: a child that fails inside the container must not
	 * run the parent's atexit handlers (or a sanitizer's leak check,
	 * which needs a /proc that the container may not have).
	 */
	_exit(status);
}

static void vprint(const char *prefix, const char *fmt, va_list ap)
{
	char line[4096];

	vsnprintf(line, sizeof(line), fmt, ap);
	/* One write, so lines from parent and child never interleave. */
	dprintf(STDERR_FILENO, "%s: %s%s\n", boxlab_prog, prefix, line);
}

/*
 * When the runtime started, for -v -v; a child inherits it.  The real-time
 * clock, because a time namespace moves the monotonic ones.
 */
static struct timespec started;

static void __attribute__((constructor)) note_start(void)
{
	clock_gettime(CLOCK_REALTIME, &started);
}

void narrate(const char *fmt, ...)
{
	struct timespec now;
	char when[32] = "";
	va_list ap;

	if (!boxlab_verbose)
		return;
	/* -v -v: each line says when its call returned, in ms since start. */
	if (boxlab_verbose > 1) {
		clock_gettime(CLOCK_REALTIME, &now);
		snprintf(when, sizeof(when), "%7.3f ms  ",
			 (double)(now.tv_sec - started.tv_sec) * 1e3 +
				 (double)(now.tv_nsec - started.tv_nsec) / 1e6);
	}
	va_start(ap, fmt);
	vprint(when, fmt, ap);
	va_end(ap);
}

void warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprint("warning: ", fmt, ap);
	va_end(ap);
}

void die_with(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprint("", fmt, ap);
	va_end(ap);
	finish(status);
}

void die(const char *fmt, ...)
{
	char line[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	die_with(EXIT_RUNTIME_FAILED, "%s", line);
}

void kcall_check(long ret, int err, int fatal, const char *call, const char *why, ...)
{
	const char *hint;
	char doing[1024];
	va_list ap;

	if (ret != -1 && !boxlab_verbose)
		return;
	va_start(ap, why);
	vsnprintf(doing, sizeof(doing), why, ap);
	va_end(ap);

	if (ret != -1) {
		narrate("%s: %s = %ld", doing, call, ret);
		return;
	}
	hint = hint_for(call, err);
	dprintf(STDERR_FILENO, "%s: cannot %s: %s failed: %s (%s)%s%s%s\n", boxlab_prog, doing,
		call, errno_name(err), strerror(err), hint ? "; hint: " : "", hint ? hint : "",
		fatal ? "" : ", ignoring");
	if (fatal)
		finish(EXIT_RUNTIME_FAILED);
}
