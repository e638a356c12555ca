/*
 * test_subnet.c - cmocka tests of common/subnet.c, each in a fresh
 * temporary directory: the index-to-address mapping, lowest-first
 * distinct claims, release and reuse, stale claims of dead owners,
 * subnets whose host address is still on a link, and ENOSPC when every
 * subnet has a live owner.
 *
 * As root they run in a network namespace of their own, so that no veth
 * on the host (a container running meanwhile) takes a /30 from them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "netlink.h"
#include "state.h"
#include "subnet.h"

static int own_netns; /* 1 when main() could unshare one */

struct tmp {
	char top[64]; /* /tmp/boxlab-subnet-XXXXXX */
	char dir[128]; /* top/run/subnets: claim makes it */
};

static int setup(void **state)
{
	struct tmp *t = calloc(1, sizeof(*t));

	if (!t)
		return -1;
	strcpy(t->top, "/tmp/boxlab-subnet-XXXXXX");
	if (!mkdtemp(t->top)) {
		free(t);
		return -1;
	}
	snprintf(t->dir, sizeof(t->dir), "%s/run/subnets", t->top);
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct tmp *t = *state;

	remove_tree(t->top);
	free(t);
	return 0;
}

/* Write a claim file by hand, as a crashed or foreign runtime left it. */
static void put_claim(const struct tmp *t, int k, const char *text)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/%d", t->dir, k);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static int claim_exists(const struct tmp *t, int k)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%d", t->dir, k);
	return access(path, F_OK) == 0;
}

/* A pid that surely names no process: a child we forked and reaped. */
static pid_t dead_pid(void)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0)
		_exit(0);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	return pid;
}

static void test_from_index(void **state)
{
	struct subnet s;

	(void)state;
	assert_int_equal(subnet_from_index(0, &s), 0);
	assert_string_equal(s.host, "10.200.0.1");
	assert_string_equal(s.container, "10.200.0.2");
	assert_int_equal(s.prefixlen, 30);
	assert_int_equal(subnet_from_index(64, &s), 0);
	assert_string_equal(s.host, "10.200.1.1");
	assert_int_equal(subnet_from_index(SUBNET_COUNT - 1, &s), 0);
	assert_string_equal(s.host, "10.200.255.253");
	assert_string_equal(s.container, "10.200.255.254");
	errno = 0;
	assert_int_equal(subnet_from_index(SUBNET_COUNT, &s), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(subnet_from_index(-1, &s), -1);
}

static void test_claims_lowest_first(void **state)
{
	struct tmp *t = *state;
	struct subnet a, b, c;
	struct stat st;
	char path[PATH_MAX], text[32] = "";
	int fd;

	assert_int_equal(subnet_claim(t->dir, getpid(), &a), 0);
	assert_int_equal(subnet_claim(t->dir, getpid(), &b), 0);
	assert_int_equal(subnet_claim(t->dir, getpid(), &c), 0);
	assert_int_equal(a.index, 0);
	assert_int_equal(b.index, 1);
	assert_int_equal(c.index, 2);
	assert_string_equal(a.host, "10.200.0.1");
	assert_string_equal(b.container, "10.200.0.6");
	assert_int_equal(c.owner, getpid());

	/* Made with its parents, private to root. */
	assert_int_equal(stat(t->dir, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0700);

	/* The claim file holds the owner's pid. */
	snprintf(path, sizeof(path), "%s/1", t->dir);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_true(read(fd, text, sizeof(text) - 1) > 0);
	close(fd);
	assert_int_equal(atoi(text), getpid());
}

static void test_concurrent_claims_differ(void **state)
{
	struct tmp *t = *state;
	enum { N = 16 };
	int seen[N] = { 0 };
	int pipefd[2], i, k, status;
	struct subnet s;

	assert_int_equal(pipe(pipefd), 0);
	/* N runtimes at once; we own their claims so that none is stale. */
	for (i = 0; i < N; i++) {
		pid_t pid = fork();

		assert_true(pid >= 0);
		if (pid == 0) {
			k = subnet_claim(t->dir, getppid(), &s) == 0 ? s.index : -1;
			_exit(write(pipefd[1], &k, sizeof(k)) == sizeof(k) ? 0 : 1);
		}
	}
	close(pipefd[1]);
	for (i = 0; i < N; i++) {
		assert_int_equal(read(pipefd[0], &k, sizeof(k)), sizeof(k));
		assert_true(k >= 0 && k < N);
		assert_int_equal(seen[k]++, 0);
	}
	close(pipefd[0]);
	for (i = 0; i < N; i++) {
		assert_true(wait(&status) > 0);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
}

static void test_release_reuses(void **state)
{
	struct tmp *t = *state;
	struct subnet s[3], again;
	int i;

	for (i = 0; i < 3; i++)
		assert_int_equal(subnet_claim(t->dir, getpid(), &s[i]), 0);
	assert_int_equal(subnet_release(t->dir, &s[1]), 0);
	assert_false(claim_exists(t, 1));
	/* Twice is fine: an undo function may run twice. */
	assert_int_equal(subnet_release(t->dir, &s[1]), 0);

	assert_int_equal(subnet_claim(t->dir, getpid(), &again), 0);
	assert_int_equal(again.index, 1);
	assert_int_equal(subnet_claim(t->dir, getpid(), &again), 0);
	assert_int_equal(again.index, 3);
}

static void test_release_leaves_new_owner(void **state)
{
	struct tmp *t = *state;
	struct subnet mine, other;

	assert_int_equal(subnet_claim(t->dir, getpid(), &mine), 0);
	assert_int_equal(subnet_release(t->dir, &mine), 0);
	/* Another runtime (our parent, alive) claims the same k... */
	assert_int_equal(subnet_claim(t->dir, getppid(), &other), 0);
	assert_int_equal(other.index, mine.index);
	/* ...and a second release of ours must not take it away. */
	assert_int_equal(subnet_release(t->dir, &mine), 0);
	assert_true(claim_exists(t, mine.index));
}

static void test_dead_owner_is_reclaimed(void **state)
{
	struct tmp *t = *state;
	struct subnet s;
	char text[32];

	assert_int_equal(subnet_claim(t->dir, getpid(), &s), 0); /* makes dir */
	snprintf(text, sizeof(text), "%d\n", (int)dead_pid());
	put_claim(t, 1, text);
	put_claim(t, 2, ""); /* a claimer died before writing */
	put_claim(t, 3, "garbage\n");
	put_claim(t, 4, "1\n"); /* init: alive */

	assert_int_equal(subnet_claim(t->dir, getpid(), &s), 0);
	assert_int_equal(s.index, 1);
	assert_int_equal(subnet_claim(t->dir, getpid(), &s), 0);
	assert_int_equal(s.index, 2);
	assert_int_equal(subnet_claim(t->dir, getpid(), &s), 0);
	assert_int_equal(s.index, 3);
	assert_int_equal(subnet_claim(t->dir, getpid(), &s), 0);
	assert_int_equal(s.index, 5);
}

/* The veth of a container that has ended, not deleted yet: skipped. */
static void test_skips_subnets_on_links(void **state)
{
	struct tmp *t = *state;
	struct subnet s;
	int nl;

	if (!own_netns)
		skip(); /* not root: no namespace of our own to make links in */
	nl = nl_open();
	assert_true(nl >= 0);
	assert_int_equal(nl_veth_create(nl, "bxdying", "bxpeer", getpid()), 0);
	assert_int_equal(nl_addr_add(nl, "bxdying", "10.200.0.1", 30), 0); /* k = 0 */
	assert_int_equal(nl_addr_add(nl, "bxpeer", "10.200.0.9", 30), 0); /* k = 2 */
	assert_int_equal(subnet_claim(t->dir, getpid(), &s), 0);
	assert_int_equal(s.index, 1);
	assert_int_equal(subnet_claim(t->dir, getpid(), &s), 0);
	assert_int_equal(s.index, 3);
	/* Gone with its link, the address frees its /30 (claims 1 and 3 stay). */
	assert_int_equal(nl_link_delete(nl, "bxdying"), 0);
	assert_int_equal(subnet_claim(t->dir, getpid(), &s), 0);
	assert_int_equal(s.index, 0);
	close(nl);
}

static void test_enospc(void **state)
{
	struct tmp *t = *state;
	struct subnet s;
	char text[32];
	int k;

	assert_int_equal(subnet_claim(t->dir, getpid(), &s), 0);
	snprintf(text, sizeof(text), "%d\n", (int)getpid());
	for (k = 1; k < SUBNET_COUNT; k++)
		put_claim(t, k, text);
	errno = 0;
	assert_int_equal(subnet_claim(t->dir, getpid(), &s), -1);
	assert_int_equal(errno, ENOSPC);

	/* The last one's owner dies: it is free again. */
	snprintf(text, sizeof(text), "%d\n", (int)dead_pid());
	put_claim(t, SUBNET_COUNT - 1, text);
	assert_int_equal(subnet_claim(t->dir, getpid(), &s), 0);
	assert_int_equal(s.index, SUBNET_COUNT - 1);
	assert_string_equal(s.host, "10.200.255.253");
}

static void test_bad_arguments(void **state)
{
	struct tmp *t = *state;
	struct subnet s;
	char file[PATH_MAX], too_long[PATH_MAX + 8];
	int n;

	errno = 0;
	assert_int_equal(subnet_claim(t->dir, 0, &s), -1);
	assert_int_equal(errno, EINVAL);

	/* A file where the directory should be. */
	snprintf(file, sizeof(file), "%s/file", t->top);
	close(open(file, O_WRONLY | O_CREAT, 0600));
	errno = 0;
	assert_int_equal(subnet_claim(file, getpid(), &s), -1);
	assert_int_equal(errno, ENOTDIR);

	/* No directory named, and one too long to name: nothing is made. */
	errno = 0;
	assert_int_equal(subnet_claim("", getpid(), &s), -1);
	assert_int_equal(errno, ENOENT);
	n = snprintf(too_long, sizeof(too_long), "%s", t->top);
	while (n < PATH_MAX)
		n += snprintf(too_long + n, sizeof(too_long) - n, "/a");
	errno = 0;
	assert_int_equal(subnet_claim(too_long, getpid(), &s), -1);
	assert_int_equal(errno, ENAMETOOLONG);
	snprintf(file, sizeof(file), "%s/a", t->top);
	assert_int_equal(access(file, F_OK), -1);

	s.index = SUBNET_COUNT;
	assert_int_equal(subnet_release(t->dir, &s), -1);
	assert_int_equal(errno, EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_from_index),
		cmocka_unit_test_setup_teardown(test_claims_lowest_first, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_claims_differ, setup, teardown),
		cmocka_unit_test_setup_teardown(test_release_reuses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_release_leaves_new_owner, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dead_owner_is_reclaimed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_skips_subnets_on_links, setup, teardown),
		cmocka_unit_test_setup_teardown(test_enospc, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_arguments, setup, teardown),
	};

	own_netns = unshare(CLONE_NEWNET) == 0;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
