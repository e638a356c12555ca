/*
 * syscalls.h - system calls the C library does not wrap, one thin
 * wrapper each, named sys_<call> so they never clash with a wrapper a
 * newer C library adds.
 */
#ifndef BOXLAB_SYSCALLS_H
#define BOXLAB_SYSCALLS_H

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sched.h>
#include <stdint.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Older C library headers lack the newest namespace flags. */
#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080 /* Linux 5.6 */
#endif

/*
 * The new mount API (Linux 5.2; id-mapped mounts 5.12).  glibc 2.36 has
 * wrappers and these names; older headers get them here.
 */
#ifndef MOUNT_ATTR_IDMAP
#define MOUNT_ATTR_IDMAP 0x00100000
struct mount_attr {
	uint64_t attr_set;
	uint64_t attr_clr;
	uint64_t propagation;
	uint64_t userns_fd;
};
#endif
#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif
#ifndef OPEN_TREE_CLOEXEC
#define OPEN_TREE_CLOEXEC O_CLOEXEC
#endif
#ifndef MOVE_MOUNT_F_EMPTY_PATH
#define MOVE_MOUNT_F_EMPTY_PATH 0x00000004
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif

/*
 * clone3(2) (Linux 5.3) takes its arguments in a struct; CLONE_INTO_CGROUP
 * (5.7) starts the child in the cgroup whose directory is .cgroup.
 */
#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif
struct sys_clone_args {
	uint64_t flags;
	uint64_t pidfd;
	uint64_t child_tid;
	uint64_t parent_tid;
	uint64_t exit_signal;
	uint64_t stack;
	uint64_t stack_size;
	uint64_t tls;
	uint64_t set_tid;
	uint64_t set_tid_size;
	uint64_t cgroup;
};

static inline long sys_clone3(struct sys_clone_args *args)
{
#ifdef SYS_clone3
	return syscall(SYS_clone3, args, sizeof(*args));
#else
	(void)args;
	errno = ENOSYS;
	return -1;
#endif
}

/* pivot_root(2): "glibc does not provide a wrapper for this system call". */
static inline int sys_pivot_root(const char *new_root, const char *put_old)
{
#ifdef SYS_pivot_root
	return (int)syscall(SYS_pivot_root, new_root, put_old);
#else
	errno = ENOSYS;
	return -1;
#endif
}

/* open_tree(2): a copy of a mount tree, detached, as a file descriptor. */
static inline int sys_open_tree(int dirfd, const char *path, unsigned int flags)
{
	return (int)syscall(SYS_open_tree, dirfd, path, flags);
}

/* mount_setattr(2): change a mount's properties, such as its id map. */
static inline int sys_mount_setattr(int dirfd, const char *path, unsigned int flags,
				    struct mount_attr *attr, size_t size)
{
	return (int)syscall(SYS_mount_setattr, dirfd, path, flags, attr, size);
}

/* move_mount(2): attach a detached mount (or move one) to a path. */
static inline int sys_move_mount(int from_dirfd, const char *from_path, int to_dirfd,
				 const char *to_path, unsigned int flags)
{
	return (int)syscall(SYS_move_mount, from_dirfd, from_path, to_dirfd, to_path, flags);
}

/* openat2(2): open a path resolved as the flags say (RESOLVE_BENEATH: never above dirfd). */
static inline int sys_openat2(int dirfd, const char *path, struct open_how *how)
{
	return (int)syscall(SYS_openat2, dirfd, path, how, sizeof(*how));
}

/* seccomp(2): install a filter, a BPF program, for this thread (Linux 3.17). */
static inline int sys_seccomp(unsigned int operation, unsigned int flags, void *args)
{
	return (int)syscall(SYS_seccomp, operation, flags, args);
}

/*
 * A pidfd (Linux 5.3) names one process, never a later one that is given
 * its pid: it can be signalled (5.1), polled for its end, and handed to
 * setns() to join all its namespaces at once (5.8).
 */
static inline int sys_pidfd_open(pid_t pid, unsigned int flags)
{
	return (int)syscall(SYS_pidfd_open, pid, flags);
}

static inline int sys_pidfd_send_signal(int pidfd, int sig)
{
	return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}

#endif
