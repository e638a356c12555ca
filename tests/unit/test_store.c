/*
 * test_store.c - cmocka tests of common/image/store.c in a fresh
 * directory: where the store is; blobs that enter only when their
 * digest and size are right, leaving nothing in tmp/ otherwise; a blob
 * changed on disk refused when read; names that move from image to
 * image; lookup by name and by id prefix; and tmp/ emptied by the next
 * change, as after a killed import.
 */
#define _GNU_SOURCE
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
#include <unistd.h>

#include <cmocka.h>

#include "image/store.h"
#include "state.h"

struct tmp {
	char top[64]; /* /var/tmp/boxlab-store-XXXXXX, the store */
	struct store s;
};

static int setup(void **state)
{
	struct tmp *t = calloc(1, sizeof(*t));
	char err[256];

	if (!t)
		return -1;
	strcpy(t->top, "/var/tmp/boxlab-store-XXXXXX");
	if (!mkdtemp(t->top) || setenv("BOXLAB_STORE_DIR", t->top, 1) < 0 ||
	    store_open(&t->s, 1, err, sizeof(err)) < 0)
		return -1;
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct tmp *t = *state;
	int r;

	store_close(&t->s);
	unsetenv("BOXLAB_STORE_DIR");
	r = remove_tree(t->top);
	free(t);
	return r;
}

/* A file holding text, open for reading from its start. */
static int file_of(struct tmp *t, const char *text)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "%s/input", t->top);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	unlink(path);
	return fd;
}

static int tmp_is_empty(struct tmp *t)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "test -z \"$(ls -A '%s/tmp')\"", t->top);
	return system(cmd) == 0;
}

static void test_store_dir(void **state)
{
	char dir[256];

	(void)state;
	setenv("BOXLAB_STORE_DIR", "/somewhere/store", 1);
	assert_int_equal(store_dir(dir, sizeof(dir)), 0);
	assert_string_equal(dir, "/somewhere/store");
	unsetenv("BOXLAB_STORE_DIR");
	assert_int_equal(store_dir(dir, sizeof(dir)), 0);
	if (geteuid() == 0)
		assert_string_equal(dir, "/var/lib/boxlab/store");
	assert_int_equal(store_dir(dir, 4), -1);
}

static void test_blobs(void **state)
{
	struct tmp *t = *state;
	char digest[DIGEST_SIZE], err[256], *buf, path[256];
	size_t len;
	struct stat sb;
	int fd;

	digest_bytes("hello\n", 6, digest);
	fd = file_of(t, "hello\n");
	assert_int_equal(store_put_blob(&t->s, fd, digest, 6, err, sizeof(err)), 0);
	close(fd);
	assert_true(store_has_blob(&t->s, digest));
	assert_int_equal(store_read_blob(&t->s, digest, &buf, &len, err, sizeof(err)), 0);
	assert_int_equal(len, 6);
	assert_string_equal(buf, "hello\n");
	free(buf);
	/* closed to other users: layers may hold setuid programs */
	assert_int_equal(stat(t->top, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0700);
	/* a blob changed on disk is refused */
	assert_int_equal(store_blob_path(&t->s, digest, path, sizeof(path)), 0);
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_int_equal(write(fd, "HELLO\n", 6), 6);
	close(fd);
	assert_int_equal(store_read_blob(&t->s, digest, &buf, &len, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "is corrupt"));
	assert_null(buf);
}

static void test_bad_blobs_leave_nothing(void **state)
{
	struct tmp *t = *state;
	char digest[DIGEST_SIZE], err[256];
	int fd;

	digest_bytes("hello\n", 6, digest);
	fd = file_of(t, "hellO\n");
	assert_int_equal(store_put_blob(&t->s, fd, digest, 6, err, sizeof(err)), -1);
	close(fd);
	assert_non_null(strstr(err, "it is corrupt"));
	fd = file_of(t, "hello\nand more");
	assert_int_equal(store_put_blob(&t->s, fd, digest, 6, err, sizeof(err)), -1);
	close(fd);
	assert_non_null(strstr(err, "is 14 bytes, not 6"));
	fd = file_of(t, "hello\n");
	assert_int_equal(store_put_blob(&t->s, fd, "sha256:12", 6, err, sizeof(err)), -1);
	close(fd);
	assert_false(store_has_blob(&t->s, digest));
	assert_true(tmp_is_empty(t));
}

static void test_names(void **state)
{
	struct tmp *t = *state;
	char a[DIGEST_SIZE], b[DIGEST_SIZE], err[256];
	struct stored_image *list, im;
	int count;

	assert_int_equal(store_put_bytes(&t->s, "a", 1, a, err, sizeof(err)), 0);
	assert_int_equal(store_put_bytes(&t->s, "b", 1, b, err, sizeof(err)), 0);
	assert_int_equal(store_tag(&t->s, "docker.io/library/x:1", a, a, err, sizeof(err)), 0);
	assert_int_equal(store_tag(&t->s, "docker.io/library/x:latest", a, a, err, sizeof(err)), 0);
	/* the name moves to the newer image */
	assert_int_equal(store_tag(&t->s, "docker.io/library/x:1", b, b, err, sizeof(err)), 0);
	assert_int_equal(store_list(&t->s, &list, &count, err, sizeof(err)), 0);
	assert_int_equal(count, 2);
	assert_string_equal(list[0].name, "docker.io/library/x:latest");
	assert_string_equal(list[1].name, "docker.io/library/x:1");
	assert_string_equal(list[1].config, b);
	free(list);
	assert_int_equal(store_find(&t->s, "docker.io/library/x:1", &im), 0);
	assert_string_equal(im.manifest, b);
	/* an id is a prefix of the config's digest, 12 digits at least */
	assert_int_equal(store_find(&t->s, digest_hex(a), &im), 0);
	assert_string_equal(im.name, "docker.io/library/x:latest");
	assert_int_equal(store_find(&t->s, a, &im), 0);
	assert_int_equal(store_find(&t->s, "ca978112ca1b", &im), 0);
	assert_int_equal(store_find(&t->s, "ca978112ca1", &im), -1);
	assert_int_equal(store_find(&t->s, "docker.io/library/y:1", &im), -1);
	assert_int_equal(errno, ENOENT);
	assert_true(tmp_is_empty(t));
}

static void test_killed_work_is_removed(void **state)
{
	struct tmp *t = *state;
	char path[256], err[256];

	/* what an import killed half way leaves: a layer being unpacked */
	snprintf(path, sizeof(path), "%s/tmp/layer-XXXXXX", t->top);
	assert_non_null(mkdtemp(path));
	strcat(path, "/root");
	assert_int_equal(mkdir(path, 0555), 0);
	store_close(&t->s);
	/* reading leaves it: another import may be at work */
	assert_int_equal(store_open(&t->s, 0, err, sizeof(err)), 0);
	assert_false(tmp_is_empty(t));
	store_close(&t->s);
	assert_int_equal(store_open(&t->s, 1, err, sizeof(err)), 0);
	assert_true(tmp_is_empty(t));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_store_dir),
		cmocka_unit_test_setup_teardown(test_blobs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_blobs_leave_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_killed_work_is_removed, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
