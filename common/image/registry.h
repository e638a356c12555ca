/*
 * registry.h - pulling an image from a registry, as the OCI
 * distribution spec (docker's "registry API v2") describes: the
 * manifest by tag or digest, this machine's entry of an index, then the
 * config and each layer as blobs, every one checked against its digest
 * on the way into the store.  Anonymous, with the token a registry
 * hands anyone who asks (Docker Hub's public images); http.c fetches.
 */
#ifndef BOXLAB_REGISTRY_H
#define BOXLAB_REGISTRY_H

#include <stddef.h>

#include "image.h"
#include "import.h"
#include "ref.h"
#include "store.h"

struct pull_options {
	const char *cert_dir; /* --cert-dir DIR: speak TLS, trusting DIR/ca.crt; or NULL */
	const char *insecure_registry; /* --insecure-registry HOST[:PORT]: plain HTTP, or NULL */
	const char *platform; /* "linux/arm64/v8"...; NULL: host_platform() */
};

/*
 * Told as a layer's bytes arrive (done of total, finished 0), and once
 * more when the layer is stored (done == total): finished 1 when it was
 * downloaded and unpacked now, 2 when the store had it already and
 * nothing was downloaded.  digest is the layer's blob, as docker shows.
 */
typedef void pull_progress(const char *digest, long long done, long long total, int finished);

/*
 * Pull ref into s (opened exclusive) and name it ref_format(ref).  The
 * result is told as image_import tells it: names[0], count 1, layers,
 * how many were unpacked now, device nodes left out.  0, or -1 with
 * err saying why ("test/busybox:v2: not found in 127.0.0.1:5000"); the
 * store then holds what it held, and perhaps some verified blobs and
 * layers, nothing in tmp/.
 */
int registry_pull(struct store *s, const struct image_ref *ref, const struct pull_options *o,
		  struct import_result *res, pull_progress *progress, char *err, size_t errsize);

/* The pure pieces of a pull, for the unit tests. */

/*
 * "http" or "https": plain HTTP with the registry --insecure-registry
 * names, TLS with any when --cert-dir gives a CA, else plain HTTP with
 * a registry on this machine (ref_is_loopback) and TLS with all others.
 */
const char *registry_scheme(const struct image_ref *ref, const struct pull_options *o);

/*
 * "SCHEME://API_HOST/v2/PATH/KIND/WHAT", e.g.
 * https://registry-1.docker.io/v2/library/alpine/manifests/latest; kind
 * is "manifests" or "blobs", what a tag or a digest.  0, or -1 (too long).
 */
int registry_url(const struct image_ref *ref, const struct pull_options *o, const char *kind,
		 const char *what, char *buf, size_t size);

/* What a 401's WWW-Authenticate asks for: Bearer realm="...",service="...",scope="..." */
struct registry_challenge {
	char scheme[32]; /* "Bearer", "Basic"... as sent */
	char realm[1024];
	char service[256];
	char scope[512];
};

/*
 * Read the first challenge of a WWW-Authenticate value: its scheme and
 * its realm, service and scope (others are skipped).  Values are tokens
 * or quoted strings, which may hold commas and \" escapes.  0, or -1
 * (EINVAL) when it is malformed or a value does not fit.
 */
int registry_parse_challenge(const char *header, struct registry_challenge *c);

/*
 * The token server's URL for an anonymous pull of path:
 * REALM?service=SERVICE&scope=repository:PATH:pull, the values escaped
 * ("&" when the realm has a query already).  0, or -1: EINVAL when the
 * realm is not an http(s) URL, ENAMETOOLONG.
 */
int registry_token_url(const struct registry_challenge *c, const char *path, char *buf,
		       size_t size);

/* The token of a token server's JSON answer ("token", else "access_token"), malloc'd; or NULL. */
char *registry_token_parse(const char *body, size_t len);

/*
 * The line for an answer that is not a success, from its status and
 * its body ({"errors":[{"code":"...","message":"..."}]}): host is the
 * registry as the user named it, repo the repository's path, what the
 * thing asked for ("test/busybox:latest", "blob sha256:1f42..."),
 * ratelimit the RateLimit-Remaining header or "".  Returns what
 * snprintf returns.
 */
int registry_error_line(const char *host, const char *repo, const char *what, long status,
			const char *body, size_t len, const char *ratelimit, char *out,
			size_t size);

/*
 * What a manifest answer is: by its Content-Type (parameters after
 * ";" ignored); when that says nothing the kit knows, by the body's
 * mediaType, or schemaVersion 1.  MEDIA_INDEX, MEDIA_MANIFEST,
 * MEDIA_SCHEMA1 or MEDIA_UNKNOWN.
 */
enum media registry_manifest_media(const char *content_type, const char *body, size_t len);

#endif
