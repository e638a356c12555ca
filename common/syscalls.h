/*
 * syscalls.h - system calls the C library does not wrap, one thin
 * wrapper each, named sys_<call> so they never clash with a wrapper a
 * newer C library adds.
 */
#ifndef BOXLAB_SYSCALLS_H
#define BOXLAB_SYSCALLS_H

#include <errno.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Older C library headers lack the newest namespace flags. */
#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME	0x00000080	/* Linux 5.6 */
#endif

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

#endif
