/*
 * ref.h - image references ("alpine", "quay.io/org/img:v1",
 * "localhost:5000/app@sha256:...") read the way docker and podman read
 * them: which registry to ask, for which repository, at which tag or
 * digest.  Pure functions: no I/O, no allocation; they never print.
 */
#ifndef BOXLAB_IMAGE_REF_H
#define BOXLAB_IMAGE_REF_H

#include <stddef.h>

/* An image reference: [HOST[:PORT]/]PATH[:TAG][@sha256:HEX] */
struct image_ref {
	char host[256]; /* "docker.io", "127.0.0.1:5000", "localhost:5000", "quay.io" */
	/* Where the registry API answers: "registry-1.docker.io" for docker.io, else host. */
	char api_host[256];
	char path[256]; /* "library/alpine", "test/busybox" */
	/* "latest" when neither tag nor digest was given; "" when only a digest was. */
	char tag[129];
	char digest[72]; /* "sha256:" + 64 lowercase hex, or "" */
};

/*
 * Fill ref from text.  The first "/"-separated part names the registry
 * only if it holds a "." or a ":" or is "localhost"; otherwise the
 * registry is docker.io, where a one-part name gets "library/" in front.
 * Host names are folded to lowercase, as DNS does.
 * Returns 0, or -1 with errno EINVAL, ref zeroed and *why (when why is
 * not NULL) a static string: what is wrong, in one lowercase clause.
 */
int ref_parse(const char *text, struct image_ref *ref, const char **why);

/*
 * The full name: "docker.io/library/alpine:latest",
 * "127.0.0.1:5000/test/busybox@sha256:...", or "host/path:tag@sha256:..."
 * when both were given.  Returns what snprintf returns.
 */
int ref_format(const struct image_ref *ref, char *buf, size_t size);

/*
 * The name as `docker images` shows it, without the tag: "alpine" for
 * docker.io/library/alpine, "someone/app" for docker.io/someone/app,
 * "127.0.0.1:5000/test/busybox" otherwise.  Returns what snprintf returns.
 */
int ref_repository(const struct image_ref *ref, char *buf, size_t size);

/*
 * 1 if the registry is this machine: its host (without the port) is in
 * 127.0.0.0/8, "localhost" or the IPv6 loopback "[::1]"; the kit may then
 * speak plain HTTP to it.  0 otherwise.
 */
int ref_is_loopback(const struct image_ref *ref);

/*
 * 1 if text looks like an image id, or the start of one, that the store
 * can look up instead of a name: 12 to 64 lowercase hex digits, or
 * "sha256:" and 64 of them.  0 otherwise.
 */
int ref_looks_like_id(const char *text);

#endif
