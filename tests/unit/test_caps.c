/*
 * test_caps.c - cmocka tests of common/caps.c and common/seccomp/filter.c:
 * capability names both ways, --cap-add and --cap-drop resolved as
 * docker resolves them, the set as text; and the seccomp filter, loaded
 * in a child process, answering each kind of call as the kit promises.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/capability.h>

#include <cmocka.h>

#include "caps.h"
#include "seccomp/filter.h"
#include "syscalls.h"

static void test_names(void **state)
{
	(void)state;
	assert_int_equal(cap_from_name("CAP_SYS_ADMIN"), CAP_SYS_ADMIN);
	assert_int_equal(cap_from_name("SYS_ADMIN"), CAP_SYS_ADMIN);
	assert_int_equal(cap_from_name("sys_admin"), CAP_SYS_ADMIN);
	assert_int_equal(cap_from_name("cap_chown"), CAP_CHOWN);
	assert_int_equal(cap_from_name("CHECKPOINT_RESTORE"), CAP_CHECKPOINT_RESTORE);
	assert_int_equal(cap_from_name("SYS_ADMINN"), -1);
	assert_int_equal(cap_from_name(""), -1);
	assert_string_equal(cap_name(CAP_NET_RAW), "CAP_NET_RAW");
	assert_true(caps_last() >= CAP_BPF);
}

/* docker's default, as /proc/PID/status prints it */
static void test_default(void **state)
{
	char buf[512];

	(void)state;
	assert_int_equal(caps_default, 0xa80425fb);
	assert_string_equal(caps_text(caps_default, buf, sizeof(buf)),
			    "CHOWN,DAC_OVERRIDE,FOWNER,FSETID,KILL,SETGID,SETUID,SETPCAP,"
			    "NET_BIND_SERVICE,NET_RAW,SYS_CHROOT,MKNOD,AUDIT_WRITE,SETFCAP");
	assert_string_equal(caps_text(0, buf, sizeof(buf)), "none");
}

static void test_resolve(void **state)
{
	const char *all[] = { "ALL" }, *admin[] = { "SYS_ADMIN" }, *two[] = { "cap_kill,NET_RAW" };
	const char *chown_[] = { "CHOWN" };
	char err[256];
	uint64_t set;

	(void)state;
	assert_int_equal(caps_resolve(&set, NULL, 0, NULL, 0, err, sizeof(err)), 0);
	assert_int_equal(set, caps_default);
	assert_int_equal(caps_resolve(&set, NULL, 0, all, 1, err, sizeof(err)), 0);
	assert_int_equal(set, 0);
	assert_int_equal(caps_resolve(&set, admin, 1, NULL, 0, err, sizeof(err)), 0);
	assert_int_equal(set, caps_default | CAP_BIT(CAP_SYS_ADMIN));
	assert_int_equal(caps_resolve(&set, two, 1, all, 1, err, sizeof(err)), 0);
	assert_int_equal(set, CAP_BIT(CAP_KILL) | CAP_BIT(CAP_NET_RAW));
	/* drops first, then adds: an add wins */
	assert_int_equal(caps_resolve(&set, chown_, 1, chown_, 1, err, sizeof(err)), 0);
	assert_int_equal(set, caps_default);
	assert_int_equal(caps_resolve(&set, all, 1, NULL, 0, err, sizeof(err)), 0);
	assert_true(set & CAP_BIT(CAP_CHECKPOINT_RESTORE));
	/* docker's rule: with ALL added, the ones dropped stay out */
	assert_int_equal(caps_resolve(&set, all, 1, admin, 1, err, sizeof(err)), 0);
	assert_true(set & CAP_BIT(CAP_CHECKPOINT_RESTORE));
	assert_false(set & CAP_BIT(CAP_SYS_ADMIN));
}

static void test_bad_names(void **state)
{
	const char *typo[] = { "NET_ADMINN" }, *empty[] = { "CHOWN,,KILL" }, *trail[] = { "KILL," };
	char err[256];
	uint64_t set;

	(void)state;
	assert_int_equal(caps_resolve(&set, typo, 1, NULL, 0, err, sizeof(err)), -1);
	assert_string_equal(
		err,
		"--cap-add \"NET_ADMINN\": no capability \"NET_ADMINN\": use a name of capabilities(7), like NET_ADMIN or CAP_NET_ADMIN, or ALL");
	assert_int_equal(caps_resolve(&set, NULL, 0, empty, 1, err, sizeof(err)), -1);
	assert_string_equal(
		err,
		"--cap-drop \"CHOWN,,KILL\": an empty name: use names separated by commas, like CHOWN,KILL");
	assert_int_equal(caps_resolve(&set, NULL, 0, trail, 1, err, sizeof(err)), -1);
}

/* Build the filter for caps and load it into this process, as step 10 does. */
static int load_filter(uint64_t caps, struct filter_counts *counts)
{
	struct filter f;

	if (filter_build(caps, &f) < 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    sys_seccomp(SECCOMP_SET_MODE_FILTER, 0, &f.prog) < 0)
		return -1;
	*counts = f.counts;
	filter_free(&f);
	return 0;
}

/* "ok" for 0, else the errno's name */
static const char *outcome(long err)
{
	return err ? strerrorname_np((int)err) : "ok";
}

/*
 * In a child: load the filter for caps, make each call, and report the
 * errnos as one string on a pipe.  The parent compares.
 */
static void filtered(uint64_t caps, char *out, size_t size)
{
	int fd[2], status;
	char buf[16];
	pid_t pid;
	ssize_t n;

	assert_int_equal(pipe(fd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct filter_counts counts;
		char line[256];
		long r[5];

		close(fd[0]);
		if (load_filter(caps, &counts) < 0)
			_exit(1);
		errno = 0;
		r[0] = syscall(SYS_keyctl, 0, -3, 0) < 0 ? errno : 0;
		r[1] = syscall(SYS_clone3, buf, sizeof(buf)) < 0 ? errno : 0;
		r[2] = unshare(CLONE_NEWUSER) < 0 ? errno : 0;
		r[3] = socket(AF_VSOCK, SOCK_STREAM, 0) < 0 ? errno : 0;
		r[4] = getpid() > 0 ? 0 : errno;
		snprintf(line, sizeof(line), "%s %s %s %s %s %d", outcome(r[0]), outcome(r[1]),
			 outcome(r[2]), outcome(r[3]), outcome(r[4]),
			 counts.allowed > 250 && counts.refused > 10 && counts.enosys > 0);
		if (write(fd[1], line, strlen(line)) < 0)
			_exit(1);
		_exit(0);
	}
	close(fd[1]);
	n = read(fd[0], out, size - 1);
	out[n > 0 ? n : 0] = '\0';
	close(fd[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void test_filter(void **state)
{
	char seen[256];

	(void)state;
	filtered(caps_default, seen, sizeof(seen));
	/* keyctl, clone3, a user namespace, AF_VSOCK, getpid; the counts */
	assert_string_equal(seen, "EPERM ENOSYS EPERM EPERM ok 1");
	/* SYS_ADMIN opens the namespace calls: clone3 reaches the kernel,
	 * which finds its arguments bad */
	filtered(caps_default | CAP_BIT(CAP_SYS_ADMIN), seen, sizeof(seen));
	assert_string_equal(seen, "EPERM EINVAL ok EPERM ok 1");
}

/* A call with 32-bit x86 numbers ends the process (SIGSYS). */
static void test_other_architecture_killed(void **state)
{
	int status;
	pid_t pid;

	(void)state;
#ifndef __x86_64__
	skip();
#endif
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct filter_counts counts;

		if (load_filter(caps_default, &counts) < 0)
			_exit(1);
		syscall(0x40000000 | SYS_getpid); /* x32's getpid */
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGSYS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),	cmocka_unit_test(test_default),
		cmocka_unit_test(test_resolve), cmocka_unit_test(test_bad_names),
		cmocka_unit_test(test_filter),	cmocka_unit_test(test_other_architecture_killed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
