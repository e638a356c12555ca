/*
 * cli.h - the command line every step shares:
 *
 *	container run [OPTIONS] ROOTFS COMMAND [ARG...]
 *
 * and from step 09, which runs images, pull, images, image import and
 * image rm; from step 11, ps, exec, logs, stop, kill and rm.
 *
 * Options grow with the steps.  The table in cli.c knows every option of
 * every step, so a step given an option it does not have yet can say
 * which step brings it.
 */
#ifndef BOXLAB_CLI_H
#define BOXLAB_CLI_H

#include <stddef.h>
#include <stdint.h>

#include "cgroup.h"
#include "seccomp/filter.h"
#include "subnet.h"

#define MAX_LAYERS	 16 /* --layer, at most (step 08) */
#define MAX_IMAGE_LAYERS 100 /* an image's layers, at most (step 09; docker: 125) */
#define MAX_ENV		 64 /* -e, at most (step 09) */
#define MAX_CAP_ARGS	 16 /* --cap-add, --cap-drop, at most, each (step 10) */
#define MAX_ULIMITS	 16 /* --ulimit, at most (step 10) */

/* What the runtime is asked to do: only "run" before step 09. */
enum command {
	CMD_RUN,
	CMD_PULL, /* step 09: images */
	CMD_IMAGES,
	CMD_IMAGE_IMPORT,
	CMD_IMAGE_RM,
	CMD_PS, /* step 11: containers in the background */
	CMD_EXEC,
	CMD_LOGS,
	CMD_STOP,
	CMD_KILL,
	CMD_RM,
};

struct image_config; /* common/image/image.h (step 09) */

/* A resource limit, --ulimit NAME=SOFT:HARD (step 10). */
struct ulimit {
	int resource; /* RLIMIT_NOFILE, ... */
	const char *name; /* "nofile" */
	unsigned long long soft, hard; /* RLIM_INFINITY for unlimited */
};

/* Everything the runtime was asked to do: one struct, passed to each phase. */
struct config {
	int step; /* this program's step number, 1..11 */
	enum command command; /* run, or (step 09) what to do with images */
	char **args; /* the operands of a command other than run, NULL-terminated */
	char id[16]; /* a short random id: default hostname, names */
	const char *rootfs; /* the container's root: ROOTFS as given (step 08: its overlay) */
	const char *image; /* ROOTFS as given, for messages */
	char **argv; /* COMMAND [ARG...], NULL-terminated */
	int verbose; /* -v: narrate every kernel call; -v -v: with times */
	const char *hostname; /* --hostname, or NULL for the id (step 03) */
	long userns_base; /* --userns-base: host id of container root (step 05) */
	int sync[2]; /* the parent/child handshake (step 05) */
	int idmapped; /* an id-mapped copy of ROOTFS, detached: its fd, or -1 (step 05) */
	int rootless; /* run without root: only our own ids map (step 05) */
	int net_veth; /* --net veth, not none (step 06) */
	char host_link[16]; /* the host end of the veth: "bx" + id (step 06) */
	struct subnet subnet; /* the veth's two addresses (step 06) */
	long long memory; /* --memory in bytes, or 0 for no limit (step 07) */
	const char *memory_arg; /* --memory as given, "32M", for messages */
	long cpu_quota; /* --cpus as microseconds per CPU_PERIOD, or 0 */
	const char *cpus_arg; /* --cpus as given */
	long pids_limit; /* --pids-limit, or 0 for no limit */
	struct cgroup cg; /* the container's cgroup (step 07) */
	int state_lock; /* the lock that says this runtime is alive, or -1 */
	/* --layer DIRs, in the order given (step 08), after an image's own (step 09) */
	const char *layers[MAX_LAYERS + MAX_IMAGE_LAYERS];
	int nlayers;
	int keep; /* --keep: leave the state dir for a look */
	char state[4000]; /* the container's state dir (step 08) */
	char merged[4096]; /* the overlay, in it: the container's root */
	pid_t pid; /* the container's first process, until reaped */
	int from_image; /* IMAGE, not a ROOTFS directory (step 09) */
	const char *env[MAX_ENV]; /* -e K=V or K, in the order given (step 09) */
	int nenv;
	const char *workdir; /* -w, or NULL */
	const char *user; /* -u USER[:GROUP], or NULL */
	const char *entrypoint; /* --entrypoint, or NULL */
	const char *platform; /* pull --platform, or NULL for this machine's */
	const char *cert_dir; /* pull --cert-dir */
	const char *insecure_registry; /* pull --insecure-registry */
	char **envp; /* the command's environment, or NULL for the kit's own */
	struct image_config *image_config; /* the image's config, as open_image() read it */
	int store_lock; /* the store, locked while the image runs */
	char *image_layers[MAX_IMAGE_LAYERS]; /* its layers' dirs in the store, bottom first */
	int layer_fds[MAX_IMAGE_LAYERS]; /* their id-mapped copies, detached (as root) */
	int nimage_layers;
	const char *cap_add[MAX_CAP_ARGS]; /* --cap-add lists, as given (step 10) */
	int ncap_add;
	const char *cap_drop[MAX_CAP_ARGS]; /* --cap-drop lists */
	int ncap_drop;
	uint64_t caps; /* the capabilities container root keeps, from those */
	int no_new_privs; /* 1 unless --security-opt no-new-privileges=false */
	int seccomp; /* 1 unless --security-opt seccomp=unconfined */
	struct filter filter; /* the seccomp filter, built in the child */
	struct ulimit ulimits[MAX_ULIMITS]; /* --ulimit, in the order given */
	int nulimits;
	int detach; /* -d: run in the background (step 11) */
	const char *name; /* --name, or NULL */
	int all; /* ps -a */
	int follow; /* logs -f */
	int force; /* rm -f */
	long stop_timeout; /* stop -t, seconds */
	int signal; /* kill -s */
	int ready; /* -d: the pipe that tells the terminal the container started, or -1 */
	int status; /* how the container ended, once it has; -1 before */
	int pidfd; /* exec: the container's first process, or -1 */
};

/* --cpus N is a quota of N * CPU_PERIOD microseconds per period. */
#define CPU_PERIOD 100000

/* Container ids 0..65535 map to userns_base..userns_base+65535 (step 05). */
#define USERNS_SIZE	    65536
#define USERNS_BASE_DEFAULT 100000

/* The directory name of step N ("step03-uts-ipc"), or NULL. */
const char *step_name(int step);

/*
 * Parse argv for step `step` into c.  Pure: never prints, never exits.
 * Returns 0 when the container should run, 1 when help was asked for,
 * and -1 with one line in err (no program prefix) for a bad command line.
 */
int parse_args(struct config *c, int step, int argc, char **argv, char *err, size_t errlen);

/* The --help text for step `step`, written into buf. */
void usage_text(int step, char *buf, size_t size);

/*
 * What a step's main() calls: parse, print help or die with the message
 * and status 125, check that ROOTFS is a directory, pick the container id.
 */
void parse_command_line(struct config *c, int step, const char *prog, int argc, char **argv);

#endif
