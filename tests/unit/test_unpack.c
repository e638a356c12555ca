/*
 * test_unpack.c - cmocka tests of common/image/unpack.c: layers made
 * here with libarchive's writer, unpacked into a fresh directory.  A
 * well-formed layer lands whole (root entry, links, owners, modes); the
 * image's whiteouts become overlay's; device nodes and kernel-meaning
 * attributes are left out; and every entry that tries to leave the
 * layer is refused by name, with nothing written outside.
 */
#define _GNU_SOURCE
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cmocka.h>

#include "image/unpack.h"
#include "state.h"

/* One entry of a test layer. */
struct item {
	const char *name;
	mode_t type; /* AE_IFREG, AE_IFDIR, AE_IFLNK, AE_IFCHR, or 0 for a hard link */
	mode_t perm;
	const char *data; /* file content, symlink or hard-link target */
	const char *xattr; /* "name=value", or NULL */
};

struct tmp {
	char top[64]; /* /var/tmp/boxlab-unpack-XXXXXX: ext4 here, with user xattrs */
	char dir[128]; /* top/layer: the layer's directory */
	char outside[128]; /* top/outside: what no layer may touch */
	char tar[128]; /* top/layer.tar */
};

static int setup(void **state)
{
	struct tmp *t = calloc(1, sizeof(*t));

	if (!t)
		return -1;
	strcpy(t->top, "/var/tmp/boxlab-unpack-XXXXXX");
	if (!mkdtemp(t->top))
		return -1;
	snprintf(t->dir, sizeof(t->dir), "%s/layer", t->top);
	snprintf(t->outside, sizeof(t->outside), "%s/outside", t->top);
	snprintf(t->tar, sizeof(t->tar), "%s/layer.tar", t->top);
	if (mkdir(t->dir, 0755) < 0 || mkdir(t->outside, 0755) < 0)
		return -1;
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct tmp *t = *state;
	int r = remove_tree(t->top);

	free(t);
	return r;
}

/* A tar of the items at path, compressed as media says. */
static void write_layer(const char *path, enum media media, const struct item *items, size_t n)
{
	struct archive *a = archive_write_new();
	struct archive_entry *e = archive_entry_new();
	size_t i;

	assert_non_null(a);
	archive_write_set_format_pax_restricted(a);
	if (media == MEDIA_LAYER_GZIP)
		archive_write_add_filter_gzip(a);
	if (media == MEDIA_LAYER_ZSTD)
		archive_write_add_filter_zstd(a);
	assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
	for (i = 0; i < n; i++) {
		const struct item *it = &items[i];

		archive_entry_clear(e);
		archive_entry_set_pathname(e, it->name);
		archive_entry_set_perm(e, it->perm ? it->perm : 0644);
		archive_entry_set_uid(e, 0);
		archive_entry_set_gid(e, 0);
		if (it->type == 0) {
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_hardlink(e, it->data);
		} else {
			archive_entry_set_filetype(e, it->type);
		}
		if (it->type == AE_IFLNK)
			archive_entry_set_symlink(e, it->data);
		if (it->type == AE_IFCHR)
			archive_entry_set_rdev(e, makedev(1, 3));
		if (it->type == AE_IFREG)
			archive_entry_set_size(e, (la_int64_t)strlen(it->data ? it->data : ""));
		if (it->xattr) {
			const char *eq = strchr(it->xattr, '=');
			char name[128];

			snprintf(name, sizeof(name), "%.*s", (int)(eq - it->xattr), it->xattr);
			archive_entry_xattr_add_entry(e, name, eq + 1, strlen(eq + 1));
		}
		assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
		if (it->type == AE_IFREG && it->data)
			archive_write_data(a, it->data, strlen(it->data));
	}
	archive_entry_free(e);
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
}

/* Unpack items as a layer; err holds the reason when it returns -1. */
static int unpack_items(struct tmp *t, enum media media, const struct item *items, size_t n,
			const char *diff_id, struct unpack_stats *st, char *err, size_t errsize)
{
	int fd, r;

	write_layer(t->tar, media, items, n);
	fd = open(t->tar, O_RDONLY);
	assert_true(fd >= 0);
	r = unpack_layer(fd, media, t->dir, diff_id, geteuid() == 0, st, err, errsize);
	close(fd);
	return r;
}

static char *read_text(const char *dir, const char *name)
{
	static char buf[256];
	char path[512];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static int lstat_in(const char *dir, const char *name, struct stat *sb)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return lstat(path, sb);
}

/* The directory holds nothing (the outside directory after a refusal). */
static int is_empty(const char *dir)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "test -z \"$(ls -A '%s')\"", dir);
	return system(cmd) == 0;
}

static void test_clean_name(void **state)
{
	static const struct {
		const char *in, *out; /* out NULL: refused */
	} rows[] = {
		{ "etc/passwd", "etc/passwd" },
		{ "./etc/passwd", "etc/passwd" },
		{ "././etc/", "etc" },
		{ "/", "" },
		{ "./", "" },
		{ ".", "" },
		{ "a/.wh..wh..opq", "a/.wh..wh..opq" },
		{ "..x/y..", "..x/y.." },
		{ "/etc/passwd", NULL },
		{ "../x", NULL },
		{ "a/../../x", NULL },
		{ "a/..", NULL },
		{ "..", NULL },
		{ "a//b", NULL },
	};
	char out[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int r = unpack_clean_name(rows[i].in, out, sizeof(out));

		if (!rows[i].out) {
			if (r != -1)
				fail_msg("\"%s\" was accepted as \"%s\"", rows[i].in, out);
			continue;
		}
		if (r != 0 || strcmp(out, rows[i].out) != 0)
			fail_msg("\"%s\" gave \"%s\" (%d), not \"%s\"", rows[i].in, out, r,
				 rows[i].out);
	}
}

static const struct item plain_layer[] = {
	{ "./", AE_IFDIR, 0755, NULL, NULL },
	{ "./etc", AE_IFDIR, 0755, NULL, NULL },
	{ "./etc/hostname", AE_IFREG, 0644, "layer\n", NULL },
	{ "./opt/dir/a", AE_IFREG, 0600, "a\n", NULL },
	{ "./etc/hardlink-to-a", 0, 0600, "./opt/dir/a", NULL },
	{ "./bin/sh", AE_IFLNK, 0777, "busybox", NULL },
	{ "./tmp", AE_IFDIR, 01777, NULL, NULL },
	{ "./usr/bin/su", AE_IFREG, 04755, "setuid\n", NULL },
};

static void test_plain_layer(void **state, enum media media)
{
	struct tmp *t = *state;
	struct unpack_stats st;
	struct stat a, link, sb;
	char err[512] = "";

	if (unpack_items(t, media, plain_layer, 8, NULL, &st, err, sizeof(err)) != 0)
		fail_msg("unpack: %s", err);
	assert_string_equal(read_text(t->dir, "etc/hostname"), "layer\n");
	assert_int_equal(lstat_in(t->dir, "opt/dir/a", &a), 0);
	assert_int_equal(lstat_in(t->dir, "etc/hardlink-to-a", &link), 0);
	assert_int_equal(a.st_ino, link.st_ino);
	assert_int_equal(a.st_mode & 07777, 0600);
	assert_int_equal(lstat_in(t->dir, "bin/sh", &sb), 0);
	assert_true(S_ISLNK(sb.st_mode));
	assert_int_equal(lstat_in(t->dir, "tmp", &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 01777);
	if (geteuid() == 0) {
		assert_int_equal(lstat_in(t->dir, "usr/bin/su", &sb), 0);
		assert_int_equal(sb.st_mode & 07777, 04755);
	}
	assert_int_equal(st.entries, 7); /* the root entry is not one */
	assert_int_equal(st.size, strlen("layer\n") + strlen("a\n") + strlen("setuid\n"));
}

static void test_plain_tar(void **state)
{
	test_plain_layer(state, MEDIA_LAYER_TAR);
}

static void test_gzip(void **state)
{
	test_plain_layer(state, MEDIA_LAYER_GZIP);
}

static void test_zstd(void **state)
{
	test_plain_layer(state, MEDIA_LAYER_ZSTD);
}

static void test_root_entry_mode(void **state)
{
	static const struct item items[] = { { "/", AE_IFDIR, 0711, NULL, NULL } };
	struct tmp *t = *state;
	struct unpack_stats st;
	struct stat sb;
	char err[512] = "";

	assert_int_equal(unpack_items(t, MEDIA_LAYER_TAR, items, 1, NULL, &st, err, sizeof(err)),
			 0);
	assert_int_equal(stat(t->dir, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0711);
}

static void test_whiteouts(void **state)
{
	static const struct item items[] = {
		{ "etc/.wh.gone", AE_IFREG, 0644, "", NULL },
		{ "opt/dir/.wh..wh..opq", AE_IFREG, 0644, "", NULL },
		{ "opt/dir/c", AE_IFREG, 0644, "c\n", NULL },
		/* NAME in the same layer: the whiteout is for lower layers only */
		{ "var/kept", AE_IFREG, 0644, "kept\n", NULL },
		{ "var/.wh.kept", AE_IFREG, 0644, "", NULL },
	};
	struct tmp *t = *state;
	struct unpack_stats st;
	struct stat sb;
	char err[512] = "", value[8] = "", path[512];

	if (unpack_items(t, MEDIA_LAYER_TAR, items, 5, NULL, &st, err, sizeof(err)) != 0)
		fail_msg("unpack: %s", err);
	assert_int_equal(lstat_in(t->dir, "etc/gone", &sb), 0);
	assert_true(S_ISCHR(sb.st_mode));
	assert_int_equal(sb.st_rdev, makedev(0, 0));
	assert_int_equal(lstat_in(t->dir, "etc/.wh.gone", &sb), -1);
	snprintf(path, sizeof(path), "%s/opt/dir", t->dir);
	assert_int_equal(getxattr(path, OVERLAY_OPAQUE_XATTR, value, sizeof(value)), 1);
	assert_int_equal(value[0], 'y');
	assert_int_equal(lstat_in(t->dir, "opt/dir/.wh..wh..opq", &sb), -1);
	assert_string_equal(read_text(t->dir, "opt/dir/c"), "c\n");
	assert_string_equal(read_text(t->dir, "var/kept"), "kept\n");
	assert_int_equal(st.whiteouts, 1);
	assert_int_equal(st.opaques, 1);
}

static void test_devices_and_xattrs_left_out(void **state)
{
	static const struct item items[] = {
		{ "dev/null", AE_IFCHR, 0666, NULL, NULL },
		{ "bin/ping", AE_IFREG, 0755, "ping\n", "security.capability=xx" },
		{ "etc/x", AE_IFREG, 0644, "x\n", "user.overlay.redirect=/etc" },
		{ "etc/y", AE_IFREG, 0644, "y\n", "user.note=kept" },
	};
	struct tmp *t = *state;
	struct unpack_stats st;
	struct stat sb;
	char err[512] = "", path[512], value[16] = "";

	if (unpack_items(t, MEDIA_LAYER_TAR, items, 4, NULL, &st, err, sizeof(err)) != 0)
		fail_msg("unpack: %s", err);
	assert_int_equal(lstat_in(t->dir, "dev/null", &sb), -1);
	assert_int_equal(st.devices, 1);
	assert_int_equal(st.xattrs, 2);
	snprintf(path, sizeof(path), "%s/bin/ping", t->dir);
	assert_int_equal(getxattr(path, "security.capability", value, sizeof(value)), -1);
	snprintf(path, sizeof(path), "%s/etc/x", t->dir);
	assert_int_equal(getxattr(path, "user.overlay.redirect", value, sizeof(value)), -1);
	snprintf(path, sizeof(path), "%s/etc/y", t->dir);
	assert_int_equal(getxattr(path, "user.note", value, sizeof(value)), 4);
}

/* Each layer that tries to leave: refused, the entry named, nothing outside. */
static void test_refusals(void **state)
{
	struct tmp *t = *state;
	char escape[256];
	const struct {
		struct item items[2];
		size_t n;
		const char *words; /* in the error */
	} cases[] = {
		{ { { "/abs", AE_IFREG, 0644, "x", NULL } }, 1, "entry \"/abs\" leaves the layer" },
		{ { { "../outside/x", AE_IFREG, 0644, "x", NULL } }, 1, "leaves the layer" },
		{ { { "a/../../outside/x", AE_IFREG, 0644, "x", NULL } }, 1, "leaves the layer" },
		{ { { "sl", AE_IFLNK, 0777, escape, NULL }, { "sl/x", AE_IFREG, 0644, "x", NULL } },
		  2,
		  "entry \"sl/x\"" },
		{ { { "rel", AE_IFLNK, 0777, "../outside", NULL },
		    { "rel/x", AE_IFREG, 0644, "x", NULL } },
		  2,
		  "entry \"rel/x\"" },
		{ { { "sl", AE_IFLNK, 0777, escape, NULL },
		    { "sl/.wh.x", AE_IFREG, 0644, "", NULL } },
		  2,
		  "goes through a link" },
		{ { { "h", 0, 0644, "../outside/x", NULL } }, 1, "hard link \"h\"" },
		{ { { "h", 0, 0644, "/etc/passwd", NULL } }, 1, "hard link \"h\"" },
		{ { { "sl", AE_IFLNK, 0777, escape, NULL }, { "h", 0, 0644, "sl/x", NULL } },
		  2,
		  "entry \"h\"" },
	};
	size_t i;

	snprintf(escape, sizeof(escape), "%s", t->outside);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct unpack_stats st;
		char err[512] = "";

		if (unpack_items(t, MEDIA_LAYER_TAR, cases[i].items, cases[i].n, NULL, &st, err,
				 sizeof(err)) != -1)
			fail_msg("case %zu was unpacked", i);
		if (!strstr(err, cases[i].words))
			fail_msg("case %zu: \"%s\" does not say \"%s\"", i, err, cases[i].words);
		assert_true(is_empty(t->outside));
		assert_int_equal(remove_tree(t->dir), 0);
		assert_int_equal(mkdir(t->dir, 0755), 0);
	}
}

static void test_diff_id(void **state)
{
	struct tmp *t = *state;
	struct unpack_stats st;
	char err[512] = "", want[DIGEST_SIZE];
	int fd;

	write_layer(t->tar, MEDIA_LAYER_TAR, plain_layer, 8);
	fd = open(t->tar, O_RDONLY);
	assert_int_equal(digest_fd(fd, want, NULL), 0);
	close(fd);
	if (unpack_items(t, MEDIA_LAYER_GZIP, plain_layer, 8, want, &st, err, sizeof(err)) != 0)
		fail_msg("unpack with the right diff_id: %s", err);
	assert_int_equal(system("true"), 0);
	want[10] = want[10] == '0' ? '1' : '0';
	assert_int_equal(
		unpack_items(t, MEDIA_LAYER_GZIP, plain_layer, 8, want, &st, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "as the image's config says"));
}

static void test_wrong_compression(void **state)
{
	struct tmp *t = *state;
	struct unpack_stats st;
	char err[512] = "";
	int fd;

	write_layer(t->tar, MEDIA_LAYER_TAR, plain_layer, 8);
	fd = open(t->tar, O_RDONLY);
	assert_int_equal(unpack_layer(fd, MEDIA_LAYER_GZIP, t->dir, NULL, 0, &st, err, sizeof(err)),
			 -1);
	close(fd);
	assert_non_null(strstr(err, "not gzip-compressed"));
}

static void test_truncated(void **state)
{
	struct tmp *t = *state;
	struct unpack_stats st;
	char err[512] = "";
	struct stat sb;
	int fd;

	write_layer(t->tar, MEDIA_LAYER_GZIP, plain_layer, 8);
	assert_int_equal(stat(t->tar, &sb), 0);
	assert_int_equal(truncate(t->tar, sb.st_size / 2), 0);
	fd = open(t->tar, O_RDONLY);
	assert_int_equal(unpack_layer(fd, MEDIA_LAYER_GZIP, t->dir, NULL, 0, &st, err, sizeof(err)),
			 -1);
	close(fd);
	assert_true(err[0] != '\0');
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clean_name),
		cmocka_unit_test_setup_teardown(test_plain_tar, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gzip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_zstd, setup, teardown),
		cmocka_unit_test_setup_teardown(test_root_entry_mode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_whiteouts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_devices_and_xattrs_left_out, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_diff_id, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_compression, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
