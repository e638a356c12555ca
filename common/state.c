/*
 * state.c - lock files that outlive a killed runtime, and the sweep.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup.h"
#include "process.h"
#include "state.h"
#include "subnet.h"

/* $XDG_RUNTIME_DIR/boxlab, or /tmp/boxlab-UID: a rootless runtime's own. */
static const char *rootless_base(void)
{
	static char base[PATH_MAX];
	const char *xdg = getenv("XDG_RUNTIME_DIR");

	if (xdg && *xdg)
		snprintf(base, sizeof(base), "%s/boxlab", xdg);
	else
		snprintf(base, sizeof(base), "/tmp/boxlab-%d", geteuid());
	return base;
}

const char *state_run_dir(const struct config *c)
{
	static char dir[PATH_MAX];

	if (!c->rootless)
		return "/run/boxlab/containers";
	snprintf(dir, sizeof(dir), "%s/containers", rootless_base());
	return dir;
}

const char *state_root(const struct config *c)
{
	const char *dir = getenv("BOXLAB_STATE_DIR");

	if (dir && *dir)
		return dir;
	return c->rootless ? rootless_base() : "/var/lib/boxlab";
}

/* RUN/ID, or RUN/.ID while it is being made (a sweep skips names with a dot). */
static const char *lock_path(const struct config *c, const char *prefix)
{
	static char path[2][PATH_MAX + 32];
	char *p = path[*prefix != '\0'];

	snprintf(p, sizeof(path[0]), "%s/%s%s", state_run_dir(c), prefix, c->id);
	return p;
}

int state_note(int lock, const char *fmt, ...)
{
	char line[PATH_MAX + 64];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line) - 1) {
		errno = ENAMETOOLONG;
		return -1;
	}
	line[n++] = '\n';
	return write(lock, line, (size_t)n) == n ? 0 : -1;
}

int state_lock(const struct config *c)
{
	int fd, saved;

	if (make_dirs(state_run_dir(c), 0700) < 0)
		return -1;
	/* Locked before it has its name: no sweep may ever take it for dead. */
	fd = open(lock_path(c, "."), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -1;
	if (flock(fd, LOCK_EX | LOCK_NB) == 0 && state_note(fd, "runtime %d", getpid()) == 0 &&
	    rename(lock_path(c, "."), lock_path(c, "")) == 0)
		return fd;
	saved = errno;
	unlink(lock_path(c, "."));
	close(fd);
	errno = saved;
	return -1;
}

int state_note_cgroup(int lock, enum cgroup_layout layout, const char *root, const char *parent,
		      const char *name)
{
	return state_note(lock, "cgroup %d %s %s/%s", layout, root, parent, name);
}

int state_note_dir(int lock, const char *dir)
{
	return state_note(lock, "dir %s", dir);
}

int state_note_subnet(int lock, const char *dir, const struct subnet *s)
{
	return state_note(lock, "subnet %s %d", dir, s->index);
}

void state_unlock(const struct config *c, int lock)
{
	if (lock < 0)
		return;
	unlink(lock_path(c, ""));
	close(lock);
}

/* Make a directory we own searchable and writable, to empty it. */
static int open_for_removal(int parent, const char *name)
{
	int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0 && errno == EACCES && fchmodat(parent, name, 0700, 0) == 0)
		fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	return fd;
}

static int remove_at(int parent, const char *name)
{
	struct dirent *e;
	DIR *d;
	int fd, status = 0;

	/* ENOTDIR: a part of the path is not a directory, so it was never made. */
	if (unlinkat(parent, name, 0) == 0 || errno == ENOENT || errno == ENOTDIR)
		return 0;
	if (errno != EISDIR)
		return -1;
	/* An empty directory goes at once; only a full one is opened. */
	if (unlinkat(parent, name, AT_REMOVEDIR) == 0)
		return 0;
	fd = open_for_removal(parent, name);
	if (fd < 0)
		return -1;
	fchmod(fd, 0700);
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -1;
	}
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0 &&
		    remove_at(dirfd(d), e->d_name) < 0)
			status = -1;
	closedir(d);
	if (unlinkat(parent, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		return -1;
	return status;
}

int remove_tree(const char *path)
{
	return remove_at(AT_FDCWD, path);
}

/*
 * Lines that say what the container is, not what it made: "runtime PID",
 * and from step 11 its record (common/record.c).  Nothing to remove.
 */
static int is_fact(const char *word)
{
	/* clang-format off */
	static const char *const facts[] = {
		"runtime", "name", "image", "command", "created", "pid",
		"caps", "security", "user", "workdir", "exited",
	};
	/* clang-format on */
	size_t i;

	for (i = 0; i < sizeof(facts) / sizeof(facts[0]); i++)
		if (strcmp(word, facts[i]) == 0)
			return 1;
	return 0;
}

/* Remove one thing a dead runtime noted, and report it, or why not. */
static int sweep_line(const char *id, char *line, pid_t runtime, sweep_report *report)
{
	char what[16], a[PATH_MAX + 64], b[PATH_MAX];
	struct cgroup cg = { .fd = -1, .made = 1 };
	struct subnet s;
	int layout, index, status = 0;

	if (sscanf(line, "%15s", what) != 1 || is_fact(what))
		return 0;
	if (sscanf(line, "cgroup %d %63s %191s", &layout, cg.root, cg.rel) == 3) {
		cg.layout = layout;
		status = cgroup_remove(&cg);
		snprintf(a, sizeof(a), "its cgroup %s (%s)", cg.rel, cgroup_layout_name(cg.layout));
	} else if (sscanf(line, "dir %4095s", b) == 1) {
		status = remove_tree(b);
		snprintf(a, sizeof(a), "its state dir %s", b);
	} else if (sscanf(line, "subnet %4095s %d", b, &index) == 2 &&
		   subnet_from_index(index, &s) == 0) {
		s.owner = runtime;
		status = subnet_release(b, &s);
		snprintf(a, sizeof(a), "its claim on %s/30", s.host);
	} else {
		snprintf(a, sizeof(a), "a note this runtime cannot read (\"%.200s\")", line);
		errno = EBADMSG;
		status = -1;
	}
	report(id, a, status < 0 ? errno : 0);
	return status;
}

/*
 * Step 11: a container that ended is kept until rm, its record saying
 * "exited".  Read before any lock is tried, so that ps never sees a
 * sweep's lock and takes the container for running.
 */
static int is_kept_record(int fd)
{
	char text[8192];
	ssize_t n = pread(fd, text, sizeof(text) - 1, 0);

	if (n <= 0)
		return 0;
	text[n] = '\0';
	return strstr(text, "\nexited ") != NULL;
}

/* A lock file we can lock belongs to a dead runtime: undo what it noted. */
static int sweep_one(int dir, const char *id, sweep_report *report)
{
	char line[PATH_MAX + 64];
	pid_t runtime = 0;
	int fd, status = 0;
	FILE *f;

	fd = openat(dir, id, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	if (is_kept_record(fd) || flock(fd, LOCK_EX | LOCK_NB) < 0) {
		close(fd);
		return 0; /* kept, or alive */
	}
	f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (sscanf(line, "runtime %d", &runtime) == 1)
			continue;
		if (sweep_line(id, line, runtime, report) < 0)
			status = -1;
	}
	/* Unlinked while still locked, so no other sweeper reads it twice. */
	if (status == 0) {
		snprintf(line, sizeof(line), "%s.log", id);
		if (unlinkat(dir, line, 0) == 0)
			report(id, "its log", 0);
		unlinkat(dir, id, 0);
	}
	fclose(f);
	return status;
}

int sweep_leftovers(const struct config *c, sweep_report *report)
{
	struct dirent *e;
	int status = 0;
	DIR *d = opendir(state_run_dir(c));

	if (!d)
		return errno == ENOENT ? 0 : -1;
	while ((e = readdir(d)))
		if (!strchr(e->d_name, '.') && sweep_one(dirfd(d), e->d_name, report) < 0)
			status = -1;
	closedir(d);
	return status;
}
