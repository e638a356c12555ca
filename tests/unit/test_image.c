/*
 * test_image.c - cmocka tests of common/image/digest.c and image.c: the
 * digests of known strings, and an image's JSON as registries and tools
 * write it: OCI and docker media types, an index with an attestation
 * entry, the platform chosen for this machine or refused with what the
 * index has, a config's command and layers, and the failure lines of
 * malformed documents.
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

#include <cmocka.h>

#include "image/image.h"

#define D(c)                                                                                      \
	"sha256:" c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c \
		c c c c c c c c c c c c c c c c c c c c c c c c

static void test_digests(void **state)
{
	char out[DIGEST_SIZE];

	(void)state;
	digest_bytes("", 0, out);
	assert_string_equal(
		out, "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	digest_bytes("abc", 3, out);
	assert_string_equal(
		out, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_true(digest_valid(out));
	assert_string_equal(digest_hex(out), out + 7);
	assert_false(digest_valid(
		"sha256:BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"));
	assert_false(digest_valid(
		"sha512:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
	assert_false(digest_valid("sha256:ba78"));
	assert_false(digest_valid(""));
}

static void test_media_types(void **state)
{
	(void)state;
	assert_int_equal(media_of("application/vnd.oci.image.index.v1+json"), MEDIA_INDEX);
	assert_int_equal(media_of("application/vnd.docker.distribution.manifest.list.v2+json"),
			 MEDIA_INDEX);
	assert_int_equal(media_of("application/vnd.docker.distribution.manifest.v2+json"),
			 MEDIA_MANIFEST);
	assert_int_equal(media_of("application/vnd.docker.distribution.manifest.v1+prettyjws"),
			 MEDIA_SCHEMA1);
	assert_int_equal(media_of("application/vnd.docker.image.rootfs.diff.tar.gzip"),
			 MEDIA_LAYER_GZIP);
	assert_int_equal(media_of("application/vnd.oci.image.layer.v1.tar+zstd"), MEDIA_LAYER_ZSTD);
	assert_int_equal(media_of("application/vnd.oci.image.layer.v1.tar+bzip2"), MEDIA_UNKNOWN);
	assert_int_equal(media_of(NULL), MEDIA_UNKNOWN);
}

static const char docker_hub_index[] =
	"{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\","
	"\"manifests\":["
	"{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"" D(
		"a") "\","
		     "\"size\":1,\"platform\":{\"os\":\"linux\",\"architecture\":\"arm\",\"variant\":\"v7\"}},"
		     "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"" D(
			     "b") "\","
				  "\"size\":2,\"platform\":{\"os\":\"unknown\",\"architecture\":\"unknown\"},"
				  "\"annotations\":{\"vnd.docker.reference.type\":\"attestation-manifest\"}},"
				  "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"" D(
					  "c") "\","
					       "\"size\":3,\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}},"
					       "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"" D(
						       "d") "\","
							    "\"size\":4,\"platform\":{\"os\":\"linux\",\"architecture\":\"arm64\"}}]}";

static void test_index_choose(void **state)
{
	struct image_index ix;
	char err[256];

	(void)state;
	assert_int_equal(
		index_parse(docker_hub_index, strlen(docker_hub_index), &ix, err, sizeof(err)), 0);
	assert_int_equal(ix.count, 4);
	assert_string_equal(ix.manifests[0].platform, "linux/arm/v7");
	assert_int_equal(index_choose(&ix, "linux/amd64", err, sizeof(err)), 2);
	assert_int_equal(index_choose(&ix, "linux/arm64/v8", err, sizeof(err)), 3);
	assert_int_equal(index_choose(&ix, "linux/s390x", err, sizeof(err)), -1);
	assert_string_equal(err, "no linux/s390x image in it (it has: linux/arm/v7, linux/amd64, "
				 "linux/arm64)");
	index_free(&ix);
}

static void test_host_platform(void **state)
{
	(void)state;
	setenv("BOXLAB_PLATFORM", "linux/arm64/v8", 1);
	assert_string_equal(host_platform(), "linux/arm64/v8");
	unsetenv("BOXLAB_PLATFORM");
	assert_int_equal(strncmp(host_platform(), "linux/", 6), 0);
	assert_true(platform_matches("linux/arm64", "linux/arm64/v8"));
	assert_true(platform_matches("linux/amd64/v3", "linux/amd64"));
	assert_false(platform_matches("linux/arm/v7", "linux/arm64/v8"));
	assert_false(platform_matches("linux/amd64", "linux/arm64/v8"));
}

static const char manifest[] =
	"{\"schemaVersion\":2,\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\","
	"\"config\":{\"mediaType\":\"application/vnd.docker.container.image.v1+json\","
	"\"digest\":\"" D(
		"1") "\",\"size\":1470},"
		     "\"layers\":[{\"mediaType\":\"application/vnd.docker.image.rootfs.diff.tar.gzip\","
		     "\"digest\":\"" D(
			     "2") "\",\"size\":3},"
				  "{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+zstd\","
				  "\"digest\":\"" D("3") "\",\"size\":4}]}";

static void test_manifest(void **state)
{
	struct manifest m;
	char err[256];

	(void)state;
	assert_int_equal(manifest_parse(manifest, strlen(manifest), &m, err, sizeof(err)), 0);
	assert_int_equal(m.count, 2);
	assert_string_equal(m.config.digest, D("1"));
	assert_int_equal(m.config.size, 1470);
	assert_int_equal(media_of(m.layers[1].media_type), MEDIA_LAYER_ZSTD);
	manifest_free(&m);
}

static void test_bad_documents(void **state)
{
	static const struct {
		int kind; /* 0 manifest, 1 index, 2 config */
		const char *json, *err;
	} rows[] = {
		{ 0, "{\"schemaVersion\":2,", "malformed manifest: line 1 column 19: " },
		{ 0, "[1]", "the manifest is not schema version 2" },
		{ 0,
		  "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\","
		  "\"digest\":\"sha256:12\",\"size\":1},\"layers\":[]}",
		  "malformed manifest config: its digest is not sha256: and 64 hex digits" },
		{ 0,
		  "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\","
		  "\"digest\":\"" D(
			  "1") "\",\"size\":1},\"layers\":[{\"mediaType\":"
			       "\"application/vnd.oci.image.layer.v1.tar+bzip2\",\"digest\":\"" D(
				       "2") "\",\"size\":1}]}",
		  "unsupported layer media type \"application/vnd.oci.image.layer.v1.tar+bzip2\"" },
		{ 0,
		  "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\"}",
		  "the manifest has media type \"application/vnd.oci.image.index.v1+json\"" },
		{ 1, "{\"schemaVersion\":2}", "malformed index: no \"manifests\" list" },
		{ 2, "{\"config\":{\"Cmd\":\"sh\"},\"rootfs\":{\"diff_ids\":[]}}",
		  "malformed config: Entrypoint, Cmd and Env are lists of strings" },
		{ 2, "{\"config\":{}}", "malformed config: no rootfs.diff_ids list" },
		{ 2, "{\"rootfs\":{\"diff_ids\":[\"sha256:0\"]}}",
		  "malformed config: diff_id \"sha256:0\" is not a sha256 digest" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char err[512] = "";
		struct manifest m;
		struct image_index ix;
		struct image_config c;
		size_t len = strlen(rows[i].json);
		int r = rows[i].kind == 0 ? manifest_parse(rows[i].json, len, &m, err, sizeof(err))
			: rows[i].kind == 1 ? index_parse(rows[i].json, len, &ix, err, sizeof(err))
					    : config_parse(rows[i].json, len, &c, err, sizeof(err));

		if (r != -1 || strncmp(err, rows[i].err, strlen(rows[i].err)) != 0)
			fail_msg("row %zu: %d \"%s\", not \"%s\"", i, r, err, rows[i].err);
	}
}

static void test_config(void **state)
{
	static const char json[] =
		"{\"created\":\"2026-01-02T03:04:05Z\",\"architecture\":\"arm64\",\"variant\":\"v8\","
		"\"os\":\"linux\",\"config\":{\"Env\":[\"PATH=/bin\",\"GREETING=hello\"],"
		"\"Entrypoint\":[\"/bin/sh\"],\"Cmd\":[\"-c\",\"echo hi\"],\"WorkingDir\":\"/home/app\","
		"\"User\":\"app\"},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" D(
			"e") "\"]},"
			     "\"history\":[{\"created_by\":\"layer 1\"}]}";
	struct image_config c;
	char err[256];

	(void)state;
	assert_int_equal(config_parse(json, strlen(json), &c, err, sizeof(err)), 0);
	assert_string_equal(c.entrypoint[0], "/bin/sh");
	assert_null(c.entrypoint[1]);
	assert_string_equal(c.cmd[1], "echo hi");
	assert_string_equal(c.env[1], "GREETING=hello");
	assert_string_equal(c.user, "app");
	assert_string_equal(c.workdir, "/home/app");
	assert_string_equal(c.created, "2026-01-02T03:04:05Z");
	assert_string_equal(c.platform, "linux/arm64/v8");
	assert_int_equal(c.count, 1);
	config_free(&c);
	/* a config with no command at all, as FROM scratch leaves it */
	assert_int_equal(config_parse("{\"rootfs\":{\"diff_ids\":[]}}", 26, &c, err, sizeof(err)),
			 0);
	assert_null(c.entrypoint);
	assert_null(c.cmd);
	assert_null(c.user);
	config_free(&c);
}

static void test_docker_archive(void **state)
{
	static const char json[] =
		"[{\"Config\":\"abc.json\",\"RepoTags\":[\"test/busybox:latest\"],"
		"\"Layers\":[\"1/layer.tar\",\"2/layer.tar\"]}]";
	struct docker_archive d;
	char err[256];

	(void)state;
	assert_int_equal(docker_archive_parse(json, strlen(json), &d, err, sizeof(err)), 0);
	assert_string_equal(d.config, "abc.json");
	assert_int_equal(d.count, 2);
	assert_string_equal(d.layers[1], "2/layer.tar");
	assert_string_equal(d.tags[0], "test/busybox:latest");
	docker_archive_free(&d);
	assert_int_equal(docker_archive_parse("[{}]", 4, &d, err, sizeof(err)), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_digests),	     cmocka_unit_test(test_media_types),
		cmocka_unit_test(test_index_choose), cmocka_unit_test(test_host_platform),
		cmocka_unit_test(test_manifest),     cmocka_unit_test(test_bad_documents),
		cmocka_unit_test(test_config),	     cmocka_unit_test(test_docker_archive),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
