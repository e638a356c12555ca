/*
 * parse.c - values from the command line.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>

#include "parse.h"

int valid_hostname(const char *name)
{
	size_t i, n = strlen(name);

	/* HOST_NAME_MAX is 64 on Linux; sethostname(2) refuses longer. */
	if (n == 0 || n > 64 || name[0] == '-')
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)name[i];

		if (!isalnum(ch) && ch != '-' && ch != '.')
			return 0;
	}
	return 1;
}

int valid_name(const char *name)
{
	size_t i, n = strlen(name);

	if (n == 0 || n > 63 || !isalnum((unsigned char)name[0]))
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)name[i];

		if (!isalnum(ch) && ch != '_' && ch != '.' && ch != '-')
			return 0;
	}
	return 1;
}

int parse_signal(const char *text)
{
	const char *name = strncasecmp(text, "SIG", 3) == 0 ? text + 3 : text;
	long n = parse_count(text, SIGRTMAX);
	int sig;

	if (n > 0)
		return (int)n;
	for (sig = 1; sig < NSIG; sig++)
		if (sigabbrev_np(sig) && strcasecmp(name, sigabbrev_np(sig)) == 0)
			return sig;
	return -1;
}

long long parse_size(const char *text)
{
	static const char units[] = "KMGT";
	unsigned long long n;
	const char *unit;
	char *end;
	int shift = 0;

	if (!isdigit((unsigned char)text[0]))
		return -1;
	errno = 0;
	n = strtoull(text, &end, 10);
	if (errno || n == 0)
		return -1;
	if (*end) {
		unit = strchr(units, toupper((unsigned char)*end));
		if (!unit)
			return -1;
		shift = 10 * (int)(unit - units + 1);
		end++;
		if (strcmp(end, "") != 0 && strcasecmp(end, "b") != 0 && strcmp(end, "iB") != 0)
			return -1;
	}
	if (n > (unsigned long long)LLONG_MAX >> shift)
		return -1;
	return (long long)(n << shift);
}

long parse_count(const char *text, long max)
{
	char *end;
	long n;

	if (!isdigit((unsigned char)text[0]))
		return -1;
	errno = 0;
	n = strtol(text, &end, 10);
	if (errno || *end || n < 1 || n > max)
		return -1;
	return n;
}

int parse_rlimit(const char *text, unsigned long long *value)
{
	char *end;

	if (strcmp(text, "-1") == 0 || strcmp(text, "unlimited") == 0) {
		*value = RLIM_INFINITY;
		return 0;
	}
	if (!isdigit((unsigned char)text[0]))
		return -1;
	errno = 0;
	*value = strtoull(text, &end, 10);
	return errno || *end || *value == RLIM_INFINITY ? -1 : 0;
}

long parse_cpus(const char *text, long period, long max)
{
	long whole, hundredths = 0;
	const char *p = text;
	int digits = 0;

	if (!isdigit((unsigned char)*p))
		return -1;
	for (whole = 0; isdigit((unsigned char)*p); p++) {
		whole = whole * 10 + (*p - '0');
		if (whole > max)
			return -1;
	}
	if (*p == '.') {
		for (p++; isdigit((unsigned char)*p) && digits < 2; p++, digits++)
			hundredths = hundredths * 10 + (*p - '0');
		if (digits == 0)
			return -1;
		if (digits == 1)
			hundredths *= 10;
	}
	if (*p || (whole == 0 && hundredths == 0) || (whole == max && hundredths > 0))
		return -1;
	return whole * period + hundredths * period / 100;
}
