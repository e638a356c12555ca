/*
 * image.c - an image's JSON, read with jansson.
 *
 * The image specification and docker's formats name the same things
 * differently (mediaType strings, "manifests" of an index or of a
 * list); this file is where the two meet, so the rest of the kit sees
 * one index, one manifest and one config.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "error.h"
#include "image.h"

static const struct {
	const char *type;
	enum media media;
} media_types[] = {
	{ "application/vnd.oci.image.index.v1+json", MEDIA_INDEX },
	{ "application/vnd.docker.distribution.manifest.list.v2+json", MEDIA_INDEX },
	{ "application/vnd.oci.image.manifest.v1+json", MEDIA_MANIFEST },
	{ "application/vnd.docker.distribution.manifest.v2+json", MEDIA_MANIFEST },
	{ "application/vnd.docker.distribution.manifest.v1+json", MEDIA_SCHEMA1 },
	{ "application/vnd.docker.distribution.manifest.v1+prettyjws", MEDIA_SCHEMA1 },
	{ "application/vnd.oci.image.config.v1+json", MEDIA_CONFIG },
	{ "application/vnd.docker.container.image.v1+json", MEDIA_CONFIG },
	{ "application/vnd.oci.image.layer.v1.tar", MEDIA_LAYER_TAR },
	{ "application/vnd.oci.image.layer.v1.tar+gzip", MEDIA_LAYER_GZIP },
	{ "application/vnd.oci.image.layer.v1.tar+zstd", MEDIA_LAYER_ZSTD },
	{ "application/vnd.docker.image.rootfs.diff.tar.gzip", MEDIA_LAYER_GZIP },
	{ "application/vnd.docker.image.rootfs.diff.tar", MEDIA_LAYER_TAR },
};

enum media media_of(const char *type)
{
	size_t i;

	for (i = 0; type && i < sizeof(media_types) / sizeof(media_types[0]); i++)
		if (strcmp(type, media_types[i].type) == 0)
			return media_types[i].media;
	return MEDIA_UNKNOWN;
}

/* The document's top object, or NULL with err saying where it broke. */
static json_t *load(const char *json, size_t len, const char *what, char *err, size_t errsize)
{
	json_error_t e;
	json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &e);

	if (!root) {
		image_error(err, errsize, "malformed %s: line %d column %d: %s", what, e.line,
			    e.column, e.text);
		return NULL;
	}
	if (!json_is_object(root) && !json_is_array(root)) {
		json_decref(root);
		image_error(err, errsize, "malformed %s: not a JSON object", what);
		return NULL;
	}
	return root;
}

static const char *string_of(json_t *object, const char *key)
{
	return json_string_value(json_object_get(object, key));
}

/* A copy of object[key] if it is a string, NULL otherwise. */
static char *dup_string(json_t *object, const char *key)
{
	const char *s = string_of(object, key);

	return s ? strdup(s) : NULL;
}

/* object[key], an array of strings, as a NULL-terminated copy. */
static int dup_strings(json_t *object, const char *key, char ***out, int *count)
{
	json_t *array = json_object_get(object, key), *value;
	size_t i;

	*out = NULL;
	if (count)
		*count = 0;
	if (!array || json_is_null(array))
		return 0;
	if (!json_is_array(array))
		return -1;
	*out = calloc(json_array_size(array) + 1, sizeof(char *));
	if (!*out)
		return -1;
	json_array_foreach(array, i, value)
	{
		if (!json_is_string(value))
			return -1;
		(*out)[i] = strdup(json_string_value(value));
		if (!(*out)[i])
			return -1;
	}
	if (count)
		*count = (int)json_array_size(array);
	return 0;
}

static void free_strings(char **list)
{
	char **p;

	for (p = list; p && *p; p++)
		free(*p);
	free(list);
}

static int copy(char *dst, size_t size, const char *src)
{
	if (!src || strlen(src) >= size)
		return -1;
	strcpy(dst, src);
	return 0;
}

/* One descriptor: mediaType, digest and size are required. */
static int descriptor_parse(json_t *object, struct descriptor *d, const char *what, char *err,
			    size_t errsize)
{
	json_t *size = json_object_get(object, "size"), *platform;

	memset(d, 0, sizeof(*d));
	if (!json_is_object(object))
		return image_error(err, errsize, "malformed %s: not an object", what);
	if (copy(d->media_type, sizeof(d->media_type), string_of(object, "mediaType")) < 0)
		return image_error(err, errsize, "malformed %s: no mediaType", what);
	if (copy(d->digest, sizeof(d->digest), string_of(object, "digest")) < 0 ||
	    !digest_valid(d->digest))
		return image_error(err, errsize,
				   "malformed %s: its digest is not sha256: and 64 hex digits",
				   what);
	if (!json_is_integer(size) || json_integer_value(size) < 0)
		return image_error(err, errsize, "malformed %s: no size", what);
	d->size = json_integer_value(size);
	platform = json_object_get(object, "platform");
	if (json_is_object(platform)) {
		const char *os = string_of(platform, "os"),
			   *arch = string_of(platform, "architecture");
		const char *variant = string_of(platform, "variant");

		snprintf(d->platform, sizeof(d->platform), "%s/%s%s%s", os ? os : "?",
			 arch ? arch : "?", variant ? "/" : "", variant ? variant : "");
	}
	copy(d->name, sizeof(d->name),
	     string_of(json_object_get(object, "annotations"),
		       "org.opencontainers.image.ref.name"));
	return 0;
}

/* The document's own mediaType, when it names one, must be what was expected. */
static int check_type(json_t *root, enum media want, const char *what, char *err, size_t errsize)
{
	const char *type = string_of(root, "mediaType");

	if (type && media_of(type) != want)
		return image_error(err, errsize, "%s has media type \"%s\"", what, type);
	return 0;
}

int index_parse(const char *json, size_t len, struct image_index *ix, char *err, size_t errsize)
{
	json_t *root = load(json, len, "index", err, errsize), *list, *entry;
	size_t i;

	memset(ix, 0, sizeof(*ix));
	if (!root)
		return -1;
	list = json_object_get(root, "manifests");
	if (check_type(root, MEDIA_INDEX, "the index", err, errsize) < 0)
		goto bad;
	if (!json_is_array(list)) {
		image_error(err, errsize, "malformed index: no \"manifests\" list");
		goto bad;
	}
	ix->manifests = calloc(json_array_size(list) + 1, sizeof(*ix->manifests));
	if (!ix->manifests)
		goto bad;
	json_array_foreach(list, i, entry)
	{
		if (descriptor_parse(entry, &ix->manifests[i], "index entry", err, errsize) < 0)
			goto bad;
		ix->count++;
	}
	json_decref(root);
	return 0;
bad:
	json_decref(root);
	index_free(ix);
	return -1;
}

int manifest_parse(const char *json, size_t len, struct manifest *m, char *err, size_t errsize)
{
	json_t *root = load(json, len, "manifest", err, errsize), *list, *entry;
	size_t i;

	memset(m, 0, sizeof(*m));
	if (!root)
		return -1;
	if (check_type(root, MEDIA_MANIFEST, "the manifest", err, errsize) < 0)
		goto bad;
	if (json_integer_value(json_object_get(root, "schemaVersion")) != 2) {
		image_error(err, errsize, "the manifest is not schema version 2");
		goto bad;
	}
	if (descriptor_parse(json_object_get(root, "config"), &m->config, "manifest config", err,
			     errsize) < 0)
		goto bad;
	if (media_of(m->config.media_type) != MEDIA_CONFIG) {
		image_error(err, errsize, "unsupported config media type \"%s\"",
			    m->config.media_type);
		goto bad;
	}
	list = json_object_get(root, "layers");
	if (!json_is_array(list)) {
		image_error(err, errsize, "malformed manifest: no \"layers\" list");
		goto bad;
	}
	m->layers = calloc(json_array_size(list) + 1, sizeof(*m->layers));
	if (!m->layers)
		goto bad;
	json_array_foreach(list, i, entry)
	{
		enum media media;

		if (descriptor_parse(entry, &m->layers[i], "manifest layer", err, errsize) < 0)
			goto bad;
		media = m->layers[i].media_type[0] ? media_of(m->layers[i].media_type)
						   : MEDIA_UNKNOWN;
		if (media != MEDIA_LAYER_TAR && media != MEDIA_LAYER_GZIP &&
		    media != MEDIA_LAYER_ZSTD) {
			image_error(err, errsize, "unsupported layer media type \"%s\"",
				    m->layers[i].media_type);
			goto bad;
		}
		m->count++;
	}
	json_decref(root);
	return 0;
bad:
	json_decref(root);
	manifest_free(m);
	return -1;
}

int config_parse(const char *json, size_t len, struct image_config *c, char *err, size_t errsize)
{
	json_t *root = load(json, len, "config", err, errsize), *run, *rootfs;
	const char *os, *arch, *variant;
	int i;

	memset(c, 0, sizeof(*c));
	if (!root)
		return -1;
	run = json_object_get(root, "config");
	if (dup_strings(run, "Entrypoint", &c->entrypoint, NULL) < 0 ||
	    dup_strings(run, "Cmd", &c->cmd, NULL) < 0 ||
	    dup_strings(run, "Env", &c->env, NULL) < 0) {
		image_error(err, errsize,
			    "malformed config: Entrypoint, Cmd and Env are lists of strings");
		goto bad;
	}
	c->user = dup_string(run, "User");
	c->workdir = dup_string(run, "WorkingDir");
	c->created = dup_string(root, "created");
	os = string_of(root, "os");
	arch = string_of(root, "architecture");
	variant = string_of(root, "variant");
	snprintf(c->platform, sizeof(c->platform), "%s/%s%s%s", os ? os : "?", arch ? arch : "?",
		 variant ? "/" : "", variant ? variant : "");
	rootfs = json_object_get(root, "rootfs");
	if (dup_strings(rootfs, "diff_ids", &c->diff_ids, &c->count) < 0 || !c->diff_ids) {
		image_error(err, errsize, "malformed config: no rootfs.diff_ids list");
		goto bad;
	}
	for (i = 0; i < c->count; i++)
		if (!digest_valid(c->diff_ids[i])) {
			image_error(err, errsize,
				    "malformed config: diff_id \"%s\" is not a sha256 digest",
				    c->diff_ids[i]);
			goto bad;
		}
	json_decref(root);
	return 0;
bad:
	json_decref(root);
	config_free(c);
	return -1;
}

int docker_archive_parse(const char *json, size_t len, struct docker_archive *d, char *err,
			 size_t errsize)
{
	json_t *root = load(json, len, "manifest.json", err, errsize), *first;

	memset(d, 0, sizeof(*d));
	if (!root)
		return -1;
	first = json_array_get(root, 0);
	if (!json_is_object(first) || !(d->config = dup_string(first, "Config")) ||
	    dup_strings(first, "Layers", &d->layers, &d->count) < 0 || !d->layers ||
	    dup_strings(first, "RepoTags", &d->tags, NULL) < 0) {
		image_error(err, errsize,
			    "malformed manifest.json: it needs a list of {Config, Layers}");
		json_decref(root);
		docker_archive_free(d);
		return -1;
	}
	json_decref(root);
	return 0;
}

void index_free(struct image_index *ix)
{
	free(ix->manifests);
	memset(ix, 0, sizeof(*ix));
}

void manifest_free(struct manifest *m)
{
	free(m->layers);
	memset(m, 0, sizeof(*m));
}

void config_free(struct image_config *c)
{
	free_strings(c->entrypoint);
	free_strings(c->cmd);
	free_strings(c->env);
	free_strings(c->diff_ids);
	free(c->user);
	free(c->workdir);
	free(c->created);
	memset(c, 0, sizeof(*c));
}

void docker_archive_free(struct docker_archive *d)
{
	free(d->config);
	free_strings(d->layers);
	free_strings(d->tags);
	memset(d, 0, sizeof(*d));
}

const char *host_platform(void)
{
	static char platform[64];
	const char *forced = getenv("BOXLAB_PLATFORM");
	struct utsname u;

	if (forced && *forced)
		return forced;
	if (!platform[0]) {
		uname(&u);
		if (strcmp(u.machine, "x86_64") == 0)
			strcpy(platform, "linux/amd64");
		else if (strcmp(u.machine, "aarch64") == 0)
			strcpy(platform, "linux/arm64/v8");
		else
			snprintf(platform, sizeof(platform), "linux/%.50s", u.machine);
	}
	return platform;
}

/*
 * "linux/arm64" is "linux/arm64/v8": the variant is arm64's only one and
 * often left out.  Otherwise a wanted variant must be there.
 */
int platform_matches(const char *have, const char *want)
{
	if (strcmp(have, want) == 0)
		return 1;
	if (strcmp(want, "linux/arm64/v8") == 0)
		return strcmp(have, "linux/arm64") == 0;
	/* want "linux/amd64" takes "linux/amd64/v2" too: a variant the kit cannot see */
	return strncmp(have, want, strlen(want)) == 0 && have[strlen(want)] == '/' &&
	       have[strlen(want) + 1] != '\0';
}

int index_choose(const struct image_index *ix, const char *platform, char *err, size_t errsize)
{
	char have[512] = "";
	size_t used = 0;
	int i;

	if (!platform)
		platform = host_platform();
	for (i = 0; i < ix->count; i++)
		if (platform_matches(ix->manifests[i].platform, platform) &&
		    media_of(ix->manifests[i].media_type) == MEDIA_MANIFEST)
			return i;
	for (i = 0; i < ix->count; i++) {
		const char *p = ix->manifests[i].platform;

		/* attestations and signatures, not images */
		if (!*p || strncmp(p, "unknown/", 8) == 0 || strstr(have, p))
			continue;
		used += (size_t)snprintf(have + used, sizeof(have) - used, "%s%s", used ? ", " : "",
					 p);
		if (used >= sizeof(have))
			break;
	}
	return image_error(err, errsize, "no %s image in it (it has: %s)", platform,
			   used ? have : "no platform named");
}

char **image_argv(const struct image_config *c, const char *entrypoint, char **command, char *err,
		  size_t errsize)
{
	char *entry[2] = { (char *)entrypoint, NULL };
	char **first = c->entrypoint, **second = command && command[0] ? command : c->cmd;
	char **argv, **p;
	size_t n = 0;

	if (entrypoint) {
		/* --entrypoint: the image's Cmd was written for its own Entrypoint */
		first = entrypoint[0] ? entry : NULL;
		second = command && command[0] ? command : NULL;
	}
	for (p = first; p && *p; p++)
		n++;
	for (p = second; p && *p; p++)
		n++;
	if (n == 0) {
		image_error(err, errsize,
			    "no command: the image has neither Entrypoint nor Cmd; give one");
		return NULL;
	}
	argv = calloc(n + 1, sizeof(*argv));
	if (!argv) {
		image_error(err, errsize, "out of memory");
		return NULL;
	}
	n = 0;
	for (p = first; p && *p; p++)
		argv[n++] = *p;
	for (p = second; p && *p; p++)
		argv[n++] = *p;
	return argv;
}

/* The index of K in env (K=... or K alone), or -1. */
static int env_find(char **env, int n, const char *kv)
{
	size_t len = strcspn(kv, "=");
	int i;

	for (i = 0; i < n; i++)
		if (strncmp(env[i], kv, len) == 0 && (env[i][len] == '=' || env[i][len] == '\0'))
			return i;
	return -1;
}

/* Put K=V into env (n entries so far): replace K, or append. */
static int env_put(char **env, int *n, const char *kv)
{
	int at = env_find(env, *n, kv);
	char *copy = strdup(kv);

	if (!copy)
		return -1;
	if (at >= 0) {
		free(env[at]);
		env[at] = copy;
	} else {
		env[(*n)++] = copy;
	}
	return 0;
}

char **image_env(const struct image_config *c, const char *const *set, int nset)
{
	const char *term = getenv("TERM");
	char **env, **p, buf[4096];
	int n = 0, i, at, size = nset + 3;

	for (p = c->env; p && *p; p++)
		size++;
	env = calloc((size_t)size + 1, sizeof(*env));
	if (!env)
		return NULL;
	for (p = c->env; p && *p; p++)
		if (env_put(env, &n, *p) < 0)
			goto bad;
	for (i = 0; i < nset; i++) {
		const char *value;

		if (strchr(set[i], '=')) {
			if (env_put(env, &n, set[i]) < 0)
				goto bad;
			continue;
		}
		/* -e K: the caller's value, as docker does; none: K goes */
		value = getenv(set[i]);
		if (value) {
			snprintf(buf, sizeof(buf), "%s=%s", set[i], value);
			if (env_put(env, &n, buf) < 0)
				goto bad;
		} else if ((at = env_find(env, n, set[i])) >= 0) {
			free(env[at]);
			memmove(&env[at], &env[at + 1], (size_t)(n - at) * sizeof(*env));
			n--;
		}
	}
	/* docker's PATH when the image has none */
	if (env_find(env, n, "PATH") < 0 &&
	    env_put(env, &n, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin") <
		    0)
		goto bad;
	snprintf(buf, sizeof(buf), "TERM=%s", term ? term : "xterm");
	if (env_find(env, n, "TERM") < 0 && env_put(env, &n, buf) < 0)
		goto bad;
	return env;
bad:
	image_env_free(env);
	return NULL;
}

void image_env_free(char **env)
{
	free_strings(env);
}

int image_env_add(char ***env, const char *key, const char *value)
{
	char **grown, *kv;
	int n;

	for (n = 0; *env && (*env)[n]; n++)
		;
	if (env_find(*env, n, key) >= 0)
		return 0;
	if (asprintf(&kv, "%s=%s", key, value) < 0)
		return -1;
	grown = realloc(*env, (size_t)(n + 2) * sizeof(**env));
	if (!grown) {
		free(kv);
		return -1;
	}
	grown[n] = kv;
	grown[n + 1] = NULL;
	*env = grown;
	return 0;
}
