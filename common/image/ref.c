/*
 * ref.c - image references as docker and podman read them.
 *
 * docker's rules (its distribution/reference package) are one long
 * regular expression; here they are written out as plain checks, one per
 * part of the name, so that each failure can tell a learner which part
 * is wrong and why.  The order of the work:
 *
 *   quay.io:443/org/img:v1@sha256:0123...
 *   \__host___/\_path__/ \tag/\_digest__/
 *
 * 1. everything after the first "@" is the digest;
 * 2. the last ":" after the last "/" starts the tag (a ":" before the
 *    last "/" can only be a port);
 * 3. the first "/"-separated part is a host only if it looks like one;
 * 4. what is left is the repository path.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "ref.h"

#define DOCKER_HUB     "docker.io"
#define DOCKER_HUB_API "registry-1.docker.io" /* docker.io itself serves a web page */
#define OFFICIAL       "library/" /* where Docker Hub keeps its own images */
#define REF_PATH_MAX   255
#define REF_HOST_MAX   255
#define REF_TAG_MAX    128
#define SHA256_HEX     64

/* Our own character classes: <ctype.h> would follow the locale. */
static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int is_lower(char c)
{
	return c >= 'a' && c <= 'z';
}

static int is_upper(char c)
{
	return c >= 'A' && c <= 'Z';
}

static int is_letter(char c)
{
	return is_lower(c) || is_upper(c);
}

static int is_lower_hex(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f');
}

static int is_tag_start(char c)
{
	return is_letter(c) || is_digit(c) || c == '_';
}

static char to_lower(char c)
{
	return is_upper(c) ? (char)(c - 'A' + 'a') : c;
}

/* Like memrchr(3): the last c in the n bytes at s, or NULL. */
static const char *last_of(const char *s, size_t n, char c)
{
	while (n > 0) {
		n--;
		if (s[n] == c)
			return s + n;
	}
	return NULL;
}

/* n bytes of s, NUL-terminated, into out (which holds more than n). */
static void copy_n(char *out, const char *s, size_t n)
{
	memcpy(out, s, n);
	out[n] = '\0';
}

/* "1" to "65535": a TCP port. */
static int valid_port(const char *s, size_t n)
{
	unsigned long port = 0;
	size_t i;

	if (n == 0 || n > 5)
		return 0;
	for (i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			return 0;
		port = port * 10 + (unsigned long)(s[i] - '0');
	}
	return port >= 1 && port <= 65535;
}

/*
 * A host name ("quay.io", "my-registry.local") or an IPv4 address: labels
 * of letters, digits and "-" joined by ".", no label empty, none starting
 * or ending with "-".  A name whose last label is all digits can only be
 * an address (no top-level domain is a number), so it must be a whole one.
 */
static const char *check_host_name(const char *s, size_t n)
{
	char addr[INET_ADDRSTRLEN];
	struct in_addr in;
	size_t i, start = 0;
	int numeric = 1, last_numeric = 0;

	if (n == 0)
		return "the registry host is missing before its \":PORT\"";
	for (i = 0; i <= n; i++) {
		if (i == n || s[i] == '.') {
			if (i == start)
				return "the registry host has an empty part between two \".\"";
			if (s[start] == '-' || s[i - 1] == '-')
				return "a part of the registry host name starts or ends with \"-\"";
			if (i - start > 63)
				return "a part of the registry host name is longer than 63 characters";
			start = i + 1;
			last_numeric = numeric;
			numeric = 1;
			continue;
		}
		if (!is_letter(s[i]) && !is_digit(s[i]) && s[i] != '-')
			return "a registry host name holds only letters, digits, \"-\" and \".\"";
		if (!is_digit(s[i]))
			numeric = 0;
	}
	if (last_numeric) {
		if (n >= sizeof(addr))
			return "the registry address is not a valid IPv4 address";
		copy_n(addr, s, n);
		if (inet_pton(AF_INET, addr, &in) != 1)
			return "the registry address is not a valid IPv4 address";
	}
	return NULL;
}

/* "[::1]", "[fd00::5]": an IPv6 address in brackets, n bytes with them. */
static const char *check_host_ipv6(const char *s, size_t n)
{
	char addr[INET6_ADDRSTRLEN];
	struct in6_addr in6;

	if (n < 3 || n - 2 >= sizeof(addr))
		return "the registry's \"[...]\" does not hold an IPv6 address";
	copy_n(addr, s + 1, n - 2);
	if (inet_pton(AF_INET6, addr, &in6) != 1)
		return "the registry's \"[...]\" does not hold an IPv6 address";
	return NULL;
}

/* HOST[:PORT], n bytes at s; the host, folded to lowercase, into out. */
static const char *parse_host(const char *s, size_t n, char *out)
{
	const char *end, *why;
	size_t host_len, i;

	if (n > REF_HOST_MAX)
		return "the registry host is longer than 255 characters";
	if (s[0] == '[') {
		end = memchr(s, ']', n);
		if (!end)
			return "an IPv6 registry address needs its closing \"]\"";
		host_len = (size_t)(end - s) + 1;
		why = check_host_ipv6(s, host_len);
		if (!why && host_len < n && s[host_len] != ':')
			why = "only \":PORT\" may follow the \"]\" of an IPv6 registry address";
	} else {
		end = memchr(s, ':', n);
		host_len = end ? (size_t)(end - s) : n;
		why = check_host_name(s, host_len);
	}
	if (why)
		return why;
	if (host_len < n && !valid_port(s + host_len + 1, n - host_len - 1))
		return "a registry port is a number from 1 to 65535";
	for (i = 0; i < n; i++)
		out[i] = to_lower(s[i]);
	out[n] = '\0';
	return NULL;
}

/*
 * One part of a repository path: [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*, that
 * is runs of lowercase letters and digits joined by one ".", one or two
 * "_", or any number of "-".  Uppercase was refused before.
 */
static const char *check_component(const char *s, size_t n)
{
	size_t i = 0;

	if (n == 0)
		return "the repository name has an empty part between two \"/\"";
	for (;;) {
		if (!is_lower(s[i]) && !is_digit(s[i])) {
			if (s[i] != '.' && s[i] != '_' && s[i] != '-')
				break;
			return "a part of the repository name must start and end with a letter or digit, "
			       "with one \".\", one or two \"_\" or any \"-\" between them";
		}
		while (i < n && (is_lower(s[i]) || is_digit(s[i])))
			i++;
		if (i == n)
			return NULL;
		if (s[i] == '.') {
			i++;
		} else if (s[i] == '_') {
			i++;
			if (i < n && s[i] == '_')
				i++;
		} else if (s[i] == '-') {
			while (i < n && s[i] == '-')
				i++;
		} else {
			break;
		}
		if (i == n)
			return "a part of the repository name must start and end with a letter or digit, "
			       "with one \".\", one or two \"_\" or any \"-\" between them";
	}
	return "the repository name holds only lowercase letters, digits, \".\", \"_\", \"-\" and \"/\"";
}

/* The repository path, n bytes at s: parts joined by "/". */
static const char *check_path(const char *s, size_t n)
{
	const char *why, *slash;
	size_t i;

	if (n == 0)
		return "the repository name is missing";
	for (i = 0; i < n; i++)
		if (is_upper(s[i]))
			return "the repository name must be lowercase";
	while ((slash = memchr(s, '/', n)) != NULL) {
		why = check_component(s, (size_t)(slash - s));
		if (why)
			return why;
		n -= (size_t)(slash - s) + 1;
		s = slash + 1;
	}
	return check_component(s, n);
}

/* TAG, n bytes at s: [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}. */
static const char *check_tag(const char *s, size_t n)
{
	size_t i;

	if (n == 0)
		return "a \":\" must be followed by a tag";
	if (n > REF_TAG_MAX)
		return "a tag is at most 128 characters long";
	if (!is_tag_start(s[0]))
		return "a tag must start with a letter, a digit or \"_\"";
	for (i = 1; i < n; i++)
		if (!is_tag_start(s[i]) && s[i] != '.' && s[i] != '-')
			return "a tag holds only letters, digits, \"_\", \".\" and \"-\"";
	return NULL;
}

/* What follows "@": "sha256:" and 64 lowercase hex digits. */
static const char *check_digest(const char *s)
{
	const char *colon = strchr(s, ':');
	const char *hex;
	size_t i;

	if (*s == '\0')
		return "an \"@\" must be followed by a digest, sha256: and 64 hex digits";
	if (!colon)
		return "a digest is sha256: and 64 hex digits";
	if (colon - s != 6 || strncmp(s, "sha256", 6) != 0) {
		/* sha512:..., blake3:...: a digest, but of a kind we cannot check. */
		for (i = 0; s + i < colon; i++)
			if (!is_letter(s[i]) && !is_digit(s[i]))
				return "a digest is sha256: and 64 hex digits";
		return colon == s ? "a digest is sha256: and 64 hex digits"
				  : "only sha256 digests are supported";
	}
	hex = colon + 1;
	for (i = 0; hex[i]; i++) {
		if (is_lower_hex(hex[i]))
			continue;
		if (is_upper(hex[i]) && to_lower(hex[i]) <= 'f')
			return "the hex digits of a digest must be lowercase";
		return "a digest is sha256: and 64 hex digits";
	}
	if (i != SHA256_HEX)
		return "a digest is sha256: and 64 hex digits";
	return NULL;
}

/* The first part of a name is a registry host only if it looks like one. */
static int looks_like_host(const char *s, size_t n)
{
	return memchr(s, '.', n) || memchr(s, ':', n) ||
	       (n == strlen("localhost") && memcmp(s, "localhost", n) == 0);
}

/* All of ref_parse() but errno: the reason for a refusal, or NULL. */
static const char *parse(const char *text, struct image_ref *ref)
{
	const char *at, *slash, *colon, *path, *why;
	size_t len, i, path_len;

	if (!text || *text == '\0')
		return "the image name is empty";
	for (i = 0; text[i]; i++)
		if ((unsigned char)text[i] <= ' ' || text[i] == 0x7f)
			return "the image name contains a space or a control character";
	if (strstr(text, "://"))
		return "an image name is not a URL: leave out the scheme and \"://\"";

	/* 1. name@digest */
	at = strchr(text, '@');
	if (at) {
		why = check_digest(at + 1);
		if (why)
			return why;
		strcpy(ref->digest, at + 1); /* checked: exactly 71 bytes */
		len = (size_t)(at - text);
	} else {
		len = strlen(text);
	}
	if (len == 0)
		return "the repository name is missing before the \"@\"";
	if (text[0] == '/')
		return "the image name starts with \"/\"";
	if (text[len - 1] == '/')
		return "the image name ends with \"/\"";

	/* 2. name:tag, the last ":" after the last "/" */
	slash = last_of(text, len, '/');
	i = slash ? (size_t)(slash - text) + 1 : 0;
	colon = last_of(text + i, len - i, ':');
	if (colon) {
		why = check_tag(colon + 1, len - (size_t)(colon + 1 - text));
		if (why)
			return why;
		copy_n(ref->tag, colon + 1, len - (size_t)(colon + 1 - text));
		len = (size_t)(colon - text);
	} else if (!at) {
		strcpy(ref->tag, "latest");
	}

	/* 3. host/path */
	slash = memchr(text, '/', len);
	if (slash && looks_like_host(text, (size_t)(slash - text))) {
		why = parse_host(text, (size_t)(slash - text), ref->host);
		if (why)
			return why;
		/* docker's old name for Docker Hub; strncpy clears the rest. */
		if (strcmp(ref->host, "index.docker.io") == 0)
			strncpy(ref->host, DOCKER_HUB, sizeof(ref->host));
		path = slash + 1;
		path_len = len - (size_t)(path - text);
	} else {
		strcpy(ref->host, DOCKER_HUB);
		path = text;
		path_len = len;
	}

	/* 4. the path; Docker Hub's own images live under library/ */
	why = check_path(path, path_len);
	if (why)
		return why;
	i = 0;
	if (strcmp(ref->host, DOCKER_HUB) == 0 && !memchr(path, '/', path_len))
		i = strlen(OFFICIAL);
	if (i + path_len > REF_PATH_MAX)
		return "the repository name is longer than 255 characters";
	memcpy(ref->path, OFFICIAL, i);
	copy_n(ref->path + i, path, path_len);

	strcpy(ref->api_host, strcmp(ref->host, DOCKER_HUB) == 0 ? DOCKER_HUB_API : ref->host);
	return NULL;
}

int ref_parse(const char *text, struct image_ref *ref, const char **why)
{
	const char *wrong;

	memset(ref, 0, sizeof(*ref));
	wrong = parse(text, ref);
	if (!wrong)
		return 0;
	memset(ref, 0, sizeof(*ref));
	if (why)
		*why = wrong;
	errno = EINVAL;
	return -1;
}

int ref_format(const struct image_ref *ref, char *buf, size_t size)
{
	return snprintf(buf, size, "%s/%s%s%s%s%s", ref->host, ref->path, ref->tag[0] ? ":" : "",
			ref->tag, ref->digest[0] ? "@" : "", ref->digest);
}

int ref_repository(const struct image_ref *ref, char *buf, size_t size)
{
	const char *rest = ref->path + strlen(OFFICIAL);

	if (strcmp(ref->host, DOCKER_HUB) != 0)
		return snprintf(buf, size, "%s/%s", ref->host, ref->path);
	/* docker shows "alpine", not "library/alpine", but "library/a/b" whole. */
	if (strncmp(ref->path, OFFICIAL, strlen(OFFICIAL)) == 0 && !strchr(rest, '/'))
		return snprintf(buf, size, "%s", rest);
	return snprintf(buf, size, "%s", ref->path);
}

int ref_is_loopback(const struct image_ref *ref)
{
	char addr[INET6_ADDRSTRLEN];
	struct in6_addr in6;
	struct in_addr in;
	const char *end;
	size_t n;

	if (ref->host[0] == '[') {
		end = strchr(ref->host, ']');
		if (!end || (size_t)(end - ref->host) - 1 >= sizeof(addr))
			return 0;
		copy_n(addr, ref->host + 1, (size_t)(end - ref->host) - 1);
		return inet_pton(AF_INET6, addr, &in6) == 1 && IN6_IS_ADDR_LOOPBACK(&in6);
	}
	end = strchr(ref->host, ':');
	n = end ? (size_t)(end - ref->host) : strlen(ref->host);
	if (n == strlen("localhost") && memcmp(ref->host, "localhost", n) == 0)
		return 1;
	if (n >= sizeof(addr))
		return 0;
	copy_n(addr, ref->host, n);
	/* 127.0.0.0/8: the first byte in network order is 127. */
	return inet_pton(AF_INET, addr, &in) == 1 && ((const unsigned char *)&in.s_addr)[0] == 127;
}

int ref_looks_like_id(const char *text)
{
	size_t n;

	if (strncmp(text, "sha256:", 7) == 0) {
		text += 7;
		n = strspn(text, "0123456789abcdef");
		return n == SHA256_HEX && text[n] == '\0';
	}
	n = strspn(text, "0123456789abcdef");
	return n >= 12 && n <= SHA256_HEX && text[n] == '\0';
}
