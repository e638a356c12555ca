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
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mount.h>
#include <sys/msg.h>
#include <sys/stat.h>
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
		printf("%s %u:%u\n", S_ISCHR(st.st_mode) ? "char" : "block",
		       major(st.st_rdev), minor(st.st_rdev));
	else
		puts(S_ISDIR(st.st_mode) ? "dir" : S_ISREG(st.st_mode) ? "file" :
		     S_ISLNK(st.st_mode) ? "link" : "other");
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

static int usage(void)
{
	fputs("usage: probe pid | kill0 PID | escape FILE | msgq make|get|rm KEY\n"
	      "       | boottime | mount-tmpfs DIR SOURCE | pids | stat PATH\n"
	      "       | open-write PATH | size PATH | mknod PATH | orphan\n"
	      "       | hostname | sethostname NAME\n",
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
	if (strcmp(cmd, "hostname") == 0 && argc == 2)
		return cmd_hostname();
	if (strcmp(cmd, "sethostname") == 0 && argc == 3)
		return cmd_sethostname(argv[2]);
	return usage();
}
