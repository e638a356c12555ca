/*
 * kcall.c - narration and teaching errors for every kernel call.
 *
 * Everything a learner reads on stderr goes through here, so a failure has
 * one shape wherever it happens,
 *
 *	PROG: cannot WHAT WE WERE DOING: call(args) failed: ENAME (text); hint: ...
 *
 * and its hint comes from one table (hints.c).  The rest of common/ never
 * prints: it returns results and errno, and at most leaves a detail for
 * the narration of the call that wraps it (kcall_detail).
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

/* What a helper inside the current call had to say, for its narration. */
static char detail[512];

void kcall_detail(const char *fmt, ...)
{
	size_t n = strlen(detail);
	va_list ap;

	if (!boxlab_verbose)
		return;
	if (n && n < sizeof(detail) - 2) {
		strcpy(detail + n, "; ");
		n += 2;
	}
	va_start(ap, fmt);
	vsnprintf(detail + n, sizeof(detail) - n, fmt, ap);
	va_end(ap);
}

/*
 * The one failure line.  err 0 means no call failed: `call` is then a
 * setting of the machine that forbids what we were doing.
 */
static void print_failure(const char *doing, const char *call, int err, const char *tail)
{
	const char *hint = hint_for(call, doing, err);
	char failed[1024] = "";

	if (err)
		snprintf(failed, sizeof(failed), " failed: %s (%s)", errno_name(err),
			 strerror(err));
	dprintf(STDERR_FILENO, "%s: cannot %s: %s%s%s%s%s\n", boxlab_prog, doing, call, failed,
		hint ? "; hint: " : "", hint ? hint : "", tail);
}

void kcall_check(long ret, int err, int fatal, const char *call, const char *why, ...)
{
	char doing[1024];
	va_list ap;

	if (ret != -1 && !boxlab_verbose) {
		detail[0] = '\0';
		return;
	}
	va_start(ap, why);
	vsnprintf(doing, sizeof(doing), why, ap);
	va_end(ap);

	if (ret != -1)
		narrate("%s: %s = %ld%s%s%s", doing, call, ret, detail[0] ? " (" : "", detail,
			detail[0] ? ")" : "");
	else
		print_failure(doing, call, err, fatal ? "" : ", ignoring");
	detail[0] = '\0';
	if (ret == -1 && fatal)
		finish(EXIT_RUNTIME_FAILED);
}

void kcall_fail(int status, int err, const char *call, const char *why, ...)
{
	char doing[1024];
	va_list ap;

	va_start(ap, why);
	vsnprintf(doing, sizeof(doing), why, ap);
	va_end(ap);
	print_failure(doing, call, err, "");
	finish(status);
}
