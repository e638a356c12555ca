/*
 * subnet.h - a point-to-point /30 of its own for every running container.
 *
 * 10.200.0.0/16 is cut into 16384 /30s.  Subnet k is the network
 * 10.200.0.0 + 4k: the host's end of the veth pair is .+1, the
 * container's end .+2 (k = 0: 10.200.0.1/30 and 10.200.0.2/30).
 *
 * A container claims the lowest free k by creating the file DIR/k, which
 * holds the pid of the runtime that owns it, and releases it by removing
 * the file.  A claim whose owner died without releasing it (kill -9) is
 * stale, and the next claim takes it back, so killed runs never leak
 * addresses for good.
 *
 * Pure helpers: they never print; they return 0 (or a count) on success
 * and -1 with errno set on failure.
 */
#ifndef BOXLAB_SUBNET_H
#define BOXLAB_SUBNET_H

#include <sys/types.h>

#define SUBNET_COUNT	 16384 /* /30s in 10.200.0.0/16 */
#define SUBNET_PREFIXLEN 30

struct subnet {
	int index; /* k, 0 to SUBNET_COUNT - 1 */
	char host[16]; /* "10.200.0.1": the host's end */
	char container[16]; /* "10.200.0.2": the container's end */
	int prefixlen; /* SUBNET_PREFIXLEN */
	pid_t owner; /* who claimed it; 0 if nobody did */
};

/**
 * subnet_from_index() - the addresses of subnet k, claimed or not
 * @index: k, 0 to SUBNET_COUNT - 1
 * @s:     filled in
 *
 * Return: 0, or -1 with errno EINVAL when @index is out of range.
 */
int subnet_from_index(int index, struct subnet *s);

/**
 * subnet_claim() - claim the lowest free subnet for a container
 * @dir:   where claims live, e.g. "/run/boxlab/subnets"; made with mode
 *         0700 (and its parents) if missing
 * @owner: the pid whose death makes the claim stale, usually getpid()
 * @s:     filled in with the claimed subnet
 *
 * Holds an exclusive flock(2) on DIR/.lock while it scans, so two
 * runtimes starting at once never pick the same k.  Stale claims met on
 * the way are removed and their k reused.  A subnet whose host address
 * is still on a link (the veth of a container that has ended, not yet
 * deleted) is skipped, claim or none.
 *
 * Return: 0, or -1 with errno set: ENOSPC when all SUBNET_COUNT subnets
 * are taken.
 */
int subnet_claim(const char *dir, pid_t owner, struct subnet *s);

/**
 * subnet_release() - give back a subnet from subnet_claim()
 * @dir: the same directory
 * @s:   the claimed subnet
 *
 * Removes DIR/k only if it still names @s->owner: released twice, with
 * another container claiming k in between, the second call leaves the
 * other container's claim alone.
 *
 * Return: 0, also when the claim is already gone (so an undo function
 * can run twice), or -1 with errno set.
 */
int subnet_release(const char *dir, const struct subnet *s);

#endif
