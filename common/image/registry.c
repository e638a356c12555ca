/*
 * registry.c - the pull: what a client says to a registry to get an image.
 *
 *   GET /v2/NAME/manifests/TAG      the manifest, or an index of them
 *   GET /v2/NAME/manifests/DIGEST   the index's entry for this machine
 *   GET /v2/NAME/blobs/DIGEST       the config, then each layer
 *
 * Nothing a registry sends is trusted: each manifest and blob must have
 * the digest that named it, checked as it enters the store.  A layer
 * is downloaded into an unnamed file in the store's tmp/ (O_TMPFILE),
 * so a pull killed halfway leaves nothing behind.
 *
 * A registry that wants a token answers 401 with where to get one; the
 * kit asks that token server anonymously, once, and shows the token with
 * every request after (Docker Hub hands one to anyone, for public images).
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "error.h"
#include "http.h"
#include "registry.h"

/* A token server's answer: a token of a few kilobytes, in JSON. */
#define TOKEN_ANSWER_MAX (1 << 20)

const char *registry_scheme(const struct image_ref *ref, const struct pull_options *o)
{
	const char *insecure = o ? o->insecure_registry : NULL;

	if (insecure &&
	    (strcasecmp(insecure, ref->host) == 0 || strcasecmp(insecure, ref->api_host) == 0))
		return "http";
	if (o && o->cert_dir)
		return "https";
	return ref_is_loopback(ref) ? "http" : "https";
}

int registry_url(const struct image_ref *ref, const struct pull_options *o, const char *kind,
		 const char *what, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s://%s/v2/%s/%s/%s", registry_scheme(ref, o), ref->api_host,
			 ref->path, kind, what);

	return n < 0 || (size_t)n >= size ? (errno = ENAMETOOLONG, -1) : 0;
}

/* Characters of a token (RFC 9110): anything but spaces, separators and quotes. */
static int token_char(char ch)
{
	return ch && !strchr(" \t,=\"", ch);
}

/* value into out (size bytes): -1 when it does not fit */
static int put(char *out, size_t size, const char *value, size_t n)
{
	if (n >= size)
		return -1;
	memcpy(out, value, n);
	out[n] = '\0';
	return 0;
}

int registry_parse_challenge(const char *header, struct registry_challenge *c)
{
	const char *p = header, *name;
	char value[1024];
	size_t n, name_len;

	memset(c, 0, sizeof(*c));
	while (*p == ' ' || *p == '\t')
		p++;
	for (n = 0; token_char(p[n]); n++)
		;
	if (n == 0 || put(c->scheme, sizeof(c->scheme), p, n) < 0)
		return errno = EINVAL, -1;
	p += n;
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (!*p)
			break;
		name = p;
		while (token_char(*p))
			p++;
		name_len = (size_t)(p - name);
		while (*p == ' ' || *p == '\t')
			p++;
		/* a word without "=": the next challenge begins (only the first is read) */
		if (*p != '=' || name_len == 0)
			break;
		p++;
		while (*p == ' ' || *p == '\t')
			p++;
		n = 0;
		if (*p == '"') {
			/* a quoted string: commas are part of it, \x is x */
			for (p++; *p && *p != '"'; p++) {
				if (*p == '\\' && p[1])
					p++;
				if (n + 1 >= sizeof(value))
					return errno = EINVAL, -1;
				value[n++] = *p;
			}
			if (*p != '"')
				return errno = EINVAL, -1;
			p++;
		} else {
			for (; token_char(*p); p++) {
				if (n + 1 >= sizeof(value))
					return errno = EINVAL, -1;
				value[n++] = *p;
			}
		}
		if ((name_len == 5 && strncasecmp(name, "realm", 5) == 0 &&
		     put(c->realm, sizeof(c->realm), value, n) < 0) ||
		    (name_len == 7 && strncasecmp(name, "service", 7) == 0 &&
		     put(c->service, sizeof(c->service), value, n) < 0) ||
		    (name_len == 5 && strncasecmp(name, "scope", 5) == 0 &&
		     put(c->scope, sizeof(c->scope), value, n) < 0))
			return errno = EINVAL, -1;
	}
	return 0;
}

/* text with every byte but A-Z a-z 0-9 - . _ ~ as %XX, appended at buf + *used */
static int escape_into(const char *text, char *buf, size_t size, size_t *used)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p;

	for (p = (const unsigned char *)text; *p; p++) {
		if (*used + 4 > size)
			return -1;
		if (isalnum(*p) || strchr("-._~", *p)) {
			buf[(*used)++] = (char)*p;
		} else {
			buf[(*used)++] = '%';
			buf[(*used)++] = hex[*p >> 4];
			buf[(*used)++] = hex[*p & 15];
		}
	}
	buf[*used] = '\0';
	return 0;
}

int registry_token_url(const struct registry_challenge *c, const char *path, char *buf, size_t size)
{
	char scope[600];
	size_t used;
	int n;

	if (strncmp(c->realm, "http://", 7) != 0 && strncmp(c->realm, "https://", 8) != 0)
		return errno = EINVAL, -1;
	n = snprintf(scope, sizeof(scope), "repository:%s:pull", path);
	if (n < 0 || (size_t)n >= sizeof(scope))
		return errno = ENAMETOOLONG, -1;
	n = snprintf(buf, size, "%s%s", c->realm, strchr(c->realm, '?') ? "&" : "?");
	if (n < 0 || (size_t)n >= size)
		return errno = ENAMETOOLONG, -1;
	used = (size_t)n;
	if (c->service[0]) {
		if (used + sizeof("service=&") > size)
			return errno = ENAMETOOLONG, -1;
		strcpy(buf + used, "service=");
		used += strlen("service=");
		if (escape_into(c->service, buf, size, &used) < 0 || used + 2 > size)
			return errno = ENAMETOOLONG, -1;
		strcpy(buf + used, "&");
		used++;
	}
	if (used + sizeof("scope=") > size)
		return errno = ENAMETOOLONG, -1;
	strcpy(buf + used, "scope=");
	used += strlen("scope=");
	if (escape_into(scope, buf, size, &used) < 0)
		return errno = ENAMETOOLONG, -1;
	return 0;
}

char *registry_token_parse(const char *body, size_t len)
{
	json_t *root = json_loadb(body, len, 0, NULL);
	const char *token = json_string_value(json_object_get(root, "token"));
	char *copy = NULL;

	if (!token || !*token)
		token = json_string_value(json_object_get(root, "access_token"));
	if (token && *token)
		copy = strdup(token);
	json_decref(root);
	return copy;
}

/* text, cut to size, with control characters as spaces: a line of its own */
static void one_line(char *out, size_t size, const char *text, size_t n)
{
	size_t i;

	if (n >= size)
		n = size - 1;
	for (i = 0; i < n; i++)
		out[i] = (unsigned char)text[i] < ' ' || text[i] == 0x7f ? ' ' : text[i];
	out[n] = '\0';
	while (n > 0 && out[n - 1] == ' ')
		out[--n] = '\0';
}

/* A body that is a short line of text (a proxy's or a web server's words): 1, in out. */
static int short_text(const char *body, size_t len, char *out, size_t size)
{
	size_t i;

	while (len > 0 && strchr(" \t\r\n", body[len - 1]))
		len--;
	if (len == 0 || len > 160)
		return 0;
	for (i = 0; i < len; i++)
		if ((unsigned char)body[i] < ' ' || body[i] == 0x7f)
			return 0;
	one_line(out, size, body, len);
	return 1;
}

int registry_error_line(const char *host, const char *repo, const char *what, long status,
			const char *body, size_t len, const char *ratelimit, char *out, size_t size)
{
	char code[64] = "", message[256] = "", text[200];
	json_t *root = body && len ? json_loadb(body, len, 0, NULL) : NULL;
	json_t *first = json_array_get(json_object_get(root, "errors"), 0);
	const char *s;

	if ((s = json_string_value(json_object_get(first, "code"))) != NULL)
		one_line(code, sizeof(code), s, strlen(s));
	if ((s = json_string_value(json_object_get(first, "message"))) != NULL)
		one_line(message, sizeof(message), s, strlen(s));
	json_decref(root);

	/* Go's web server, spoken to in plain HTTP on its TLS port, says so in a 400 */
	if (status == 400 && body && memmem(body, len, "HTTP request to an HTTPS server", 31))
		return snprintf(
			out, size,
			"%s speaks HTTPS, not plain HTTP: give its CA with --cert-dir DIR (DIR/ca.crt)",
			host);
	if (status == 401 || status == 403)
		return snprintf(
			out, size,
			"access denied to %s at %s: it does not exist or needs a login (the kit pulls anonymously)",
			repo, host);
	if (status == 404 &&
	    (!code[0] || strcmp(code, "MANIFEST_UNKNOWN") == 0 ||
	     strcmp(code, "NAME_UNKNOWN") == 0 || strcmp(code, "BLOB_UNKNOWN") == 0))
		return snprintf(out, size, "%s: not found in %s", what, host);
	if (status == 429)
		return snprintf(
			out, size, "%s refuses: too many requests (%s%s%s)", host,
			strcmp(host, "docker.io") == 0 ? "Docker Hub's rate limit" : "a rate limit",
			ratelimit && *ratelimit ? "; remaining: " : "", ratelimit ? ratelimit : "");
	if (code[0])
		return snprintf(out, size, "%s answered %ld: %s%s%s", host, status, code,
				message[0] ? ": " : "", message);
	if (body && short_text(body, len, text, sizeof(text)))
		return snprintf(out, size, "%s answered %ld: %s", host, status, text);
	return snprintf(out, size, "%s answered %ld", host, status);
}

enum media registry_manifest_media(const char *content_type, const char *body, size_t len)
{
	char type[128];
	size_t n, i;
	enum media media;
	json_t *root;
	const char *inner;

	while (content_type && (*content_type == ' ' || *content_type == '\t'))
		content_type++;
	n = content_type ? strcspn(content_type, ";") : 0;
	while (n > 0 && (content_type[n - 1] == ' ' || content_type[n - 1] == '\t'))
		n--;
	if (n < sizeof(type)) {
		for (i = 0; i < n; i++)
			type[i] = (char)tolower((unsigned char)content_type[i]);
		type[n] = '\0';
		media = media_of(type);
		if (media == MEDIA_INDEX || media == MEDIA_MANIFEST || media == MEDIA_SCHEMA1)
			return media;
	}
	/* "application/json", or nothing: the body says what it is */
	root = body ? json_loadb(body, len, 0, NULL) : NULL;
	if (!json_is_object(root)) {
		json_decref(root);
		return MEDIA_UNKNOWN;
	}
	inner = json_string_value(json_object_get(root, "mediaType"));
	media = media_of(inner);
	if (media != MEDIA_INDEX && media != MEDIA_MANIFEST && media != MEDIA_SCHEMA1) {
		if (inner)
			media = MEDIA_UNKNOWN;
		else if (json_integer_value(json_object_get(root, "schemaVersion")) == 1)
			media = MEDIA_SCHEMA1;
		else if (json_is_array(json_object_get(root, "manifests")))
			media = MEDIA_INDEX;
		else if (json_is_array(json_object_get(root, "layers")))
			media = MEDIA_MANIFEST;
		else
			media = MEDIA_UNKNOWN;
	}
	json_decref(root);
	return media;
}

/* One pull's state. */
struct pull {
	struct store *s;
	const struct image_ref *ref;
	const struct pull_options *o;
	struct http_client http;
	char *token; /* the bearer token, once the registry asked for one */
	pull_progress *progress;
	char *err;
	size_t errsize;
};

/* Ask the token server a 401's challenge names for a token to pull with. */
static int fetch_token(struct pull *p, const struct registry_challenge *ch)
{
	char url[4096], host[256], why[512];
	struct http_response r;
	char *body = NULL;
	size_t len = 0;

	if (registry_token_url(ch, p->ref->path, url, sizeof(url)) < 0 ||
	    http_url_host(url, host, sizeof(host)) < 0)
		return image_error(p->err, p->errsize,
				   "%s sends clients to a token server the kit cannot use: \"%s\"",
				   p->ref->host, ch->realm);
	if (http_get(&p->http, url, NULL, -1, &body, &len, TOKEN_ANSWER_MAX, NULL, NULL, &r, why,
		     sizeof(why)) < 0)
		return image_error(p->err, p->errsize, "getting a token for %s: %s", p->ref->host,
				   why);
	if (r.status != 200) {
		registry_error_line(host, p->ref->path, "a token", r.status, body, len, "", p->err,
				    p->errsize);
		free(body);
		errno = EACCES;
		return -1;
	}
	free(p->token);
	p->token = registry_token_parse(body, len);
	free(body);
	if (!p->token)
		return image_error(p->err, p->errsize, "the token server %s sent no token", host);
	return 0;
}

/*
 * GET url from the registry: a 2xx body into fd (fd >= 0) or into
 * *body, at most max bytes.  A 401 asking for a Bearer token gets one,
 * once per request (a token may expire during a long pull), and the
 * request is made again with it.  Any other answer but a 2xx: -1, err
 * saying what the registry said about what was asked.
 */
static int get(struct pull *p, const char *url, const char *accept, int fd, char **body,
	       size_t *len, size_t max, const char *what, struct http_response *r,
	       http_progress *progress, void *arg)
{
	struct registry_challenge ch;
	int token_fetched = 0;

	for (;;) {
		const char *headers[3];
		char *auth = NULL, *answer = NULL;
		size_t answer_len = 0;
		int n = 0, rc;

		if (accept)
			headers[n++] = accept;
		if (p->token) {
			if (asprintf(&auth, "Authorization: Bearer %s", p->token) < 0)
				return errno = ENOMEM,
				       image_error(p->err, p->errsize, "out of memory");
			headers[n++] = auth;
		}
		headers[n] = NULL;
		/* a second try starts the file over */
		if (fd >= 0 && (lseek(fd, 0, SEEK_SET) < 0 || ftruncate(fd, 0) < 0)) {
			free(auth);
			return image_error(p->err, p->errsize, "cannot write in \"%s/tmp\": %s",
					   p->s->dir, strerror(errno));
		}
		rc = http_get(&p->http, url, headers, fd, &answer, &answer_len, max, progress, arg,
			      r, p->err, p->errsize);
		free(auth);
		if (rc < 0) {
			if (errno == EFBIG)
				image_error(p->err, p->errsize, "%s: more than %zu bytes from %s",
					    what, max, p->ref->host);
			return -1;
		}
		if (r->status >= 200 && r->status <= 299) {
			if (fd >= 0) {
				free(answer);
			} else {
				*body = answer;
				*len = answer_len;
			}
			return 0;
		}
		if (r->status == 401 && !token_fetched &&
		    registry_parse_challenge(r->www_authenticate, &ch) == 0 &&
		    strcasecmp(ch.scheme, "Bearer") == 0 && ch.realm[0]) {
			free(answer);
			token_fetched = 1;
			if (fetch_token(p, &ch) < 0)
				return -1;
			continue;
		}
		registry_error_line(p->ref->host, p->ref->path, what, r->status, answer, answer_len,
				    r->ratelimit_remaining, p->err, p->errsize);
		free(answer);
		if (r->status == 404)
			errno = ENOENT;
		else if (r->status == 401 || r->status == 403)
			errno = EACCES;
		else
			errno = EPROTO;
		return -1;
	}
}

/*
 * The manifest (or index) reference names, read whole, its kind and
 * digest found; expect: the digest it must have, or NULL (by tag).
 */
static int get_manifest(struct pull *p, const char *reference, const char *expect, const char *what,
			char **body, size_t *len, enum media *media, char digest[DIGEST_SIZE])
{
	char url[1024];
	struct http_response r;

	*body = NULL;
	if (registry_url(p->ref, p->o, "manifests", reference, url, sizeof(url)) < 0)
		return image_error(p->err, p->errsize, "the URL of %s is too long", what);
	if (get(p, url, "Accept: " MEDIA_ACCEPT_MANIFESTS, -1, body, len, STORE_JSON_MAX, what, &r,
		NULL, NULL) < 0)
		return -1;
	*media = registry_manifest_media(r.content_type, *body, *len);
	digest_bytes(*body, *len, digest);
	errno = EPROTO;
	if (*media == MEDIA_SCHEMA1)
		image_error(p->err, p->errsize,
			    "unsupported: a schema 1 manifest (docker's format before 2017)");
	else if (*media == MEDIA_UNKNOWN)
		image_error(p->err, p->errsize,
			    "%s sent %s as \"%s\", not a manifest the kit reads", p->ref->host,
			    what, r.content_type);
	else if (expect && strcmp(digest, expect) != 0)
		image_error(p->err, p->errsize, "%s sent %s with digest %.19s: it is corrupt",
			    p->ref->host, what, digest);
	/* by tag, the digest the registry says it sent (an optional header) is all there is */
	else if (!expect && digest_valid(r.docker_content_digest) &&
		 strcmp(digest, r.docker_content_digest) != 0)
		image_error(p->err, p->errsize,
			    "%s sent %s as %.19s, but its bytes have digest %.19s: it is corrupt",
			    p->ref->host, what, r.docker_content_digest, digest);
	else
		return errno = 0, 0;
	free(*body);
	*body = NULL;
	return -1;
}

/* A layer's bytes arriving, told on to the caller. */
struct layer_progress {
	struct pull *p;
	const struct descriptor *d;
};

static void on_layer_bytes(void *arg, long long done, long long total)
{
	struct layer_progress *lp = arg;

	(void)total; /* the manifest's size is the one to believe */
	lp->p->progress(lp->d->digest, done, lp->d->size, 0);
}

/* An unnamed file in the store's tmp/: gone when closed, whatever happens. */
static int unnamed_file(struct store *s)
{
	char path[PATH_MAX];
	int fd;

	if (snprintf(path, sizeof(path), "%s/tmp", s->dir) >= (int)sizeof(path))
		return errno = ENAMETOOLONG, -1;
	fd = open(path, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR))
		return fd;
	/* a file system without O_TMPFILE: a name, removed at once */
	if (snprintf(path, sizeof(path), "%s/tmp/pull-XXXXXX", s->dir) >= (int)sizeof(path))
		return errno = ENAMETOOLONG, -1;
	fd = mkostemp(path, O_CLOEXEC);
	if (fd >= 0)
		unlink(path);
	return fd;
}

/* A blob downloaded, then copied into the store, which checks its digest and size. */
static int fetch_blob(struct pull *p, const struct descriptor *d, int tell)
{
	struct layer_progress lp = { p, d };
	char url[1024], what[128];
	struct http_response r;
	int fd, rc;

	snprintf(what, sizeof(what), "blob %.19s", d->digest);
	if (registry_url(p->ref, p->o, "blobs", d->digest, url, sizeof(url)) < 0)
		return image_error(p->err, p->errsize, "the URL of %s is too long", what);
	fd = unnamed_file(p->s);
	if (fd < 0)
		return image_error(p->err, p->errsize, "cannot write in \"%s/tmp\": %s", p->s->dir,
				   strerror(errno));
	/* no more than the manifest says (one byte for an empty blob, to see one too many) */
	rc = get(p, url, NULL, fd, NULL, NULL, d->size > 0 ? (size_t)d->size : 1, what, &r,
		 tell && p->progress ? on_layer_bytes : NULL, &lp);
	if (rc == 0 && lseek(fd, 0, SEEK_SET) < 0)
		rc = image_error(p->err, p->errsize, "cannot read back %s: %s", what,
				 strerror(errno));
	if (rc == 0)
		rc = store_put_blob(p->s, fd, d->digest, d->size, p->err, p->errsize);
	close(fd);
	return rc;
}

/* A blob downloaded into the store, for image_store_layers(); layers tell their progress. */
static int registry_fetch(void *arg, const struct descriptor *d, char *err, size_t errsize)
{
	struct pull *p = arg;

	(void)err;
	(void)errsize;
	return fetch_blob(p, d, media_of(d->media_type) != MEDIA_CONFIG);
}

static void registry_done(void *arg, const char *diff_id, const struct descriptor *d,
			  const struct unpack_stats *st)
{
	struct pull *p = arg;

	(void)diff_id;
	if (p->progress)
		p->progress(d->digest, d->size, d->size, st ? 1 : 2);
}

static int pull(struct store *s, const struct image_ref *ref, const struct pull_options *o,
		struct import_result *res, pull_progress *progress, char *err, size_t errsize)
{
	static const struct pull_options none;
	struct pull p = { .s = s,
			  .ref = ref,
			  .o = o ? o : &none,
			  .progress = progress,
			  .err = err,
			  .errsize = errsize };
	char what[512], digest[DIGEST_SIZE], stored[DIGEST_SIZE];
	struct manifest m = { 0 };
	char *json = NULL;
	enum media media;
	size_t len = 0;
	int status = -1;

	memset(res, 0, sizeof(*res));
	p.http.cert_dir = p.o->cert_dir;
	errno = 0;
	/* by digest when one is given: the tag beside it is only a name */
	if (ref->digest[0])
		snprintf(what, sizeof(what), "%s@%s", ref->path, ref->digest);
	else
		snprintf(what, sizeof(what), "%s:%s", ref->path, ref->tag);
	if (get_manifest(&p, ref->digest[0] ? ref->digest : ref->tag,
			 ref->digest[0] ? ref->digest : NULL, what, &json, &len, &media,
			 digest) < 0)
		goto out;
	if (media == MEDIA_INDEX) {
		/* several platforms: this machine's (or the one asked for) */
		struct image_index ix;
		struct descriptor d;
		char why[768];
		int chosen;

		if (index_parse(json, len, &ix, err, errsize) < 0)
			goto out;
		chosen = index_choose(&ix, p.o->platform, why, sizeof(why));
		if (chosen >= 0)
			d = ix.manifests[chosen];
		index_free(&ix);
		if (chosen < 0) {
			image_error(err, errsize, "%s: %s", what, why);
			goto out;
		}
		free(json);
		snprintf(what, sizeof(what), "%s@%s", ref->path, d.digest);
		if (get_manifest(&p, d.digest, d.digest, what, &json, &len, &media, digest) < 0)
			goto out;
		if (media != MEDIA_MANIFEST) {
			errno = EPROTO;
			image_error(err, errsize,
				    "%s: an index inside an index, which the kit does not follow",
				    what);
			goto out;
		}
	}
	if (manifest_parse(json, len, &m, err, errsize) < 0 ||
	    store_put_bytes(s, json, len, stored, err, errsize) < 0)
		goto out;
	if (strcmp(stored, digest) != 0) {
		errno = EIO;
		image_error(err, errsize, "the manifest was stored as %s, not %s", stored, digest);
		goto out;
	}
	if (image_store_layers(s, &m, registry_fetch, &p, registry_done, res, err, errsize) < 0)
		goto out;
	ref_format(ref, res->names[0], sizeof(res->names[0]));
	if (store_tag(s, res->names[0], digest, m.config.digest, err, errsize) < 0)
		goto out;
	res->count = 1;
	status = 0;
out:
	if (status < 0)
		res->names[0][0] = '\0';
	free(json);
	manifest_free(&m);
	free(p.token);
	http_end(&p.http);
	return status;
}

int registry_pull(struct store *s, const struct image_ref *ref, const struct pull_options *o,
		  struct import_result *res, pull_progress *progress, char *err, size_t errsize)
{
	int status = pull(s, ref, o, res, progress, err, errsize);

	/* all of it, or nothing */
	if (status < 0)
		store_rollback(s);
	else
		store_commit(s);
	return status;
}
