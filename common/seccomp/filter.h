/*
 * filter.h - the seccomp filter of a container (step 10), built with
 * libseccomp into a BPF program: the system calls it may make, the ones
 * refused with EPERM, and every other one answered ENOSYS, as a kernel
 * without it would.  The container loads it with seccomp(2).
 */
#ifndef BOXLAB_SECCOMP_FILTER_H
#define BOXLAB_SECCOMP_FILTER_H

#include <stddef.h>
#include <stdint.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

/* What a filter holds, counted over the names this architecture has. */
struct filter_counts {
	int allowed; /* always, or with a condition on an argument */
	int refused; /* EPERM: dangerous, or only for a capability not kept */
	int enosys; /* clone3, and the rest: everything not named */
};

/* A filter, built: the BPF program for the kernel, and what it holds. */
struct filter {
	struct sock_fprog prog; /* what seccomp(SECCOMP_SET_MODE_FILTER) loads */
	struct filter_counts counts;
};

/*
 * Build the filter for a container whose capabilities are caps (a set of
 * caps.h: a syscall that needs one it keeps is allowed) into *f.  Needs
 * no privilege, and loads nothing.  Returns 0, or -1 with errno.
 */
int filter_build(uint64_t caps, struct filter *f);

/* Free what filter_build() made; f->prog.filter is NULL after. */
void filter_free(struct filter *f);

#endif
