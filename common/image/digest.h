/*
 * digest.h - content addresses: "sha256:" and 64 hex digits, the name of
 * every blob, layer and config of an image.  nettle computes SHA-256.
 */
#ifndef BOXLAB_DIGEST_H
#define BOXLAB_DIGEST_H

#include <nettle/sha2.h>
#include <stddef.h>
#include <stdint.h>

#define DIGEST_PREFIX "sha256:"
/* "sha256:" + 64 hex digits + NUL */
#define DIGEST_SIZE 72

struct digest {
	struct sha256_ctx sha;
	uint64_t size; /* bytes hashed so far */
};

void digest_init(struct digest *d);
void digest_update(struct digest *d, const void *buf, size_t n);
/* "sha256:<hex>" into out (DIGEST_SIZE bytes); d starts over. */
void digest_final(struct digest *d, char out[DIGEST_SIZE]);

/* The digest of a buffer, or of what remains to read of fd (size too, if asked). */
void digest_bytes(const void *buf, size_t n, char out[DIGEST_SIZE]);
int digest_fd(int fd, char out[DIGEST_SIZE], uint64_t *size);

/* 1 if text is "sha256:" and 64 lowercase hex digits. */
int digest_valid(const char *text);

/* The 64 hex digits of a valid digest (text itself, past the prefix). */
const char *digest_hex(const char *digest);

#endif
