/*
 * import.h - images from files into the store: an OCI image layout (a
 * directory, or a tar of one, as `skopeo copy ... oci:` or `umoci`
 * write) and a docker-archive (what `docker save`, `podman save` and
 * `skopeo copy ... docker-archive:` write).
 */
#ifndef BOXLAB_IMPORT_H
#define BOXLAB_IMPORT_H

#include "store.h"

#define IMPORT_MAX_NAMES 16

struct import_result {
	char names[IMPORT_MAX_NAMES][512]; /* the names the images got */
	int count; /* images imported */
	int layers, unpacked; /* layers in them; how many were not in the store yet */
	unsigned devices; /* device nodes left out of the layers */
};

/* Told of each layer as it is unpacked: its diff_id and how it went. */
typedef void import_progress(const char *diff_id, const struct unpack_stats *stats);

/*
 * Import every image of the layout or archive at path into s (opened
 * exclusive), for this machine's platform.  0, or -1 with err saying
 * what is wrong; the store then holds what it held, and perhaps some
 * verified blobs and layers, never a half of one.
 */
int image_import(struct store *s, const char *path, struct import_result *result,
		 import_progress *progress, char *err, size_t errsize);

/* Puts a blob into the store (copied from a layout, downloaded): 0, or -1 and err. */
typedef int blob_fetch(void *arg, const struct descriptor *d, char *err, size_t errsize);
/* Told of each layer of an image: its stats if it was unpacked now, NULL if it was there. */
typedef void layer_done(void *arg, const char *diff_id, const struct descriptor *d,
			const struct unpack_stats *stats);

/*
 * The config of m and each of its layers not in the store yet: their
 * blobs fetched (unless in the store) and checked, the layers unpacked;
 * res counts them.  What import and pull share.
 */
int image_store_layers(struct store *s, const struct manifest *m, blob_fetch *fetch, void *arg,
		       layer_done *done, struct import_result *res, char *err, size_t errsize);

/* The manifest (and config, and layers) a store's image is made of: for run. */
int image_open(const struct store *s, const struct stored_image *im, struct manifest *m,
	       struct image_config *c, char *err, size_t errsize);

#endif
