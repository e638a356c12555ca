/*
 * probe - a tiny static program the tests run inside containers.
 *
 * Each subcommand looks at one thing and prints one line: a value, "ok",
 * or the errno name of what failed.  It exits 0 whenever it could look,
 * so the checks read its answer instead of guessing from busybox's output;
 * 2 means it was called wrongly.  Static, so it needs nothing from ROOTFS.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/ipc.h>
#include <sys/socket.h>
#include <sys/mount.h>
#include <sys/msg.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

static int answer(int ok)
{
	if (ok)
		puts("ok");
	else
		puts(strerrorname_np(errno) ? strerrorname_np(errno) : "error");
	return 0;
}

/* The number of the calling process in its own PID namespace. */
static int cmd_pid(void)
{
	printf("%d\n", getpid());
	return 0;
}

/* Can we signal PID?  kill(pid, 0) checks without sending anything. */
static int cmd_kill0(const char *pid)
{
	return answer(kill(atoi(pid), 0) == 0);
}

/*
 * The classic way out of a chroot, for a process that may call chroot():
 * chroot into a subdirectory without entering it, so the working directory
 * is left outside the root; climb with ".." (nothing stops a directory
 * that is outside the root); make where we land the root.  Then read
 * FILE, a host path.
 */
static int cmd_escape(const char *file)
{
	char text[256];
	ssize_t n;
	int fd, i;

	if (chdir("/") < 0 || chroot("/tmp") < 0)
		return answer(0);
	for (i = 0; i < 64; i++)
		if (chdir("..") < 0)
			return answer(0);
	if (chroot(".") < 0)
		return answer(0);
	fd = open(file, O_RDONLY);
	if (fd < 0)
		return answer(0);
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n < 0)
		return answer(0);
	text[n] = '\0';
	printf("%s", text);
	return 0;
}

/* System V message queues, by key: make one (on the host), look, remove. */
static int cmd_msgq(const char *what, const char *key_text)
{
	key_t key = (key_t)strtol(key_text, NULL, 0);
	int id;

	if (strcmp(what, "make") == 0)
		return answer(msgget(key, IPC_CREAT | IPC_EXCL | 0600) >= 0);
	id = msgget(key, 0);
	if (strcmp(what, "get") == 0)
		return answer(id >= 0);
	if (id < 0)
		return answer(0);
	return answer(msgctl(id, IPC_RMID, NULL) == 0);
}

/* Seconds since boot, as this process's time namespace tells it. */
static int cmd_boottime(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_BOOTTIME, &ts) < 0)
		return answer(0);
	printf("%ld\n", (long)ts.tv_sec);
	return 0;
}

/* Mount a tmpfs named SOURCE on DIR: is it seen outside? */
static int cmd_mount_tmpfs(const char *dir, const char *source)
{
	return answer(mount(source, dir, "tmpfs", 0, "size=16k") == 0);
}

/* The processes /proc lists, in order; an error if there is no /proc. */
static int cmd_pids(void)
{
	struct dirent *d;
	const char *sep = "";
	DIR *dir;

	if (access("/proc/self", F_OK) < 0 || !(dir = opendir("/proc")))
		return answer(0);
	while ((d = readdir(dir))) {
		if (!isdigit((unsigned char)d->d_name[0]))
			continue;
		printf("%s%s", sep, d->d_name);
		sep = " ";
	}
	closedir(dir);
	putchar('\n');
	return 0;
}

/* What PATH is: "char 1:3", "block 8:0", "dir", "file", "link", "other". */
static int cmd_stat(const char *path)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return answer(0);
	if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))
		printf("%s %u:%u\n", S_ISCHR(st.st_mode) ? "char" : "block", major(st.st_rdev),
		       minor(st.st_rdev));
	else
		puts(S_ISDIR(st.st_mode)   ? "dir"
		     : S_ISREG(st.st_mode) ? "file"
		     : S_ISLNK(st.st_mode) ? "link"
					   : "other");
	return 0;
}

/* Could we write PATH?  Opens it for writing and writes nothing. */
static int cmd_open_write(const char *path)
{
	int fd = open(path, O_WRONLY);

	if (fd >= 0)
		close(fd);
	return answer(fd >= 0);
}

/* How many bytes reading PATH gives (a masked file gives 0). */
static int cmd_size(const char *path)
{
	char buf[4096];
	long total = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return answer(0);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		total += n;
	close(fd);
	printf("%ld\n", total);
	return 0;
}

/* Create a device node (1:3, what /dev/null is) at PATH, then remove it. */
static int cmd_mknod(const char *path)
{
	if (mknod(path, S_IFCHR | 0666, makedev(1, 3)) < 0)
		return answer(0);
	unlink(path);
	return answer(1);
}

/* Leave a child behind that sleeps for a while: does it outlive us? */
static int cmd_orphan(void)
{
	pid_t pid = fork();

	if (pid < 0)
		return answer(0);
	if (pid == 0) {
		sleep(30);
		_exit(0);
	}
	printf("%d\n", pid);
	return 0;
}

/* The network interfaces this namespace has, by name. */
static int cmd_ifaces(void)
{
	struct if_nameindex *list = if_nameindex(), *i;
	const char *sep = "";

	if (!list)
		return answer(0);
	for (i = list; i->if_index; i++) {
		printf("%s%s", sep, i->if_name);
		sep = " ";
	}
	putchar('\n');
	if_freenameindex(list);
	return 0;
}

static struct sockaddr_in ipv4(const char *addr, int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };

	inet_pton(AF_INET, addr, &sa.sin_addr);
	return sa;
}

/*
 * A TCP socket that talks only to directly connected hosts: a gateway is
 * never used.  Were a veth gone before a connection over it has closed,
 * its last packets would otherwise take the host's default route.
 */
static int tcp_socket(void)
{
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd >= 0 && setsockopt(fd, SOL_SOCKET, SO_DONTROUTE, &one, sizeof(one)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* A TCP socket listening on ADDR:PORT (port 0: any), or -1. */
static int listen_on(const char *addr, int port)
{
	struct sockaddr_in sa = ipv4(addr, port);
	int one = 1, fd = tcp_socket();

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 4) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Connect to ADDR:PORT: "ok" or why not. */
static int connect_to(const char *addr, int port)
{
	struct sockaddr_in sa = ipv4(addr, port);
	int fd = tcp_socket(), r;

	if (fd < 0)
		return -1;
	r = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	close(fd);
	return r;
}

static int cmd_connect(const char *addr, const char *port)
{
	return answer(connect_to(addr, atoi(port)) == 0);
}

/* One connection accepted on fd within 10 s, or -1 with errno. */
static int accept_within_10s(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	if (poll(&p, 1, 10000) != 1) {
		errno = ETIMEDOUT;
		return -1;
	}
	return accept(fd, NULL, NULL);
}

/* Accept one connection within 10 s, then print "ok" (or why not). */
static int accept_one(int fd)
{
	int conn = accept_within_10s(fd);

	if (conn >= 0)
		close(conn);
	return answer(conn >= 0);
}

/* Listen on ADDR:PORT, say "ready", and accept one connection. */
static int cmd_listen(const char *addr, const char *port)
{
	int fd = listen_on(addr, atoi(port));

	if (fd < 0)
		return answer(0);
	puts("ready");
	fflush(stdout);
	return accept_one(fd);
}

/*
 * Accept one connection on ADDR:PORT, and close it only once process PID
 * has ended (30 s at most).  When the peer closes first, this side's
 * kernel waits a while before it acknowledges the FIN, in case we answer:
 * the peer's socket outlives its process, until that ACK arrives.
 */
static int cmd_hold(const char *addr, const char *port, const char *pid)
{
	int fd = listen_on(addr, atoi(port)), conn, pidfd;
	struct pollfd p = { .events = POLLIN };

	if (fd < 0 || (conn = accept_within_10s(fd)) < 0)
		return answer(0);
	pidfd = (int)syscall(SYS_pidfd_open, atoi(pid), 0);
	if (pidfd < 0)
		return answer(0);
	p.fd = pidfd; /* readable when the process has ended */
	if (poll(&p, 1, 30000) != 1) {
		errno = ETIMEDOUT;
		return answer(0);
	}
	return answer(close(conn) == 0);
}

/* Does 127.0.0.1 work here?  A listener and a connect in one process. */
static int cmd_loopback(void)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd = listen_on("127.0.0.1", 0);

	if (fd < 0 || getsockname(fd, (struct sockaddr *)&sa, &len) < 0)
		return answer(0);
	return answer(connect_to("127.0.0.1", ntohs(sa.sin_port)) == 0);
}

/* eth0's IPv4 address, or NULL. */
static const char *eth0_address(void)
{
	static char text[INET_ADDRSTRLEN];
	struct ifaddrs *list, *i;
	const char *found = NULL;

	if (getifaddrs(&list) < 0)
		return NULL;
	for (i = list; i; i = i->ifa_next)
		if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET &&
		    strcmp(i->ifa_name, "eth0") == 0)
			found = inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr,
					  text, sizeof(text));
	freeifaddrs(list);
	return found;
}

/* Listen on eth0's PORT, say "ready ADDRESS", and accept one connection. */
static int cmd_serve(const char *port)
{
	const char *addr = eth0_address();
	int fd;

	if (!addr) {
		errno = ENODEV;
		return answer(0);
	}
	fd = listen_on(addr, atoi(port));
	if (fd < 0)
		return answer(0);
	printf("ready %s\n", addr);
	fflush(stdout);
	return accept_one(fd);
}

/* The default gateway from /proc/net/route, as a dotted address. */
static const char *default_gateway(void)
{
	static char text[INET_ADDRSTRLEN];
	char line[256], dest[16];
	unsigned int gw;
	FILE *f = fopen("/proc/net/route", "re");
	const char *found = NULL;

	if (!f)
		return NULL;
	while (!found && fgets(line, sizeof(line), f))
		if (sscanf(line, "%*s %15s %x", dest, &gw) == 2 && strcmp(dest, "00000000") == 0)
			found = inet_ntop(AF_INET, &gw, text, sizeof(text));
	fclose(f);
	return found;
}

/* Connect to the default gateway's PORT, trying for up to 5 s. */
static int cmd_connect_gateway(const char *port)
{
	const char *gw = default_gateway();
	int i;

	if (!gw) {
		errno = ENETUNREACH;
		return answer(0);
	}
	for (i = 0; i < 50; i++) {
		if (connect_to(gw, atoi(port)) == 0)
			return answer(1);
		usleep(100000);
	}
	return answer(0);
}

static int cmd_hostname(void)
{
	char name[256];

	if (gethostname(name, sizeof(name)) < 0)
		return answer(0);
	puts(name);
	return 0;
}

static int cmd_sethostname(const char *name)
{
	return answer(sethostname(name, strlen(name)) == 0);
}

/* Wait up to 10 s for the test to look, ending early on SIGTERM (as PID 1,
 * a signal without a handler would be ignored). */
static void on_term(int sig)
{
	(void)sig;
	_exit(0);
}

static void wait_for_the_test(void)
{
	signal(SIGTERM, on_term);
	puts("ready");
	fflush(stdout);
	sleep(10);
}

/* Touch MIB mebibytes, one at a time; under a lower limit, never returns. */
static int cmd_alloc(const char *mib_text)
{
	long i, mib = atol(mib_text);

	for (i = 0; i < mib; i++) {
		char *p = malloc(1 << 20);

		if (!p)
			return answer(0);
		memset(p, 1, 1 << 20);
	}
	printf("allocated %ld MiB\n", mib);
	return 0;
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Idle a second (the test reads the CPU time used so far), spin for
 * SECONDS of wall time, say "done", and idle again for the second reading. */
static int cmd_burn(const char *seconds_text)
{
	double end;
	volatile unsigned long spins = 0;

	signal(SIGTERM, on_term);
	puts("ready");
	fflush(stdout);
	sleep(1);
	end = now() + atof(seconds_text);
	while (now() < end)
		spins++;
	puts("done");
	fflush(stdout);
	sleep(10);
	return 0;
}

/* Fork children that wait, up to N of them: "PROCESSES ok" if all were
 * born (counting this one), or "PROCESSES ERRNO" where fork() stopped. */
static int cmd_forks(const char *n_text)
{
	long i, n = atol(n_text);
	pid_t pid;

	for (i = 0; i < n; i++) {
		pid = fork();
		if (pid < 0)
			break;
		if (pid == 0) {
			pause();
			_exit(0);
		}
	}
	printf("%ld %s\n", i + 1, i == n ? "ok" : strerrorname_np(errno));
	wait_for_the_test();
	return 0;
}

/* This process's cgroups, one "ID:CONTROLLERS:PATH" a word, then wait. */
static int cmd_cgroup(void)
{
	char line[512];
	FILE *f = fopen("/proc/self/cgroup", "re");

	if (!f)
		return answer(0);
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		printf("%s ", line);
	}
	fclose(f);
	putchar('\n');
	wait_for_the_test();
	return 0;
}

/*
 * The memory limit the container reads in its own /sys/fs/cgroup (v2's
 * memory.max, or v1's memory/memory.limit_in_bytes), whether writing
 * the same value back is refused (the errno name, or "written"), and how
 * many groups the tree shows below its root:
 * "limit BYTES write ERRNO groups N", or "limit none".
 */
static int cmd_cgroup_limit(void)
{
	static const char *const trees[] = { "/sys/fs/cgroup", "/sys/fs/cgroup/memory" };
	static const char *const files[] = { "memory.max", "memory.limit_in_bytes" };
	char path[256], value[64];
	const char *written = "written";
	struct dirent *e;
	int fd, groups = 0;
	ssize_t n = -1;
	size_t i;
	DIR *d;

	for (i = 0; i < 2 && n <= 0; i++) {
		snprintf(path, sizeof(path), "%s/%s", trees[i], files[i]);
		fd = open(path, O_RDONLY);
		n = fd < 0 ? -1 : read(fd, value, sizeof(value) - 1);
		if (fd >= 0)
			close(fd);
	}
	if (n <= 0) {
		puts("limit none");
		return 0;
	}
	value[n] = '\0';
	fd = open(path, O_WRONLY);
	if (fd < 0 || write(fd, value, (size_t)n) != n)
		written = strerrorname_np(errno);
	if (fd >= 0)
		close(fd);
	d = opendir(trees[i - 1]);
	while (d && (e = readdir(d)))
		groups += e->d_type == DT_DIR && e->d_name[0] != '.';
	if (d)
		closedir(d);
	value[strcspn(value, "\n")] = '\0';
	printf("limit %s write %s groups %d\n", value, written, groups);
	return 0;
}

/*
 * Make one system call a container's filter may refuse, with harmless
 * arguments, and print "ok" or its errno name: keyctl (the session
 * keyring's id), io_uring_setup (a ring of one entry), bpf (a command
 * that does not exist: EINVAL if the call gets through), userns (a new
 * user namespace), ustat (an obsolete call: EINVAL for device 0).
 */
static int cmd_call(const char *name)
{
	char buf[256] = "";
	long r;

	if (strcmp(name, "keyctl") == 0)
		r = syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3 /* session */, 0);
	else if (strcmp(name, "io_uring_setup") == 0)
		r = syscall(SYS_io_uring_setup, 1, buf);
	else if (strcmp(name, "bpf") == 0)
		r = syscall(SYS_bpf, -1, NULL, 0);
	else if (strcmp(name, "userns") == 0)
		r = unshare(CLONE_NEWUSER);
#ifdef SYS_ustat
	else if (strcmp(name, "ustat") == 0)
		r = syscall(SYS_ustat, 0, buf);
#endif
	else
		return 2;
	return answer(r >= 0);
}

/* Become UID (its group too, and no others), then run PROG: what su does. */
static int cmd_as(const char *uid_text, char **argv)
{
	unsigned id = (unsigned)atoi(uid_text);

	setgroups(0, NULL); /* refused in a user namespace that denies it: no matter */
	if (setresgid(id, id, id) < 0 || setresuid(id, id, id) < 0)
		return answer(0);
	execv(argv[0], argv);
	return answer(0);
}

static int usage(void)
{
	fputs("usage: probe pid | kill0 PID | escape FILE | msgq make|get|rm KEY\n"
	      "       | boottime | mount-tmpfs DIR SOURCE | pids | stat PATH\n"
	      "       | open-write PATH | size PATH | mknod PATH | orphan\n"
	      "       | hostname | sethostname NAME | ifaces | loopback\n"
	      "       | connect ADDR PORT | listen ADDR PORT | hold ADDR PORT PID\n"
	      "       | serve PORT | connect-gateway PORT | alloc MIB | burn SECONDS\n"
	      "       | forks N | cgroup | cgroup-limit\n"
	      "       | call keyctl|io_uring_setup|bpf|userns|ustat | as UID PROG [ARG...]\n",
	      stderr);
	return 2;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";

	if (strcmp(cmd, "pid") == 0 && argc == 2)
		return cmd_pid();
	if (strcmp(cmd, "kill0") == 0 && argc == 3)
		return cmd_kill0(argv[2]);
	if (strcmp(cmd, "escape") == 0 && argc == 3)
		return cmd_escape(argv[2]);
	if (strcmp(cmd, "msgq") == 0 && argc == 4)
		return cmd_msgq(argv[2], argv[3]);
	if (strcmp(cmd, "boottime") == 0 && argc == 2)
		return cmd_boottime();
	if (strcmp(cmd, "mount-tmpfs") == 0 && argc == 4)
		return cmd_mount_tmpfs(argv[2], argv[3]);
	if (strcmp(cmd, "pids") == 0 && argc == 2)
		return cmd_pids();
	if (strcmp(cmd, "stat") == 0 && argc == 3)
		return cmd_stat(argv[2]);
	if (strcmp(cmd, "open-write") == 0 && argc == 3)
		return cmd_open_write(argv[2]);
	if (strcmp(cmd, "size") == 0 && argc == 3)
		return cmd_size(argv[2]);
	if (strcmp(cmd, "mknod") == 0 && argc == 3)
		return cmd_mknod(argv[2]);
	if (strcmp(cmd, "orphan") == 0 && argc == 2)
		return cmd_orphan();
	if (strcmp(cmd, "ifaces") == 0 && argc == 2)
		return cmd_ifaces();
	if (strcmp(cmd, "connect") == 0 && argc == 4)
		return cmd_connect(argv[2], argv[3]);
	if (strcmp(cmd, "listen") == 0 && argc == 4)
		return cmd_listen(argv[2], argv[3]);
	if (strcmp(cmd, "hold") == 0 && argc == 5)
		return cmd_hold(argv[2], argv[3], argv[4]);
	if (strcmp(cmd, "loopback") == 0 && argc == 2)
		return cmd_loopback();
	if (strcmp(cmd, "serve") == 0 && argc == 3)
		return cmd_serve(argv[2]);
	if (strcmp(cmd, "connect-gateway") == 0 && argc == 3)
		return cmd_connect_gateway(argv[2]);
	if (strcmp(cmd, "hostname") == 0 && argc == 2)
		return cmd_hostname();
	if (strcmp(cmd, "sethostname") == 0 && argc == 3)
		return cmd_sethostname(argv[2]);
	if (strcmp(cmd, "alloc") == 0 && argc == 3)
		return cmd_alloc(argv[2]);
	if (strcmp(cmd, "burn") == 0 && argc == 3)
		return cmd_burn(argv[2]);
	if (strcmp(cmd, "forks") == 0 && argc == 3)
		return cmd_forks(argv[2]);
	if (strcmp(cmd, "cgroup") == 0 && argc == 2)
		return cmd_cgroup();
	if (strcmp(cmd, "cgroup-limit") == 0 && argc == 2)
		return cmd_cgroup_limit();
	if (strcmp(cmd, "call") == 0 && argc == 3 && cmd_call(argv[2]) != 2)
		return 0;
	if (strcmp(cmd, "as") == 0 && argc >= 4)
		return cmd_as(argv[2], &argv[3]);
	return usage();
}
