/*
 * unpack.h - one layer's tar into a directory of its own, in the form
 * overlayfs reads as a lower layer: the image's whiteout files become
 * overlay's whiteouts, and nothing in the tar can write outside the
 * directory.  libarchive reads and writes; nothing here prints.
 */
#ifndef BOXLAB_UNPACK_H
#define BOXLAB_UNPACK_H

#include <stddef.h>

#include "image.h"

/* The extended attribute overlayfs mounted with "userxattr" reads. */
#define OVERLAY_OPAQUE_XATTR "user.overlay.opaque"

struct unpack_stats {
	unsigned long long size; /* bytes of regular files */
	unsigned entries; /* entries written */
	unsigned whiteouts, opaques; /* made for overlay */
	unsigned devices; /* device nodes left out: the container's /dev is its own */
	unsigned xattrs; /* extended attributes left out */
};

/*
 * Unpack the layer read from fd into dir, an empty directory.  media
 * says how it is compressed; the tar's own digest must be diff_id
 * (unless it is NULL).  keep_owners: give files the owners the tar
 * names (as root); otherwise they are the caller's.  0, or -1 with err
 * saying which entry and why; dir then holds a part and is the
 * caller's to remove.
 */
int unpack_layer(int fd, enum media media, const char *dir, const char *diff_id, int keep_owners,
		 struct unpack_stats *stats, char *err, size_t errsize);

/*
 * An entry's name as it lands in the layer: "./etc/x" and "/etc/x" are
 * "etc/x", the root ("/", "./", ".") is "".  -1 for a name that leaves
 * the layer ("..").  Absolute names other than the root are refused
 * too: no layer a tool writes has them.
 */
int unpack_clean_name(const char *name, char *out, size_t size);

#endif
