/*
 * error.c - the one failure of common/image/.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "error.h"

int image_error(char *err, size_t errsize, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errsize, fmt, ap);
	va_end(ap);
	errno = saved ? saved : EINVAL;
	return -1;
}
