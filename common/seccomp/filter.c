/*
 * filter.c - the seccomp filter of a container (step 10), built with
 * libseccomp.
 *
 * Three answers, as docker's default profile gives them, with one change:
 *  - allowed: the calls any program needs (docker's list), some only with
 *    a safe argument (clone without namespace flags, socket but for
 *    AF_ALG and AF_VSOCK, personality for the common personas);
 *  - EPERM, "not allowed": the calls that reach what namespaces do not
 *    isolate (the kernel's keyrings, modules, swap, the clock, io_uring)
 *    or that need a capability the container does not keep (mount needs
 *    SYS_ADMIN: with --cap-add SYS_ADMIN it is allowed);
 *  - ENOSYS, "no such call", for everything else: the obsolete calls, and
 *    the ones newer than this list, so that a C library tries its older
 *    way, as on an older kernel.  (docker answers EPERM there, and so
 *    broke programs whose libc met a new call it had no fallback for.)
 * A call made with another architecture's numbers (32-bit x86 on x86_64,
 * or x32) ends the process: the numbers above mean nothing there.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/capability.h>

#include <seccomp.h>

#include "../caps.h"
#include "filter.h"

/* Allowed to every container: docker's default list. */
/* clang-format off */
static const char *const allowed[] = {
	"_llseek", "_newselect", "accept", "accept4", "access", "adjtimex", "alarm", "bind",
	"brk", "cachestat", "capget", "capset", "chdir", "chmod", "chown", "chown32",
	"clock_adjtime", "clock_adjtime64", "clock_getres", "clock_getres_time64",
	"clock_gettime", "clock_gettime64", "clock_nanosleep", "clock_nanosleep_time64",
	"close", "close_range", "connect", "copy_file_range", "creat", "dup", "dup2", "dup3",
	"epoll_create", "epoll_create1", "epoll_ctl", "epoll_ctl_old", "epoll_pwait",
	"epoll_pwait2", "epoll_wait", "epoll_wait_old", "eventfd", "eventfd2", "execve",
	"execveat", "exit", "exit_group", "faccessat", "faccessat2", "fadvise64",
	"fadvise64_64", "fallocate", "fanotify_mark", "fchdir", "fchmod", "fchmodat",
	"fchmodat2", "fchown", "fchown32", "fchownat", "fcntl", "fcntl64", "fdatasync",
	"fgetxattr", "flistxattr", "flock", "fork", "fremovexattr", "fsetxattr", "fstat",
	"fstat64", "fstatat64", "fstatfs", "fstatfs64", "fsync", "ftruncate", "ftruncate64",
	"futex", "futex_requeue", "futex_time64", "futex_wait", "futex_waitv", "futex_wake",
	"futimesat", "get_robust_list", "get_thread_area", "getcpu", "getcwd", "getdents",
	"getdents64", "getegid", "getegid32", "geteuid", "geteuid32", "getgid", "getgid32",
	"getgroups", "getgroups32", "getitimer", "getpeername", "getpgid", "getpgrp", "getpid",
	"getppid", "getpriority", "getrandom", "getresgid", "getresgid32", "getresuid",
	"getresuid32", "getrlimit", "getrusage", "getsid", "getsockname", "getsockopt",
	"gettid", "gettimeofday", "getuid", "getuid32", "getxattr", "getxattrat",
	"inotify_add_watch", "inotify_init", "inotify_init1", "inotify_rm_watch", "io_cancel",
	"io_destroy", "io_getevents", "io_pgetevents", "io_pgetevents_time64", "io_setup",
	"io_submit", "ioctl", "ioprio_get", "ioprio_set", "ipc", "kill", "landlock_add_rule",
	"landlock_create_ruleset", "landlock_restrict_self", "lchown", "lchown32", "lgetxattr",
	"link", "linkat", "listen", "listmount", "listxattr", "listxattrat", "llistxattr",
	"lremovexattr", "lseek", "lsetxattr", "lstat", "lstat64", "madvise",
	"map_shadow_stack", "membarrier", "memfd_create", "memfd_secret", "mincore", "mkdir",
	"mkdirat", "mknod", "mknodat", "mlock", "mlock2", "mlockall", "mmap", "mmap2",
	"mprotect", "mq_getsetattr", "mq_notify", "mq_open", "mq_timedreceive",
	"mq_timedreceive_time64", "mq_timedsend", "mq_timedsend_time64", "mq_unlink", "mremap",
	"mseal", "msgctl", "msgget", "msgrcv", "msgsnd", "msync", "munlock", "munlockall",
	"munmap", "name_to_handle_at", "nanosleep", "newfstatat", "open", "openat", "openat2",
	"pause", "pidfd_open", "pidfd_send_signal", "pipe", "pipe2", "pkey_alloc", "pkey_free",
	"pkey_mprotect", "poll", "ppoll", "ppoll_time64", "prctl", "pread64", "preadv",
	"preadv2", "prlimit64", "process_mrelease", "process_vm_readv", "process_vm_writev",
	"pselect6", "pselect6_time64", "ptrace", "pwrite64", "pwritev", "pwritev2", "read",
	"readahead", "readlink", "readlinkat", "readv", "recv", "recvfrom", "recvmmsg",
	"recvmmsg_time64", "recvmsg", "remap_file_pages", "removexattr", "removexattrat",
	"rename", "renameat", "renameat2", "restart_syscall", "riscv_hwprobe", "rmdir", "rseq",
	"rt_sigaction", "rt_sigpending", "rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn",
	"rt_sigsuspend", "rt_sigtimedwait", "rt_sigtimedwait_time64", "rt_tgsigqueueinfo",
	"sched_get_priority_max", "sched_get_priority_min", "sched_getaffinity",
	"sched_getattr", "sched_getparam", "sched_getscheduler", "sched_rr_get_interval",
	"sched_rr_get_interval_time64", "sched_setaffinity", "sched_setattr", "sched_setparam",
	"sched_setscheduler", "sched_yield", "seccomp", "select", "semctl", "semget", "semop",
	"semtimedop", "semtimedop_time64", "send", "sendfile", "sendfile64", "sendmmsg",
	"sendmsg", "sendto", "set_robust_list", "set_thread_area", "set_tid_address",
	"setfsgid", "setfsgid32", "setfsuid", "setfsuid32", "setgid", "setgid32", "setgroups",
	"setgroups32", "setitimer", "setpgid", "setpriority", "setregid", "setregid32",
	"setresgid", "setresgid32", "setresuid", "setresuid32", "setreuid", "setreuid32",
	"setrlimit", "setsid", "setsockopt", "setuid", "setuid32", "setxattr", "setxattrat",
	"shmat", "shmctl", "shmdt", "shmget", "shutdown", "sigaltstack", "signalfd",
	"signalfd4", "sigprocmask", "sigreturn", "socketcall", "socketpair", "splice", "stat",
	"stat64", "statfs", "statfs64", "statmount", "statx", "symlink", "symlinkat", "sync",
	"sync_file_range", "syncfs", "sysinfo", "tee", "tgkill", "time", "timer_create",
	"timer_delete", "timer_getoverrun", "timer_gettime", "timer_gettime64",
	"timer_settime", "timer_settime64", "timerfd_create", "timerfd_gettime",
	"timerfd_gettime64", "timerfd_settime", "timerfd_settime64", "times", "tkill",
	"truncate", "truncate64", "ugetrlimit", "umask", "uname", "unlink", "unlinkat",
	"uretprobe", "utime", "utimensat", "utimensat_time64", "utimes", "vfork", "vmsplice",
	"wait4", "waitid", "waitpid", "write", "writev",
	/* this architecture's own: x86_64's thread pointer and segments,
	 * 32-bit ARM's (names another architecture lacks are left out) */
	"arch_prctl", "modify_ldt", "arm_fadvise64_64", "arm_sync_file_range",
	"sync_file_range2", "breakpoint", "cacheflush", "set_tls",
};
/* clang-format on */

#define NALLOWED (sizeof(allowed) / sizeof(allowed[0]))

#define NEVER 0

/* EPERM, unless the container keeps one of the capabilities in caps. */
static const struct refusal {
	const char *name;
	uint64_t caps;
} refused[] = {
	/* the kernel's keyrings are one for the whole machine */
	{ "add_key", NEVER },
	{ "keyctl", NEVER },
	{ "request_key", NEVER },
	/* the running kernel itself: its modules, a new kernel, reboot */
	{ "init_module", CAP_BIT(CAP_SYS_MODULE) },
	{ "finit_module", CAP_BIT(CAP_SYS_MODULE) },
	{ "delete_module", CAP_BIT(CAP_SYS_MODULE) },
	{ "kexec_load", NEVER },
	{ "kexec_file_load", NEVER },
	{ "reboot", CAP_BIT(CAP_SYS_BOOT) },
	/* the machine's memory: swap, NUMA placement */
	{ "swapon", NEVER },
	{ "swapoff", NEVER },
	{ "migrate_pages", NEVER },
	{ "move_pages", NEVER },
	{ "get_mempolicy", CAP_BIT(CAP_SYS_NICE) },
	{ "set_mempolicy", CAP_BIT(CAP_SYS_NICE) },
	{ "set_mempolicy_home_node", CAP_BIT(CAP_SYS_NICE) },
	{ "mbind", CAP_BIT(CAP_SYS_NICE) },
	/* large kernel interfaces, with a long record of exploits */
	{ "bpf", CAP_BIT(CAP_SYS_ADMIN) | CAP_BIT(CAP_BPF) },
	{ "perf_event_open", CAP_BIT(CAP_SYS_ADMIN) | CAP_BIT(CAP_PERFMON) },
	{ "userfaultfd", NEVER },
	{ "io_uring_setup", NEVER },
	{ "io_uring_enter", NEVER },
	{ "io_uring_register", NEVER },
	{ "fanotify_init", CAP_BIT(CAP_SYS_ADMIN) },
	{ "lookup_dcookie", CAP_BIT(CAP_SYS_ADMIN) },
	/* mounts and namespaces: the container's own are made already */
	{ "mount", CAP_BIT(CAP_SYS_ADMIN) },
	{ "umount", CAP_BIT(CAP_SYS_ADMIN) },
	{ "umount2", CAP_BIT(CAP_SYS_ADMIN) },
	{ "fsopen", CAP_BIT(CAP_SYS_ADMIN) },
	{ "fsconfig", CAP_BIT(CAP_SYS_ADMIN) },
	{ "fsmount", CAP_BIT(CAP_SYS_ADMIN) },
	{ "fspick", CAP_BIT(CAP_SYS_ADMIN) },
	{ "move_mount", CAP_BIT(CAP_SYS_ADMIN) },
	{ "open_tree", CAP_BIT(CAP_SYS_ADMIN) },
	{ "mount_setattr", CAP_BIT(CAP_SYS_ADMIN) },
	{ "pivot_root", NEVER },
	{ "unshare", CAP_BIT(CAP_SYS_ADMIN) },
	{ "setns", CAP_BIT(CAP_SYS_ADMIN) },
	{ "quotactl", CAP_BIT(CAP_SYS_ADMIN) },
	{ "quotactl_fd", CAP_BIT(CAP_SYS_ADMIN) },
	{ "sethostname", CAP_BIT(CAP_SYS_ADMIN) },
	{ "setdomainname", CAP_BIT(CAP_SYS_ADMIN) },
	{ "syslog", CAP_BIT(CAP_SYS_ADMIN) | CAP_BIT(CAP_SYSLOG) },
	/* the other capabilities docker's list asks for */
	{ "open_by_handle_at", CAP_BIT(CAP_DAC_READ_SEARCH) },
	{ "chroot", CAP_BIT(CAP_SYS_CHROOT) },
	{ "acct", CAP_BIT(CAP_SYS_PACCT) },
	{ "kcmp", CAP_BIT(CAP_SYS_PTRACE) },
	{ "pidfd_getfd", CAP_BIT(CAP_SYS_PTRACE) },
	{ "process_madvise", CAP_BIT(CAP_SYS_PTRACE) },
	{ "iopl", CAP_BIT(CAP_SYS_RAWIO) },
	{ "ioperm", CAP_BIT(CAP_SYS_RAWIO) },
	{ "settimeofday", CAP_BIT(CAP_SYS_TIME) },
	{ "stime", CAP_BIT(CAP_SYS_TIME) },
	{ "clock_settime", CAP_BIT(CAP_SYS_TIME) },
	{ "clock_settime64", CAP_BIT(CAP_SYS_TIME) },
	{ "vhangup", CAP_BIT(CAP_SYS_TTY_CONFIG) },
};

#define NREFUSED (sizeof(refused) / sizeof(refused[0]))

/* This architecture's number of a call, or -1 if it has no such call. */
static int number(const char *name)
{
	int nr = seccomp_syscall_resolve_name(name);

	return nr == __NR_SCMP_ERROR || nr < 0 ? -1 : nr;
}

/*
 * The calls allowed only with a safe first argument: a rule each, its
 * action taken when "arg0 OP A" holds (MASKED_EQ: arg0 & A == B).  With
 * CAP_SYS_ADMIN kept, clone and clone3 are allowed whatever their flags.
 */
#define EPERM_ SCMP_ACT_ERRNO(EPERM)
#define NS_FLAGS                                                                       \
	(CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | \
	 CLONE_NEWPID | CLONE_NEWNET)

static const struct condition {
	const char *name;
	uint32_t action;
	enum scmp_compare op;
	scmp_datum_t a, b;
} conditions[] = {
	/* clone without a namespace flag; with any, EPERM (clone3 passes its
	 * flags in memory, which a filter cannot read: it is left to the
	 * default, ENOSYS, and the C library falls back to clone) */
	{ "clone", SCMP_ACT_ALLOW, SCMP_CMP_MASKED_EQ, NS_FLAGS, 0 },
	{ "clone", EPERM_, SCMP_CMP_MASKED_EQ, CLONE_NEWNS, CLONE_NEWNS },
	{ "clone", EPERM_, SCMP_CMP_MASKED_EQ, CLONE_NEWCGROUP, CLONE_NEWCGROUP },
	{ "clone", EPERM_, SCMP_CMP_MASKED_EQ, CLONE_NEWUTS, CLONE_NEWUTS },
	{ "clone", EPERM_, SCMP_CMP_MASKED_EQ, CLONE_NEWIPC, CLONE_NEWIPC },
	{ "clone", EPERM_, SCMP_CMP_MASKED_EQ, CLONE_NEWUSER, CLONE_NEWUSER },
	{ "clone", EPERM_, SCMP_CMP_MASKED_EQ, CLONE_NEWPID, CLONE_NEWPID },
	{ "clone", EPERM_, SCMP_CMP_MASKED_EQ, CLONE_NEWNET, CLONE_NEWNET },
	/* every family but the kernel's crypto API (AF_ALG, 38) and the
	 * sockets to the host of a virtual machine (AF_VSOCK, 40) */
	{ "socket", SCMP_ACT_ALLOW, SCMP_CMP_LT, AF_ALG, 0 },
	{ "socket", SCMP_ACT_ALLOW, SCMP_CMP_EQ, AF_NFC, 0 },
	{ "socket", SCMP_ACT_ALLOW, SCMP_CMP_GT, AF_VSOCK, 0 },
	{ "socket", EPERM_, SCMP_CMP_EQ, AF_ALG, 0 },
	{ "socket", EPERM_, SCMP_CMP_EQ, AF_VSOCK, 0 },
	/* the common personas (and 0xffffffff, which only asks) */
	{ "personality", SCMP_ACT_ALLOW, SCMP_CMP_EQ, 0x0, 0 },
	{ "personality", SCMP_ACT_ALLOW, SCMP_CMP_EQ, 0x8, 0 },
	{ "personality", SCMP_ACT_ALLOW, SCMP_CMP_EQ, 0x20000, 0 },
	{ "personality", SCMP_ACT_ALLOW, SCMP_CMP_EQ, 0x20008, 0 },
	{ "personality", SCMP_ACT_ALLOW, SCMP_CMP_EQ, 0xffffffff, 0 },
};

#define NCONDITIONS (sizeof(conditions) / sizeof(conditions[0]))

/* The rules of conditions[]: 0, or a libseccomp error.  Counted as three allowed calls. */
static int add_conditional(scmp_filter_ctx ctx, uint64_t caps, struct filter_counts *n)
{
	const struct condition *c;
	int r = 0;

	for (c = conditions; r == 0 && c < conditions + NCONDITIONS; c++) {
		struct scmp_arg_cmp arg0 = { 0, c->op, c->a, c->b };

		if (strcmp(c->name, "clone") == 0 && (caps & CAP_BIT(CAP_SYS_ADMIN)))
			continue;
		r = seccomp_rule_add(ctx, c->action, number(c->name), 1, arg0);
	}
	if (r == 0 && (caps & CAP_BIT(CAP_SYS_ADMIN))) {
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 0);
		if (r == 0)
			r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone3), 0);
		n->allowed++; /* clone3 */
	}
	n->allowed += 3;
	return r;
}

/* The rules, into a libseccomp context: 0, or a libseccomp error. */
static int add_rules(scmp_filter_ctx ctx, uint64_t caps, struct filter_counts *n)
{
	size_t i;
	int r, nr;

	r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	for (i = 0; r == 0 && i < NALLOWED; i++) {
		if ((nr = number(allowed[i])) < 0)
			continue;
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
		n->allowed++;
	}
	for (i = 0; r == 0 && i < NREFUSED; i++) {
		if ((nr = number(refused[i].name)) < 0)
			continue;
		if (caps & refused[i].caps) {
			r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
			n->allowed++;
		} else {
			r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0);
			n->refused++;
		}
	}
	return r ?: add_conditional(ctx, caps, n);
}

/*
 * libseccomp writes the program it would load to a file: a memfd, read
 * back into memory.  The container loads it itself, with seccomp(2).
 */
static int export_program(scmp_filter_ctx ctx, struct sock_fprog *prog)
{
	int fd = memfd_create("boxlab-seccomp", MFD_CLOEXEC), r;
	off_t size;

	if (fd < 0)
		return -errno;
	r = seccomp_export_bpf(ctx, fd);
	if (r == 0 && ((size = lseek(fd, 0, SEEK_END)) <= 0 || size % sizeof(*prog->filter)))
		r = -EIO;
	if (r == 0 && !(prog->filter = malloc((size_t)size)))
		r = -ENOMEM;
	if (r == 0 && pread(fd, prog->filter, (size_t)size, 0) != size)
		r = -EIO;
	if (r == 0)
		prog->len = (unsigned short)((size_t)size / sizeof(*prog->filter));
	close(fd);
	return r;
}

int filter_build(uint64_t caps, struct filter *f)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(ENOSYS));
	int r, nr, total = 0;
	char *name;

	memset(f, 0, sizeof(*f));
	if (!ctx) {
		errno = ENOMEM;
		return -1;
	}
	r = add_rules(ctx, caps, &f->counts);
	r = r ?: export_program(ctx, &f->prog);
	seccomp_release(ctx);
	if (r < 0) {
		filter_free(f);
		errno = -r;
		return -1;
	}
	/* every call this architecture has, to count those left to ENOSYS */
	for (nr = 0; nr < 1024; nr++)
		if ((name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr)) != NULL) {
			total++;
			free(name);
		}
	f->counts.enosys = total - f->counts.allowed - f->counts.refused;
	return 0;
}

void filter_free(struct filter *f)
{
	free(f->prog.filter);
	f->prog.filter = NULL;
	f->prog.len = 0;
}
