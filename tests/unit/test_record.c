/*
 * test_record.c - cmocka tests of common/record.c, in a fresh RUN dir
 * ($XDG_RUNTIME_DIR/boxlab/containers, rootless): a record written and
 * read back, a name taken once, the end noted and kept through a sweep,
 * a pidfd only for the process the record names, and removal.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cli.h"
#include "record.h"
#include "state.h"

static char top[64];

static int setup(void **state)
{
	(void)state;
	snprintf(top, sizeof(top), "/tmp/boxlab-record-XXXXXX");
	if (!mkdtemp(top))
		return -1;
	setenv("XDG_RUNTIME_DIR", top, 1);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return remove_tree(top);
}

/* A container config as the runtime has it once it has started one. */
static void make_config(struct config *c, const char *id, const char *name)
{
	static char *argv[] = { "/bin/sh", "-c", "echo a\nb", NULL };

	memset(c, 0, sizeof(*c));
	c->rootless = 1;
	snprintf(c->id, sizeof(c->id), "%s", id);
	c->name = name;
	c->image = "busybox";
	c->argv = argv;
	c->user = "app";
	c->caps = 0xa80425fb;
	c->no_new_privs = 1;
	c->pid = getpid();
}

static void test_write_and_find(void **state)
{
	struct config c, other;
	struct record r;
	int lock, pidfd;

	(void)state;
	make_config(&c, "0000aaaa", "web");
	lock = state_lock(&c);
	assert_true(lock >= 0);
	assert_int_equal(record_claim_name(&c, lock), 0);
	assert_int_equal(record_write(&c, lock), 0);

	assert_int_equal(record_find(&c, "web", &r), 0);
	assert_string_equal(r.id, "0000aaaa");
	assert_string_equal(r.image, "busybox");
	/* a newline in COMMAND's words must not start a line of the record */
	assert_string_equal(r.command, "/bin/sh -c echo a b");
	assert_string_equal(r.user, "app");
	assert_int_equal(r.caps, 0xa80425fb);
	assert_int_equal(r.no_new_privs, 1);
	assert_int_equal(r.seccomp, 0);
	assert_int_equal(r.pid, getpid());
	assert_true(r.start > 0);
	assert_true(r.running);
	assert_false(r.exited);
	assert_int_equal(record_find(&c, "0000aaaa", &r), 0);
	assert_int_equal(record_find(&c, "nosuch", &r), -1);
	assert_int_equal(errno, ENOENT);

	/* The record names this process: a pidfd; with another start time, none. */
	pidfd = record_pidfd(&r);
	assert_true(pidfd >= 0);
	close(pidfd);
	r.start++;
	assert_int_equal(record_pidfd(&r), -1);
	assert_int_equal(errno, ESRCH);

	/* One name, one container. */
	make_config(&other, "0000bbbb", "web");
	lock = state_lock(&other);
	assert_true(lock >= 0);
	assert_int_equal(record_claim_name(&other, lock), -1);
	assert_int_equal(errno, EEXIST);
	state_unlock(&other, lock);
}

static void ignore(const char *id, const char *what, int err)
{
	(void)id;
	(void)what;
	(void)err;
}

static void test_finish_keep_remove(void **state)
{
	struct config c;
	struct record r;
	int lock;

	(void)state;
	make_config(&c, "0000cccc", NULL);
	lock = state_lock(&c);
	assert_true(lock >= 0);
	assert_int_equal(record_write(&c, lock), 0);
	assert_int_equal(state_note_dir(lock, "/nonexistent/state"), 0);
	assert_int_equal(record_find(&c, "0000cccc", &r), 0);
	assert_int_equal(record_remove(&c, &r), -1);
	assert_int_equal(errno, EBUSY);

	/* The end noted, the lock let go: an exited record, which a sweep keeps. */
	assert_int_equal(record_finish(lock, 137), 0);
	close(lock);
	assert_int_equal(sweep_leftovers(&c, ignore), 0);
	assert_int_equal(record_find(&c, "0000cccc", &r), 0);
	assert_false(r.running);
	assert_true(r.exited);
	assert_int_equal(r.status, 137);
	assert_true(r.finished > 0);
	assert_int_equal(record_pidfd(&r), -1);
	assert_int_equal(errno, ESRCH);

	assert_int_equal(record_remove(&c, &r), 0);
	assert_int_equal(record_find(&c, "0000cccc", &r), -1);
}

static void test_start_time(void **state)
{
	(void)state;
	assert_true(process_start_time(getpid()) > 0);
	assert_true(process_start_time(1) <= process_start_time(getpid()));
	assert_int_equal(process_start_time(-1), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_write_and_find, setup, teardown),
		cmocka_unit_test_setup_teardown(test_finish_keep_remove, setup, teardown),
		cmocka_unit_test(test_start_time),
	};

	return cmocka_run_group_tests_name("record", tests, NULL, NULL);
}
