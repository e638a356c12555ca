/*
 * sync.h - the parent/child handshake.
 *
 * A socket pair made before clone(): the child blocks reading its end
 * until the parent has done what only the parent can do from outside (id
 * maps, and later the cgroup and the network link).  A socket rather
 * than a pipe because a message can carry a file descriptor with it
 * (SCM_RIGHTS, unix(7)): the parent hands the child a mount it made.
 * Pure helpers: they return -1 with errno and never print.
 */
#ifndef BOXLAB_SYNC_H
#define BOXLAB_SYNC_H

enum { SYNC_PARENT = 0, SYNC_CHILD = 1 };

/* Make the pair; both ends close on exec. */
int sync_pair(int fds[2]);

/* Send one sync message, with fd attached unless it is -1. */
int sync_send(int sock, int fd);

/*
 * Wait for one sync message; *fd gets the descriptor that came with it,
 * or -1.  Returns 0, or -1 with errno set (EPIPE: the other side died
 * before saying anything).
 */
int sync_recv(int sock, int *fd);

/*
 * The same with up to 128 descriptors: n of them sent; at most max
 * received, and how many in *n (unless n is NULL).
 */
int sync_send_fds(int sock, const int *fds, int n);
int sync_recv_fds(int sock, int *fds, int max, int *n);

/*
 * Is the other side still there?  0 if its end is open, -1 with errno
 * EPIPE if it closed it (by exiting, say).  Does not wait.
 */
int sync_check_peer(int sock);

#endif
