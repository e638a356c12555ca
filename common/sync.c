/*
 * sync.c - one-byte messages on a unix socket pair, optionally carrying
 * a file descriptor (SCM_RIGHTS).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sync.h"

int sync_pair(int fds[2])
{
	/* SEQPACKET: one message per read, and a close reads as end-of-file. */
	return socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds);
}

/* The most descriptors one message carries (the kernel's SCM_MAX_FD is 253). */
#define SYNC_MAX_FDS 128

int sync_send_fds(int sock, const int *fds, int n)
{
	char byte = 'g';
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	union {
		char buf[CMSG_SPACE(SYNC_MAX_FDS * sizeof(int))];
		struct cmsghdr align;
	} control;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cmsg;

	if (n > SYNC_MAX_FDS) {
		errno = E2BIG;
		return -1;
	}
	if (n > 0) {
		memset(&control, 0, sizeof(control));
		msg.msg_control = control.buf;
		msg.msg_controllen = CMSG_SPACE(n * sizeof(int));
		cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(n * sizeof(int));
		memcpy(CMSG_DATA(cmsg), fds, n * sizeof(int));
	}
	return sendmsg(sock, &msg, MSG_NOSIGNAL) == 1 ? 0 : -1;
}

int sync_send(int sock, int fd)
{
	return sync_send_fds(sock, &fd, fd >= 0 ? 1 : 0);
}

int sync_recv_fds(int sock, int *fds, int max, int *n)
{
	char byte;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	union {
		char buf[CMSG_SPACE(SYNC_MAX_FDS * sizeof(int))];
		struct cmsghdr align;
	} control;
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control.buf,
		.msg_controllen = sizeof(control.buf),
	};
	struct cmsghdr *cmsg;
	ssize_t got;
	int i, count, received = 0;

	do
		got = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	while (got < 0 && errno == EINTR);
	if (got < 0)
		return -1;
	if (got == 0) {
		errno = EPIPE;
		return -1;
	}
	cmsg = CMSG_FIRSTHDR(&msg);
	if (!cmsg || cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS)
		goto out;
	count = (int)((cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int));
	for (i = 0; i < count; i++) {
		int fd;

		memcpy(&fd, CMSG_DATA(cmsg) + i * sizeof(int), sizeof(int));
		if (i < max)
			fds[received++] = fd;
		else
			close(fd);
	}
out:
	if (n)
		*n = received;
	return 0;
}

int sync_recv(int sock, int *fd)
{
	*fd = -1;
	return sync_recv_fds(sock, fd, 1, NULL);
}

int sync_check_peer(int sock)
{
	char byte;
	ssize_t n = recv(sock, &byte, 1, MSG_PEEK | MSG_DONTWAIT);

	if (n == 0) {
		errno = EPIPE;
		return -1;
	}
	if (n < 0 && errno != EAGAIN)
		return -1;
	return 0;
}
