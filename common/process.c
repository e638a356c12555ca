/*
 * process.c - starting, waiting for and exec'ing the container.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kcall.h"
#include "process.h"
#include "syscalls.h"

#define STACK_SIZE (1024 * 1024)

static char stack[STACK_SIZE] __attribute__((aligned(16)));

void *child_stack_top(void)
{
	return stack + sizeof(stack);
}

pid_t clone_into_cgroup(int (*fn)(void *), int flags, void *arg, int cgroup_fd)
{
	struct sys_clone_args args = {
		.flags = (uint64_t)(flags & ~0xff) | CLONE_INTO_CGROUP,
		.exit_signal = (uint64_t)(flags & 0xff), /* clone() keeps it in the low byte */
		.cgroup = (uint64_t)cgroup_fd,
	};
	long pid = sys_clone3(&args);

	if (pid == 0)
		_exit(fn(arg));
	return (pid_t)pid;
}

void require_root(const struct config *c, const char *why)
{
	if (geteuid() == 0)
		return;
	(void)c;
	die("must run as root: %s; try sudo (step 05, the user namespace, lifts this need)", why);
}

/* The first line of a sysctl file as a number, or -1 if it is not there. */
static long read_sysctl(const char *dir, const char *name)
{
	char path[PATH_MAX], text[32] = "";
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "re");
	if (!f)
		return -1;
	if (!fgets(text, sizeof(text), f))
		text[0] = '\0';
	fclose(f);
	return text[0] ? strtol(text, NULL, 10) : -1;
}

const char *userns_blocker(const char *sysctl_dir)
{
	/* Debian's and older Ubuntu's switch. */
	if (read_sysctl(sysctl_dir, "kernel/unprivileged_userns_clone") == 0)
		return "kernel.unprivileged_userns_clone = 0";
	if (read_sysctl(sysctl_dir, "user/max_user_namespaces") == 0)
		return "user.max_user_namespaces = 0";
	/*
	 * Ubuntu 23.10 and later: the user namespace is created, but AppArmor
	 * takes every capability away inside it, so the first mount fails.
	 */
	if (read_sysctl(sysctl_dir, "kernel/apparmor_restrict_unprivileged_userns") == 1)
		return "kernel.apparmor_restrict_unprivileged_userns = 1";
	return NULL;
}

void require_user_namespaces(const struct config *c)
{
	const char *blocker = c->rootless ? userns_blocker("/proc/sys") : NULL;

	if (blocker)
		kcall_fail(EXIT_RUNTIME_FAILED, 0, blocker, "run rootless");
}

static pid_t forward_to;

static void forward_signal(int sig)
{
	/* kill() is async-signal-safe; errno is restored for the waiter. */
	int saved = errno;

	kill(forward_to, sig);
	errno = saved;
}

static void forward_signals_to(pid_t pid)
{
	static const int forwarded[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
	struct sigaction sa;
	size_t i;

	forward_to = pid;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = forward_signal;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: waitpid() returns EINTR and simply waits again. */
	for (i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
		sigaction(forwarded[i], &sa, NULL);
}

int wait_for_container(struct config *c)
{
	pid_t pid = c->pid;
	int status;
	int sig;

	forward_signals_to(pid);
	narrate("waiting for the container (pid %d on the host); SIGINT, SIGTERM, SIGHUP and SIGQUIT go to it",
		pid);
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			kcall_fail(EXIT_RUNTIME_FAILED, errno, "waitpid(pid, &status, 0)",
				   "wait for the container (pid %d on the host)", pid);
	c->pid = 0;
	if (WIFEXITED(status)) {
		narrate("the container exited with status %d", WEXITSTATUS(status));
		c->status = WEXITSTATUS(status);
		return c->status;
	}
	sig = WTERMSIG(status);
	narrate("the container was killed by signal %d (SIG%s)", sig, sigabbrev_np(sig));
	c->status = 128 + sig;
	return c->status;
}

/*
 * Why COMMAND could not be exec'd, with the hint for the case: a path
 * that is in ROOTFS and still ENOENT means its interpreter is missing.
 */
static void __attribute__((noreturn)) explain_exec_failure(const struct config *c, int err)
{
	const char *cmd = c->argv[0], *what = c->from_image ? "image" : "ROOTFS";
	struct stat st;

	if (err == ENOENT && strchr(cmd, '/'))
		kcall_fail(EXIT_NOT_FOUND, err, "execvp(c->argv[0], c->argv)",
			   "run \"%s\", which is %sin %s \"%s\"", cmd,
			   stat(cmd, &st) == 0 ? "" : "not ", what, c->image);
	kcall_fail(err == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_EXECUTE, err,
		   "execvp(c->argv[0], c->argv)", "run \"%s\" from %s \"%s\"", cmd, what, c->image);
}

void exec_command(const struct config *c)
{
	const char *term = getenv("TERM");

	/*
	 * The container gets a small, known environment instead of the
	 * caller's: host variables (SSH_AUTH_SOCK, sudo's SUDO_*) mean
	 * nothing inside.
	 */
	clearenv();
	if (c->envp) {
		/* step 09: the image's, with -e; execvp() searches its PATH */
		char **e;

		for (e = c->envp; *e; e++)
			putenv(*e);
	} else {
		setenv("PATH", CONTAINER_PATH, 1);
		setenv("HOME", "/root", 1);
		setenv("TERM", term ? term : "xterm", 1);
	}
	/*
	 * Descriptors other than stdin, stdout and stderr would be doors to
	 * the host (an open directory leads out of any root), so they close
	 * on exec.  CLOSE_RANGE_CLOEXEC: Linux 5.11.
	 */
	close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
	narrate("execvp(\"%s\"): become the command", c->argv[0]);
	execvp(c->argv[0], c->argv);
	explain_exec_failure(c, errno);
}

/*
 * The paths in_proc(), in_rootfs() and in_state() make live in a few rotating
 * buffers, so that one call can name two of them.
 */
static char *next_path_buffer(void)
{
	static char buf[4][PATH_MAX];
	static unsigned int next;

	return buf[next++ % 4];
}

const char *in_proc(pid_t pid, const char *name)
{
	char *p = next_path_buffer();

	snprintf(p, PATH_MAX, "/proc/%d/%s", pid, name);
	return p;
}

void stop_container(void *arg)
{
	pid_t *pid = arg;

	if (*pid <= 0)
		return;
	kill(*pid, SIGKILL);
	while (waitpid(*pid, NULL, 0) == -1 && errno == EINTR)
		;
	*pid = 0;
}

const char *in_rootfs(const struct config *c, const char *path)
{
	char *p = next_path_buffer();

	snprintf(p, PATH_MAX, "%s%s", c->rootfs, path);
	return p;
}

const char *in_state(const struct config *c, const char *name)
{
	char *p = next_path_buffer();

	snprintf(p, PATH_MAX, "%s/%s", c->state, name);
	return p;
}

int make_dirs(const char *path, mode_t mode)
{
	char buf[PATH_MAX], *p;
	struct stat st;

	if (!path[0] || (size_t)snprintf(buf, sizeof(buf), "%s", path) >= sizeof(buf)) {
		errno = path[0] ? ENAMETOOLONG : ENOENT;
		return -1;
	}
	for (p = strchr(buf + 1, '/'); p; p = strchr(p + 1, '/')) {
		*p = '\0';
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(buf, mode) < 0 && errno != EEXIST)
		return -1;
	if (stat(path, &st) < 0)
		return -1;
	if (st.st_uid != geteuid()) {
		errno = EPERM;
		return -1;
	}
	return 0;
}

int create_file(const char *path, mode_t mode)
{
	int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, mode);

	return fd < 0 ? -1 : close(fd);
}

int write_file(const char *path, const char *fmt, ...)
{
	char text[4096];
	va_list ap;
	int fd, n, saved;

	va_start(ap, fmt);
	n = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(text)) {
		errno = EINVAL;
		return -1;
	}
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (write(fd, text, (size_t)n) != n) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return close(fd);
}
