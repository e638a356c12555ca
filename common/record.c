/*
 * record.c - the records of containers that run in the background
 * (step 11), read back for ps, exec, logs, stop, kill and rm.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "process.h"
#include "record.h"
#include "state.h"
#include "syscalls.h"

/* A value goes on one line: a newline in a command's words becomes a space. */
static void one_line(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src ? src : "");
	for (; *dst; dst++)
		if (*dst == '\n')
			*dst = ' ';
}

unsigned long long process_start_time(pid_t pid)
{
	char path[64], text[1024], *p;
	unsigned long long start = 0;
	ssize_t n;
	int fd, field;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	text[n] = '\0';
	/* The name, field 2, is in parentheses and may hold spaces: count after it. */
	p = strrchr(text, ')');
	for (field = 2; p && field < 22; field++)
		p = strchr(p + 1, ' ');
	if (p)
		start = strtoull(p + 1, NULL, 10);
	return start;
}

const char *record_log(const struct config *c, const char *id)
{
	static char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s.log", state_run_dir(c), id);
	return path;
}

/* Is the record's lock held, by a runtime still alive?  Asked without waiting. */
static int is_locked(int fd)
{
	if (flock(fd, LOCK_SH | LOCK_NB) < 0)
		return errno == EWOULDBLOCK;
	flock(fd, LOCK_UN);
	return 0;
}

/* RUN/ID into r; -1 with errno if it cannot be read. */
static int read_record(int dir, const char *id, struct record *r)
{
	char line[PATH_MAX + 64], rel[192];
	int fd, layout;
	FILE *f;

	memset(r, 0, sizeof(*r));
	r->cg.fd = -1;
	fd = openat(dir, id, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	snprintf(r->id, sizeof(r->id), "%s", id);
	r->running = is_locked(fd);
	f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		char *value = strchr(line, ' ');

		line[strcspn(line, "\n")] = '\0';
		if (!value)
			continue;
		*value++ = '\0';
		if (strcmp(line, "name") == 0)
			snprintf(r->name, sizeof(r->name), "%s", value);
		else if (strcmp(line, "image") == 0)
			snprintf(r->image, sizeof(r->image), "%s", value);
		else if (strcmp(line, "command") == 0)
			snprintf(r->command, sizeof(r->command), "%s", value);
		else if (strcmp(line, "user") == 0)
			snprintf(r->user, sizeof(r->user), "%s", value);
		else if (strcmp(line, "workdir") == 0)
			snprintf(r->workdir, sizeof(r->workdir), "%s", value);
		else if (strcmp(line, "created") == 0)
			r->created = atoll(value);
		else if (strcmp(line, "pid") == 0)
			sscanf(value, "%d %llu", &r->pid, &r->start);
		else if (strcmp(line, "caps") == 0)
			r->caps = strtoull(value, NULL, 0);
		else if (strcmp(line, "security") == 0)
			sscanf(value, "%d %d", &r->no_new_privs, &r->seccomp);
		else if (strcmp(line, "exited") == 0)
			r->exited = sscanf(value, "%d %lld", &r->status, &r->finished) >= 1;
		else if (strcmp(line, "cgroup") == 0 &&
			 sscanf(value, "%d %63s %191s", &layout, r->cg.root, rel) == 3) {
			r->cg.layout = layout;
			r->cg.made = 1;
			snprintf(r->cg.rel, sizeof(r->cg.rel), "%s", rel);
		}
	}
	fclose(f);
	return 0;
}

static int by_creation(const void *a, const void *b)
{
	const struct record *x = a, *y = b;

	return (x->created > y->created) - (x->created < y->created);
}

int record_list(const struct config *c, struct record **list, int *count)
{
	struct record *all = NULL, *more;
	struct dirent *e;
	int n = 0;
	DIR *d;

	*list = NULL;
	*count = 0;
	d = opendir(state_run_dir(c));
	if (!d)
		return errno == ENOENT ? 0 : -1;
	while ((e = readdir(d))) {
		/* RUN/.ID is still being made; RUN/ID.log is a log */
		if (strchr(e->d_name, '.'))
			continue;
		more = realloc(all, (size_t)(n + 1) * sizeof(*all));
		if (!more) {
			free(all);
			closedir(d);
			return -1;
		}
		all = more;
		if (read_record(dirfd(d), e->d_name, &all[n]) == 0)
			n++;
	}
	closedir(d);
	if (n > 1)
		qsort(all, (size_t)n, sizeof(*all), by_creation);
	*list = all;
	*count = n;
	return 0;
}

int record_find(const struct config *c, const char *id_or_name, struct record *r)
{
	struct record *list;
	int count, i, found = 0;

	if (record_list(c, &list, &count) < 0)
		return -1;
	for (i = 0; i < count && !found; i++)
		if (strcmp(list[i].id, id_or_name) == 0 || strcmp(list[i].name, id_or_name) == 0) {
			*r = list[i];
			found = 1;
		}
	free(list);
	if (!found)
		errno = ENOENT;
	return found ? 0 : -1;
}

int record_claim_name(const struct config *c, int lock)
{
	struct record other;
	int dir, status;

	if (!c->name)
		return 0;
	/* A lock on RUN itself: two runs with one --name take turns here. */
	dir = open(state_run_dir(c), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return -1;
	if (flock(dir, LOCK_EX) < 0) {
		close(dir);
		return -1;
	}
	if (record_find(c, c->name, &other) == 0 && strcmp(other.id, c->id) != 0) {
		errno = EEXIST;
		status = -1;
	} else {
		status = state_note(lock, "name %s", c->name);
	}
	close(dir);
	return status;
}

int record_write(const struct config *c, int lock)
{
	char command[512] = "", value[1024];
	char **a;

	for (a = c->argv; a && *a; a++)
		snprintf(command + strlen(command), sizeof(command) - strlen(command), "%s%s",
			 a == c->argv ? "" : " ", *a);
	one_line(value, sizeof(value), c->image);
	if (state_note(lock, "image %s", value) < 0)
		return -1;
	one_line(value, sizeof(value), command);
	if (state_note(lock, "command %s", value) < 0 ||
	    state_note(lock, "created %lld", (long long)time(NULL)) < 0 ||
	    state_note(lock, "pid %d %llu", c->pid, process_start_time(c->pid)) < 0 ||
	    state_note(lock, "caps %#" PRIx64, c->caps) < 0 ||
	    state_note(lock, "security %d %d", c->no_new_privs, c->seccomp) < 0)
		return -1;
	one_line(value, sizeof(value), c->user);
	if (value[0] && state_note(lock, "user %s", value) < 0)
		return -1;
	one_line(value, sizeof(value), c->workdir);
	if (value[0] && state_note(lock, "workdir %s", value) < 0)
		return -1;
	return 0;
}

int record_finish(int lock, int status)
{
	char text[8192], *line, *next;
	ssize_t n = pread(lock, text, sizeof(text) - 1, 0);

	if (n < 0)
		return -1;
	text[n] = '\0';
	if (ftruncate(lock, 0) < 0 || lseek(lock, 0, SEEK_SET) < 0)
		return -1;
	/* What it made is gone: keep only what it was. */
	for (line = text; *line; line = next) {
		next = line + strcspn(line, "\n");
		if (*next)
			*next++ = '\0';
		if (strncmp(line, "cgroup ", 7) == 0 || strncmp(line, "dir ", 4) == 0 ||
		    strncmp(line, "subnet ", 7) == 0)
			continue;
		if (state_note(lock, "%s", line) < 0)
			return -1;
	}
	return state_note(lock, "exited %d %lld", status, (long long)time(NULL));
}

int record_pidfd(const struct record *r)
{
	int fd;

	if (!r->running || r->pid <= 0) {
		errno = ESRCH;
		return -1;
	}
	fd = sys_pidfd_open(r->pid, 0);
	if (fd < 0)
		return -1;
	/* Taken first, then checked: if the start time matches now, fd is that process. */
	if (process_start_time(r->pid) != r->start) {
		close(fd);
		errno = ESRCH;
		return -1;
	}
	return fd;
}

static const char *record_path(const struct config *c, const char *id)
{
	static char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", state_run_dir(c), id);
	return path;
}

/* RUN/ID, open for a lock. */
static int open_record(const struct config *c, const struct record *r)
{
	return open(record_path(c, r->id), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
}

int record_running(const struct config *c, const struct record *r)
{
	int fd = open_record(c, r), running;

	if (fd < 0)
		return 0;
	running = is_locked(fd);
	close(fd);
	return running;
}

int record_print_log(const struct config *c, const struct record *r, int follow)
{
	char buf[65536];
	ssize_t n;
	int fd = open(record_log(c, r->id), O_RDONLY | O_CLOEXEC), running = follow;

	if (fd < 0)
		return -1;
	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n > 0) {
			if (write(STDOUT_FILENO, buf, (size_t)n) != n)
				break;
			continue;
		}
		if (n < 0 || !running)
			break;
		/* At the end of what it wrote so far: read once more after it ends. */
		running = record_running(c, r);
		if (running)
			usleep(100000);
	}
	close(fd);
	return n < 0 ? -1 : 0;
}

/* A process's environment, as it was given to execve(): NUL-separated strings. */
char **process_environ(pid_t pid)
{
	char path[64], *text = NULL, *p, **env;
	size_t size = 0, count = 0, i = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/environ", pid);
	f = fopen(path, "re");
	if (!f)
		return NULL;
	while (getdelim(&text, &size, '\0', f) > 0)
		count++;
	rewind(f);
	env = calloc(count + 1, sizeof(*env));
	while (env && i < count && (p = NULL, size = 0, getdelim(&p, &size, '\0', f) > 0))
		env[i++] = p;
	free(text);
	fclose(f);
	return env;
}

int record_wait(const struct config *c, const struct record *r)
{
	int fd = open_record(c, r);

	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	/* The runtime holds its lock until it has cleaned up and noted the end. */
	while (flock(fd, LOCK_SH) < 0)
		if (errno != EINTR) {
			close(fd);
			return -1;
		}
	close(fd);
	return 0;
}

int record_remove(const struct config *c, const struct record *r)
{
	int fd = open_record(c, r);

	if (fd < 0)
		return -1;
	/* Its runtime never takes the lock again: only a reader may hold it, briefly. */
	if (r->running || flock(fd, LOCK_EX) < 0) {
		close(fd);
		errno = r->running ? EBUSY : errno;
		return -1;
	}
	/* Unlinked while locked, so no sweep or second rm reads it meanwhile. */
	if ((unlink(record_log(c, r->id)) < 0 && errno != ENOENT) ||
	    unlink(record_path(c, r->id)) < 0) {
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}
