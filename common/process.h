/*
 * process.h - the runtime's side of a container's life: starting the
 * child on its own stack, waiting for it while passing signals on, and
 * becoming COMMAND at the end of the child's setup.
 */
#ifndef BOXLAB_PROCESS_H
#define BOXLAB_PROCESS_H

#include <sys/types.h>

#include "cli.h"

/*
 * clone(2) runs the child on a stack the caller provides, and wants the
 * address of its top: stacks grow down on every architecture Linux runs
 * containers on.
 */
void *child_stack_top(void);

/*
 * Like clone(fn, stack, flags, arg), but the child is born in the cgroup
 * whose directory is cgroup_fd (clone3 with CLONE_INTO_CGROUP, Linux 5.7,
 * cgroup v2 only), so it never runs a moment outside it.  The child runs
 * fn(arg) on a copy of our stack, as after fork(), and exits with what it
 * returns.  -1 with errno (ENOSYS, E2BIG: an older kernel) otherwise.
 */
pid_t clone_into_cgroup(int (*fn)(void *), int flags, void *arg, int cgroup_fd);

/* Die with a clear line unless we are root; `why` says what needs it. */
void require_root(const struct config *c, const char *why);

/* The default PATH of docker and podman, and of most distributions. */
#define CONTAINER_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/*
 * The setting that makes this machine refuse user namespaces to
 * unprivileged users ("user.max_user_namespaces = 0"), read from the
 * sysctls under sysctl_dir ("/proc/sys"); NULL if nothing forbids them.
 * The fix is its row in the hint table.  Pure, so it can be tested on a
 * fake directory.
 */
const char *userns_blocker(const char *sysctl_dir);

/* Without root, die with the setting and its fix if user namespaces are off. */
void require_user_namespaces(const struct config *c);

/*
 * Wait for the container's first process, c->pid, passing SIGINT, SIGTERM,
 * SIGHUP and SIGQUIT on to it; once it is reaped, c->pid is 0.  Returns the
 * status the runtime should exit with: the command's own, or 128+N if
 * signal N killed it.
 */
int wait_for_container(struct config *c);

/*
 * The last thing the child does: give COMMAND a clean environment and
 * exec it.  Never returns: on failure it explains and exits 126 or 127.
 */
void exec_command(const struct config *c) __attribute__((noreturn));

/* "/proc/PID/name": a file about the container's process, seen from outside. */
const char *in_proc(pid_t pid, const char *name);

/*
 * An undo for on_die(): kill the container's process (a pid_t *) and reap
 * it.  Does nothing when the pid is 0: never started, or already reaped.
 */
void stop_container(void *pid);

/* ROOTFS + path, for mounting inside the rootfs from outside it. */
const char *in_rootfs(const struct config *c, const char *path);

/* The container's state dir + "/" + name: its overlay's dirs (step 08). */
const char *in_state(const struct config *c, const char *name);

/* mkdir -p, MODE for what it makes; EPERM if the last dir is not ours. */
int make_dirs(const char *path, mode_t mode);

/* Create an empty file, as touch(1) would (something to bind-mount over). */
int create_file(const char *path, mode_t mode);

/* printf into a file, as "echo ... > path" would.  -1 with errno. */
int write_file(const char *path, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
