/*
 * error.h - how the functions of common/image/ fail: they never print;
 * they put one clause in the caller's buffer ("layer sha256:1f42...:
 * entry \"../x\" leaves the layer") and return -1, errno as the failed
 * call left it, or EINVAL when no call failed.
 */
#ifndef BOXLAB_IMAGE_ERROR_H
#define BOXLAB_IMAGE_ERROR_H

#include <stddef.h>

int image_error(char *err, size_t errsize, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
