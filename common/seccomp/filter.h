/*
 * filter.h - the seccomp filter of a container (step 10), built with
 * libseccomp: the system calls it may make, the ones refused with EPERM,
 * and every other one answered ENOSYS, as a kernel without it would.
 */
#ifndef BOXLAB_SECCOMP_FILTER_H
#define BOXLAB_SECCOMP_FILTER_H

#include <stddef.h>
#include <stdint.h>

/* What a filter holds, counted over the names this architecture has. */
struct filter_counts {
	int allowed; /* always, or with a condition on an argument */
	int refused; /* EPERM: dangerous, or only for a capability not kept */
	int enosys; /* clone3, and the rest: everything not named */
};

/*
 * Build the filter for a container whose capabilities are caps (a set of
 * caps.h: a syscall that needs one it keeps is allowed), and load it into
 * this process.  It needs no_new_privs set, or CAP_SYS_ADMIN.  Returns 0
 * with what it holds in *counts, or -1 with errno.
 */
int filter_load(uint64_t caps, struct filter_counts *counts);

/* The names refused with EPERM when caps are kept, comma-separated, into buf. */
const char *filter_refused(uint64_t caps, char *buf, size_t size);

#endif
