/*
 * http.c - GET through libcurl, loaded only when a pull needs it.
 *
 * libcurl speaks HTTP, TLS, redirects and HTTP/2; the kit takes about a
 * dozen of its functions by name from libcurl.so.4 with dlopen, into a
 * table of pointers declared with libcurl's own types.  A program that
 * never pulls never loads it, and starts as fast as if it did not exist.
 *
 * What the kit reads of an answer (its status and a few headers) is
 * picked from the header lines as libcurl hands them over; the body goes
 * to a file or to memory, never past a limit the caller sets.
 */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "error.h"
#include "http.h"

/* The library's file, as Debian's libcurl4 package installs it. */
#define LIBCURL "libcurl.so.4"
/* An error body is a line or two of JSON: more is cut. */
#define ERROR_BODY_MAX (64 << 10)

/* libcurl's functions the kit calls, each with the type its header gives it. */
static struct {
	void *lib;
	__typeof__(curl_global_init) *global_init;
	__typeof__(curl_easy_init) *easy_init;
	__typeof__(curl_easy_reset) *easy_reset;
	__typeof__(curl_easy_setopt) *easy_setopt;
	__typeof__(curl_easy_perform) *easy_perform;
	__typeof__(curl_easy_getinfo) *easy_getinfo;
	__typeof__(curl_easy_cleanup) *easy_cleanup;
	__typeof__(curl_easy_strerror) *easy_strerror;
	__typeof__(curl_slist_append) *slist_append;
	__typeof__(curl_slist_free_all) *slist_free_all;
} api;

/*
 * dlopen libcurl and look up each function, once.  BOXLAB_LIBCURL names
 * another file: the tests name one that is missing, to see the advice.
 */
static int load_curl(char *err, size_t errsize)
{
	const struct {
		const char *name;
		void **slot;
	} wanted[] = {
		{ "curl_global_init", (void **)&api.global_init },
		{ "curl_easy_init", (void **)&api.easy_init },
		{ "curl_easy_reset", (void **)&api.easy_reset },
		{ "curl_easy_setopt", (void **)&api.easy_setopt },
		{ "curl_easy_perform", (void **)&api.easy_perform },
		{ "curl_easy_getinfo", (void **)&api.easy_getinfo },
		{ "curl_easy_cleanup", (void **)&api.easy_cleanup },
		{ "curl_easy_strerror", (void **)&api.easy_strerror },
		{ "curl_slist_append", (void **)&api.slist_append },
		{ "curl_slist_free_all", (void **)&api.slist_free_all },
	};
	const char *file = getenv("BOXLAB_LIBCURL");
	size_t i;
	void *lib;

	if (api.lib)
		return 0;
	if (!file || !*file)
		file = LIBCURL;
	lib = dlopen(file, RTLD_NOW | RTLD_LOCAL);
	if (!lib) {
		errno = ENOENT;
		return image_error(err, errsize, "pulling needs libcurl: apt-get install libcurl4");
	}
	for (i = 0; i < sizeof(wanted) / sizeof(wanted[0]); i++) {
		*wanted[i].slot = dlsym(lib, wanted[i].name);
		if (!*wanted[i].slot) {
			dlclose(lib);
			errno = ENOSYS;
			return image_error(err, errsize, "%s has no %s: apt-get install libcurl4",
					   file, wanted[i].name);
		}
	}
	if (api.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		dlclose(lib);
		errno = EIO;
		return image_error(err, errsize, "libcurl did not start (curl_global_init failed)");
	}
	/* Kept loaded to the end: TLS libraries do not like being unloaded. */
	api.lib = lib;
	return 0;
}

int http_header_value(const char *line, size_t n, const char *name, char *out, size_t size)
{
	size_t len = strlen(name), start, end;

	if (n <= len || strncasecmp(line, name, len) != 0 || line[len] != ':')
		return 0;
	for (start = len + 1; start < n && (line[start] == ' ' || line[start] == '\t'); start++)
		;
	for (end = n; end > start && strchr(" \t\r\n", line[end - 1]); end--)
		;
	if (size) {
		if (end - start >= size)
			end = start + size - 1;
		memcpy(out, line + start, end - start);
		out[end - start] = '\0';
	}
	return 1;
}

int http_url_host(const char *url, char *out, size_t size)
{
	const char *p, *end;

	if (strncmp(url, "http://", 7) == 0)
		p = url + 7;
	else if (strncmp(url, "https://", 8) == 0)
		p = url + 8;
	else
		return errno = EINVAL, -1;
	end = p + strcspn(p, "/?#");
	/* user:password@ is not part of the host */
	for (const char *at = p; at < end; at++)
		if (*at == '@')
			p = at + 1;
	if (end == p || (size_t)(end - p) >= size)
		return errno = EINVAL, -1;
	memcpy(out, p, (size_t)(end - p));
	out[end - p] = '\0';
	return 0;
}

void http_explain(int code, int os_errno, const char *host, const char *cert_dir, int answered,
		  const char *detail, char *out, size_t size)
{
	if (!detail || !*detail)
		detail = "no detail";
	switch (code) {
	case CURLE_COULDNT_RESOLVE_HOST:
		snprintf(out, size, "cannot reach %s: no address found for that name", host);
		break;
	case CURLE_COULDNT_RESOLVE_PROXY:
		snprintf(out, size, "cannot reach the proxy (https_proxy, http_proxy): %s", detail);
		break;
	case CURLE_COULDNT_CONNECT:
		if (os_errno == ECONNREFUSED || os_errno == 0)
			snprintf(out, size,
				 "cannot reach %s: connection refused; is the registry running?",
				 host);
		else
			snprintf(out, size, "cannot reach %s: %s", host, strerror(os_errno));
		break;
	case CURLE_OPERATION_TIMEDOUT:
		if (answered)
			snprintf(out, size, "%s stopped sending: under 1 byte/s for 60 s", host);
		else if (strncmp(detail, "Operation too slow", 18) == 0)
			snprintf(out, size, "%s took the connection but sent nothing for 60 s",
				 host);
		else
			snprintf(out, size, "cannot reach %s: no connection within 30 s", host);
		break;
	case CURLE_PEER_FAILED_VERIFICATION:
		if (cert_dir)
			snprintf(out, size, "%s's certificate is not trusted by \"%s/ca.crt\": %s",
				 host, cert_dir, detail);
		else
			snprintf(
				out, size,
				"%s's certificate is not trusted: give its CA with --cert-dir DIR (DIR/ca.crt)",
				host);
		break;
	case CURLE_SSL_CONNECT_ERROR:
		snprintf(
			out, size,
			"cannot speak TLS with %s (%s); if it serves plain HTTP, name it with --insecure-registry %s",
			host, detail, host);
		break;
	case CURLE_SSL_CACERT_BADFILE:
		if (cert_dir)
			snprintf(out, size, "cannot read the CA certificate \"%s/ca.crt\": %s",
				 cert_dir, detail);
		else
			snprintf(out, size, "cannot read the system's CA certificates: %s", detail);
		break;
	case CURLE_GOT_NOTHING:
		snprintf(out, size, "%s closed the connection without an answer", host);
		break;
	case CURLE_TOO_MANY_REDIRECTS:
		snprintf(out, size, "%s redirects too many times", host);
		break;
	case CURLE_PARTIAL_FILE:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		snprintf(out, size, "the connection to %s broke: %s", host, detail);
		break;
	default:
		snprintf(out, size, "cannot fetch from %s: %s", host, detail);
		break;
	}
}

/* One request's state, shared by libcurl's callbacks. */
struct transfer {
	struct http_response *r;
	int fd; /* where a 2xx body goes, or -1 */
	int want_body; /* a body into buf is wanted */
	char *buf;
	size_t len, cap, max;
	long long done; /* bytes of a 2xx body so far */
	int too_big; /* the body passed max */
	int write_errno; /* writing to fd failed */
	http_progress *progress;
	void *arg;
};

/* A header line: a status line starts a new answer (after a redirect, or 100 Continue). */
static size_t on_header(char *line, size_t size, size_t count, void *data)
{
	struct transfer *t = data;
	struct http_response *r = t->r;
	size_t n = size * count;
	char value[32];

	if (n > 5 && strncmp(line, "HTTP/", 5) == 0) {
		const char *sp = memchr(line, ' ', n);

		memset(r, 0, sizeof(*r));
		r->content_length = -1;
		if (sp && (size_t)(sp - line) + 4 <= n)
			r->status = strtol(sp + 1, NULL, 10);
		return n;
	}
	http_header_value(line, n, "content-type", r->content_type, sizeof(r->content_type));
	http_header_value(line, n, "docker-content-digest", r->docker_content_digest,
			  sizeof(r->docker_content_digest));
	http_header_value(line, n, "ratelimit-remaining", r->ratelimit_remaining,
			  sizeof(r->ratelimit_remaining));
	if (http_header_value(line, n, "content-length", value, sizeof(value)))
		r->content_length = strtoll(value, NULL, 10);
	/* several challenges: the Bearer one, the one the kit speaks, when there is one */
	if (n > 17 && strncasecmp(line, "www-authenticate:", 17) == 0 &&
	    strncasecmp(r->www_authenticate, "bearer ", 7) != 0)
		http_header_value(line, n, "www-authenticate", r->www_authenticate,
				  sizeof(r->www_authenticate));
	return n;
}

/* Bytes into the memory buffer, which grows by doubling. */
static int append(struct transfer *t, const char *data, size_t n)
{
	if (t->len + n + 1 > t->cap) {
		size_t cap = t->cap ? t->cap : 4096;
		char *grown;

		while (cap < t->len + n + 1)
			cap *= 2;
		grown = realloc(t->buf, cap);
		if (!grown)
			return -1;
		t->buf = grown;
		t->cap = cap;
	}
	memcpy(t->buf + t->len, data, n);
	t->len += n;
	t->buf[t->len] = '\0';
	return 0;
}

/* Body bytes; returning less than n stops the transfer (CURLE_WRITE_ERROR). */
static size_t on_body(char *data, size_t size, size_t count, void *arg)
{
	struct transfer *t = arg;
	size_t n = size * count, off;

	if (t->r->status < 200 || t->r->status > 299) {
		/* an error's body: only its start matters */
		if (t->want_body && t->len < ERROR_BODY_MAX)
			append(t, data, n < ERROR_BODY_MAX - t->len ? n : ERROR_BODY_MAX - t->len);
		return n;
	}
	if (t->max && (unsigned long long)t->done + n > t->max) {
		t->too_big = 1;
		return 0;
	}
	if (t->fd >= 0) {
		for (off = 0; off < n;) {
			ssize_t w = write(t->fd, data + off, n - off);

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				t->write_errno = w < 0 ? errno : ENOSPC;
				return 0;
			}
			off += (size_t)w;
		}
	} else if (append(t, data, n) < 0) {
		t->write_errno = ENOMEM;
		return 0;
	}
	t->done += (long long)n;
	if (t->progress)
		t->progress(t->arg, t->done, t->r->content_length);
	return n;
}

/* The handle, made once per client and reset before each request (its connections stay). */
static CURL *handle_of(struct http_client *c)
{
	if (!c->curl)
		c->curl = api.easy_init();
	else
		api.easy_reset(c->curl);
	return c->curl;
}

int http_get(struct http_client *c, const char *url, const char *const *headers, int fd,
	     char **body, size_t *len, size_t max, http_progress *progress, void *arg,
	     struct http_response *r, char *err, size_t errsize)
{
	struct transfer t = { .r = r,
			      .fd = fd,
			      .want_body = body != NULL,
			      .max = max,
			      .progress = progress,
			      .arg = arg };
	char cafile[4096], host[256], detail[CURL_ERROR_SIZE] = "";
	struct curl_slist *list = NULL, *grown;
	char *effective = NULL;
	long status = 0, os_errno = 0;
	CURLcode code;
	CURL *curl;

	memset(r, 0, sizeof(*r));
	r->content_length = -1;
	if (body)
		*body = NULL;
	if (len)
		*len = 0;
	if (http_url_host(url, host, sizeof(host)) < 0) {
		errno = EINVAL;
		return image_error(err, errsize, "\"%s\" is not an http:// or https:// URL", url);
	}
	if (load_curl(err, errsize) < 0)
		return -1;
	if (c->cert_dir) {
		if (snprintf(cafile, sizeof(cafile), "%s/ca.crt", c->cert_dir) >=
		    (int)sizeof(cafile)) {
			errno = ENAMETOOLONG;
			return image_error(err, errsize, "the --cert-dir path is too long");
		}
		if (access(cafile, R_OK) < 0)
			return image_error(err, errsize,
					   "cannot read the CA certificate \"%s\": %s", cafile,
					   strerror(errno));
	}
	curl = handle_of(c);
	if (!curl) {
		errno = ENOMEM;
		return image_error(err, errsize, "libcurl cannot make a handle (out of memory)");
	}
	for (; headers && *headers; headers++) {
		grown = api.slist_append(list, *headers);
		if (!grown) {
			api.slist_free_all(list);
			errno = ENOMEM;
			return image_error(err, errsize, "out of memory");
		}
		list = grown;
	}
	api.easy_setopt(curl, CURLOPT_URL, url);
	api.easy_setopt(curl, CURLOPT_HTTPGET, 1L);
	api.easy_setopt(curl, CURLOPT_HTTPHEADER, list);
	api.easy_setopt(curl, CURLOPT_USERAGENT, "boxlab");
	api.easy_setopt(curl, CURLOPT_ERRORBUFFER, detail);
	/* No signals (libcurl's DNS timeouts would use SIGALRM otherwise). */
	api.easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	api.easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	/*
	 * Docker Hub answers a blob with a redirect to its CDN.  libcurl
	 * follows it without our Authorization header, which is meant for
	 * the registry only (it would send it on only with UNRESTRICTED_AUTH).
	 */
	api.easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
	api.easy_setopt(curl, CURLOPT_MAXREDIRS, 10L);
	api.easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	/* A dead host fails in 30 s; a transfer that stalls, after 60 s under 1 byte/s. */
	api.easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 30L);
	api.easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
	api.easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, 60L);
	if (c->cert_dir)
		api.easy_setopt(curl, CURLOPT_CAINFO, cafile);
	api.easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
	api.easy_setopt(curl, CURLOPT_HEADERDATA, &t);
	api.easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
	api.easy_setopt(curl, CURLOPT_WRITEDATA, &t);

	code = api.easy_perform(curl);

	api.easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	api.easy_getinfo(curl, CURLINFO_OS_ERRNO, &os_errno);
	/* after a redirect, the host that failed is the one it led to */
	if (api.easy_getinfo(curl, CURLINFO_EFFECTIVE_URL, &effective) == CURLE_OK && effective)
		http_url_host(effective, host, sizeof(host));
	/* the list must outlive the transfer, and the handle must not keep pointing at it */
	api.easy_setopt(curl, CURLOPT_HTTPHEADER, (struct curl_slist *)NULL);
	api.easy_setopt(curl, CURLOPT_ERRORBUFFER, (char *)NULL);
	api.slist_free_all(list);
	if (status)
		r->status = status;

	if (code != CURLE_OK) {
		free(t.buf);
		if (t.too_big) {
			errno = EFBIG;
			return image_error(err, errsize, "%s sent more than %zu bytes", host, max);
		}
		if (t.write_errno) {
			errno = t.write_errno;
			return image_error(err, errsize, "cannot keep what %s sends: %s", host,
					   strerror(errno));
		}
		if (!detail[0])
			snprintf(detail, sizeof(detail), "%s", api.easy_strerror(code));
		http_explain((int)code, (int)os_errno, host, c->cert_dir, r->status != 0, detail,
			     err, errsize);
		errno = code == CURLE_COULDNT_CONNECT && os_errno ? (int)os_errno : EIO;
		return -1;
	}
	if (body) {
		if (!t.buf && append(&t, "", 0) < 0) {
			errno = ENOMEM;
			return image_error(err, errsize, "out of memory");
		}
		*body = t.buf;
		if (len)
			*len = t.len;
	} else {
		free(t.buf);
	}
	return 0;
}

void http_end(struct http_client *c)
{
	if (c->curl && api.lib)
		api.easy_cleanup(c->curl);
	c->curl = NULL;
}
