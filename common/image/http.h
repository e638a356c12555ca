/*
 * http.h - HTTP GET, done by libcurl, for pulling images.
 *
 * libcurl is loaded (dlopen) the first time something is fetched, not
 * linked: linked, its forty-odd libraries would slow every container's
 * start, and only a pull needs them.  Without libcurl on the machine,
 * a pull fails with a line saying which package to install.
 * BOXLAB_LIBCURL names another file to load instead of libcurl.so.4
 * (the tests name a missing one, to see that line).
 */
#ifndef BOXLAB_HTTP_H
#define BOXLAB_HTTP_H

#include <stddef.h>

/* One client: the connection it keeps open serves the next request to the same host. */
struct http_client {
	const char *cert_dir; /* trust the CA in DIR/ca.crt (podman's --cert-dir), or NULL */
	void *curl; /* libcurl's handle, made by the first http_get; http_end closes it */
};

/* What the kit reads of an answer's headers (values truncated to fit). */
struct http_response {
	long status; /* 200, 401, 404...; 0 when no answer came */
	char content_type[128];
	char www_authenticate[1024]; /* how to log in, after a 401 */
	char docker_content_digest[80];
	char ratelimit_remaining[64]; /* Docker Hub's pulls left, e.g. "76;w=21600" */
	long long content_length; /* -1 when not given */
};

/* Told as the body arrives: bytes so far, and the Content-Length (-1 if unknown). */
typedef void http_progress(void *arg, long long done, long long total);

/*
 * GET url, following redirects.  headers: extra header lines
 * ("Accept: ...", "Authorization: Bearer ..."), NULL-terminated, or
 * NULL; libcurl sends them to url's host only, never to the host a
 * redirect leads to.
 *
 * The body of a 2xx answer goes to fd when fd >= 0, else to *body; an
 * answer of another status goes to *body (when body is not NULL), for
 * its error message.  *body is malloc'd, NUL-terminated, *len bytes
 * long (the NUL not counted), and the caller's to free.  No more than
 * max bytes are taken (max 0: no limit; an error body is cut there
 * instead).
 *
 * Returns 0 when the server answered, whatever the status (in r), or
 * -1 with err saying why no answer came: "cannot reach HOST: ...",
 * "HOST's certificate is not trusted: ..." (errno EFBIG when the body
 * passed max).
 */
int http_get(struct http_client *c, const char *url, const char *const *headers, int fd,
	     char **body, size_t *len, size_t max, http_progress *progress, void *arg,
	     struct http_response *r, char *err, size_t errsize);

/* Close the client's connection and free its handle; it can be used again. */
void http_end(struct http_client *c);

/*
 * 1 if line (n bytes, as libcurl hands a header over, "\r\n" included
 * or not) is the header name (any case), its value copied into out
 * without the spaces around it; 0 otherwise.
 */
int http_header_value(const char *line, size_t n, const char *name, char *out, size_t size);

/* The HOST[:PORT] of an http:// or https:// URL into out; -1 if url is not one. */
int http_url_host(const char *url, char *out, size_t size);

/*
 * The line for libcurl's error code (a CURLcode) when fetching from
 * host: os_errno is what the system call said (CURLINFO_OS_ERRNO),
 * answered is 1 if an answer had begun, detail libcurl's own words.
 */
void http_explain(int code, int os_errno, const char *host, const char *cert_dir, int answered,
		  const char *detail, char *out, size_t size);

#endif
