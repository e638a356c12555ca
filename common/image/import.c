/*
 * import.c - an OCI layout or a docker-archive into the store.
 *
 * Both hold the same things: blobs named by their digests (a layout)
 * or by file names (an archive), a manifest saying which blob is the
 * config and which are the layers, and a name.  Each blob is copied
 * into the store and checked against its digest on the way, then each
 * layer is unpacked once.  A docker-archive has no manifest blob of
 * its own: one is written for it, so that the store holds one kind of
 * image.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "import.h"
#include "ref.h"
#include "state.h"
#include "syscalls.h"

/* A file of the layout or archive, never above its top, nor through a link. */
static int open_beneath(int top, const char *name)
{
	struct open_how how = { .flags = O_RDONLY | O_CLOEXEC,
				.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS };

	return sys_openat2(top, name, &how);
}

/* A small file of the layout (index.json, manifest.json), whole. */
static char *read_small(int top, const char *name, size_t *len)
{
	int fd = open_beneath(top, name);
	char *buf = NULL;
	struct stat sb;

	if (fd < 0)
		return NULL;
	if (fstat(fd, &sb) == 0 && sb.st_size <= STORE_JSON_MAX &&
	    (buf = malloc((size_t)sb.st_size + 1)) &&
	    read(fd, buf, (size_t)sb.st_size) == sb.st_size) {
		buf[sb.st_size] = '\0';
		*len = (size_t)sb.st_size;
	} else {
		free(buf);
		buf = NULL;
	}
	close(fd);
	return buf;
}

/* A layout's blob into the store, checked. */
static int copy_blob(struct store *s, int top, const struct descriptor *d, char *err,
		     size_t errsize)
{
	char name[128];
	int fd, r;

	if (store_has_blob(s, d->digest))
		return 0;
	snprintf(name, sizeof(name), "blobs/sha256/%s", digest_hex(d->digest));
	fd = open_beneath(top, name);
	if (fd < 0)
		return image_error(err, errsize, "the layout has no blob %.19s: %s", d->digest,
				   strerror(errno));
	r = store_put_blob(s, fd, d->digest, d->size, err, errsize);
	close(fd);
	return r;
}

int image_store_layers(struct store *s, const struct manifest *m, blob_fetch *fetch, void *arg,
		       layer_done *done, struct import_result *res, char *err, size_t errsize)
{
	struct image_config c;
	char *json;
	size_t len;
	int i;

	if (!store_has_blob(s, m->config.digest) && fetch(arg, &m->config, err, errsize) < 0)
		return -1;
	if (store_read_blob(s, m->config.digest, &json, &len, err, errsize) < 0)
		return -1;
	if (config_parse(json, len, &c, err, errsize) < 0) {
		free(json);
		return -1;
	}
	free(json);
	if (c.count != m->count) {
		config_free(&c);
		errno = EPROTO;
		return image_error(err, errsize,
				   "the manifest has %d layers and the config %d diff_ids",
				   m->count, c.count);
	}
	for (i = 0; i < m->count; i++) {
		const struct descriptor *d = &m->layers[i];
		int had = store_has_layer(s, c.diff_ids[i]);
		struct unpack_stats st = { 0 };

		/* a layer unpacked already needs no blob */
		if (!had && ((!store_has_blob(s, d->digest) && fetch(arg, d, err, errsize) < 0) ||
			     store_unpack_layer(s, d, c.diff_ids[i], &st, err, errsize) < 0)) {
			config_free(&c);
			return -1;
		}
		res->layers++;
		if (!had) {
			res->unpacked++;
			res->devices += st.devices;
		}
		if (done)
			done(arg, c.diff_ids[i], d, had ? NULL : &st);
	}
	config_free(&c);
	return 0;
}

/* What an import needs to fetch a blob from a layout, and to report. */
struct from_layout {
	struct store *s;
	int top; /* the layout; -1: the blobs are in the store already */
	import_progress *progress;
};

static int layout_fetch(void *arg, const struct descriptor *d, char *err, size_t errsize)
{
	struct from_layout *f = arg;

	if (f->top < 0)
		return image_error(err, errsize, "blob %.19s is not in the store", d->digest);
	return copy_blob(f->s, f->top, d, err, errsize);
}

static void layout_done(void *arg, const char *diff_id, const struct descriptor *d,
			const struct unpack_stats *st)
{
	struct from_layout *f = arg;

	(void)d;
	if (st && f->progress)
		f->progress(diff_id, st);
}

/* The layers of a manifest, from the layout top (or the store, top -1). */
static int store_layers(struct store *s, int top, const struct manifest *m,
			struct import_result *res, import_progress *progress, char *err,
			size_t errsize)
{
	struct from_layout f = { s, top, progress };

	return image_store_layers(s, m, layout_fetch, &f, layout_done, res, err, errsize);
}

/* The name an image gets: a reference as given, or a tag of localhost/DIR. */
static int name_for(const char *given, const char *path, char *out, size_t size)
{
	char copy[PATH_MAX], base[256], *p;
	struct image_ref ref;
	const char *why;

	if (!given || !*given) {
		*out = '\0';
		return 0;
	}
	if (!strchr(given, '/') && !strchr(given, ':')) {
		/* a tag alone, as umoci and skopeo's oci: name them */
		snprintf(copy, sizeof(copy), "%s", path);
		snprintf(base, sizeof(base), "%s", basename(copy));
		for (p = base; *p; p++)
			*p = (*p >= 'A' && *p <= 'Z') ? (char)(*p - 'A' + 'a')
			     : strchr("abcdefghijklmnopqrstuvwxyz0123456789._-", *p) ? *p
										     : '-';
		if ((p = strstr(base, ".tar")) != NULL && p[4] == '\0')
			*p = '\0';
		snprintf(copy, sizeof(copy), "localhost/%s:%s", base, given);
		given = copy;
	}
	if (ref_parse(given, &ref, &why) < 0)
		return -1;
	ref_format(&ref, out, size);
	return 0;
}

/* An OCI image layout: oci-layout, index.json, blobs/sha256/. */
static int import_layout(struct store *s, int top, const char *path, struct import_result *res,
			 import_progress *progress, char *err, size_t errsize)
{
	struct image_index ix;
	char *json;
	size_t len;
	int i;

	json = read_small(top, "index.json", &len);
	if (!json)
		return image_error(err, errsize, "\"%s\" has oci-layout but no readable index.json",
				   path);
	if (index_parse(json, len, &ix, err, errsize) < 0) {
		free(json);
		return -1;
	}
	free(json);
	for (i = 0; i < ix.count && res->count < IMPORT_MAX_NAMES; i++) {
		struct descriptor d = ix.manifests[i];
		char *name = res->names[res->count];
		struct manifest m;

		if (name_for(d.name, path, name, sizeof(res->names[0])) < 0) {
			image_error(err, errsize, "\"%s\" is not a name an image can have", d.name);
			goto bad;
		}
		if (copy_blob(s, top, &d, err, errsize) < 0)
			goto bad;
		if (media_of(d.media_type) == MEDIA_INDEX) {
			/* several platforms: this machine's */
			struct image_index inner;
			int chosen;

			if (store_read_blob(s, d.digest, &json, &len, err, errsize) < 0)
				goto bad;
			if (index_parse(json, len, &inner, err, errsize) < 0) {
				free(json);
				goto bad;
			}
			free(json);
			chosen = index_choose(&inner, NULL, err, errsize);
			if (chosen >= 0)
				d = inner.manifests[chosen];
			index_free(&inner);
			if (chosen < 0 || copy_blob(s, top, &d, err, errsize) < 0)
				goto bad;
		}
		if (media_of(d.media_type) != MEDIA_MANIFEST) {
			image_error(err, errsize, "unsupported media type \"%s\"", d.media_type);
			goto bad;
		}
		if (store_read_blob(s, d.digest, &json, &len, err, errsize) < 0)
			goto bad;
		if (manifest_parse(json, len, &m, err, errsize) < 0) {
			free(json);
			goto bad;
		}
		free(json);
		if (store_layers(s, top, &m, res, progress, err, errsize) < 0 ||
		    store_tag(s, name, d.digest, m.config.digest, err, errsize) < 0) {
			manifest_free(&m);
			goto bad;
		}
		manifest_free(&m);
		res->count++;
	}
	index_free(&ix);
	return 0;
bad:
	index_free(&ix);
	return -1;
}

/* The media type of a docker-archive layer, from its first bytes. */
static const char *sniff_layer(int fd)
{
	unsigned char magic[4] = { 0 };

	if (pread(fd, magic, sizeof(magic), 0) < 2)
		return NULL;
	if (magic[0] == 0x1f && magic[1] == 0x8b)
		return "application/vnd.oci.image.layer.v1.tar+gzip";
	if (magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd)
		return "application/vnd.oci.image.layer.v1.tar+zstd";
	return "application/vnd.oci.image.layer.v1.tar";
}

/* A file of the archive into the store, its digest found on the way. */
static int store_file(struct store *s, int top, const char *name, struct descriptor *d, char *err,
		      size_t errsize)
{
	char clean[PATH_MAX];
	const char *type;
	uint64_t size;
	int fd;

	if (unpack_clean_name(name, clean, sizeof(clean)) < 0 || !clean[0] ||
	    (fd = open_beneath(top, clean)) < 0)
		return image_error(err, errsize, "the archive has no file \"%s\"", name);
	type = sniff_layer(fd);
	if (!type || digest_fd(fd, d->digest, &size) < 0 || lseek(fd, 0, SEEK_SET) < 0) {
		close(fd);
		return image_error(err, errsize, "cannot read \"%s\" in the archive", name);
	}
	d->size = (long long)size;
	snprintf(d->media_type, sizeof(d->media_type), "%s", type);
	if (store_put_blob(s, fd, d->digest, d->size, err, errsize) < 0) {
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static json_t *descriptor_json(const struct descriptor *d)
{
	return json_pack("{s:s, s:s, s:I}", "mediaType", d->media_type, "digest", d->digest, "size",
			 (json_int_t)d->size);
}

/* A docker-archive: manifest.json names the config and the layers by file. */
static int import_docker_archive(struct store *s, int top, const char *path,
				 struct import_result *res, import_progress *progress, char *err,
				 size_t errsize)
{
	struct docker_archive da;
	struct manifest m = { 0 };
	json_t *doc = NULL, *layers;
	char *json, digest[DIGEST_SIZE];
	size_t len;
	int i, ntags, status = -1;

	json = read_small(top, "manifest.json", &len);
	if (!json)
		return image_error(err, errsize, "\"%s\" has no readable manifest.json", path);
	if (docker_archive_parse(json, len, &da, err, errsize) < 0) {
		free(json);
		return -1;
	}
	free(json);
	m.count = da.count;
	m.layers = calloc((size_t)da.count + 1, sizeof(*m.layers));
	layers = json_array();
	if (!m.layers || !layers)
		goto out;
	if (store_file(s, top, da.config, &m.config, err, errsize) < 0)
		goto out;
	strcpy(m.config.media_type, "application/vnd.oci.image.config.v1+json");
	for (i = 0; i < da.count; i++) {
		if (store_file(s, top, da.layers[i], &m.layers[i], err, errsize) < 0)
			goto out;
		json_array_append_new(layers, descriptor_json(&m.layers[i]));
	}
	if (store_layers(s, -1, &m, res, progress, err, errsize) < 0)
		goto out;
	/* the manifest the archive does not have */
	doc = json_pack("{s:i, s:s, s:o, s:O}", "schemaVersion", 2, "mediaType",
			"application/vnd.oci.image.manifest.v1+json", "config",
			descriptor_json(&m.config), "layers", layers);
	json = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
	if (!json || store_put_bytes(s, json, strlen(json), digest, err, errsize) < 0) {
		free(json);
		goto out;
	}
	free(json);
	/* an archive without RepoTags gives an image without a name */
	for (ntags = 0; da.tags && da.tags[ntags]; ntags++)
		;
	for (i = 0; i < (ntags ? ntags : 1) && res->count < IMPORT_MAX_NAMES; i++) {
		const char *tag = ntags ? da.tags[i] : "";
		char *name = res->names[res->count];

		if (name_for(tag, path, name, sizeof(res->names[0])) < 0) {
			image_error(err, errsize, "\"%s\" is not a name an image can have", tag);
			goto out;
		}
		if (store_tag(s, name, digest, m.config.digest, err, errsize) < 0)
			goto out;
		res->count++;
	}
	status = 0;
out:
	json_decref(doc);
	json_decref(layers);
	manifest_free(&m);
	docker_archive_free(&da);
	return status;
}

/* A tar of a layout or an archive: unpacked into the store's tmp/ first. */
static int open_tar(struct store *s, const char *path, char *work, size_t size, char *err,
		    size_t errsize)
{
	struct unpack_stats st;
	char why[512];
	int fd, top;

	if (snprintf(work, size, "%s/tmp/import-XXXXXX", s->dir) >= (int)size || !mkdtemp(work))
		return image_error(err, errsize, "cannot write in \"%s/tmp\": %s", s->dir,
				   strerror(errno));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return image_error(err, errsize, "cannot open \"%s\": %s", path, strerror(errno));
	if (unpack_layer(fd, MEDIA_LAYER_TAR, work, NULL, 0, &st, why, sizeof(why)) < 0) {
		close(fd);
		return image_error(err, errsize, "\"%s\" is not a tar of an image: %s", path, why);
	}
	close(fd);
	top = open(work, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (top < 0)
		return image_error(err, errsize, "cannot open \"%s\": %s", work, strerror(errno));
	return top;
}

int image_import(struct store *s, const char *path, struct import_result *res,
		 import_progress *progress, char *err, size_t errsize)
{
	char work[PATH_MAX] = "";
	struct stat sb;
	int top, status;

	memset(res, 0, sizeof(*res));
	errno = 0;
	if (stat(path, &sb) < 0)
		return image_error(err, errsize, "cannot find \"%s\": %s", path, strerror(errno));
	if (S_ISDIR(sb.st_mode))
		top = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	else
		top = open_tar(s, path, work, sizeof(work), err, errsize);
	if (top < 0) {
		if (work[0])
			remove_tree(work);
		return work[0] || !S_ISDIR(sb.st_mode)
			       ? -1
			       : image_error(err, errsize, "cannot open \"%s\": %s", path,
					     strerror(errno));
	}
	if (faccessat(top, "oci-layout", F_OK, 0) == 0)
		status = import_layout(s, top, path, res, progress, err, errsize);
	else if (faccessat(top, "manifest.json", F_OK, 0) == 0)
		status = import_docker_archive(s, top, path, res, progress, err, errsize);
	else
		status = image_error(
			err, errsize,
			"\"%s\" is neither an OCI image layout (no oci-layout) nor a docker-archive (no manifest.json)",
			path);
	close(top);
	if (work[0])
		remove_tree(work);
	/* all of it, or nothing */
	if (status < 0)
		store_rollback(s);
	else
		store_commit(s);
	return status;
}

int image_open(const struct store *s, const struct stored_image *im, struct manifest *m,
	       struct image_config *c, char *err, size_t errsize)
{
	char *json;
	size_t len;
	int i;

	if (store_read_blob(s, im->manifest, &json, &len, err, errsize) < 0)
		return -1;
	if (manifest_parse(json, len, m, err, errsize) < 0) {
		free(json);
		return -1;
	}
	free(json);
	if (store_read_blob(s, im->config, &json, &len, err, errsize) < 0 ||
	    config_parse(json, len, c, err, errsize) < 0) {
		free(json);
		manifest_free(m);
		return -1;
	}
	free(json);
	for (i = 0; i < c->count; i++)
		if (!store_has_layer(s, c->diff_ids[i])) {
			config_free(c);
			manifest_free(m);
			return image_error(err, errsize, "layer %.19s is missing from the store",
					   c->diff_ids[i]);
		}
	return 0;
}
