/*
 * test_ref.c - cmocka tests of common/image/ref.c: a table of references
 * docker accepts, each with what it means (registry, API host, path, tag,
 * digest) and how it prints; a table of references it refuses, each with
 * the reason a learner is given; the limits of tag and path lengths; which
 * registries are this machine; and which words look like image ids.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "image/ref.h"

#define HEX64	"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define DIGEST	"sha256:" HEX64
#define HUB	"docker.io"
#define HUB_API "registry-1.docker.io"
#define BAD_PART                                                                                    \
	"a part of the repository name must start and end with a letter or digit, with one \".\", " \
	"one or two \"_\" or any \"-\" between them"
#define BAD_CHAR \
	"the repository name holds only lowercase letters, digits, \".\", \"_\", \"-\" and \"/\""
#define BAD_DIGEST "a digest is sha256: and 64 hex digits"
#define BAD_PORT   "a registry port is a number from 1 to 65535"

struct good {
	const char *text;
	const char *host, *api_host, *path, *tag, *digest;
	const char *full; /* ref_format() */
	const char *repository; /* ref_repository() */
};

static const struct good goods[] = {
	/* Docker Hub: the host is implied, one-part names are its own images. */
	{ "alpine", HUB, HUB_API, "library/alpine", "latest", "", "docker.io/library/alpine:latest",
	  "alpine" },
	{ "alpine:3.19", HUB, HUB_API, "library/alpine", "3.19", "",
	  "docker.io/library/alpine:3.19", "alpine" },
	{ "library/alpine", HUB, HUB_API, "library/alpine", "latest", "",
	  "docker.io/library/alpine:latest", "alpine" },
	{ "docker.io/alpine", HUB, HUB_API, "library/alpine", "latest", "",
	  "docker.io/library/alpine:latest", "alpine" },
	{ "docker.io/library/alpine:edge", HUB, HUB_API, "library/alpine", "edge", "",
	  "docker.io/library/alpine:edge", "alpine" },
	{ "index.docker.io/library/alpine", HUB, HUB_API, "library/alpine", "latest", "",
	  "docker.io/library/alpine:latest", "alpine" },
	{ "index.docker.io/alpine", HUB, HUB_API, "library/alpine", "latest", "",
	  "docker.io/library/alpine:latest", "alpine" },
	{ "someone/app:v1.2", HUB, HUB_API, "someone/app", "v1.2", "", "docker.io/someone/app:v1.2",
	  "someone/app" },
	{ "docker.io/someone/app", HUB, HUB_API, "someone/app", "latest", "",
	  "docker.io/someone/app:latest", "someone/app" },
	{ "a/b/c/d:e", HUB, HUB_API, "a/b/c/d", "e", "", "docker.io/a/b/c/d:e", "a/b/c/d" },
	{ "library/a/b", HUB, HUB_API, "library/a/b", "latest", "", "docker.io/library/a/b:latest",
	  "library/a/b" },
	{ "busybox:1.36.1-musl", HUB, HUB_API, "library/busybox", "1.36.1-musl", "",
	  "docker.io/library/busybox:1.36.1-musl", "busybox" },
	{ "alpine:_x", HUB, HUB_API, "library/alpine", "_x", "", "docker.io/library/alpine:_x",
	  "alpine" },
	{ "0", HUB, HUB_API, "library/0", "latest", "", "docker.io/library/0:latest", "0" },
	{ "my-org/web__v2.app-x", HUB, HUB_API, "my-org/web__v2.app-x", "latest", "",
	  "docker.io/my-org/web__v2.app-x:latest", "my-org/web__v2.app-x" },
	/* No "." or ":" and not "localhost": a path, not a host. */
	{ "localhost", HUB, HUB_API, "library/localhost", "latest", "",
	  "docker.io/library/localhost:latest", "localhost" },
	{ "localhost:5000", HUB, HUB_API, "library/localhost", "5000", "",
	  "docker.io/library/localhost:5000", "localhost" },
	/* Digests, alone and with a tag. */
	{ "alpine@" DIGEST, HUB, HUB_API, "library/alpine", "", DIGEST,
	  "docker.io/library/alpine@" DIGEST, "alpine" },
	{ "alpine:3.19@" DIGEST, HUB, HUB_API, "library/alpine", "3.19", DIGEST,
	  "docker.io/library/alpine:3.19@" DIGEST, "alpine" },
	{ "docker.io/library/alpine:latest@" DIGEST, HUB, HUB_API, "library/alpine", "latest",
	  DIGEST, "docker.io/library/alpine:latest@" DIGEST, "alpine" },
	{ "quay.io/org/img@" DIGEST, "quay.io", "quay.io", "org/img", "", DIGEST,
	  "quay.io/org/img@" DIGEST, "quay.io/org/img" },
	/* Other registries: no "library/", the API on the host itself. */
	{ "quay.io/org/img:v1", "quay.io", "quay.io", "org/img", "v1", "", "quay.io/org/img:v1",
	  "quay.io/org/img" },
	{ "ghcr.io/owner/repo-name_x__y.z:tag_1.0-rc", "ghcr.io", "ghcr.io",
	  "owner/repo-name_x__y.z", "tag_1.0-rc", "", "ghcr.io/owner/repo-name_x__y.z:tag_1.0-rc",
	  "ghcr.io/owner/repo-name_x__y.z" },
	{ "gcr.io/distroless/static-debian12:nonroot", "gcr.io", "gcr.io",
	  "distroless/static-debian12", "nonroot", "", "gcr.io/distroless/static-debian12:nonroot",
	  "gcr.io/distroless/static-debian12" },
	{ "mcr.microsoft.com/dotnet/runtime:8.0", "mcr.microsoft.com", "mcr.microsoft.com",
	  "dotnet/runtime", "8.0", "", "mcr.microsoft.com/dotnet/runtime:8.0",
	  "mcr.microsoft.com/dotnet/runtime" },
	{ "registry.example.com:8443/a-b/c--d:V1", "registry.example.com:8443",
	  "registry.example.com:8443", "a-b/c--d", "V1", "",
	  "registry.example.com:8443/a-b/c--d:V1", "registry.example.com:8443/a-b/c--d" },
	{ "Quay.IO/org/img", "quay.io", "quay.io", "org/img", "latest", "",
	  "quay.io/org/img:latest", "quay.io/org/img" },
	{ "my.registry/x", "my.registry", "my.registry", "x", "latest", "", "my.registry/x:latest",
	  "my.registry/x" },
	/* docker normalises index.docker.io only, not the API host. */
	{ "registry-1.docker.io/library/alpine", "registry-1.docker.io", "registry-1.docker.io",
	  "library/alpine", "latest", "", "registry-1.docker.io/library/alpine:latest",
	  "registry-1.docker.io/library/alpine" },
	/* This machine: localhost, 127.0.0.0/8, [::1]. */
	{ "localhost/app", "localhost", "localhost", "app", "latest", "", "localhost/app:latest",
	  "localhost/app" },
	{ "localhost:5000/app", "localhost:5000", "localhost:5000", "app", "latest", "",
	  "localhost:5000/app:latest", "localhost:5000/app" },
	{ "localhost:5000/app:v1", "localhost:5000", "localhost:5000", "app", "v1", "",
	  "localhost:5000/app:v1", "localhost:5000/app" },
	{ "127.0.0.1:15000/test/busybox:latest", "127.0.0.1:15000", "127.0.0.1:15000",
	  "test/busybox", "latest", "", "127.0.0.1:15000/test/busybox:latest",
	  "127.0.0.1:15000/test/busybox" },
	{ "127.0.0.1:5000/test/busybox@" DIGEST, "127.0.0.1:5000", "127.0.0.1:5000", "test/busybox",
	  "", DIGEST, "127.0.0.1:5000/test/busybox@" DIGEST, "127.0.0.1:5000/test/busybox" },
	{ "127.0.0.1/app", "127.0.0.1", "127.0.0.1", "app", "latest", "", "127.0.0.1/app:latest",
	  "127.0.0.1/app" },
	{ "[::1]:5000/x", "[::1]:5000", "[::1]:5000", "x", "latest", "", "[::1]:5000/x:latest",
	  "[::1]:5000/x" },
	{ "[::1]/x", "[::1]", "[::1]", "x", "latest", "", "[::1]/x:latest", "[::1]/x" },
	{ "[FD00::5]:443/team/tool:1", "[fd00::5]:443", "[fd00::5]:443", "team/tool", "1", "",
	  "[fd00::5]:443/team/tool:1", "[fd00::5]:443/team/tool" },
};

struct bad {
	const char *text;
	const char *why;
};

static const struct bad bads[] = {
	{ "", "the image name is empty" },
	{ " alpine", "the image name contains a space or a control character" },
	{ "alpine ", "the image name contains a space or a control character" },
	{ "alpine\n", "the image name contains a space or a control character" },
	{ "alp\tine", "the image name contains a space or a control character" },
	{ "https://docker.io/alpine",
	  "an image name is not a URL: leave out the scheme and \"://\"" },
	{ "docker://alpine", "an image name is not a URL: leave out the scheme and \"://\"" },
	{ "/alpine", "the image name starts with \"/\"" },
	{ "alpine/", "the image name ends with \"/\"" },
	{ "quay.io/", "the image name ends with \"/\"" },
	{ "alpine/@" DIGEST, "the image name ends with \"/\"" },
	{ "alpine:", "a \":\" must be followed by a tag" },
	{ "localhost:5000/app:", "a \":\" must be followed by a tag" },
	{ "alpine:@" DIGEST, "a \":\" must be followed by a tag" },
	{ "alpine:.v1", "a tag must start with a letter, a digit or \"_\"" },
	{ "alpine:-v1", "a tag must start with a letter, a digit or \"_\"" },
	{ "alpine:v1+2", "a tag holds only letters, digits, \"_\", \".\" and \"-\"" },
	{ "alpine:a:b", BAD_CHAR }, /* the tag is "b": the last ":" starts it */
	{ ":v1", "the repository name is missing" },
	{ "quay.io/:v1", "the repository name is missing" },
	{ "Alpine", "the repository name must be lowercase" },
	{ "docker.io/Library/alpine", "the repository name must be lowercase" },
	{ "localhost:5000/App:v1", "the repository name must be lowercase" },
	{ "a//b", "the repository name has an empty part between two \"/\"" },
	{ "a..b", BAD_PART },
	{ "-a", BAD_PART },
	{ "a_", BAD_PART },
	{ "a___b", BAD_PART },
	{ "a._b", BAD_PART },
	{ "org/.hidden", BAD_PART },
	{ "a$b", BAD_CHAR },
	{ "[::1]:5000", BAD_CHAR },
	{ "caf\xc3\xa9", BAD_CHAR },
	{ "@" DIGEST, "the repository name is missing before the \"@\"" },
	{ "alpine@", "an \"@\" must be followed by a digest, sha256: and 64 hex digits" },
	{ "alpine@sha256:abc", BAD_DIGEST },
	{ "alpine@sha256:" HEX64 "0", BAD_DIGEST },
	{ "alpine@sha256:" HEX64 "@x", BAD_DIGEST },
	{ "alpine@" HEX64, BAD_DIGEST },
	{ "alpine@:" HEX64, BAD_DIGEST },
	{ "alpine@sha-256:" HEX64, BAD_DIGEST },
	{ "alpine@sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
	  "the hex digits of a digest must be lowercase" },
	{ "alpine@sha512:" HEX64 HEX64, "only sha256 digests are supported" },
	{ "alpine@md5:0123456789abcdef0123456789abcdef", "only sha256 digests are supported" },
	{ ":5000/app", "the registry host is missing before its \":PORT\"" },
	{ "localhost:0/app", BAD_PORT },
	{ "localhost:65536/app", BAD_PORT },
	{ "localhost:http/app", BAD_PORT },
	{ "localhost:/app", BAD_PORT },
	{ "quay.io:443:1/app", BAD_PORT },
	{ "999.1.1.1/app", "the registry address is not a valid IPv4 address" },
	{ "10.0.1:5000/app", "the registry address is not a valid IPv4 address" },
	{ "-bad.io/app", "a part of the registry host name starts or ends with \"-\"" },
	{ "bad-.io/app", "a part of the registry host name starts or ends with \"-\"" },
	{ "bad..io/app", "the registry host has an empty part between two \".\"" },
	{ ".io/app", "the registry host has an empty part between two \".\"" },
	{ "my_reg.io/app", "a registry host name holds only letters, digits, \"-\" and \".\"" },
	{ "[::1/app", "an IPv6 registry address needs its closing \"]\"" },
	{ "[zz::1]:5000/app", "the registry's \"[...]\" does not hold an IPv6 address" },
	{ "[]:5000/app", "the registry's \"[...]\" does not hold an IPv6 address" },
	{ "[::1]x/app", "only \":PORT\" may follow the \"]\" of an IPv6 registry address" },
	{ "[::1]:99999/app", BAD_PORT },
};

static void check(const char *text, const char *what, const char *got, const char *want)
{
	if (strcmp(got, want) != 0)
		fail_msg("\"%s\": %s is \"%s\", expected \"%s\"", text, what, got, want);
}

static void test_good(void **state)
{
	struct image_ref ref, again;
	const char *why;
	char buf[1024];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(goods) / sizeof(goods[0]); i++) {
		const struct good *g = &goods[i];

		why = NULL;
		if (ref_parse(g->text, &ref, &why) != 0)
			fail_msg("\"%s\" refused: %s", g->text, why ? why : "(no reason)");
		check(g->text, "host", ref.host, g->host);
		check(g->text, "api_host", ref.api_host, g->api_host);
		check(g->text, "path", ref.path, g->path);
		check(g->text, "tag", ref.tag, g->tag);
		check(g->text, "digest", ref.digest, g->digest);
		assert_int_equal(ref_format(&ref, buf, sizeof(buf)), strlen(g->full));
		check(g->text, "ref_format()", buf, g->full);
		assert_int_equal(ref_repository(&ref, buf, sizeof(buf)), strlen(g->repository));
		check(g->text, "ref_repository()", buf, g->repository);

		/* What ref_format() prints reads back as the same reference. */
		ref_format(&ref, buf, sizeof(buf));
		assert_int_equal(ref_parse(buf, &again, NULL), 0);
		assert_memory_equal(&again, &ref, sizeof(ref));
	}
}

static void test_bad(void **state)
{
	struct image_ref ref;
	const char *why;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		const struct bad *b = &bads[i];

		why = NULL;
		errno = 0;
		memset(&ref, 'x', sizeof(ref));
		if (ref_parse(b->text, &ref, &why) != -1)
			fail_msg("\"%s\" accepted", b->text);
		assert_int_equal(errno, EINVAL);
		if (!why)
			fail_msg("\"%s\": no reason given", b->text);
		check(b->text, "the reason", why, b->why);
		/* A refused reference leaves nothing half-filled behind. */
		assert_string_equal(ref.host, "");
		assert_string_equal(ref.path, "");
		assert_string_equal(ref.tag, "");
	}

	/* No text at all, and a caller that wants no reason. */
	errno = 0;
	assert_int_equal(ref_parse(NULL, &ref, &why), -1);
	assert_int_equal(errno, EINVAL);
	assert_string_equal(why, "the image name is empty");
	errno = 0;
	assert_int_equal(ref_parse("Alpine", &ref, NULL), -1);
	assert_int_equal(errno, EINVAL);
}

/* Fill n bytes of buf with c, after what it holds. */
static void append(char *buf, char c, size_t n)
{
	size_t len = strlen(buf);

	memset(buf + len, c, n);
	buf[len + n] = '\0';
}

static void test_limits(void **state)
{
	struct image_ref ref;
	const char *why = NULL;
	char text[1024];
	int i;

	(void)state;
	/* A tag of 128 characters is the longest. */
	strcpy(text, "alpine:");
	append(text, 'v', 128);
	assert_int_equal(ref_parse(text, &ref, &why), 0);
	assert_int_equal(strlen(ref.tag), 128);
	append(text, 'v', 1);
	assert_int_equal(ref_parse(text, &ref, &why), -1);
	assert_string_equal(why, "a tag is at most 128 characters long");

	/* A path of 255 characters is the longest... */
	strcpy(text, "someone/");
	append(text, 'a', 255 - strlen("someone/"));
	assert_int_equal(ref_parse(text, &ref, &why), 0);
	assert_int_equal(strlen(ref.path), 255);
	append(text, 'a', 1);
	assert_int_equal(ref_parse(text, &ref, &why), -1);
	assert_string_equal(why, "the repository name is longer than 255 characters");

	/* ...counting the "library/" that Docker Hub's own images get. */
	text[0] = '\0';
	append(text, 'a', 255 - strlen("library/"));
	assert_int_equal(ref_parse(text, &ref, &why), 0);
	append(text, 'a', 1);
	assert_int_equal(ref_parse(text, &ref, &why), -1);
	assert_string_equal(why, "the repository name is longer than 255 characters");

	/* A host label of 63 characters is the longest DNS allows. */
	text[0] = '\0';
	append(text, 'h', 63);
	strcat(text, ".io/app");
	assert_int_equal(ref_parse(text, &ref, &why), 0);
	text[0] = '\0';
	append(text, 'h', 64);
	strcat(text, ".io/app");
	assert_int_equal(ref_parse(text, &ref, &why), -1);
	assert_string_equal(why, "a part of the registry host name is longer than 63 characters");

	/* A host of 255 characters is the longest. */
	text[0] = '\0';
	for (i = 0; i < 4; i++) {
		append(text, 'h', 62);
		strcat(text, ".");
	}
	append(text, 'h', 3);
	strcat(text, "/app");
	assert_int_equal(ref_parse(text, &ref, &why), 0);
	assert_int_equal(strlen(ref.host), 255);
	strcpy(strchr(text, '/'), "h/app");
	assert_int_equal(ref_parse(text, &ref, &why), -1);
	assert_string_equal(why, "the registry host is longer than 255 characters");
}

static void test_format_truncates(void **state)
{
	struct image_ref ref;
	char buf[8];

	(void)state;
	assert_int_equal(ref_parse("alpine", &ref, NULL), 0);
	/* Like snprintf: the length it needed, the start of it written. */
	assert_int_equal(ref_format(&ref, buf, sizeof(buf)),
			 strlen("docker.io/library/alpine:latest"));
	assert_string_equal(buf, "docker.");
	assert_int_equal(ref_repository(&ref, buf, 4), strlen("alpine"));
	assert_string_equal(buf, "alp");
}

static void test_is_loopback(void **state)
{
	static const struct {
		const char *text;
		int loopback;
	} rows[] = {
		{ "127.0.0.1:5000/a", 1 }, /* the registry the tests start */
		{ "127.0.0.1/a", 1 },
		{ "127.255.0.3:15000/a", 1 }, /* all of 127.0.0.0/8 */
		{ "localhost/a", 1 },
		{ "localhost:5000/a", 1 },
		{ "LocalHost:5000/a", 1 }, /* host names are folded to lowercase */
		{ "[::1]:5000/a", 1 },
		{ "[::1]/a", 1 },
		{ "[0:0:0:0:0:0:0:1]/a", 1 }, /* ::1 written out */
		{ "alpine", 0 },
		{ "localhost", 0 }, /* docker.io/library/localhost */
		{ "quay.io/a", 0 },
		{ "128.0.0.1/a", 0 },
		{ "10.0.0.1:5000/a", 0 },
		{ "126.255.255.255/a", 0 },
		{ "127.example.com/a", 0 }, /* a name, not an address */
		{ "localhost.example.com/a", 0 },
		{ "[::2]:5000/a", 0 },
		{ "[fe80::1]/a", 0 },
	};
	struct image_ref ref;
	const char *why = NULL;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		if (ref_parse(rows[i].text, &ref, &why) != 0)
			fail_msg("\"%s\" refused: %s", rows[i].text, why);
		if (ref_is_loopback(&ref) != rows[i].loopback)
			fail_msg("\"%s\": ref_is_loopback() is %d", rows[i].text,
				 ref_is_loopback(&ref));
	}
}

static void test_looks_like_id(void **state)
{
	static const struct {
		const char *text;
		int id;
	} rows[] = {
		{ "0123456789ab", 1 }, /* the 12 that `docker images` shows */
		{ "deadbeefcafe", 1 },
		{ "0123456789abc", 1 },
		{ HEX64, 1 },
		{ DIGEST, 1 },
		{ "0123456789a", 0 }, /* 11: too short to be unambiguous */
		{ HEX64 "0", 0 },
		{ "0123456789AB", 0 },
		{ "0123456789ag", 0 },
		{ "sha256:0123456789ab", 0 },
		{ "sha256:" HEX64 "0", 0 },
		{ "sha512:" HEX64, 0 },
		{ "alpine", 0 },
		{ "alpine:3.19", 0 },
		{ "", 0 },
		{ "sha256:", 0 },
		{ "0123456789ab ", 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		if (ref_looks_like_id(rows[i].text) != rows[i].id)
			fail_msg("\"%s\": ref_looks_like_id() is %d", rows[i].text,
				 ref_looks_like_id(rows[i].text));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),	    cmocka_unit_test(test_bad),
		cmocka_unit_test(test_limits),	    cmocka_unit_test(test_format_truncates),
		cmocka_unit_test(test_is_loopback), cmocka_unit_test(test_looks_like_id),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
