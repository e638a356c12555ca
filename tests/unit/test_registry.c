/*
 * test_registry.c - cmocka tests of common/image/registry.c and http.c,
 * the parts that need no registry: where requests go (https, or plain
 * HTTP for this machine and --insecure-registry), the WWW-Authenticate
 * challenge as Docker Hub and docker-registry send it and with odd
 * quoting, the token server's URL and answer, the line for each error
 * a registry answers, what kind of manifest an answer holds, header
 * lines and URLs, the line for each of libcurl's failures; then two
 * that do load libcurl: the advice when it is missing, and a pull from
 * a port where nothing listens, which leaves the store as it was.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "image/http.h"
#include "image/registry.h"

#define HEX64  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define DIGEST "sha256:" HEX64
#define DENIED " it does not exist or needs a login (the kit pulls anonymously)"

static struct image_ref ref_of(const char *text)
{
	struct image_ref ref;

	assert_int_equal(ref_parse(text, &ref, NULL), 0);
	return ref;
}

static void test_urls(void **state)
{
	const struct {
		const char *ref, *insecure, *cert_dir, *kind, *what, *url;
	} cases[] = {
		/* Docker Hub: its API host, and library/ for official images */
		{ "alpine", NULL, NULL, "manifests", "latest",
		  "https://registry-1.docker.io/v2/library/alpine/manifests/latest" },
		{ "someone/app:v1", NULL, NULL, "manifests", "v1",
		  "https://registry-1.docker.io/v2/someone/app/manifests/v1" },
		{ "alpine", NULL, NULL, "blobs", DIGEST,
		  "https://registry-1.docker.io/v2/library/alpine/blobs/" DIGEST },
		/* this machine: plain HTTP */
		{ "127.0.0.1:5000/test/busybox", NULL, NULL, "manifests", "latest",
		  "http://127.0.0.1:5000/v2/test/busybox/manifests/latest" },
		{ "127.3.4.5:5000/x", NULL, NULL, "blobs", DIGEST,
		  "http://127.3.4.5:5000/v2/x/blobs/" DIGEST },
		{ "localhost:5000/x", NULL, NULL, "manifests", "latest",
		  "http://localhost:5000/v2/x/manifests/latest" },
		{ "localhost/x", NULL, NULL, "manifests", "latest",
		  "http://localhost/v2/x/manifests/latest" },
		{ "[::1]:5000/x", NULL, NULL, "manifests", "latest",
		  "http://[::1]:5000/v2/x/manifests/latest" },
		/* ... unless --cert-dir says it speaks TLS */
		{ "127.0.0.1:5000/x", NULL, "/certs", "manifests", "latest",
		  "https://127.0.0.1:5000/v2/x/manifests/latest" },
		/* elsewhere: TLS, unless --insecure-registry names it (host and port) */
		{ "quay.io/org/img:v2", NULL, NULL, "manifests", "v2",
		  "https://quay.io/v2/org/img/manifests/v2" },
		{ "10.0.0.1:5000/x", NULL, NULL, "manifests", "latest",
		  "https://10.0.0.1:5000/v2/x/manifests/latest" },
		{ "10.0.0.1:5000/x", "10.0.0.1:5000", NULL, "manifests", "latest",
		  "http://10.0.0.1:5000/v2/x/manifests/latest" },
		{ "10.0.0.1:5000/x", "10.0.0.1:5000", "/certs", "manifests", "latest",
		  "http://10.0.0.1:5000/v2/x/manifests/latest" },
		{ "10.0.0.1:5000/x", "10.0.0.1", NULL, "manifests", "latest",
		  "https://10.0.0.1:5000/v2/x/manifests/latest" },
		{ "10.0.0.1:5000/x", "10.0.0.2:5000", NULL, "manifests", "latest",
		  "https://10.0.0.1:5000/v2/x/manifests/latest" },
		{ "Reg.Example.com/x", "reg.example.COM", NULL, "manifests", "latest",
		  "http://reg.example.com/v2/x/manifests/latest" },
	};
	size_t i;
	char url[512];

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct image_ref ref = ref_of(cases[i].ref);
		struct pull_options o = { .cert_dir = cases[i].cert_dir,
					  .insecure_registry = cases[i].insecure };

		assert_int_equal(
			registry_url(&ref, &o, cases[i].kind, cases[i].what, url, sizeof(url)), 0);
		assert_string_equal(url, cases[i].url);
	}
	/* no options at all */
	{
		struct image_ref ref = ref_of("127.0.0.1:5000/x");

		assert_string_equal(registry_scheme(&ref, NULL), "http");
		ref = ref_of("alpine");
		assert_string_equal(registry_scheme(&ref, NULL), "https");
		assert_int_equal(registry_url(&ref, NULL, "manifests", "latest", url, 20), -1);
		assert_int_equal(errno, ENAMETOOLONG);
	}
}

struct challenge_case {
	const char *header;
	const char *scheme, *realm, *service, *scope;
};

static void test_challenges(void **state)
{
	const struct challenge_case cases[] = {
		/* Docker Hub */
		{ "Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\","
		  "scope=\"repository:library/alpine:pull\"",
		  "Bearer", "https://auth.docker.io/token", "registry.docker.io",
		  "repository:library/alpine:pull" },
		/* docker-registry: for a manifest, and for /v2/ (no scope) */
		{ "Bearer realm=\"http://127.0.0.1:15001/token\",service=\"boxlab-test\","
		  "scope=\"repository:test/busybox:pull\"",
		  "Bearer", "http://127.0.0.1:15001/token", "boxlab-test",
		  "repository:test/busybox:pull" },
		{ "Bearer realm=\"http://127.0.0.1:15001/token\",service=\"boxlab-test\"", "Bearer",
		  "http://127.0.0.1:15001/token", "boxlab-test", "" },
		/* ... with a token that does not grant the scope: error= is skipped */
		{ "Bearer realm=\"http://r/token\",service=\"s\",scope=\"repository:a/b:pull\","
		  "error=\"insufficient_scope\"",
		  "Bearer", "http://r/token", "s", "repository:a/b:pull" },
		/* a comma and an "=" inside quotes belong to the value */
		{ "Bearer realm=\"https://auth.example/token?a=1,b=2\",service=\"x\"", "Bearer",
		  "https://auth.example/token?a=1,b=2", "x", "" },
		/* two scopes in one, space-separated, as some registries send */
		{ "Bearer realm=\"r\",scope=\"repository:a:pull repository:b:pull\"", "Bearer", "r",
		  "", "repository:a:pull repository:b:pull" },
		/* \" and \\ in a quoted string */
		{ "Bearer realm=\"a\\\"b\\\\c\",service=\"\"", "Bearer", "a\"b\\c", "", "" },
		/* unquoted values, spaces around "=" and ",", names in any case */
		{ "bearer  Realm = https://r/token ,  SERVICE=reg.example ", "bearer",
		  "https://r/token", "reg.example", "" },
		{ "Bearer realm=\"r\"   service=\"s\"", "Bearer", "r", "s", "" },
		/* a second challenge: only the first is read */
		{ "Bearer realm=\"r1\",service=\"s1\", Basic realm=\"r2\"", "Bearer", "r1", "s1",
		  "" },
		{ "Basic realm=\"Registry Realm\"", "Basic", "Registry Realm", "", "" },
		{ "Bearer", "Bearer", "", "", "" },
		/* a token68 after the scheme (as Negotiate sends): nothing read */
		{ "Negotiate abc123==", "Negotiate", "", "", "" },
	};
	const char *bad[] = {
		"", "   ", "Bearer realm=\"unterminated", "Bearer realm=\"a\\", "=realm",
	};
	struct registry_challenge c;
	char *longer;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(registry_parse_challenge(cases[i].header, &c), 0);
		assert_string_equal(c.scheme, cases[i].scheme);
		assert_string_equal(c.realm, cases[i].realm);
		assert_string_equal(c.service, cases[i].service);
		assert_string_equal(c.scope, cases[i].scope);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		assert_int_equal(registry_parse_challenge(bad[i], &c), -1);
		assert_int_equal(errno, EINVAL);
	}
	/* a realm longer than the kit keeps is refused, not cut */
	longer = malloc(2100);
	assert_non_null(longer);
	strcpy(longer, "Bearer realm=\"https://");
	memset(longer + strlen(longer), 'a', 2000);
	strcpy(longer + 2022, "\"");
	assert_int_equal(registry_parse_challenge(longer, &c), -1);
	free(longer);
}

static void test_token_url(void **state)
{
	struct registry_challenge c = { "Bearer", "https://auth.docker.io/token",
					"registry.docker.io", "" };
	char url[512];

	(void)state;
	assert_int_equal(registry_token_url(&c, "library/alpine", url, sizeof(url)), 0);
	assert_string_equal(url, "https://auth.docker.io/token?service=registry.docker.io"
				 "&scope=repository%3Alibrary%2Falpine%3Apull");
	/* a realm with a query of its own; a service to escape */
	strcpy(c.realm, "http://127.0.0.1:15001/token?x=1");
	strcpy(c.service, "my service&co");
	assert_int_equal(registry_token_url(&c, "test/busybox", url, sizeof(url)), 0);
	assert_string_equal(url, "http://127.0.0.1:15001/token?x=1&service=my%20service%26co"
				 "&scope=repository%3Atest%2Fbusybox%3Apull");
	/* no service */
	c.service[0] = '\0';
	assert_int_equal(registry_token_url(&c, "a_b-c.d", url, sizeof(url)), 0);
	assert_string_equal(url,
			    "http://127.0.0.1:15001/token?x=1&scope=repository%3Aa_b-c.d%3Apull");
	/* too long for the buffer, at each step */
	assert_int_equal(registry_token_url(&c, "a", url, 10), -1);
	assert_int_equal(errno, ENAMETOOLONG);
	assert_int_equal(registry_token_url(&c, "a", url, 45), -1);
	assert_int_equal(errno, ENAMETOOLONG);
	/* a realm that is not a web address */
	strcpy(c.realm, "file:///etc/passwd");
	assert_int_equal(registry_token_url(&c, "a", url, sizeof(url)), -1);
	assert_int_equal(errno, EINVAL);
	c.realm[0] = '\0';
	assert_int_equal(registry_token_url(&c, "a", url, sizeof(url)), -1);
}

static void test_token_parse(void **state)
{
	const struct {
		const char *body, *token;
	} cases[] = {
		{ "{\"token\":\"abc.def.ghi\",\"expires_in\":300}", "abc.def.ghi" },
		{ "{\"access_token\":\"xyz\"}", "xyz" },
		{ "{\"token\":\"t1\",\"access_token\":\"t2\"}", "t1" },
		{ "{\"token\":\"\",\"access_token\":\"t2\"}", "t2" },
		{ "{\"expires_in\":300}", NULL },
		{ "{\"token\":42}", NULL },
		{ "not json", NULL },
		{ "[\"token\"]", NULL },
		{ "", NULL },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *token = registry_token_parse(cases[i].body, strlen(cases[i].body));

		if (cases[i].token)
			assert_string_equal(token, cases[i].token);
		else
			assert_null(token);
		free(token);
	}
}

static void test_error_lines(void **state)
{
	const struct {
		const char *host;
		long status;
		const char *body, *ratelimit, *line;
	} cases[] = {
		/* as docker-registry 2.8 answers */
		{ "127.0.0.1:5000", 404,
		  "{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\",\"message\":\"manifest unknown\","
		  "\"detail\":{\"Tag\":\"nope\"}}]}\n",
		  "", "test/busybox:nope: not found in 127.0.0.1:5000" },
		{ "127.0.0.1:5000", 404,
		  "{\"errors\":[{\"code\":\"NAME_UNKNOWN\",\"message\":\"repository name not known "
		  "to registry\",\"detail\":{\"name\":\"test/other\"}}]}",
		  "", "test/busybox:nope: not found in 127.0.0.1:5000" },
		{ "127.0.0.1:5000", 404,
		  "{\"errors\":[{\"code\":\"BLOB_UNKNOWN\",\"message\":\"blob unknown to registry\"}]}",
		  "", "test/busybox:nope: not found in 127.0.0.1:5000" },
		{ "127.0.0.1:5000", 404, "", "", "test/busybox:nope: not found in 127.0.0.1:5000" },
		{ "127.0.0.1:5000", 401,
		  "{\"errors\":[{\"code\":\"UNAUTHORIZED\",\"message\":\"authentication required\"}]}",
		  "", "access denied to test/busybox at 127.0.0.1:5000:" DENIED },
		{ "docker.io", 403,
		  "{\"errors\":[{\"code\":\"DENIED\",\"message\":\"requested access to the resource "
		  "is denied\"}]}",
		  "", "access denied to test/busybox at docker.io:" DENIED },
		/* Docker Hub's rate limit */
		{ "docker.io", 429,
		  "{\"errors\":[{\"code\":\"TOOMANYREQUESTS\",\"message\":\"You have reached your "
		  "pull rate limit.\"}]}",
		  "0;w=21600",
		  "docker.io refuses: too many requests (Docker Hub's rate limit; remaining: 0;w=21600)" },
		{ "docker.io", 429, "", "",
		  "docker.io refuses: too many requests (Docker Hub's rate limit)" },
		{ "quay.io", 429, "", "", "quay.io refuses: too many requests (a rate limit)" },
		/* plain HTTP to a registry's TLS port (Go's answer) */
		{ "127.0.0.1:5000", 400, "Client sent an HTTP request to an HTTPS server.\n", "",
		  "127.0.0.1:5000 speaks HTTPS, not plain HTTP: give its CA with --cert-dir DIR "
		  "(DIR/ca.crt)" },
		/* anything else: the status, the code, the message on one line */
		{ "127.0.0.1:5000", 500,
		  "{\"errors\":[{\"code\":\"UNKNOWN\",\"message\":\"unknown error\\nsecond line\"}]}",
		  "", "127.0.0.1:5000 answered 500: UNKNOWN: unknown error second line" },
		{ "127.0.0.1:5000", 400, "{\"errors\":[{\"code\":\"MANIFEST_INVALID\"}]}", "",
		  "127.0.0.1:5000 answered 400: MANIFEST_INVALID" },
		{ "127.0.0.1:5000", 404,
		  "{\"errors\":[{\"code\":\"UNSUPPORTED\",\"message\":\"The operation is "
		  "unsupported.\"}]}",
		  "", "127.0.0.1:5000 answered 404: UNSUPPORTED: The operation is unsupported." },
		/* a proxy's or a web server's words, when short; else the status alone */
		{ "reg.example", 502, "Bad Gateway\r\n", "",
		  "reg.example answered 502: Bad Gateway" },
		{ "reg.example", 503, "<html>\n<body>down</body>\n</html>\n", "",
		  "reg.example answered 503" },
		{ "reg.example", 500, NULL, "", "reg.example answered 500" },
	};
	char line[512];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *body = cases[i].body;

		registry_error_line(cases[i].host, "test/busybox", "test/busybox:nope",
				    cases[i].status, body, body ? strlen(body) : 0,
				    cases[i].ratelimit, line, sizeof(line));
		assert_string_equal(line, cases[i].line);
	}
}

static void test_manifest_media(void **state)
{
	const struct {
		const char *type, *body;
		enum media media;
	} cases[] = {
		{ "application/vnd.oci.image.index.v1+json", "{}", MEDIA_INDEX },
		{ "application/vnd.docker.distribution.manifest.list.v2+json", "{}", MEDIA_INDEX },
		{ "application/vnd.oci.image.manifest.v1+json", "{}", MEDIA_MANIFEST },
		{ "application/vnd.docker.distribution.manifest.v2+json", "{}", MEDIA_MANIFEST },
		{ "application/vnd.docker.distribution.manifest.v1+prettyjws", "{}",
		  MEDIA_SCHEMA1 },
		{ "application/vnd.docker.distribution.manifest.v1+json", "{}", MEDIA_SCHEMA1 },
		/* parameters and case */
		{ " Application/VND.oci.image.manifest.v1+json ; charset=utf-8", "",
		  MEDIA_MANIFEST },
		/* the type says nothing: the body does */
		{ "application/json",
		  "{\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":[]}",
		  MEDIA_INDEX },
		{ "", "{\"schemaVersion\":2,\"manifests\":[]}", MEDIA_INDEX },
		{ NULL, "{\"schemaVersion\":2,\"config\":{},\"layers\":[]}", MEDIA_MANIFEST },
		{ "text/plain", "{\"schemaVersion\":1,\"fsLayers\":[]}", MEDIA_SCHEMA1 },
		{ "application/json", "{\"mediaType\":\"application/x-other\",\"layers\":[]}",
		  MEDIA_UNKNOWN },
		{ "application/json", "{\"schemaVersion\":2}", MEDIA_UNKNOWN },
		{ "text/html", "<html></html>", MEDIA_UNKNOWN },
		{ "application/vnd.oci.image.config.v1+json", "{}", MEDIA_UNKNOWN },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(registry_manifest_media(cases[i].type, cases[i].body,
							 strlen(cases[i].body)),
				 cases[i].media);
}

static void test_header_values(void **state)
{
	const struct {
		const char *line, *name, *value;
	} cases[] = {
		{ "Content-Type: application/json\r\n", "content-type", "application/json" },
		{ "content-type:application/json", "Content-Type", "application/json" },
		{ "WWW-Authenticate:   Bearer realm=\"r\"  \r\n", "www-authenticate",
		  "Bearer realm=\"r\"" },
		{ "Docker-Content-Digest: " DIGEST "\r\n", "docker-content-digest", DIGEST },
		{ "ratelimit-remaining: 76;w=21600\r\n", "RateLimit-Remaining", "76;w=21600" },
		{ "X-Empty:\r\n", "x-empty", "" },
		/* other headers, and names that only begin the same */
		{ "Content-Length: 12\r\n", "content-type", NULL },
		{ "Content-Type-Options: x\r\n", "content-type", NULL },
		{ "Content-Type\r\n", "content-type", NULL },
		{ "HTTP/1.1 200 OK\r\n", "content-type", NULL },
	};
	char value[128];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int found = http_header_value(cases[i].line, strlen(cases[i].line), cases[i].name,
					      value, sizeof(value));

		assert_int_equal(found, cases[i].value != NULL);
		if (found)
			assert_string_equal(value, cases[i].value);
	}
	/* a value too long is cut to fit */
	assert_int_equal(http_header_value("A: 0123456789\r\n", 15, "a", value, 5), 1);
	assert_string_equal(value, "0123");
	/* the line is not NUL-terminated where libcurl hands it over */
	assert_int_equal(http_header_value("A: xyzGARBAGE", 6, "a", value, sizeof(value)), 1);
	assert_string_equal(value, "xyz");
}

static void test_url_hosts(void **state)
{
	const struct {
		const char *url, *host;
	} cases[] = {
		{ "https://registry-1.docker.io/v2/library/alpine/manifests/latest",
		  "registry-1.docker.io" },
		{ "http://127.0.0.1:5000/v2/", "127.0.0.1:5000" },
		{ "http://127.0.0.1:5000", "127.0.0.1:5000" },
		{ "https://auth.docker.io/token?service=x", "auth.docker.io" },
		{ "http://[::1]:5000/v2/", "[::1]:5000" },
		{ "https://user:pw@cdn.example#x", "cdn.example" },
		{ "ftp://example.com/", NULL },
		{ "http:///v2/", NULL },
		{ "example.com/v2/", NULL },
	};
	char host[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = http_url_host(cases[i].url, host, sizeof(host));

		assert_int_equal(rc, cases[i].host ? 0 : -1);
		if (cases[i].host)
			assert_string_equal(host, cases[i].host);
	}
	assert_int_equal(http_url_host("http://long.example.com/", host, 8), -1);
}

static void test_curl_errors(void **state)
{
	const struct {
		int code, os_errno;
		const char *cert_dir;
		int answered;
		const char *detail, *line;
	} cases[] = {
		{ CURLE_COULDNT_CONNECT, ECONNREFUSED, NULL, 0, "Failed to connect",
		  "cannot reach H: connection refused; is the registry running?" },
		{ CURLE_COULDNT_CONNECT, EHOSTUNREACH, NULL, 0, "Failed to connect",
		  "cannot reach H: No route to host" },
		{ CURLE_COULDNT_RESOLVE_HOST, 0, NULL, 0, "Could not resolve host: H",
		  "cannot reach H: no address found for that name" },
		{ CURLE_PEER_FAILED_VERIFICATION, 0, NULL, 0,
		  "SSL certificate problem: unable to get local issuer certificate",
		  "H's certificate is not trusted: give its CA with --cert-dir DIR (DIR/ca.crt)" },
		{ CURLE_PEER_FAILED_VERIFICATION, 0, "/c", 0,
		  "SSL certificate problem: unable to get local issuer certificate",
		  "H's certificate is not trusted by \"/c/ca.crt\": SSL certificate problem: unable "
		  "to get local issuer certificate" },
		{ CURLE_OPERATION_TIMEDOUT, 0, NULL, 0,
		  "Connection timed out after 30001 milliseconds",
		  "cannot reach H: no connection within 30 s" },
		{ CURLE_OPERATION_TIMEDOUT, 0, NULL, 0,
		  "Operation too slow. Less than 1 bytes/sec transferred the last 60 seconds",
		  "H took the connection but sent nothing for 60 s" },
		{ CURLE_OPERATION_TIMEDOUT, 0, NULL, 1,
		  "Operation too slow. Less than 1 bytes/sec transferred the last 60 seconds",
		  "H stopped sending: under 1 byte/s for 60 s" },
		{ CURLE_SSL_CONNECT_ERROR, 0, NULL, 0,
		  "error:0A00010B:SSL routines::wrong version number",
		  "cannot speak TLS with H (error:0A00010B:SSL routines::wrong version number); if it "
		  "serves plain HTTP, name it with --insecure-registry H" },
		{ CURLE_GOT_NOTHING, 0, NULL, 0, "Empty reply from server",
		  "H closed the connection without an answer" },
		{ CURLE_RECV_ERROR, 0, NULL, 1, "Connection reset by peer",
		  "the connection to H broke: Connection reset by peer" },
		{ CURLE_UNSUPPORTED_PROTOCOL, 0, NULL, 0, "Protocol \"ftp\" not supported",
		  "cannot fetch from H: Protocol \"ftp\" not supported" },
		{ CURLE_UNSUPPORTED_PROTOCOL, 0, NULL, 0, NULL, "cannot fetch from H: no detail" },
	};
	char line[512];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		http_explain(cases[i].code, cases[i].os_errno, "H", cases[i].cert_dir,
			     cases[i].answered, cases[i].detail, line, sizeof(line));
		assert_string_equal(line, cases[i].line);
	}
}

/* Without libcurl: the package to install.  (Runs before any test loads it.) */
static void test_no_libcurl(void **state)
{
	struct http_client c = { 0 };
	struct http_response r;
	char err[256], *body;
	size_t len;

	(void)state;
	setenv("BOXLAB_LIBCURL", "libcurl-not-here.so.4", 1);
	assert_int_equal(http_get(&c, "http://127.0.0.1:1/", NULL, -1, &body, &len, 0, NULL, NULL,
				  &r, err, sizeof(err)),
			 -1);
	assert_string_equal(err, "pulling needs libcurl: apt-get install libcurl4");
	assert_null(body);
	unsetenv("BOXLAB_LIBCURL");
	/* a URL that is not one is refused before anything is loaded */
	assert_int_equal(http_get(&c, "ftp://x/", NULL, -1, &body, &len, 0, NULL, NULL, &r, err,
				  sizeof(err)),
			 -1);
	assert_string_equal(err, "\"ftp://x/\" is not an http:// or https:// URL");
}

/* A port of 127.0.0.1 where nothing listens (it was free a moment ago). */
static int closed_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t n = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &n), 0);
	close(fd);
	return ntohs(a.sin_port);
}

/* A pull from a registry that is not running: its line, and nothing in the store changed. */
static void test_registry_down(void **state)
{
	char top[] = "/var/tmp/boxlab-registry-XXXXXX", text[64], err[256], want[128], cmd[160];
	struct import_result res;
	struct stored_image *list;
	struct image_ref ref;
	struct store s;
	int port = closed_port(), count;

	(void)state;
	assert_non_null(mkdtemp(top));
	assert_int_equal(setenv("BOXLAB_STORE_DIR", top, 1), 0);
	assert_int_equal(store_open(&s, 1, err, sizeof(err)), 0);
	snprintf(text, sizeof(text), "127.0.0.1:%d/test/busybox", port);
	ref = ref_of(text);
	assert_int_equal(registry_pull(&s, &ref, NULL, &res, NULL, err, sizeof(err)), -1);
	snprintf(want, sizeof(want),
		 "cannot reach 127.0.0.1:%d: connection refused; is the registry running?", port);
	assert_string_equal(err, want);
	assert_int_equal(errno, ECONNREFUSED);
	assert_int_equal(res.count, 0);
	assert_int_equal(store_list(&s, &list, &count, err, sizeof(err)), 0);
	assert_int_equal(count, 0);
	free(list);
	snprintf(cmd, sizeof(cmd), "test -z \"$(find '%s/tmp' '%s/blobs/sha256' -mindepth 1)\"",
		 top, top);
	assert_int_equal(system(cmd), 0);
	store_close(&s);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
	assert_int_equal(system(cmd), 0);
	unsetenv("BOXLAB_STORE_DIR");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_urls),	      cmocka_unit_test(test_challenges),
		cmocka_unit_test(test_token_url),     cmocka_unit_test(test_token_parse),
		cmocka_unit_test(test_error_lines),   cmocka_unit_test(test_manifest_media),
		cmocka_unit_test(test_header_values), cmocka_unit_test(test_url_hosts),
		cmocka_unit_test(test_curl_errors),   cmocka_unit_test(test_no_libcurl),
		cmocka_unit_test(test_registry_down),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
