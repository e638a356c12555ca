/*
 * image.h - what an image says about itself, read from its JSON: the
 * index (which manifest for which machine), the manifest (a config and
 * its layers, by digest) and the config (the command, its environment,
 * user and directory, and the digests of the unpacked layers).  Also a
 * docker-archive's manifest.json.  jansson parses; nothing here prints.
 */
#ifndef BOXLAB_IMAGE_H
#define BOXLAB_IMAGE_H

#include <stddef.h>

#include "digest.h"

/* The media types an image is made of, as the kit sorts them. */
enum media {
	MEDIA_UNKNOWN,
	MEDIA_INDEX, /* an OCI image index or a docker manifest list */
	MEDIA_MANIFEST, /* an OCI image manifest or a docker v2 schema 2 one */
	MEDIA_SCHEMA1, /* docker's old signed manifests: not supported */
	MEDIA_CONFIG,
	MEDIA_LAYER_TAR,
	MEDIA_LAYER_GZIP,
	MEDIA_LAYER_ZSTD,
};

/* The Accept header of a manifest request: every type the kit reads. */
#define MEDIA_ACCEPT_MANIFESTS                                        \
	"application/vnd.oci.image.index.v1+json, "                   \
	"application/vnd.docker.distribution.manifest.list.v2+json, " \
	"application/vnd.oci.image.manifest.v1+json, "                \
	"application/vnd.docker.distribution.manifest.v2+json"

enum media media_of(const char *type);

/* A pointer to a blob: what it is, its digest and size. */
struct descriptor {
	char media_type[128];
	char digest[DIGEST_SIZE];
	long long size;
	char platform[64]; /* in an index: "linux/amd64", "linux/arm64/v8", or "" */
	char name[256]; /* in an OCI layout's index.json: the tag it gives */
};

struct image_index {
	struct descriptor *manifests;
	int count;
};

struct manifest {
	struct descriptor config;
	struct descriptor *layers; /* bottom first */
	int count;
};

struct image_config {
	char **entrypoint, **cmd, **env; /* NULL-terminated; NULL when absent */
	char *user, *workdir, *created; /* NULL when absent */
	char platform[64];
	char **diff_ids; /* the digests of the layers unpacked, bottom first */
	int count;
};

/* What a docker-archive's manifest.json says of its first image. */
struct docker_archive {
	char *config; /* the config's file in the archive */
	char **layers; /* the layers' files, bottom first */
	int count;
	char **tags; /* RepoTags, NULL-terminated */
};

/*
 * Each parser takes the JSON text, fills its struct and returns 0, or
 * returns -1 and says what is wrong in err: "line 1 column 40: ...".
 */
int index_parse(const char *json, size_t len, struct image_index *ix, char *err, size_t errsize);
int manifest_parse(const char *json, size_t len, struct manifest *m, char *err, size_t errsize);
int config_parse(const char *json, size_t len, struct image_config *c, char *err, size_t errsize);
int docker_archive_parse(const char *json, size_t len, struct docker_archive *d, char *err,
			 size_t errsize);

void index_free(struct image_index *ix);
void manifest_free(struct manifest *m);
void config_free(struct image_config *c);
void docker_archive_free(struct docker_archive *d);

/*
 * The entry of an index for this machine's platform ("linux/amd64" or
 * "linux/arm64/v8"; platform NULL means host_platform()), or -1 with
 * err naming what the index has instead.
 */
int index_choose(const struct image_index *ix, const char *platform, char *err, size_t errsize);

/*
 * The command an image runs, as docker makes it: ENTRYPOINT + CMD, where
 * --entrypoint (one word, "" for none) replaces the image's Entrypoint
 * and drops its Cmd, and a COMMAND given replaces Cmd.  NULL-terminated
 * and malloc'd (the strings are not copied: they live as long as c and
 * command); NULL with err when there is nothing to run.
 */
char **image_argv(const struct image_config *c, const char *entrypoint, char **command, char *err,
		  size_t errsize);

/*
 * The command's environment: the image's Env, then each -e K=V (K alone
 * takes the caller's K, or drops it when the caller has none), then PATH
 * and TERM where still missing.  NULL-terminated, malloc'd with its
 * strings; image_env_free() frees it.
 */
char **image_env(const struct image_config *c, const char *const *set, int nset);
void image_env_free(char **env);
/* KEY=value appended to *env unless KEY is there; 0 or -1 (ENOMEM). */
int image_env_add(char ***env, const char *key, const char *value);

/* This machine's platform as images name it; BOXLAB_PLATFORM overrides it. */
const char *host_platform(void);

/* The platform "os/arch[/variant]" of an index entry or a config. */
int platform_matches(const char *have, const char *want);

#endif
