/*
 * kcall.h - the one way boxlab makes a kernel call.
 *
 * Every step wraps its kernel calls in KCALL():
 *
 *	KCALL(chroot(c->rootfs), "enter %s as the new root", c->rootfs);
 *
 * On success, and only under -v, it narrates the call as written in the
 * source with the reason in words.  On failure it prints one sentence --
 * what we were doing, the call, the errno name, a hint -- and ends the
 * program with status 125 (the runtime failed, not the command).
 *
 * A failure that the runtime can live with goes through KCALL_TOLERATED(),
 * which says ", ignoring" instead of dying.
 */
#ifndef BOXLAB_KCALL_H
#define BOXLAB_KCALL_H

#include <errno.h>
#include <stdarg.h>

/* Exit statuses of the runtime itself (the conventions of docker and podman). */
enum {
	EXIT_RUNTIME_FAILED = 125, /* boxlab could not start the container */
	EXIT_CANNOT_EXECUTE = 126, /* COMMAND exists but cannot be executed */
	EXIT_NOT_FOUND = 127, /* COMMAND does not exist in the rootfs */
};

/* Set once from the command line; read by the narration. */
extern const char *boxlab_prog; /* "step04-mount-ns" */
extern int boxlab_verbose; /* -v */

/*
 * GCC and clang statement expressions ("({ ... })") let the macro evaluate
 * to the call's own return value, so it can wrap clone() or open() too.
 * errno is saved before anything else can change it.
 */
#define KCALL(call, ...)                                                      \
	({                                                                    \
		long kcall_ret_ = (long)(call);                               \
		int kcall_errno_ = errno;                                     \
		kcall_check(kcall_ret_, kcall_errno_, 1, #call, __VA_ARGS__); \
		kcall_ret_;                                                   \
	})

#define KCALL_TOLERATED(call, ...)                                            \
	({                                                                    \
		long kcall_ret_ = (long)(call);                               \
		int kcall_errno_ = errno;                                     \
		kcall_check(kcall_ret_, kcall_errno_, 0, #call, __VA_ARGS__); \
		kcall_ret_;                                                   \
	})

void kcall_check(long ret, int err, int fatal, const char *call, const char *why, ...)
	__attribute__((format(printf, 5, 6)));

/*
 * The failure line of a call that could not go through KCALL, with its
 * hint from the same table, then exit with status: exec_command() exits
 * 126 or 127, not 125.  With err 0, `call` is a setting of the machine
 * that forbids what we were doing ("user.max_user_namespaces = 0").
 */
void kcall_fail(int status, int err, const char *call, const char *why, ...)
	__attribute__((format(printf, 4, 5), noreturn));

/*
 * A helper of common/ never prints; what it wants a learner to know
 * (which v1 file a v2 limit went to) it leaves here, and the narration
 * of the KCALL around it ends with it, under -v.
 */
void kcall_detail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A line of narration under -v: what the runtime is about to do. */
void narrate(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Print "PROG: message" and exit with status (125 unless told otherwise). */
void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void die_with(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));
/* A warning that does not stop the runtime. */
void warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * The parent registers what must be undone if it dies half-way (kill the
 * child, unmount, remove cgroups).  die() runs it, but only in the process
 * that registered it: a child that fails inside the container just exits.
 */
void on_die(void (*undo)(void *), void *arg);

#endif
