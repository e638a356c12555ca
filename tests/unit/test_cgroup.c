/*
 * test_cgroup.c - cmocka tests of common/cgroup.c on fake cgroup trees: a
 * temporary directory laid out like /sys/fs/cgroup on v2 and on v1.  The
 * kernel makes a group's files itself; here the test makes them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup.h"
#include "fake_tree.h"

/* Write text into root/path, making it. */
static void put(const char *root, const char *path, const char *text)
{
	char full[512];
	FILE *f;

	snprintf(full, sizeof(full), "%s/%s", root, path);
	f = fopen(full, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* The contents of root/path. */
static const char *get(const char *root, const char *path)
{
	static char text[256];
	char full[512];
	size_t n;
	FILE *f;

	snprintf(full, sizeof(full), "%s/%s", root, path);
	f = fopen(full, "r");
	assert_non_null(f);
	n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = '\0';
	fclose(f);
	return text;
}

static void make(const char *root, const char *path)
{
	char full[512];

	snprintf(full, sizeof(full), "%s/%s", root, path);
	assert_int_equal(mkdir(full, 0755), 0);
}

static char *fake_root(void)
{
	static char dir[64];

	return make_fake(dir, sizeof(dir), "/tmp/boxlab-cgroup.XXXXXX");
}

static void test_layout(void **state)
{
	char *root = fake_root();

	(void)state;
	assert_int_equal(cgroup_layout(root), CGROUP_NONE);
	put(root, "cgroup.controllers", "cpu memory pids\n");
	assert_int_equal(cgroup_layout(root), CGROUP_V2);
	remove_fake(root);

	/* Hybrid: v1 controllers, and an empty cgroup2 beside them. */
	root = fake_root();
	make(root, "memory");
	put(root, "memory/cgroup.procs", "");
	make(root, "unified");
	put(root, "unified/cgroup.controllers", "");
	assert_int_equal(cgroup_layout(root), CGROUP_V1);
	assert_string_equal(cgroup_layout_name(CGROUP_V1), "cgroup v1");
	remove_fake(root);
}

static void test_v2(void **state)
{
	struct cgroup cg;
	char *root = fake_root();

	(void)state;
	put(root, "cgroup.controllers", "cpu memory pids\n");
	put(root, "cgroup.subtree_control", "");
	assert_int_equal(cgroup_create(&cg, CGROUP_V2, root, "boxlab", "c0ffee00"), 0);
	assert_true(cg.made);
	assert_true(cg.fd >= 0);
	/* The parent's parent hands controllers down, one write each (a plain
	 * file keeps what a longer write left: only the last write's start counts). */
	assert_memory_equal(get(root, "cgroup.subtree_control"), "+pids", 5);
	put(root, "boxlab/c0ffee00/memory.max", "max\n");
	assert_int_equal(cgroup_set(&cg, "memory.max", "%lld", 32LL << 20), 0);
	assert_string_equal(get(root, "boxlab/c0ffee00/memory.max"), "33554432");
	put(root, "boxlab/c0ffee00/memory.events", "low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\n");
	assert_int_equal(cgroup_read(&cg, "memory.events", "oom_kill"), 1);
	assert_int_equal(cgroup_read(&cg, "memory.events", "oom"), 1);
	assert_int_equal(cgroup_read(&cg, "memory.events", "missing"), -1);
	put(root, "boxlab/c0ffee00/cpu.stat", "usage_usec 123456\nuser_usec 100000\n");
	assert_int_equal(cgroup_read(&cg, "cpu.stat", "usage_usec"), 123456);
	/* A file the kernel does not have fails, with errno for the hint. */
	assert_int_equal(cgroup_set(&cg, "pids.max", "32"), -1);
	remove_fake(root);
}

static void test_v1(void **state)
{
	static const char *const controllers[] = { "memory", "cpu", "cpuacct", "pids" };
	struct cgroup cg;
	char *root = fake_root();
	size_t i;

	(void)state;
	for (i = 0; i < 4; i++)
		make(root, controllers[i]);
	put(root, "memory/cgroup.procs", "");
	assert_int_equal(cgroup_create(&cg, CGROUP_V1, root, "boxlab", "c0ffee00"), 0);
	assert_int_equal(cg.fd, -1);
	put(root, "memory/boxlab/c0ffee00/memory.limit_in_bytes", "");
	put(root, "memory/boxlab/c0ffee00/memory.memsw.limit_in_bytes", "");
	put(root, "cpu/boxlab/c0ffee00/cpu.cfs_quota_us", "");
	put(root, "cpu/boxlab/c0ffee00/cpu.cfs_period_us", "");
	put(root, "pids/boxlab/c0ffee00/pids.max", "");
	/* The steps speak v2; v1 gets its own names and units. */
	assert_int_equal(cgroup_set(&cg, "memory.max", "33554432"), 0);
	assert_string_equal(get(root, "memory/boxlab/c0ffee00/memory.limit_in_bytes"), "33554432");
	assert_int_equal(cgroup_set(&cg, "memory.swap.max", "0"), 0);
	assert_string_equal(get(root, "memory/boxlab/c0ffee00/memory.memsw.limit_in_bytes"),
			    "33554432");
	assert_int_equal(cgroup_set(&cg, "cpu.max", "50000 100000"), 0);
	assert_string_equal(get(root, "cpu/boxlab/c0ffee00/cpu.cfs_quota_us"), "50000");
	assert_string_equal(get(root, "cpu/boxlab/c0ffee00/cpu.cfs_period_us"), "100000");
	put(root, "cpu/boxlab/c0ffee00/cpu.cfs_quota_us", "");
	assert_int_equal(cgroup_set(&cg, "cpu.max", "max 100000"), 0);
	assert_string_equal(get(root, "cpu/boxlab/c0ffee00/cpu.cfs_quota_us"), "-1");
	assert_int_equal(cgroup_set(&cg, "pids.max", "32"), 0);
	assert_string_equal(get(root, "pids/boxlab/c0ffee00/pids.max"), "32");
	put(root, "cpuacct/boxlab/c0ffee00/cpuacct.usage", "2500000000\n");
	assert_int_equal(cgroup_read(&cg, "cpu.stat", "usage_usec"), 2500000);
	put(root, "memory/boxlab/c0ffee00/memory.oom_control",
	    "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n");
	assert_int_equal(cgroup_read(&cg, "memory.events", "oom_kill"), 2);
	remove_fake(root);
}

static void test_remove(void **state)
{
	struct cgroup cg;
	char *root = fake_root(), path[256];

	(void)state;
	put(root, "cgroup.controllers", "");
	assert_int_equal(cgroup_create(&cg, CGROUP_V2, root, "boxlab", "c0ffee00"), 0);
	assert_int_equal(cgroup_remove(&cg), 0);
	assert_false(cg.made);
	snprintf(path, sizeof(path), "%s/boxlab/c0ffee00", root);
	assert_int_equal(access(path, F_OK), -1);
	/* Twice is fine: an undo may run again. */
	assert_int_equal(cgroup_remove(&cg), 0);
	remove_fake(root);
}

static void test_delegated(void **state)
{
	char *root = fake_root(), rel[192], proc[128];

	(void)state;
	snprintf(proc, sizeof(proc), "%s/proc-cgroup", root);
	put(root, "proc-cgroup", "0::/user.slice/user-1000.slice/user@1000.service/app.slice\n");
	make(root, "user.slice");
	make(root, "user.slice/user-1000.slice");
	make(root, "user.slice/user-1000.slice/user@1000.service");
	make(root, "user.slice/user-1000.slice/user@1000.service/app.slice");
	if (geteuid() == 0) {
		/* systemd gives user@UID.service away; the slices above stay root's. */
		char path[256];

		snprintf(path, sizeof(path), "%s/user.slice", root);
		assert_int_equal(chown(path, 1, 1), 0);
		snprintf(path, sizeof(path), "%s/user.slice/user-1000.slice", root);
		assert_int_equal(chown(path, 1, 1), 0);
		assert_int_equal(cgroup_delegated(root, proc, rel, sizeof(rel)), 0);
		assert_string_equal(rel, "user.slice/user-1000.slice/user@1000.service");
	}
	/* No v2 line: nothing is delegated. */
	put(root, "proc-cgroup", "4:memory:/user.slice\n");
	assert_int_equal(cgroup_delegated(root, proc, rel, sizeof(rel)), -1);
	remove_fake(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout),	  cmocka_unit_test(test_v2),
		cmocka_unit_test(test_v1),	  cmocka_unit_test(test_remove),
		cmocka_unit_test(test_delegated),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
