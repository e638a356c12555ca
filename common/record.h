/*
 * record.h - containers that outlive the command that started them
 * (step 11): what their runtime notes about them, and how ps, exec,
 * logs, stop, kill and rm find them again.
 *
 * A container's record is its runtime's lock file, RUN/ID (state.h), with
 * more lines: its name, image, command, restrictions, and its first
 * process as a pid and that process's start time.  A pid alone could be a
 * later process's by the time it is read; a pid and a start time name one
 * process only.  While the runtime lives it holds the lock: the container
 * runs.  When the container ends, the runtime writes "exited STATUS" and
 * lets go; the record stays, with the log RUN/ID.log, until rm.
 */
#ifndef BOXLAB_RECORD_H
#define BOXLAB_RECORD_H

#include <stdint.h>
#include <sys/types.h>

#include "cgroup.h"
#include "cli.h"

struct record {
	char id[16];
	char name[64]; /* --name, or "" */
	char image[256]; /* IMAGE or ROOTFS, as given */
	char command[512]; /* COMMAND [ARG...], joined by spaces */
	char user[128]; /* -u or the image's user, or "" for root */
	char workdir[1024]; /* -w or the image's, or "" */
	long long created, finished; /* seconds since 1970; finished: 0 until it ends */
	pid_t pid; /* its first process, on the host */
	unsigned long long start; /* that process's start time (/proc/PID/stat) */
	uint64_t caps; /* what container root keeps (step 10) */
	int no_new_privs, seccomp;
	struct cgroup cg; /* its cgroup; made is 0 if it has none */
	int running; /* its runtime holds the lock */
	int exited, status; /* its runtime saw it end, with this status */
};

/*
 * Claim --name for this container, in its lock file: -1 with EEXIST if
 * another record has it.  Records are read under RUN/.names, locked, so
 * that two runs cannot take one name.
 */
int record_claim_name(const struct config *c, int lock);

/* Note what exec needs to join and restrict like the first process; 0, or -1. */
int record_write(const struct config *c, int lock);

/* The container ended with status: keep what it was, and that. */
int record_finish(int lock, int status);

/* Find a container by id or name; -1 with ENOENT if no record has it. */
int record_find(const struct config *c, const char *id_or_name, struct record *r);

/* Every record, oldest first, in a malloc'd array; -1 on a failure. */
int record_list(const struct config *c, struct record **list, int *count);

/*
 * A pidfd for the container's first process, made sure to be the one
 * the record names: -1 with ESRCH if it has ended, its pid reused.
 */
int record_pidfd(const struct record *r);

/* Is its runtime still there?  Asked without waiting. */
int record_running(const struct config *c, const struct record *r);

/* Copy its log to stdout; follow: until its runtime ends.  0, or -1. */
int record_print_log(const struct config *c, const struct record *r, int follow);

/* A process's environment, NULL-terminated, each string malloc'd; NULL on a failure. */
char **process_environ(pid_t pid);

/* Wait until the container's runtime is done with it; 0, or -1. */
int record_wait(const struct config *c, const struct record *r);

/* Remove the record and the log of a container that ended; -1 with EBUSY if it runs. */
int record_remove(const struct config *c, const struct record *r);

/* RUN/ID.log: what the container of a detached run writes. */
const char *record_log(const struct config *c, const char *id);

/* A process's start time, in clock ticks after boot (field 22 of /proc/PID/stat); 0 if gone. */
unsigned long long process_start_time(pid_t pid);

#endif
