/*
 * test_user.c - cmocka tests of common/image/user.c on passwd and group
 * text held in memory: root by default, a user by name or uid, a uid the
 * image does not know, an explicit group by name or gid, the memberships
 * docker adds (and does not add after ":group"), first match wins,
 * comments and broken lines skipped, missing files, docker's error words,
 * malformed specs and the limit on groups.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "image/user.h"

static const char passwd_text[] = "root:x:0:0:root:/root:/bin/sh\n"
				  "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
				  "# app:x:666:666:a comment:/comment:/bin/sh\n"
				  "   #app:x:667:667:an indented comment:/comment:/bin/sh\n"
				  "this line is not an entry\n"
				  "app:x:notanumber:5:a bad uid:/bad:/bin/sh\n"
				  "\n"
				  "app:x:1000:1000:The app:/home/app:/bin/sh\n"
				  "app:x:1001:1001:a second app:/second:/bin/sh\n"
				  "nohome:x:1002:1002:no home::/bin/sh\n"
				  "bob:x:1003:1003::/home/bob:/bin/sh\n";

static const char group_text[] = "root:x:0:\n"
				 "wheel:x:10:root\n"
				 "# staff:x:666:app\n"
				 "not a group\n"
				 "staff:x:50:bob,app\n"
				 "audio:x:63:app\n"
				 "app:x:1000:app\n"
				 "lobby:x:70:bobby,xapp,app2\n"
				 "staff:x:51:app\n"
				 "audio2:x:63:app\n"
				 "users:x:100:bob\n";

struct result {
	struct image_user u;
	int rc;
	int error; /* errno after a failure */
	char err[256];
};

/* A memory stream over text, or NULL (no such file) when text is NULL. */
static FILE *stream(const char *text)
{
	FILE *f;

	if (!text)
		return NULL;
	f = fmemopen((void *)text, strlen(text), "r");
	assert_non_null(f);
	return f;
}

static struct result resolve(const char *spec, const char *passwd, const char *group)
{
	FILE *p = stream(passwd), *g = stream(group);
	struct result r;

	memset(&r, 0, sizeof(r));
	errno = 0;
	r.rc = user_resolve(spec, p, g, &r.u, r.err, sizeof(r.err));
	r.error = errno;
	if (p)
		fclose(p);
	if (g)
		fclose(g);
	return r;
}

static void check_groups(const struct image_user *u, const gid_t *want, int n)
{
	int i;

	assert_int_equal(u->ngroups, n);
	for (i = 0; i < n; i++)
		assert_int_equal(u->groups[i], want[i]);
}

#define GIDS(...) ((const gid_t[]){ __VA_ARGS__ })
#define assert_groups(u, ...) \
	check_groups(u, GIDS(__VA_ARGS__), sizeof(GIDS(__VA_ARGS__)) / sizeof(gid_t))

static void check_user(const struct result *r, uid_t uid, gid_t gid, const char *name,
		       const char *home)
{
	assert_int_equal(r->rc, 0);
	assert_int_equal(r->u.uid, uid);
	assert_int_equal(r->u.gid, gid);
	assert_string_equal(r->u.name, name);
	assert_string_equal(r->u.home, home);
}

static void check_error(const struct result *r, const char *err)
{
	assert_int_equal(r->rc, -1);
	assert_int_equal(r->error, EINVAL);
	assert_string_equal(r->err, err);
}

static void test_root_by_default(void **state)
{
	struct result r;

	(void)state;
	/* NULL and "" both mean root; wheel lists root, as in busybox's image. */
	r = resolve(NULL, passwd_text, group_text);
	check_user(&r, 0, 0, "root", "/root");
	assert_groups(&r.u, 0, 10);
	r = resolve("", passwd_text, group_text);
	check_user(&r, 0, 0, "root", "/root");
	assert_groups(&r.u, 0, 10);

	/* No uid 0 entry, or no passwd at all: still root, at home in "/". */
	r = resolve("", "app:x:1000:1000::/home/app:/bin/sh\n", group_text);
	check_user(&r, 0, 0, "", "/");
	assert_groups(&r.u, 0);
	r = resolve(NULL, NULL, NULL);
	check_user(&r, 0, 0, "", "/");
	assert_groups(&r.u, 0);
}

static void test_by_name(void **state)
{
	struct result r;

	(void)state;
	/* Comments, broken lines and the bad uid are skipped; the first app wins. */
	r = resolve("app", passwd_text, group_text);
	check_user(&r, 1000, 1000, "app", "/home/app");
	/* Primary gid first, then staff, audio and the second staff; no gid twice. */
	assert_groups(&r.u, 1000, 50, 63, 51);

	r = resolve("bob", passwd_text, group_text);
	check_user(&r, 1003, 1003, "bob", "/home/bob");
	assert_groups(&r.u, 1003, 50, 100);

	/* An empty home field is no home. */
	r = resolve("nohome", passwd_text, group_text);
	check_user(&r, 1002, 1002, "nohome", "/");
	assert_groups(&r.u, 1002);
}

static void test_by_uid(void **state)
{
	struct result r;

	(void)state;
	/* A number is a uid, never a name: same entry, same memberships. */
	r = resolve("1000", passwd_text, group_text);
	check_user(&r, 1000, 1000, "app", "/home/app");
	assert_groups(&r.u, 1000, 50, 63, 51);
	r = resolve("1001", passwd_text, group_text);
	check_user(&r, 1001, 1001, "app", "/second");
	r = resolve("0", passwd_text, group_text);
	check_user(&r, 0, 0, "root", "/root");
	assert_groups(&r.u, 0, 10);
	r = resolve("001000", passwd_text, group_text);
	check_user(&r, 1000, 1000, "app", "/home/app");

	/* A uid the image does not know runs anyway, with gid 0 and home "/". */
	r = resolve("4242", passwd_text, group_text);
	check_user(&r, 4242, 0, "", "/");
	assert_groups(&r.u, 0);
	/* The highest uid there is. */
	r = resolve("4294967294", passwd_text, group_text);
	check_user(&r, 4294967294U, 0, "", "/");
}

static void test_explicit_group(void **state)
{
	struct result r;

	(void)state;
	/* The first group of that name; no memberships after ":group". */
	r = resolve("app:staff", passwd_text, group_text);
	check_user(&r, 1000, 50, "app", "/home/app");
	assert_groups(&r.u, 50);

	r = resolve("app:50", passwd_text, group_text);
	check_user(&r, 1000, 50, "app", "/home/app");
	assert_groups(&r.u, 50);

	/* A gid need not be in the group file. */
	r = resolve("app:777", passwd_text, group_text);
	check_user(&r, 1000, 777, "app", "/home/app");
	assert_groups(&r.u, 777);

	r = resolve("1000:staff", passwd_text, group_text);
	check_user(&r, 1000, 50, "app", "/home/app");
	assert_groups(&r.u, 50);

	r = resolve("0:0", passwd_text, group_text);
	check_user(&r, 0, 0, "root", "/root");
	assert_groups(&r.u, 0);

	r = resolve("4242:users", passwd_text, group_text);
	check_user(&r, 4242, 100, "", "/");
	assert_groups(&r.u, 100);
}

static void test_unknown_names(void **state)
{
	struct result r;

	(void)state;
	r = resolve("ghost", passwd_text, group_text);
	check_error(&r, "unable to find user ghost: no matching entries in passwd file");
	/* A commented-out entry is not an entry, even when indented. */
	r = resolve("666", passwd_text, group_text);
	check_user(&r, 666, 0, "", "/");
	r = resolve("667", passwd_text, group_text);
	check_user(&r, 667, 0, "", "/");

	r = resolve("app:ghosts", passwd_text, group_text);
	check_error(&r, "unable to find group ghosts: no matching entries in group file");
	r = resolve("1000:ghosts", passwd_text, group_text);
	check_error(&r, "unable to find group ghosts: no matching entries in group file");
	/* The user is looked up first. */
	r = resolve("ghost:ghosts", passwd_text, group_text);
	check_error(&r, "unable to find user ghost: no matching entries in passwd file");
}

static void test_malformed(void **state)
{
	static const char *const specs[] = {
		":",
		"a:b:c",
		"app:",
		":staff",
		"::",
		"-1",
		"app:-5",
		"4294967295",
		"1000:4294967295",
		"99999999999999999999",
		"18446744073709551616",
	};
	char want[128];
	struct result r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		r = resolve(specs[i], passwd_text, group_text);
		snprintf(want, sizeof(want), "invalid user \"%s\"", specs[i]);
		check_error(&r, want);
	}
}

static void test_missing_files(void **state)
{
	struct result r;

	(void)state;
	/* No passwd: a uid runs as itself, a name cannot be found. */
	r = resolve("1000", NULL, group_text);
	check_user(&r, 1000, 0, "", "/");
	assert_groups(&r.u, 0);
	r = resolve("app", NULL, group_text);
	check_error(&r, "unable to find user app: no matching entries in passwd file");

	/* No group: no memberships, a gid is fine, a group name is not. */
	r = resolve("app", passwd_text, NULL);
	check_user(&r, 1000, 1000, "app", "/home/app");
	assert_groups(&r.u, 1000);
	r = resolve("app:50", passwd_text, NULL);
	check_user(&r, 1000, 50, "app", "/home/app");
	assert_groups(&r.u, 50);
	r = resolve("app:staff", passwd_text, NULL);
	check_error(&r, "unable to find group staff: no matching entries in group file");
}

/* A group file where app is in n groups besides its own (gid 1000). */
static void many_groups(char *text, size_t size, int n)
{
	size_t used = 0;
	int i;

	text[0] = '\0';
	for (i = 0; i < n; i++) {
		used += (size_t)snprintf(text + used, size - used, "g%d:x:%d:bob,app\n", i,
					 2000 + i);
		assert_true(used < size);
	}
}

static void test_group_limit(void **state)
{
	char text[8192];
	struct result r;

	(void)state;
	/* The primary gid and 63 memberships fill the list exactly. */
	many_groups(text, sizeof(text), USER_MAX_GROUPS - 1);
	r = resolve("app", passwd_text, text);
	check_user(&r, 1000, 1000, "app", "/home/app");
	assert_int_equal(r.u.ngroups, USER_MAX_GROUPS);
	assert_int_equal(r.u.groups[0], 1000);
	assert_int_equal(r.u.groups[USER_MAX_GROUPS - 1], 2000 + USER_MAX_GROUPS - 2);

	many_groups(text, sizeof(text), USER_MAX_GROUPS);
	r = resolve("app", passwd_text, text);
	check_error(&r, "user app is in more than 64 groups");

	/* Memberships do not count after ":group". */
	r = resolve("app:g0", passwd_text, text);
	check_user(&r, 1000, 2000, "app", "/home/app");
	assert_groups(&r.u, 2000);
}

static void test_streams_rewound(void **state)
{
	FILE *p = stream(passwd_text), *g = stream(group_text);
	struct image_user u;
	char err[256];

	(void)state;
	/* The same open files twice: each pass starts from the top. */
	assert_int_equal(user_resolve("bob", p, g, &u, err, sizeof(err)), 0);
	assert_int_equal(user_resolve("app:audio", p, g, &u, err, sizeof(err)), 0);
	assert_int_equal(u.uid, 1000);
	assert_int_equal(u.gid, 63);
	assert_int_equal(user_resolve("root", p, g, &u, err, sizeof(err)), 0);
	assert_int_equal(u.uid, 0);
	assert_groups(&u, 0, 10);
	fclose(p);
	fclose(g);
}

static void test_long_fields(void **state)
{
	char text[1024];
	struct result r;

	(void)state;
	snprintf(text, sizeof(text), "app:x:1000:1000::/%0300d:/bin/sh\n", 0);
	r = resolve("app", text, group_text);
	check_error(&r, "the home directory of user app is too long");
	snprintf(text, sizeof(text), "%070d:x:1000:1000::/home/app:/bin/sh\n", 0);
	r = resolve("1000", text, group_text);
	check_error(&r, "the passwd name of uid 1000 is too long");
}

static void test_unreadable(void **state)
{
	/* A stream open for writing only: reading it fails. */
	FILE *w = fopen("/dev/null", "w");
	FILE *g = stream(group_text);
	struct image_user u;
	char err[256];

	(void)state;
	assert_non_null(w);
	errno = 0;
	assert_int_equal(user_resolve("app", w, g, &u, err, sizeof(err)), -1);
	assert_int_equal(errno, EIO);
	assert_string_equal(err, "the passwd file cannot be read");
	fclose(w);
	fclose(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_root_by_default), cmocka_unit_test(test_by_name),
		cmocka_unit_test(test_by_uid),		cmocka_unit_test(test_explicit_group),
		cmocka_unit_test(test_unknown_names),	cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_missing_files),	cmocka_unit_test(test_group_limit),
		cmocka_unit_test(test_streams_rewound), cmocka_unit_test(test_long_fields),
		cmocka_unit_test(test_unreadable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
