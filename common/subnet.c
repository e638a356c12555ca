/*
 * subnet.c - claiming a /30 per container with one file per subnet.
 *
 * Why files and a lock, not a counter: containers start and die in any
 * order, and a runtime killed with SIGKILL cannot give anything back.  A
 * claim file names its owner, so anyone can tell a dead claim from a
 * live one with kill(pid, 0), and the lowest free k is found again after
 * any crash.
 *
 * Every scan that may create or remove claims holds an exclusive
 * flock(2) on DIR/.lock.  The lock goes away with its holder's last
 * descriptor, so a killed runtime never leaves the directory locked.
 *
 * A claim is given back when its container ends, but its veth may live
 * on for a while: the kernel deletes the pair with the container's
 * network namespace, which a connection the container has just closed
 * keeps until the host acknowledges it, and the host end keeps its
 * address for that.  So a claim also skips every /30 whose host address
 * is still on a link.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "process.h"
#include "subnet.h"

#define SUBNET_BASE ((10u << 24) | (200u << 16)) /* 10.200.0.0 */

enum claim_state { CLAIM_FREE, CLAIM_LIVE, CLAIM_STALE };

static void dotted(char *out, size_t size, unsigned int a)
{
	snprintf(out, size, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
}

int subnet_from_index(int index, struct subnet *s)
{
	unsigned int net;

	if (index < 0 || index >= SUBNET_COUNT) {
		errno = EINVAL;
		return -1;
	}
	net = SUBNET_BASE + 4u * (unsigned int)index;
	s->index = index;
	s->owner = 0;
	dotted(s->host, sizeof(s->host), net + 1);
	dotted(s->container, sizeof(s->container), net + 2);
	s->prefixlen = SUBNET_PREFIXLEN;
	return 0;
}

/*
 * Open dir and take its lock.  Returns the directory's descriptor and
 * puts the lock's in *lockfd; closing *lockfd drops the lock.
 */
static int open_locked(const char *dir, int *lockfd)
{
	int dfd, fd, saved;

	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -1;
	fd = openat(dfd, ".lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		goto fail;
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			saved = errno;
			close(fd);
			errno = saved;
			goto fail;
		}
	}
	*lockfd = fd;
	return dfd;
fail:
	saved = errno;
	close(dfd);
	errno = saved;
	return -1;
}

static void close_both(int dfd, int lockfd)
{
	int saved = errno;

	close(lockfd);
	close(dfd);
	errno = saved;
}

/* The pid in a claim file, or 0 when it holds none (empty, garbage). */
static pid_t claim_owner(int fd)
{
	char buf[24];
	char *end;
	ssize_t n;
	long pid;

	n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	errno = 0;
	pid = strtol(buf, &end, 10);
	if (errno || end == buf || (*end && *end != '\n') || pid <= 0 || pid > INT_MAX)
		return 0;
	return (pid_t)pid;
}

/*
 * What the claim file name says.  Call with the lock held: claimers write
 * the pid while they hold it, so a claim without a pid was left by a
 * claimer that died in between, and needs no "older than" grace period.
 */
static enum claim_state claim_state(int dfd, const char *name)
{
	pid_t pid;
	int fd;

	fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		/* Gone meanwhile: free.  Unreadable: not ours to judge. */
		return errno == ENOENT ? CLAIM_FREE : CLAIM_LIVE;
	pid = claim_owner(fd);
	close(fd);
	if (pid == 0)
		return CLAIM_STALE;
	/*
	 * kill(2) with signal 0 checks that the process exists.  EPERM
	 * means it does but is not ours to signal: live.  Only ESRCH says
	 * the owner is gone.
	 */
	if (kill(pid, 0) < 0 && errno == ESRCH)
		return CLAIM_STALE;
	return CLAIM_LIVE;
}

/* Create the claim file name holding owner's pid; -1 with EEXIST if taken. */
static int create_claim(int dfd, const char *name, pid_t owner)
{
	char text[24];
	int fd, len, ok, saved;

	/* O_EXCL: of two creators of the same name, exactly one succeeds. */
	fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -1;
	len = snprintf(text, sizeof(text), "%d\n", (int)owner);
	errno = EIO; /* what a short write reports */
	ok = write(fd, text, len) == len;
	saved = errno;
	if (close(fd) < 0 && ok) {
		ok = 0;
		saved = errno;
	}
	if (!ok) {
		unlinkat(dfd, name, 0);
		errno = saved;
		return -1;
	}
	return 0;
}

/* 1 if k is now ours, 0 if it has a live owner, -1 with errno. */
static int try_claim(int dfd, int k, pid_t owner)
{
	char name[16];

	snprintf(name, sizeof(name), "%d", k);
	if (create_claim(dfd, name, owner) == 0)
		return 1;
	if (errno != EEXIST)
		return -1;
	switch (claim_state(dfd, name)) {
	case CLAIM_LIVE:
		return 0;
	case CLAIM_STALE:
		if (unlinkat(dfd, name, 0) < 0 && errno != ENOENT)
			return -1;
		break;
	case CLAIM_FREE:
		break;
	}
	if (create_claim(dfd, name, owner) == 0)
		return 1;
	/* Someone who ignores the lock got there first: leave it to them. */
	return errno == EEXIST ? 0 : -1;
}

/*
 * Mark in on_link[k] each /30 whose host end (10.200.0.0 + 4k + 1) is an
 * address of some link on the host: a veth still being taken down.
 */
static int mark_addresses_on_links(unsigned char *on_link)
{
	struct ifaddrs *list, *i;
	unsigned int a;

	if (getifaddrs(&list) < 0)
		return -1;
	for (i = list; i; i = i->ifa_next) {
		if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET)
			continue;
		a = ntohl(((struct sockaddr_in *)(void *)i->ifa_addr)->sin_addr.s_addr);
		if ((a & 0xffff0000u) == SUBNET_BASE && (a & 3u) == 1)
			on_link[(a - SUBNET_BASE) / 4] = 1;
	}
	freeifaddrs(list);
	return 0;
}

int subnet_claim(const char *dir, pid_t owner, struct subnet *s)
{
	unsigned char on_link[SUBNET_COUNT] = { 0 };
	int dfd, lockfd, k, r = 0;

	if (owner <= 0) {
		errno = EINVAL;
		return -1;
	}
	if (make_dirs(dir, 0700) < 0)
		return -1;
	dfd = open_locked(dir, &lockfd);
	if (dfd < 0)
		return -1;
	if (mark_addresses_on_links(on_link) < 0) {
		close_both(dfd, lockfd);
		return -1;
	}
	for (k = 0; k < SUBNET_COUNT; k++) {
		if (on_link[k])
			continue;
		r = try_claim(dfd, k, owner);
		if (r != 0)
			break;
	}
	if (r == 0)
		errno = ENOSPC;
	close_both(dfd, lockfd);
	if (r <= 0)
		return -1;
	subnet_from_index(k, s);
	s->owner = owner;
	return 0;
}

int subnet_release(const char *dir, const struct subnet *s)
{
	char path[PATH_MAX];
	pid_t pid;
	int fd, n;

	if (s->index < 0 || s->index >= SUBNET_COUNT) {
		errno = EINVAL;
		return -1;
	}
	n = snprintf(path, sizeof(path), "%s/%d", dir, s->index);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	pid = claim_owner(fd);
	close(fd);
	/*
	 * Released already, and claimed again by another container since:
	 * not ours to remove.  No lock is needed: while its owner lives
	 * nobody else removes a claim, so the file stays the one we read.
	 */
	if (pid != s->owner)
		return 0;
	if (unlink(path) < 0 && errno != ENOENT)
		return -1;
	return 0;
}
