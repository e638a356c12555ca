/*
 * store.c - blobs, layers and names on disk, changed only by renames.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "process.h"
#include "ref.h"
#include "state.h"
#include "store.h"

int store_dir(char *buf, size_t size)
{
	const char *forced = getenv("BOXLAB_STORE_DIR"), *data = getenv("XDG_DATA_HOME");
	const char *home = getenv("HOME");
	int n;

	if (forced && *forced)
		n = snprintf(buf, size, "%s", forced);
	else if (geteuid() == 0)
		n = snprintf(buf, size, "/var/lib/boxlab/store");
	else if (data && *data == '/')
		n = snprintf(buf, size, "%s/boxlab/store", data);
	else if (home && *home == '/')
		n = snprintf(buf, size, "%s/.local/share/boxlab/store", home);
	else
		return errno = ENOENT, -1;
	return n < 0 || (size_t)n >= size ? (errno = ENAMETOOLONG, -1) : 0;
}

/* STORE/sub, into buf */
static int path_in(const struct store *s, char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int path_in(const struct store *s, char *buf, size_t size, const char *fmt, ...)
{
	char sub[PATH_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(sub, sizeof(sub), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(sub))
		return errno = ENAMETOOLONG, -1;
	n = snprintf(buf, size, "%s/%s", s->dir, sub);
	return n < 0 || (size_t)n >= size ? (errno = ENAMETOOLONG, -1) : 0;
}

/* What a killed import left in tmp/: it is ours, under the exclusive lock. */
static int empty_tmp(const struct store *s)
{
	char tmp[PATH_MAX];

	if (path_in(s, tmp, sizeof(tmp), "tmp") < 0 || remove_tree(tmp) < 0)
		return -1;
	return mkdir(tmp, 0755);
}

int store_open(struct store *s, int exclusive, char *err, size_t errsize)
{
	char path[PATH_MAX];
	const char *const subdirs[] = { "blobs/sha256", "layers/sha256", "tmp" };
	size_t i;

	s->lock = s->write_lock = -1;
	s->added = NULL;
	s->nadded = 0;
	if (store_dir(s->dir, sizeof(s->dir)) < 0)
		return image_error(err, errsize,
				   "no place for the store: set BOXLAB_STORE_DIR or HOME");
	/* its parent may be the state dirs' home too (/var/lib/boxlab): 0711, as they make it */
	snprintf(path, sizeof(path), "%s", s->dir);
	if (strrchr(path, '/') && strrchr(path, '/') != path)
		*strrchr(path, '/') = '\0';
	if ((access(path, F_OK) != 0 && make_dirs(path, 0711) < 0) ||
	    (mkdir(s->dir, 0700) < 0 && errno != EEXIST) || chmod(s->dir, 0700) < 0)
		return image_error(err, errsize, "cannot make the store \"%s\": %s", s->dir,
				   strerror(errno));
	for (i = 0; i < sizeof(subdirs) / sizeof(subdirs[0]); i++)
		if (path_in(s, path, sizeof(path), "%s", subdirs[i]) < 0 ||
		    make_dirs(path, 0755) < 0)
			return image_error(err, errsize, "cannot make \"%s\": %s", path,
					   strerror(errno));
	if (path_in(s, path, sizeof(path), "lock") < 0 ||
	    (s->lock = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0 ||
	    flock(s->lock, LOCK_SH) < 0 || path_in(s, path, sizeof(path), "write.lock") < 0 ||
	    (s->write_lock = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0 ||
	    (exclusive && flock(s->write_lock, LOCK_EX) < 0)) {
		image_error(err, errsize, "cannot lock the store \"%s\": %s", s->dir,
			    strerror(errno));
		store_close(s);
		return -1;
	}
	/* Made with the store; a reader needs no descriptor of it. */
	if (!exclusive) {
		close(s->write_lock);
		s->write_lock = -1;
	}
	if (exclusive && empty_tmp(s) < 0) {
		image_error(err, errsize, "cannot empty \"%s/tmp\": %s", s->dir, strerror(errno));
		store_close(s);
		return -1;
	}
	return 0;
}

/* Note what was just put in, for store_close() to take out unless committed. */
static void added(struct store *s, const char *path)
{
	char **grown = realloc(s->added, (size_t)(s->nadded + 1) * sizeof(*s->added));

	if (!grown)
		return;
	s->added = grown;
	if ((s->added[s->nadded] = strdup(path)) != NULL)
		s->nadded++;
}

void store_commit(struct store *s)
{
	while (s->nadded > 0)
		free(s->added[--s->nadded]);
	free(s->added);
	s->added = NULL;
}

void store_rollback(struct store *s)
{
	while (s->nadded > 0) {
		remove_tree(s->added[--s->nadded]);
		free(s->added[s->nadded]);
	}
	store_commit(s);
}

void store_close(struct store *s)
{
	store_commit(s);
	if (s->lock >= 0)
		close(s->lock);
	if (s->write_lock >= 0)
		close(s->write_lock);
	s->lock = s->write_lock = -1;
}

int store_blob_path(const struct store *s, const char *digest, char *buf, size_t size)
{
	if (!digest_valid(digest))
		return errno = EINVAL, -1;
	return path_in(s, buf, size, "blobs/sha256/%s", digest_hex(digest));
}

int store_has_blob(const struct store *s, const char *digest)
{
	char path[PATH_MAX];

	return store_blob_path(s, digest, path, sizeof(path)) == 0 && access(path, F_OK) == 0;
}

/* A new file in tmp/, open for writing; its path in path. */
static int tmp_file(struct store *s, char *path, size_t size)
{
	if (path_in(s, path, size, "tmp/blob-XXXXXX") < 0)
		return -1;
	return mkostemp(path, O_CLOEXEC);
}

/* Flush the file and rename it to dest; on any failure it goes. */
static int commit_file(int fd, const char *tmp, const char *dest)
{
	if (fchmod(fd, 0644) < 0 || fsync(fd) < 0 || rename(tmp, dest) < 0) {
		int saved = errno;

		unlink(tmp);
		close(fd);
		errno = saved;
		return -1;
	}
	return close(fd);
}

int store_put_blob(struct store *s, int fd, const char *digest, long long size, char *err,
		   size_t errsize)
{
	char tmp[PATH_MAX], dest[PATH_MAX], got[DIGEST_SIZE], buf[65536];
	struct digest d;
	ssize_t n;
	int out;

	if (store_blob_path(s, digest, dest, sizeof(dest)) < 0)
		return image_error(err, errsize, "\"%s\" is not a sha256 digest", digest);
	if (access(dest, F_OK) == 0)
		return 0;
	out = tmp_file(s, tmp, sizeof(tmp));
	if (out < 0)
		return image_error(err, errsize, "cannot write in \"%s/tmp\": %s", s->dir,
				   strerror(errno));
	digest_init(&d);
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		digest_update(&d, buf, (size_t)n);
		if (write(out, buf, (size_t)n) != n) {
			if (errno == 0)
				errno = ENOSPC;
			n = -1;
			break;
		}
	}
	if (n < 0) {
		image_error(err, errsize, "cannot copy blob %.19s: %s", digest, strerror(errno));
		goto bad;
	}
	if (size >= 0 && (long long)d.size != size) {
		errno = EBADMSG;
		image_error(err, errsize, "blob %.19s is %llu bytes, not %lld", digest,
			    (unsigned long long)d.size, size);
		goto bad;
	}
	digest_final(&d, got);
	if (strcmp(got, digest) != 0) {
		errno = EBADMSG;
		image_error(err, errsize, "blob %.19s has digest %.19s: it is corrupt", digest,
			    got);
		goto bad;
	}
	if (commit_file(out, tmp, dest) < 0)
		return image_error(err, errsize, "cannot store blob %.19s: %s", digest,
				   strerror(errno));
	added(s, dest);
	return 0;
bad:
	close(out);
	unlink(tmp);
	return -1;
}

int store_put_bytes(struct store *s, const void *buf, size_t len, char digest[DIGEST_SIZE],
		    char *err, size_t errsize)
{
	char tmp[PATH_MAX], dest[PATH_MAX];
	int out;

	digest_bytes(buf, len, digest);
	if (store_blob_path(s, digest, dest, sizeof(dest)) < 0)
		return -1;
	if (access(dest, F_OK) == 0)
		return 0;
	out = tmp_file(s, tmp, sizeof(tmp));
	if (out < 0 || write(out, buf, len) != (ssize_t)len || commit_file(out, tmp, dest) < 0) {
		image_error(err, errsize, "cannot store blob %.19s: %s", digest, strerror(errno));
		if (out >= 0) {
			close(out);
			unlink(tmp);
		}
		return -1;
	}
	added(s, dest);
	return 0;
}

int store_read_blob(const struct store *s, const char *digest, char **buf, size_t *len, char *err,
		    size_t errsize)
{
	char path[PATH_MAX], got[DIGEST_SIZE];
	struct stat sb;
	ssize_t n = 0;
	int fd;

	*buf = NULL;
	if (store_blob_path(s, digest, path, sizeof(path)) < 0 ||
	    (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return image_error(err, errsize, "blob %.19s is not in the store", digest);
	if (fstat(fd, &sb) < 0 || sb.st_size > STORE_JSON_MAX ||
	    !(*buf = malloc((size_t)sb.st_size + 1)) ||
	    (n = read(fd, *buf, (size_t)sb.st_size)) != sb.st_size) {
		close(fd);
		free(*buf);
		*buf = NULL;
		errno = n < 0 ? errno : EFBIG;
		return image_error(err, errsize, "cannot read blob %.19s (at most %d bytes)",
				   digest, STORE_JSON_MAX);
	}
	close(fd);
	(*buf)[n] = '\0';
	*len = (size_t)n;
	digest_bytes(*buf, *len, got);
	if (strcmp(got, digest) != 0) {
		free(*buf);
		*buf = NULL;
		errno = EBADMSG;
		return image_error(err, errsize, "blob %.19s in the store is corrupt", digest);
	}
	return 0;
}

int store_layer_path(const struct store *s, const char *diff_id, char *buf, size_t size)
{
	if (!digest_valid(diff_id))
		return errno = EINVAL, -1;
	return path_in(s, buf, size, "layers/sha256/%s/root", digest_hex(diff_id));
}

int store_has_layer(const struct store *s, const char *diff_id)
{
	char path[PATH_MAX];

	return store_layer_path(s, diff_id, path, sizeof(path)) == 0 && access(path, F_OK) == 0;
}

long long store_layer_size(const struct store *s, const char *diff_id)
{
	char path[PATH_MAX];
	long long size = -1;
	FILE *f;

	if (path_in(s, path, sizeof(path), "layers/sha256/%s/size", digest_hex(diff_id)) < 0 ||
	    !(f = fopen(path, "re")))
		return -1;
	if (fscanf(f, "%lld", &size) != 1)
		size = -1;
	fclose(f);
	return size;
}

int store_unpack_layer(struct store *s, const struct descriptor *blob, const char *diff_id,
		       struct unpack_stats *st, char *err, size_t errsize)
{
	char work[PATH_MAX], root[PATH_MAX], size[PATH_MAX], dest[PATH_MAX], src[PATH_MAX];
	char why[512];
	FILE *f;
	int fd;

	memset(st, 0, sizeof(*st));
	if (store_has_layer(s, diff_id))
		return 0;
	if (path_in(s, work, sizeof(work), "tmp/layer-XXXXXX") < 0 || !mkdtemp(work) ||
	    snprintf(root, sizeof(root), "%s/root", work) >= (int)sizeof(root) ||
	    mkdir(root, 0755) < 0)
		return image_error(err, errsize, "cannot write in \"%s/tmp\": %s", s->dir,
				   strerror(errno));
	if (store_blob_path(s, blob->digest, src, sizeof(src)) < 0 ||
	    (fd = open(src, O_RDONLY | O_CLOEXEC)) < 0) {
		image_error(err, errsize, "layer %.19s is not in the store", blob->digest);
		goto bad;
	}
	if (unpack_layer(fd, media_of(blob->media_type), root, diff_id, geteuid() == 0, st, why,
			 sizeof(why)) < 0) {
		close(fd);
		image_error(err, errsize, "layer %.19s: %s", blob->digest, why);
		goto bad;
	}
	close(fd);
	f = snprintf(size, sizeof(size), "%s/size", work) < (int)sizeof(size) ? fopen(size, "we")
									      : NULL;
	if (!f || fprintf(f, "%llu\n", st->size) < 0 || fclose(f) != 0) {
		image_error(err, errsize, "cannot write \"%s\": %s", size, strerror(errno));
		goto bad;
	}
	if (path_in(s, dest, sizeof(dest), "layers/sha256/%s", digest_hex(diff_id)) < 0)
		goto bad;
	/* syncfs: the whole tree is on disk before its name is */
	fd = open(work, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || syncfs(fd) < 0 || rename(work, dest) < 0) {
		/* another import unpacked it meanwhile: theirs is as good */
		if (errno == EEXIST || errno == ENOTEMPTY) {
			if (fd >= 0)
				close(fd);
			remove_tree(work);
			return 0;
		}
		image_error(err, errsize, "cannot store layer %.19s: %s", diff_id, strerror(errno));
		if (fd >= 0)
			close(fd);
		goto bad;
	}
	close(fd);
	added(s, dest);
	return 0;
bad:
	remove_tree(work);
	return -1;
}

/* images.json, or an empty list when it is not there yet */
static json_t *load_names(const struct store *s, char *err, size_t errsize)
{
	char path[PATH_MAX];
	json_error_t e;
	json_t *names;

	if (path_in(s, path, sizeof(path), "images.json") < 0)
		return NULL;
	if (access(path, F_OK) < 0)
		return json_array();
	names = json_load_file(path, 0, &e);
	if (!json_is_array(names)) {
		json_decref(names);
		image_error(err, errsize, "\"%s\" is corrupt: line %d: %s", path, e.line, e.text);
		return NULL;
	}
	return names;
}

/* images.json as names, into tmp/ and renamed over the old one */
static int save_names(struct store *s, json_t *names, char *err, size_t errsize)
{
	char tmp[PATH_MAX], dest[PATH_MAX];
	int fd;

	if (path_in(s, dest, sizeof(dest), "images.json") < 0 ||
	    (fd = tmp_file(s, tmp, sizeof(tmp))) < 0 ||
	    json_dumpfd(names, fd, JSON_INDENT(1)) < 0 || commit_file(fd, tmp, dest) < 0)
		return image_error(err, errsize, "cannot write \"%s/images.json\": %s", s->dir,
				   strerror(errno));
	return 0;
}

int store_tag(struct store *s, const char *name, const char *manifest, const char *config,
	      char *err, size_t errsize)
{
	json_t *names = load_names(s, err, errsize), *entry;
	size_t i;
	int status;

	if (!names)
		return -1;
	/* a name means one image: the one it meant before loses it */
	json_array_foreach(
		names, i,
		entry) if (*name &&
			   strcmp(json_string_value(json_object_get(entry, "name")), name) == 0)
	{
		json_array_remove(names, i);
		break;
	}
	json_array_append_new(names, json_pack("{s:s, s:s, s:s}", "name", name, "manifest",
					       manifest, "config", config));
	status = save_names(s, names, err, errsize);
	json_decref(names);
	return status;
}

int store_list(const struct store *s, struct stored_image **list, int *count, char *err,
	       size_t errsize)
{
	json_t *names = load_names(s, err, errsize), *entry;
	size_t i;

	*list = NULL;
	*count = 0;
	if (!names)
		return -1;
	*list = calloc(json_array_size(names) + 1, sizeof(**list));
	if (!*list) {
		json_decref(names);
		return image_error(err, errsize, "out of memory");
	}
	json_array_foreach(names, i, entry)
	{
		struct stored_image *im = &(*list)[*count];
		const char *name = json_string_value(json_object_get(entry, "name"));
		const char *manifest = json_string_value(json_object_get(entry, "manifest"));
		const char *config = json_string_value(json_object_get(entry, "config"));

		if (!name || !manifest || !config || !digest_valid(manifest) ||
		    !digest_valid(config) || strlen(name) >= sizeof(im->name))
			continue;
		strcpy(im->name, name);
		strcpy(im->manifest, manifest);
		strcpy(im->config, config);
		(*count)++;
	}
	json_decref(names);
	return 0;
}

int store_find(const struct store *s, const char *name_or_id, struct stored_image *out)
{
	struct stored_image *list;
	const char *id = name_or_id;
	struct image_ref ref;
	char err[256], full[600] = "";
	int count, i, found = -1;

	if (store_list(s, &list, &count, err, sizeof(err)) < 0)
		return -1;
	if (strncmp(id, DIGEST_PREFIX, strlen(DIGEST_PREFIX)) == 0)
		id += strlen(DIGEST_PREFIX);
	/* "alpine" is "docker.io/library/alpine:latest" */
	if (ref_parse(name_or_id, &ref, NULL) == 0)
		ref_format(&ref, full, sizeof(full));
	for (i = 0; i < count && found < 0; i++)
		if (strcmp(list[i].name, name_or_id) == 0 || strcmp(list[i].name, full) == 0)
			found = i;
	/* an id: a prefix of the config's hex, of at least the 12 docker shows */
	for (i = 0; i < count && found < 0; i++)
		if (strlen(id) >= 12 && strncmp(digest_hex(list[i].config), id, strlen(id)) == 0)
			found = i;
	if (found >= 0)
		*out = list[found];
	free(list);
	return found >= 0 ? 0 : (errno = ENOENT, -1);
}

int store_untag(struct store *s, const char *name_or_id, char *err, size_t errsize)
{
	struct stored_image im;
	struct image_ref ref;
	char full[600] = "";
	json_t *names, *entry;
	size_t i;
	int by_id, status;

	if (store_find(s, name_or_id, &im) < 0)
		return image_error(err, errsize, "no image \"%s\" in the store", name_or_id);
	/* a name (given in full or not) takes off that name; an id, every name of the image */
	if (ref_parse(name_or_id, &ref, NULL) == 0)
		ref_format(&ref, full, sizeof(full));
	by_id = strcmp(im.name, name_or_id) != 0 && strcmp(im.name, full) != 0;
	names = load_names(s, err, errsize);
	if (!names)
		return -1;
	for (i = 0; i < json_array_size(names);) {
		entry = json_array_get(names, i);
		if (by_id ? strcmp(json_string_value(json_object_get(entry, "config")),
				   im.config) == 0
			  : strcmp(json_string_value(json_object_get(entry, "name")), im.name) ==
				    0) {
			json_array_remove(names, i);
		} else {
			i++;
		}
	}
	status = save_names(s, names, err, errsize);
	json_decref(names);
	return status;
}

/* Every digest the named images need: manifests, configs, layer blobs, diff_ids. */
static json_t *needed(const struct store *s, char *err, size_t errsize)
{
	struct stored_image *list;
	json_t *keep = json_object();
	int count, i, j;

	if (!keep || store_list(s, &list, &count, err, errsize) < 0) {
		json_decref(keep);
		return NULL;
	}
	for (i = 0; i < count; i++) {
		struct manifest m;
		struct image_config c;
		char *json;
		size_t len;

		json_object_set_new(keep, list[i].manifest, json_true());
		json_object_set_new(keep, list[i].config, json_true());
		if (store_read_blob(s, list[i].manifest, &json, &len, err, errsize) == 0 &&
		    manifest_parse(json, len, &m, err, errsize) == 0) {
			for (j = 0; j < m.count; j++)
				json_object_set_new(keep, m.layers[j].digest, json_true());
			manifest_free(&m);
		}
		free(json);
		if (store_read_blob(s, list[i].config, &json, &len, err, errsize) == 0 &&
		    config_parse(json, len, &c, err, errsize) == 0) {
			for (j = 0; j < c.count; j++)
				json_object_set_new(keep, c.diff_ids[j], json_true());
			config_free(&c);
		}
		free(json);
	}
	free(list);
	return keep;
}

/* Remove the entries of STORE/sub that keep does not name; count them. */
static int sweep(struct store *s, const char *sub, json_t *keep, int *count)
{
	char dir[PATH_MAX], path[PATH_MAX * 2], digest[DIGEST_SIZE + 8];
	struct dirent *e;
	DIR *d;
	int status = 0;

	*count = 0;
	if (path_in(s, dir, sizeof(dir), "%s", sub) < 0 || !(d = opendir(dir)))
		return -1;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(digest, sizeof(digest), DIGEST_PREFIX "%.64s", e->d_name);
		if (json_object_get(keep, digest))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (remove_tree(path) < 0)
			status = -1;
		else
			(*count)++;
	}
	closedir(d);
	return status;
}

int store_gc(struct store *s, int *blobs, int *layers, char *err, size_t errsize)
{
	json_t *keep;
	int status;

	*blobs = *layers = 0;
	/* Only with no container running from the store: a layer may be under one. */
	if (flock(s->lock, LOCK_EX) < 0)
		return image_error(err, errsize, "cannot lock the store \"%s\": %s", s->dir,
				   strerror(errno));
	keep = needed(s, err, errsize);
	if (!keep)
		return -1;
	/* layers first: a layer whose blob is gone can still be used; the reverse cannot */
	status = sweep(s, "layers/sha256", keep, layers) | sweep(s, "blobs/sha256", keep, blobs);
	json_decref(keep);
	return status < 0
		       ? image_error(err, errsize, "cannot remove all of what no image needs: %s",
				     strerror(errno))
		       : 0;
}
