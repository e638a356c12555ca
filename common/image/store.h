/*
 * store.h - where images live on the host.
 *
 *   STORE/lock                          flock: shared while read or run, exclusive to remove
 *   STORE/write.lock                    flock: exclusive to add
 *   STORE/blobs/sha256/HEX              every blob, its digest checked on the way in
 *   STORE/layers/sha256/HEX/root        a layer unpacked (HEX: its diff_id), a lowerdir
 *   STORE/layers/sha256/HEX/size        the bytes of its files
 *   STORE/images.json                   the names given to images
 *   STORE/tmp/                          work in progress; emptied by the next change
 *
 * Everything lands in tmp/ first and is renamed into place whole, so a
 * killed import or a full disk leaves the store as it was.  STORE is
 * $BOXLAB_STORE_DIR, else /var/lib/boxlab/store for root, else
 * ${XDG_DATA_HOME:-~/.local/share}/boxlab/store.  It is closed to other
 * users (0700): layers may hold setuid programs.
 */
#ifndef BOXLAB_STORE_H
#define BOXLAB_STORE_H

#include <limits.h>
#include <stddef.h>

#include "image.h"
#include "unpack.h"

/* The most a manifest, an index or a config may weigh. */
#define STORE_JSON_MAX (4 << 20)

struct store {
	char dir[PATH_MAX / 2];
	int lock; /* the flock'd STORE/lock */
	int write_lock; /* STORE/write.lock, while changing it */
	char **added; /* what this import or pull put in, until store_commit() */
	int nadded;
};

/* An image by name, as images.json keeps it. */
struct stored_image {
	char name[512]; /* "docker.io/library/alpine:latest", or "" for an image with no name */
	char manifest[DIGEST_SIZE];
	char config[DIGEST_SIZE];
};

/* Where the store is (not made). */
int store_dir(char *buf, size_t size);

/*
 * Open the store, made if missing, and lock it: shared to read it; to
 * change it, shared too, and write.lock exclusive (then what a killed
 * run left in tmp/ goes).  A running container holds the shared lock,
 * so that only store_gc(), which takes it exclusive, waits for it:
 * adding to the store while containers run is safe, removing is not.
 */
int store_open(struct store *s, int exclusive, char *err, size_t errsize);
void store_close(struct store *s);
/*
 * What was put in since the last of these: store_rollback() takes it out
 * again, so that an import or pull that fails half way leaves the store
 * as it was; store_commit() keeps it.
 */
void store_commit(struct store *s);
void store_rollback(struct store *s);

int store_blob_path(const struct store *s, const char *digest, char *buf, size_t size);
int store_has_blob(const struct store *s, const char *digest);

/*
 * A blob into the store from fd, its digest and size (size < 0: any)
 * checked as it is copied.  Already there: nothing is copied.
 */
int store_put_blob(struct store *s, int fd, const char *digest, long long size, char *err,
		   size_t errsize);
/* Bytes made here (a manifest the kit writes), named by their digest. */
int store_put_bytes(struct store *s, const void *buf, size_t len, char digest[DIGEST_SIZE],
		    char *err, size_t errsize);
/* A manifest, index or config: read whole, checked against its digest. */
int store_read_blob(const struct store *s, const char *digest, char **buf, size_t *len, char *err,
		    size_t errsize);

/* STORE/layers/sha256/HEX/root, and whether it is there. */
int store_layer_path(const struct store *s, const char *diff_id, char *buf, size_t size);
int store_has_layer(const struct store *s, const char *diff_id);
/* The layer blob (already in the store) unpacked as diff_id, unless it is there. */
int store_unpack_layer(struct store *s, const struct descriptor *blob, const char *diff_id,
		       struct unpack_stats *stats, char *err, size_t errsize);
/* The bytes of a layer's files, as recorded when it was unpacked. */
long long store_layer_size(const struct store *s, const char *diff_id);

/* name now means this manifest (and config); a name given before moves. */
int store_tag(struct store *s, const char *name, const char *manifest, const char *config,
	      char *err, size_t errsize);
/* Every named image, in the order they were named; *list is the caller's to free. */
int store_list(const struct store *s, struct stored_image **list, int *count, char *err,
	       size_t errsize);
/* An image by full name or by a prefix of its config's hex (docker's image id). */
int store_find(const struct store *s, const char *name_or_id, struct stored_image *out);

/*
 * Take a name off images.json (or every name of an image, given its id).
 * 0, or -1 with ENOENT when nothing has that name or id.  The image's
 * blobs and layers stay until store_gc().
 */
int store_untag(struct store *s, const char *name_or_id, char *err, size_t errsize);

/* Remove every blob and layer no named image needs; how many of each went. */
int store_gc(struct store *s, int *blobs, int *layers, char *err, size_t errsize);

#endif
