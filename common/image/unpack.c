/*
 * unpack.c - a layer into the store, safely.
 *
 * Each layer unpacks alone into an empty directory, and overlayfs
 * stacks the directories at run time.  So a whiteout (".wh.NAME") only
 * has to become what overlay calls one, a character device 0/0, and an
 * opaque directory (".wh..wh..opq") an extended attribute: the order of
 * the layers does the rest.
 *
 * The tar is not trusted.  libarchive's secure flags refuse names with
 * "..", absolute names and writing through a symbolic link; this file
 * refuses them first, with the entry's name, and makes its own
 * whiteouts without following any link.  Device nodes and the
 * attributes that mean something to the kernel (trusted.*, security.*,
 * overlay's own) are left out.
 *
 * Two libarchive readers are chained: the first only decompresses, and
 * hashes what the second, the tar reader, is given; so the layer's
 * diff_id is checked in the same pass.
 */
#define _GNU_SOURCE
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "error.h"
#include "unpack.h"

#define WHITEOUT	".wh."
#define WHITEOUT_OPAQUE ".wh..wh..opq"

struct stream {
	struct archive *compressed;
	struct digest tar; /* of what the tar reader has read */
	char buf[65536];
};

int unpack_clean_name(const char *name, char *out, size_t size)
{
	const char *p = name, *c;

	if (strcmp(name, "/") == 0)
		p = "";
	while (strncmp(p, "./", 2) == 0)
		p += 2;
	if (strcmp(p, ".") == 0)
		p = "";
	if (*p == '/' || strlen(p) >= size)
		return -1;
	for (c = p; *c;) {
		size_t n = strcspn(c, "/");

		if ((n == 2 && strncmp(c, "..", 2) == 0) || (n == 0 && c[1]))
			return -1;
		c += n + (c[n] == '/');
	}
	strcpy(out, p);
	/* "etc/" is "etc" */
	while (*out && out[strlen(out) - 1] == '/')
		out[strlen(out) - 1] = '\0';
	return 0;
}

/* The tar reader's input: decompressed bytes, hashed on the way. */
static la_ssize_t read_decompressed(struct archive *a, void *data, const void **buf)
{
	struct stream *s = data;
	la_ssize_t n = archive_read_data(s->compressed, s->buf, sizeof(s->buf));

	if (n < 0) {
		archive_set_error(a, archive_errno(s->compressed), "%s",
				  archive_error_string(s->compressed));
		return -1;
	}
	digest_update(&s->tar, s->buf, (size_t)n);
	*buf = s->buf;
	return n;
}

/*
 * The directory dir/path, made (0755) where missing, opened without
 * following any link: a symbolic link on the way is refused (ELOOP or
 * ENOTDIR), so a whiteout never lands outside the layer.
 */
static int open_dir_beneath(int root, const char *path)
{
	char copy[4096], *part, *save = NULL;
	int fd = dup(root);

	if (fd < 0 || strlen(path) >= sizeof(copy))
		return -1;
	strcpy(copy, path);
	for (part = strtok_r(copy, "/", &save); part; part = strtok_r(NULL, "/", &save)) {
		int next;

		if (mkdirat(fd, part, 0755) < 0 && errno != EEXIST)
			break;
		next = openat(fd, part, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		close(fd);
		if (next < 0)
			return -1;
		fd = next;
	}
	if (part) {
		close(fd);
		return -1;
	}
	return fd;
}

/* ".wh.NAME" and ".wh..wh..opq": overlay's whiteout and opaque marks. */
static int make_whiteout(int root, const char *name, struct unpack_stats *st, char *err,
			 size_t errsize)
{
	const char *slash = strrchr(name, '/'), *base = slash ? slash + 1 : name;
	char parent[4096];
	struct stat sb;
	int dir;

	snprintf(parent, sizeof(parent), "%.*s", slash ? (int)(slash - name) : 0, name);
	dir = open_dir_beneath(root, parent);
	if (dir < 0)
		return image_error(err, errsize,
				   "entry \"%s\": its directory goes through a link: %s", name,
				   strerror(errno));
	if (strcmp(base, WHITEOUT_OPAQUE) == 0) {
		if (fsetxattr(dir, OVERLAY_OPAQUE_XATTR, "y", 1, 0) < 0)
			goto failed;
		st->opaques++;
	} else if (fstatat(dir, base + strlen(WHITEOUT), &sb, AT_SYMLINK_NOFOLLOW) == 0) {
		/* the same layer has NAME too: whiteouts hide only lower layers */
	} else if (mknodat(dir, base + strlen(WHITEOUT), S_IFCHR | 0, makedev(0, 0)) < 0) {
		goto failed;
	} else {
		st->whiteouts++;
	}
	close(dir);
	return 0;
failed:
	close(dir);
	if (errno == EOPNOTSUPP)
		return image_error(
			err, errsize,
			"entry \"%s\": this filesystem cannot keep overlay's user.* attributes (tmpfs cannot before Linux 6.6): put the store (BOXLAB_STORE_DIR) on ext4, xfs or btrfs",
			name);
	return image_error(err, errsize, "entry \"%s\": %s", name, strerror(errno));
}

/* 1 if name is among the first n names of keep or of dropped */
static int seen(const char **names, int n, const char *name)
{
	while (n-- > 0)
		if (strcmp(names[n], name) == 0)
			return 1;
	return 0;
}

/*
 * Keep only user.* attributes that are not overlay's, on files and
 * directories.  A pax tar may carry an attribute twice (libarchive's and
 * star's headers): once counts.  What is kept waits in an entry of its
 * own, which copies it, while the entry's own list is emptied.
 */
static void filter_xattrs(struct archive_entry *e, struct unpack_stats *st)
{
	struct archive_entry *keep;
	const char *names[64], *name;
	const void *value;
	size_t size;
	int n = 0;
	mode_t type = archive_entry_filetype(e);

	if (archive_entry_xattr_reset(e) == 0)
		return;
	keep = archive_entry_new();
	while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
		/* the names stay valid until the list is cleared, below */
		if (seen(names, n, name))
			continue;
		if (n < 64)
			names[n++] = name;
		if (keep && strncmp(name, "user.", 5) == 0 &&
		    strncmp(name, "user.overlay.", 13) != 0 &&
		    (type == AE_IFREG || type == AE_IFDIR))
			archive_entry_xattr_add_entry(keep, name, value, size);
		else
			st->xattrs++;
	}
	archive_entry_xattr_clear(e);
	if (!keep)
		return;
	if (archive_entry_xattr_reset(keep) > 0)
		while (archive_entry_xattr_next(keep, &name, &value, &size) == ARCHIVE_OK)
			archive_entry_xattr_add_entry(e, name, value, size);
	archive_entry_free(keep);
}

static int copy_data(struct archive *in, struct archive *out)
{
	const void *buf;
	size_t size;
	la_int64_t offset;
	int r;

	while ((r = archive_read_data_block(in, &buf, &size, &offset)) == ARCHIVE_OK)
		if (archive_write_data_block(out, buf, size, offset) < ARCHIVE_OK)
			return ARCHIVE_FAILED;
	return r == ARCHIVE_EOF ? ARCHIVE_OK : r;
}

/* One entry of the tar, already named as it lands. */
static int unpack_entry(struct archive *tar, struct archive *disk, struct archive_entry *e,
			int root, int keep_owners, struct unpack_stats *st, char *err,
			size_t errsize)
{
	const char *name = archive_entry_pathname(e), *link = archive_entry_hardlink(e);
	char clean[4096], target[4096];
	const char *base;
	mode_t type = archive_entry_filetype(e);

	if (!name || unpack_clean_name(name, clean, sizeof(clean)) < 0)
		return image_error(err, errsize, "entry \"%s\" leaves the layer", name ? name : "");
	if (!clean[0]) {
		/* the layer's root: only its mode (and owner) apply */
		if (fchmod(root, archive_entry_perm(e)) < 0 ||
		    (keep_owners &&
		     fchown(root, (uid_t)archive_entry_uid(e), (gid_t)archive_entry_gid(e)) < 0))
			return image_error(err, errsize, "the layer's root: %s", strerror(errno));
		return 0;
	}
	base = strrchr(clean, '/') ? strrchr(clean, '/') + 1 : clean;
	if (strncmp(base, WHITEOUT, strlen(WHITEOUT)) == 0)
		return make_whiteout(root, clean, st, err, errsize);
	if (type == AE_IFCHR || type == AE_IFBLK) {
		st->devices++;
		return 0;
	}
	if (link) {
		if (unpack_clean_name(link, target, sizeof(target)) < 0 || !target[0])
			return image_error(err, errsize,
					   "hard link \"%s\" to \"%s\" leaves the layer", name,
					   link);
		archive_entry_copy_hardlink(e, target);
	}
	archive_entry_copy_pathname(e, clean);
	filter_xattrs(e, st);
	if (archive_write_header(disk, e) != ARCHIVE_OK || copy_data(tar, disk) != ARCHIVE_OK ||
	    archive_write_finish_entry(disk) != ARCHIVE_OK)
		return image_error(err, errsize, "entry \"%s\": %s", name,
				   archive_error_string(disk));
	if (type == AE_IFREG && !link)
		st->size += (unsigned long long)archive_entry_size(e);
	st->entries++;
	return 0;
}

static const char *filter_name(enum media media)
{
	return media == MEDIA_LAYER_GZIP ? "gzip" : media == MEDIA_LAYER_ZSTD ? "zstd" : "none";
}

/* The decompressing reader: only the one filter the media type names. */
static struct archive *open_compressed(int fd, enum media media, char *err, size_t errsize)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	int want = media == MEDIA_LAYER_GZIP   ? ARCHIVE_FILTER_GZIP
		   : media == MEDIA_LAYER_ZSTD ? ARCHIVE_FILTER_ZSTD
					       : ARCHIVE_FILTER_NONE;

	if (!a)
		return NULL;
	if (media == MEDIA_LAYER_GZIP)
		archive_read_support_filter_gzip(a);
	if (media == MEDIA_LAYER_ZSTD)
		archive_read_support_filter_zstd(a);
	archive_read_support_format_raw(a);
	if (archive_read_open_fd(a, fd, 65536) != ARCHIVE_OK ||
	    archive_read_next_header(a, &e) != ARCHIVE_OK) {
		image_error(err, errsize, "cannot read the layer: %s", archive_error_string(a));
		archive_read_free(a);
		return NULL;
	}
	if (archive_filter_code(a, 0) != want) {
		image_error(err, errsize, "the layer is not %s-compressed as its media type says",
			    filter_name(media));
		archive_read_free(a);
		return NULL;
	}
	return a;
}

int unpack_layer(int fd, enum media media, const char *dir, const char *diff_id, int keep_owners,
		 struct unpack_stats *st, char *err, size_t errsize)
{
	int flags = ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_XATTR |
		    ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NODOTDOT |
		    ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS;
	struct stream *s = calloc(1, sizeof(*s));
	struct archive *tar = NULL, *disk = NULL;
	struct archive_entry *e;
	char tar_digest[DIGEST_SIZE];
	int root = -1, cwd = -1, r, status = -1;

	memset(st, 0, sizeof(*st));
	errno = 0;
	if (keep_owners)
		flags |= ARCHIVE_EXTRACT_OWNER;
	if (!s || (s->compressed = open_compressed(fd, media, err, errsize)) == NULL)
		goto out;
	digest_init(&s->tar);
	root = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	tar = archive_read_new();
	disk = archive_write_disk_new();
	if (root < 0 || cwd < 0 || !tar || !disk) {
		image_error(err, errsize, "cannot open \"%s\": %s", dir, strerror(errno));
		goto out;
	}
	archive_read_support_format_tar(tar);
	archive_write_disk_set_options(disk, flags);
	/* libarchive writes relative to the working directory */
	if (fchdir(root) < 0 ||
	    archive_read_open(tar, s, NULL, read_decompressed, NULL) != ARCHIVE_OK) {
		image_error(err, errsize, "not a tar: %s", archive_error_string(tar));
		goto out;
	}
	while ((r = archive_read_next_header(tar, &e)) == ARCHIVE_OK)
		if (unpack_entry(tar, disk, e, root, keep_owners, st, err, errsize) < 0)
			goto out;
	if (r != ARCHIVE_EOF) {
		image_error(err, errsize, "a broken tar: %s", archive_error_string(tar));
		goto out;
	}
	if (archive_write_close(disk) != ARCHIVE_OK) {
		image_error(err, errsize, "%s", archive_error_string(disk));
		goto out;
	}
	/* what follows the tar's end (padding) belongs to its digest too */
	while ((r = (int)read_decompressed(tar, s, &(const void *){ NULL })) > 0)
		;
	if (r < 0) {
		image_error(err, errsize, "a broken tar: %s", archive_error_string(tar));
		goto out;
	}
	digest_final(&s->tar, tar_digest);
	if (diff_id && strcmp(tar_digest, diff_id) != 0) {
		image_error(err, errsize, "its content is %s, not %s as the image's config says",
			    tar_digest, diff_id);
		goto out;
	}
	status = 0;
out:
	if (cwd >= 0 && fchdir(cwd) < 0 && status == 0)
		status = image_error(err, errsize, "cannot go back to the working directory: %s",
				     strerror(errno));
	if (disk)
		archive_write_free(disk);
	if (tar)
		archive_read_free(tar);
	if (s && s->compressed)
		archive_read_free(s->compressed);
	free(s);
	if (root >= 0)
		close(root);
	if (cwd >= 0)
		close(cwd);
	return status;
}
