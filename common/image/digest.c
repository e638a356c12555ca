/*
 * digest.c - SHA-256 digests as images name their parts.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "digest.h"

void digest_init(struct digest *d)
{
	sha256_init(&d->sha);
	d->size = 0;
}

void digest_update(struct digest *d, const void *buf, size_t n)
{
	sha256_update(&d->sha, n, buf);
	d->size += n;
}

void digest_final(struct digest *d, char out[DIGEST_SIZE])
{
	static const char hex[] = "0123456789abcdef";
	uint8_t raw[SHA256_DIGEST_SIZE];
	char *p = out + strlen(DIGEST_PREFIX);
	int i;

	sha256_digest(&d->sha, sizeof(raw), raw);
	memcpy(out, DIGEST_PREFIX, strlen(DIGEST_PREFIX));
	for (i = 0; i < SHA256_DIGEST_SIZE; i++) {
		*p++ = hex[raw[i] >> 4];
		*p++ = hex[raw[i] & 15];
	}
	*p = '\0';
	d->size = 0;
}

void digest_bytes(const void *buf, size_t n, char out[DIGEST_SIZE])
{
	struct digest d;

	digest_init(&d);
	digest_update(&d, buf, n);
	digest_final(&d, out);
}

int digest_fd(int fd, char out[DIGEST_SIZE], uint64_t *size)
{
	char buf[65536];
	struct digest d;
	ssize_t n;

	digest_init(&d);
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		digest_update(&d, buf, (size_t)n);
	}
	if (size)
		*size = d.size;
	digest_final(&d, out);
	return 0;
}

int digest_valid(const char *text)
{
	size_t n = strlen(DIGEST_PREFIX);

	if (strncmp(text, DIGEST_PREFIX, n) != 0 || strlen(text + n) != 2 * SHA256_DIGEST_SIZE)
		return 0;
	return strspn(text + n, "0123456789abcdef") == 2 * SHA256_DIGEST_SIZE;
}

const char *digest_hex(const char *digest)
{
	return digest + strlen(DIGEST_PREFIX);
}
