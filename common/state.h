/*
 * state.h - what a runtime keeps on the host while its container runs,
 * and how the next run cleans up after one that was killed.
 *
 * A runtime killed with SIGKILL cannot undo anything: its cgroup, its
 * overlay's state dir and its claim on a /30 stay behind.  So before it
 * makes any of them, a runtime takes a lock on a file of its own,
 * RUN/ID, and writes there what it is about to make, one line each.  The
 * lock goes away with the runtime, however it dies.  The next runtime
 * sweeps: every file in RUN it can lock belonged to a dead one, and the
 * lines in it say what to remove.  From step 11 a file that says its
 * container "exited" is a record kept until rm, not a leftover.
 *
 * RUN is /run/boxlab/containers as root; rootless, it is
 * $XDG_RUNTIME_DIR/boxlab/containers, or /tmp/boxlab-UID/containers.
 */
#ifndef BOXLAB_STATE_H
#define BOXLAB_STATE_H

#include <sys/types.h>

#include "cgroup.h"
#include "cli.h"
#include "subnet.h"

/* RUN: where the lock files are (from step 11, with each container's log, RUN/ID.log). */
const char *state_run_dir(const struct config *c);

/* Where a container's own state dir goes: BOXLAB_STATE_DIR, or the default
 * (/var/lib/boxlab as root; rootless, beside RUN). */
const char *state_root(const struct config *c);

/* Take this container's lock file (RUN/ID); its descriptor, or -1 with errno. */
int state_lock(const struct config *c);

/*
 * Note in the lock file what is about to be made, before it is made: a
 * cgroup (as cgroup_create() is given it), a state dir, a claim on a /30.
 * 0, or -1 with errno.
 */
int state_note_cgroup(int lock, enum cgroup_layout layout, const char *root, const char *parent,
		      const char *name);
int state_note_dir(int lock, const char *dir);
int state_note_subnet(int lock, const char *dir, const struct subnet *s);

/* A line of the lock file, as the notes above write them; 0, or -1 with errno. */
int state_note(int lock, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Everything it noted is gone: drop the lock file. */
void state_unlock(const struct config *c, int lock);

/*
 * What the sweep did with one thing a dead runtime left: `what` says what
 * it was ("its cgroup boxlab/ID (cgroup v1)"); err is 0 if it is gone, or
 * why it was left.
 */
typedef void sweep_report(const char *id, const char *what, int err);

/* Remove what runtimes that died left behind, reporting each; -1 on a failure. */
int sweep_leftovers(const struct config *c, sweep_report *report);

/* rm -rf, for a state dir: its subdirs may have any mode. */
int remove_tree(const char *path);

#endif
