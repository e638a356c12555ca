/*
 * cli.c - parsing the command line of every step.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/magic.h>
#include <unistd.h>

#include "caps.h"
#include "cli.h"
#include "kcall.h"
#include "parse.h"

/* clang-format off */
static const char *const steps[] = {
	[1] = "step01-chroot",
	[2] = "step02-pid-ns",
	[3] = "step03-uts-ipc",
	[4] = "step04-mount-ns",
	[5] = "step05-user-ns",
	[6] = "step06-net-ns",
	[7] = "step07-cgroups",
	[8] = "step08-overlay",
	[9] = "step09-image",
	[10] = "step10-harden",
	[11] = "step11-exec",
};
/* clang-format on */

#define NSTEPS ((int)(sizeof(steps) / sizeof(steps[0])) - 1)

/* Every option of every step, with the step that brings it. */
struct option_info {
	const char *name; /* long name, without "--" */
	char letter; /* short name, or 0 */
	int step; /* the first step that has it */
	const char *arg; /* its value's name, or NULL for a flag */
	const char *help;
	unsigned commands; /* the commands that have it: ONLY(CMD_RUN), ... */
};

#define ONLY(command) (1U << (command))
#define RUN_EXEC      (ONLY(CMD_RUN) | ONLY(CMD_EXEC)) /* exec takes run's -e, -w and -u */
#define ALL_COMMANDS  (~0U)

/* clang-format off */
static const struct option_info options[] = {
	{ "verbose", 'v', 1, NULL, "narrate every kernel call on stderr (twice: timed)", ALL_COMMANDS },
	{ "help", 'h', 1, NULL, "show this help", ALL_COMMANDS },
	{ "hostname", 0, 3, "NAME", "the container's host name (default: its id)", ONLY(CMD_RUN) },
	{ "userns-base", 0, 5, "UID", "host uid/gid of container root, as root (default 100000)", ONLY(CMD_RUN) },
	{ "net", 0, 6, "MODE", "none (loopback only, the default) or veth", ONLY(CMD_RUN) },
	{ "memory", 0, 7, "SIZE", "memory limit, like 64M (swap off)", ONLY(CMD_RUN) },
	{ "cpus", 0, 7, "N", "CPU limit in CPUs, like 0.5", ONLY(CMD_RUN) },
	{ "pids-limit", 0, 7, "N", "most processes the container may have", ONLY(CMD_RUN) },
	{ "layer", 0, 8, "DIR", "a read-only layer over ROOTFS (repeatable)", ONLY(CMD_RUN) },
	{ "keep", 0, 8, NULL, "keep the overlay's upper dir after the run", ONLY(CMD_RUN) },
	{ "env", 'e', 9, "K=V", "set K in the command's environment (repeatable; K alone: the host's)", RUN_EXEC },
	{ "workdir", 'w', 9, "DIR", "the command's working directory (default: the image's, or /)", RUN_EXEC },
	{ "user", 'u', 9, "USER", "run as USER[:GROUP], a name or id of the image's (default: the image's)", RUN_EXEC },
	{ "entrypoint", 0, 9, "CMD", "run CMD instead of the image's Entrypoint (and no Cmd)", ONLY(CMD_RUN) },
	{ "platform", 0, 9, "OS/ARCH", "pull the image for OS/ARCH, like linux/arm64 (default: this machine's)", ONLY(CMD_PULL) },
	{ "cert-dir", 0, 9, "DIR", "trust the registry's certificate authority in DIR/ca.crt", ONLY(CMD_PULL) },
	{ "insecure-registry", 0, 9, "HOST", "speak plain HTTP to registry HOST[:PORT]", ONLY(CMD_PULL) },
	{ "cap-add", 0, 10, "CAPS", "give container root more capabilities, like NET_ADMIN (repeatable; ALL)", ONLY(CMD_RUN) },
	{ "cap-drop", 0, 10, "CAPS", "take capabilities from its default 14, like NET_RAW (repeatable; ALL)", ONLY(CMD_RUN) },
	{ "security-opt", 0, 10, "OPT", "no-new-privileges=false or seccomp=unconfined: turn one off", ONLY(CMD_RUN) },
	{ "ulimit", 0, 10, "LIMIT", "a resource limit, NAME=SOFT[:HARD] (default: nofile=1024:524288)", ONLY(CMD_RUN) },
	{ "detach", 'd', 11, NULL, "run in the background: print the container's id and return", ONLY(CMD_RUN) },
	{ "name", 0, 11, "NAME", "name the container, for exec, logs, stop, kill and rm", ONLY(CMD_RUN) },
	{ "all", 'a', 11, NULL, "list every container, not only the running ones", ONLY(CMD_PS) },
	{ "follow", 'f', 11, NULL, "go on printing what the container writes, until it ends", ONLY(CMD_LOGS) },
	{ "time", 't', 11, "SECONDS", "how long SIGTERM has before SIGKILL (default 10)", ONLY(CMD_STOP) },
	{ "signal", 's', 11, "SIGNAL", "the signal to send, a name or a number (default KILL)", ONLY(CMD_KILL) },
	{ "force", 'f', 11, NULL, "kill a running container first", ONLY(CMD_RM) },
};
/* clang-format on */

#define NOPTIONS (sizeof(options) / sizeof(options[0]))

const char *step_name(int step)
{
	return step >= 1 && step <= NSTEPS ? steps[step] : NULL;
}

static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* Does WORD name option o: "--name", "--name=value" or "-x"? */
static int names_option(const struct option_info *o, const char *word, const char **value)
{
	size_t n = strlen(o->name);

	*value = NULL;
	if (word[1] != '-')
		return o->letter && word[1] == o->letter && word[2] == '\0';
	if (strncmp(word + 2, o->name, n) != 0)
		return 0;
	if (word[2 + n] == '=')
		*value = word + 3 + n;
	return word[2 + n] == '\0' || word[2 + n] == '=';
}

/*
 * Find WORD in the table, the command's own option first: -f is logs'
 * --follow and rm's --force.
 */
static const struct option_info *find_option(const char *word, enum command command,
					     const char **value)
{
	const struct option_info *any = NULL;
	size_t i;

	for (i = 0; i < NOPTIONS; i++) {
		if (!names_option(&options[i], word, value))
			continue;
		if (options[i].commands & ONLY(command))
			return &options[i];
		if (!any)
			any = &options[i];
	}
	if (any)
		names_option(any, word, value);
	return any;
}

/* The fewest bytes --memory takes; the most processes --pids-limit does
 * (the kernel's own ceiling, PID_MAX_LIMIT on 64-bit). */
#define MEMORY_MIN (4LL << 20)
#define PIDS_MAX   4194304

/* --cpus can give at most every CPU this machine has. */
static long online_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n > 0 ? n : 1;
}

/*
 * --security-opt, as docker spells it: "no-new-privileges" (alone, or
 * =true or =false) and "seccomp=unconfined".  docker's others name
 * profiles and labels of AppArmor and SELinux, which boxlab leaves to
 * the host.
 */
static int set_security_opt(struct config *c, const char *value, char *err, size_t errlen)
{
	if (strcmp(value, "no-new-privileges") == 0 ||
	    strcmp(value, "no-new-privileges=true") == 0) {
		c->no_new_privs = 1;
	} else if (strcmp(value, "no-new-privileges=false") == 0) {
		c->no_new_privs = 0;
	} else if (strcmp(value, "seccomp=unconfined") == 0) {
		c->seccomp = 0;
	} else if (strncmp(value, "seccomp=", 8) == 0) {
		return fail(
			err, errlen,
			"--security-opt \"%s\": boxlab has one seccomp filter, built in: seccomp=unconfined turns it off; it reads no profile files",
			value);
	} else {
		return fail(
			err, errlen,
			"--security-opt \"%s\": use no-new-privileges=false or seccomp=unconfined (AppArmor and SELinux options are the host's business, not boxlab's)",
			value);
	}
	return 0;
}

/* The limits --ulimit knows, by docker's names (setrlimit(2)). */
static const struct {
	const char *name;
	int resource;
} limits[] = {
	{ "core", RLIMIT_CORE },	 { "cpu", RLIMIT_CPU },
	{ "data", RLIMIT_DATA },	 { "fsize", RLIMIT_FSIZE },
	{ "locks", RLIMIT_LOCKS },	 { "memlock", RLIMIT_MEMLOCK },
	{ "msgqueue", RLIMIT_MSGQUEUE }, { "nice", RLIMIT_NICE },
	{ "nofile", RLIMIT_NOFILE },	 { "nproc", RLIMIT_NPROC },
	{ "rss", RLIMIT_RSS },		 { "rtprio", RLIMIT_RTPRIO },
	{ "rttime", RLIMIT_RTTIME },	 { "sigpending", RLIMIT_SIGPENDING },
	{ "stack", RLIMIT_STACK },
};

/* --ulimit NAME=SOFT[:HARD], as docker spells it; a later one for the same NAME wins. */
static int add_ulimit(struct config *c, const char *value, char *err, size_t errlen)
{
	const char *eq = strchr(value, '='), *colon;
	char soft[32];
	struct ulimit u = { -1, NULL, 0, 0 };
	size_t i;
	int n;

	for (i = 0; eq && i < sizeof(limits) / sizeof(limits[0]); i++)
		if (strlen(limits[i].name) == (size_t)(eq - value) &&
		    strncmp(value, limits[i].name, (size_t)(eq - value)) == 0)
			u = (struct ulimit){ limits[i].resource, limits[i].name, 0, 0 };
	if (u.resource < 0)
		return fail(
			err, errlen,
			"--ulimit \"%s\": use NAME=SOFT[:HARD], NAME one of core, cpu, data, fsize, locks, memlock, msgqueue, nice, nofile, nproc, rss, rtprio, rttime, sigpending, stack",
			value);
	colon = strchr(eq + 1, ':');
	snprintf(soft, sizeof(soft), "%.*s", colon ? (int)(colon - eq - 1) : 31, eq + 1);
	if (parse_rlimit(soft, &u.soft) < 0 || parse_rlimit(colon ? colon + 1 : soft, &u.hard) < 0)
		return fail(
			err, errlen,
			"--ulimit \"%s\": SOFT and HARD are whole numbers, or -1 for unlimited, like nofile=1024:4096",
			value);
	if (u.soft > u.hard)
		return fail(
			err, errlen,
			"--ulimit \"%s\": the soft limit is above the hard one: a process may raise its soft limit up to the hard one, never past it",
			value);
	for (n = 0; n < c->nulimits && c->ulimits[n].resource != u.resource; n++)
		;
	if (n == MAX_ULIMITS)
		return fail(err, errlen, "--ulimit \"%s\": at most %d", value, MAX_ULIMITS);
	c->ulimits[n] = u;
	if (n == c->nulimits)
		c->nulimits++;
	return 0;
}

/* Store the value of an option this step has. */
static int set_option(struct config *c, const struct option_info *o, const char *value, char *err,
		      size_t errlen)
{
	if (strcmp(o->name, "verbose") == 0) {
		c->verbose++;
	} else if (strcmp(o->name, "hostname") == 0) {
		if (!valid_hostname(value))
			return fail(
				err, errlen,
				"--hostname \"%s\": use 1 to 64 letters, digits, dots and dashes",
				value);
		c->hostname = value;
	} else if (strcmp(o->name, "net") == 0) {
		if (strcmp(value, "none") != 0 && strcmp(value, "veth") != 0)
			return fail(err, errlen,
				    "--net \"%s\": unknown mode: use none (loopback only) or veth",
				    value);
		c->net_veth = strcmp(value, "veth") == 0;
	} else if (strcmp(o->name, "memory") == 0) {
		c->memory = parse_size(value);
		if (c->memory < 0)
			return fail(
				err, errlen,
				"--memory \"%s\": not a size: use a number with K, M or G, like 64M",
				value);
		if (c->memory < MEMORY_MIN)
			return fail(
				err, errlen,
				"--memory \"%s\": too small: use at least 4M (less cannot start a shell)",
				value);
		c->memory_arg = value;
	} else if (strcmp(o->name, "cpus") == 0) {
		c->cpu_quota = parse_cpus(value, CPU_PERIOD, online_cpus());
		if (c->cpu_quota < 0)
			return fail(
				err, errlen,
				"--cpus \"%s\": use a number of CPUs from 0.01 to %ld (this machine's), like 0.5",
				value, online_cpus());
		c->cpus_arg = value;
	} else if (strcmp(o->name, "pids-limit") == 0) {
		c->pids_limit = parse_count(value, PIDS_MAX);
		if (c->pids_limit < 0)
			return fail(err, errlen,
				    "--pids-limit \"%s\": use a whole number from 1 to %d", value,
				    PIDS_MAX);
	} else if (strcmp(o->name, "layer") == 0) {
		if (c->nlayers == MAX_LAYERS)
			return fail(err, errlen, "--layer \"%s\": at most %d layers", value,
				    MAX_LAYERS);
		c->layers[c->nlayers++] = value;
	} else if (strcmp(o->name, "keep") == 0) {
		c->keep = 1;
	} else if (strcmp(o->name, "env") == 0) {
		if (!*value || *value == '=')
			return fail(err, errlen, "--env \"%s\": use K=V, or K for the host's value",
				    value);
		if (c->nenv == MAX_ENV)
			return fail(err, errlen, "--env \"%s\": at most %d", value, MAX_ENV);
		c->env[c->nenv++] = value;
	} else if (strcmp(o->name, "workdir") == 0) {
		if (value[0] != '/')
			return fail(
				err, errlen,
				"--workdir \"%s\": the working directory must be an absolute path",
				value);
		c->workdir = value;
	} else if (strcmp(o->name, "user") == 0) {
		c->user = value;
	} else if (strcmp(o->name, "entrypoint") == 0) {
		c->entrypoint = value;
	} else if (strcmp(o->name, "platform") == 0) {
		if (strncmp(value, "linux/", 6) != 0 || !value[6])
			return fail(err, errlen,
				    "--platform \"%s\": use linux/ARCH[/VARIANT], like linux/arm64",
				    value);
		c->platform = value;
	} else if (strcmp(o->name, "cert-dir") == 0) {
		c->cert_dir = value;
	} else if (strcmp(o->name, "insecure-registry") == 0) {
		c->insecure_registry = value;
	} else if (strcmp(o->name, "cap-add") == 0 || strcmp(o->name, "cap-drop") == 0) {
		const char **list = o->name[4] == 'a' ? c->cap_add : c->cap_drop;
		int *n = o->name[4] == 'a' ? &c->ncap_add : &c->ncap_drop;

		if (*n == MAX_CAP_ARGS)
			return fail(err, errlen, "--%s \"%s\": at most %d, each a list", o->name,
				    value, MAX_CAP_ARGS);
		list[(*n)++] = value;
	} else if (strcmp(o->name, "security-opt") == 0) {
		return set_security_opt(c, value, err, errlen);
	} else if (strcmp(o->name, "ulimit") == 0) {
		return add_ulimit(c, value, err, errlen);
	} else if (strcmp(o->name, "detach") == 0) {
		c->detach = 1;
	} else if (strcmp(o->name, "name") == 0) {
		if (!valid_name(value))
			return fail(
				err, errlen,
				"--name \"%s\": use 1 to 63 letters, digits, '_', '.' and '-', a letter or digit first",
				value);
		c->name = value;
	} else if (strcmp(o->name, "all") == 0) {
		c->all = 1;
	} else if (strcmp(o->name, "follow") == 0) {
		c->follow = 1;
	} else if (strcmp(o->name, "force") == 0) {
		c->force = 1;
	} else if (strcmp(o->name, "time") == 0) {
		c->stop_timeout = parse_count(value, 86400);
		if (c->stop_timeout < 0 && strcmp(value, "0") == 0)
			c->stop_timeout = 0;
		if (c->stop_timeout < 0)
			return fail(err, errlen,
				    "--time \"%s\": use a whole number of seconds from 0 to 86400",
				    value);
	} else if (strcmp(o->name, "signal") == 0) {
		c->signal = parse_signal(value);
		if (c->signal < 0)
			return fail(
				err, errlen,
				"--signal \"%s\": not a signal: use a name like TERM, HUP or SIGUSR1, or a number from 1 to %d",
				value, SIGRTMAX);
	} else if (strcmp(o->name, "userns-base") == 0) {
		/* The largest id is 2^32 - 2: (uid_t)-1 means "no id" to the kernel. */
		c->userns_base = parse_count(value, 4294967294L - USERNS_SIZE + 1);
		if (c->userns_base < 0)
			return fail(
				err, errlen,
				"--userns-base \"%s\": cannot be mapped: use a host id from 1 to %ld, so that all %d container ids fit below 4294967295",
				value, 4294967294L - USERNS_SIZE + 1, USERNS_SIZE);
	}
	return 0;
}

/*
 * The commands, as docker names them: run; from step 09 the images'; from
 * step 11 those of containers that run in the background.
 */
static const struct {
	const char *word, *sub; /* "image import": "image", "import" */
	enum command command;
	int step; /* the first step that has it */
	int min, max; /* operands; max -1: any number */
	const char *usage;
} commands[] = {
	/* clang-format off */
	{ "run", NULL, CMD_RUN, 1, 0, 0, NULL },
	{ "pull", NULL, CMD_PULL, 9, 1, 1, "container pull [OPTIONS] NAME[:TAG|@DIGEST]" },
	{ "images", NULL, CMD_IMAGES, 9, 0, 0, "container images" },
	{ "image", "ls", CMD_IMAGES, 9, 0, 0, "container image ls" },
	{ "image", "import", CMD_IMAGE_IMPORT, 9, 1, 1, "container image import PATH" },
	{ "image", "rm", CMD_IMAGE_RM, 9, 1, -1, "container image rm IMAGE..." },
	{ "ps", NULL, CMD_PS, 11, 0, 0, "container ps [-a]" },
	{ "exec", NULL, CMD_EXEC, 11, 2, -1, "container exec [OPTIONS] CONTAINER COMMAND [ARG...]" },
	{ "logs", NULL, CMD_LOGS, 11, 1, 1, "container logs [-f] CONTAINER" },
	{ "stop", NULL, CMD_STOP, 11, 1, -1, "container stop [-t SECONDS] CONTAINER..." },
	{ "kill", NULL, CMD_KILL, 11, 1, -1, "container kill [-s SIGNAL] CONTAINER..." },
	{ "rm", NULL, CMD_RM, 11, 1, -1, "container rm [-f] CONTAINER..." },
	/* clang-format on */
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static const char *command_name(enum command command)
{
	static const char *const names[] = {
		[CMD_RUN] = "run",
		[CMD_PULL] = "pull",
		[CMD_IMAGES] = "images",
		[CMD_IMAGE_IMPORT] = "image import",
		[CMD_IMAGE_RM] = "image rm",
		[CMD_PS] = "ps",
		[CMD_EXEC] = "exec",
		[CMD_LOGS] = "logs",
		[CMD_STOP] = "stop",
		[CMD_KILL] = "kill",
		[CMD_RM] = "rm",
	};

	return names[command];
}

/* The first command that has option o, for messages. */
static enum command first_command(const struct option_info *o)
{
	return (enum command)__builtin_ctz(o->commands);
}

static const char *run_usage(int step)
{
	return step < 9 ? "container run [OPTIONS] ROOTFS COMMAND [ARG...]"
			: "container run [OPTIONS] IMAGE|ROOTFS [COMMAND [ARG...]]";
}

/* Which command argv names; the index of the word after it, or -1. */
static int find_command(struct config *c, int argc, char **argv, int *step)
{
	size_t i;

	for (i = 0; i < NCOMMANDS; i++) {
		if (strcmp(argv[1], commands[i].word) != 0)
			continue;
		c->command = commands[i].command;
		*step = commands[i].step;
		if (!commands[i].sub)
			return 2;
		if (argc > 2 && strcmp(argv[2], commands[i].sub) == 0)
			return 3;
	}
	return -1;
}

/* A command other than run: its operands, counted. */
static int command_operands(struct config *c, int n, char **words, char *err, size_t errlen)
{
	size_t i;

	for (i = 0; i < NCOMMANDS; i++)
		if (commands[i].command == c->command && commands[i].usage)
			break;
	if (n < commands[i].min || (commands[i].max >= 0 && n > commands[i].max))
		return fail(err, errlen, "%s: usage: %s", command_name(c->command),
			    commands[i].usage);
	c->args = words;
	if (c->command == CMD_EXEC)
		c->argv = &words[1]; /* CONTAINER, then COMMAND [ARG...] */
	return 0;
}

int parse_args(struct config *c, int step, int argc, char **argv, char *err, size_t errlen)
{
	int i, from = 1;

	memset(c, 0, sizeof(*c));
	c->step = step;
	c->userns_base = USERNS_BASE_DEFAULT;
	c->sync[0] = c->sync[1] = -1;
	c->idmapped = -1;
	c->cg.fd = -1;
	c->state_lock = -1;
	c->no_new_privs = c->seccomp = 1;
	c->stop_timeout = 10;
	c->signal = SIGKILL;
	c->ready = c->status = c->pidfd = -1;
	if (argc < 2)
		return fail(err, errlen, "missing the command \"run\" (try --help)");
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		return 1;
	i = find_command(c, argc, argv, &from);
	if (i < 0 && step < 9)
		return fail(err, errlen,
			    "unknown command \"%s\": the only command is \"run\" (try --help)",
			    argv[1]);
	if (i < 0 && step < 11)
		return fail(
			err, errlen,
			"unknown command \"%s\": use run, pull, images, image import or image rm (try --help)",
			argv[1]);
	if (i < 0)
		return fail(
			err, errlen,
			"unknown command \"%s\": use run, ps, exec, logs, stop, kill, rm, pull, images, image import or image rm (try --help)",
			argv[1]);
	if (from > step)
		return fail(err, errlen, "\"%s\" arrives in step %02d (%s); this is step %02d",
			    argv[1], from, step_name(from), step);

	for (; i < argc && argv[i][0] == '-'; i++) {
		const struct option_info *o;
		const char *value;

		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		}
		o = find_option(argv[i], c->command, &value);
		if (!o)
			return fail(err, errlen, "unknown option \"%s\" (try --help)", argv[i]);
		if (o->step > step)
			return fail(err, errlen,
				    "--%s arrives in step %02d (%s); this is step %02d", o->name,
				    o->step, step_name(o->step), step);
		if (strcmp(o->name, "help") == 0)
			return 1;
		if (!(o->commands & ONLY(c->command)))
			return fail(err, errlen, "--%s is an option of \"%s\", not of \"%s\"",
				    o->name, command_name(first_command(o)),
				    command_name(c->command));
		if (o->arg && !value) {
			if (i + 1 >= argc)
				return fail(err, errlen, "--%s needs a value: --%s %s", o->name,
					    o->name, o->arg);
			value = argv[++i];
		}
		if (!o->arg && value)
			return fail(err, errlen, "--%s takes no value", o->name);
		if (set_option(c, o, value, err, errlen) < 0)
			return -1;
	}
	if (c->command != CMD_RUN)
		return command_operands(c, argc - i, &argv[i], err, errlen);
	if (step >= 10 && caps_resolve(&c->caps, c->cap_add, c->ncap_add, c->cap_drop, c->ncap_drop,
				       err, errlen) < 0)
		return -1;
	if (i >= argc)
		return fail(err, errlen,
			    step < 9 ? "missing ROOTFS and COMMAND: %s"
				     : "missing IMAGE or ROOTFS: %s",
			    run_usage(step));
	c->rootfs = c->image = argv[i++];
	/* an image brings its own command */
	if (i >= argc && step < 9)
		return fail(err, errlen, "missing COMMAND to run in \"%s\"", c->rootfs);
	c->argv = &argv[i];
	return 0;
}

/* "-e, --env K=V": an option as the help shows it. */
static const char *option_words(const struct option_info *o, char *buf, size_t size)
{
	snprintf(buf, size, "%c%c%c --%s %s", o->letter ? '-' : ' ', o->letter ? o->letter : ' ',
		 o->letter ? ',' : ' ', o->name, o->arg ? o->arg : "");
	return buf;
}

void usage_text(int step, char *buf, size_t size)
{
	char left[40];
	size_t i, n = 0;
	int later = 0;

#define ADD(...)                                                                                   \
	do {                                                                                       \
		int w_ =                                                                           \
			snprintf(n < size ? buf + n : NULL, n < size ? size - n : 0, __VA_ARGS__); \
		if (w_ > 0)                                                                        \
			n += (size_t)w_;                                                           \
	} while (0)

	ADD("usage: %s\n", run_usage(step));
	if (step >= 9)
		ADD("       container pull [OPTIONS] NAME[:TAG|@DIGEST]\n"
		    "       container image import PATH\n"
		    "       container images\n"
		    "       container image rm IMAGE...\n");
	for (i = 0; step >= 11 && i < NCOMMANDS; i++)
		if (commands[i].step == 11)
			ADD("       %s\n", commands[i].usage);
	ADD("\nboxlab's %s: runs COMMAND in a container whose root is ROOTFS%s.\n\n",
	    step_name(step), step >= 9 ? ", or an image's layers" : "");
	if (step >= 9)
		ADD("IMAGE or ROOTFS: an existing directory is a ROOTFS, as in step 08;\n"
		    "anything else names an image in the store ('container images' lists\n"
		    "them).  Pull or import it first: run does not pull.  Without COMMAND,\n"
		    "an image runs its Entrypoint and Cmd.  Images are kept in\n"
		    "/var/lib/boxlab/store (as root) or ~/.local/share/boxlab/store, or\n"
		    "in BOXLAB_STORE_DIR.\n\n");
	if (step >= 10)
		ADD("Container root keeps docker's 14 capabilities (CHOWN, DAC_OVERRIDE,\n"
		    "FOWNER, FSETID, KILL, SETGID, SETUID, SETPCAP, SETFCAP, MKNOD, NET_RAW,\n"
		    "NET_BIND_SERVICE, SYS_CHROOT, AUDIT_WRITE); a user other than root\n"
		    "starts with none.  No program gains privileges (no_new_privs), and a\n"
		    "seccomp filter refuses the dangerous system calls (EPERM) and answers\n"
		    "ENOSYS to those it does not know.  --cap-drop goes first, then\n"
		    "--cap-add: an add wins (--cap-add ALL: all but those dropped).\n\n");
	if (step >= 11)
		ADD("With -d, run prints the container's id and returns; the runtime stays\n"
		    "behind in a session of its own, as the container's parent, and keeps\n"
		    "what it writes in a log.  When it ends, everything it used is removed\n"
		    "but its record and log: ps -a lists it, logs prints it, and rm removes\n"
		    "it, as docker does.  exec runs COMMAND in a running container, with\n"
		    "its namespaces, cgroup, root, user, capabilities and filter.\n"
		    "CONTAINER is an id or a name.\n\n");
	ADD("Options:\n");
	for (i = 0; i < NOPTIONS; i++) {
		const struct option_info *o = &options[i];

		if (o->step > step) {
			later = 1;
			continue;
		}
		if (o->commands & ONLY(CMD_RUN))
			ADD("  %-22s %s\n", option_words(o, left, sizeof(left)), o->help);
	}
	if (step >= 9) {
		ADD("\nOptions of pull:\n");
		for (i = 0; i < NOPTIONS; i++) {
			const struct option_info *o = &options[i];

			if (o->commands != ONLY(CMD_PULL))
				continue;
			snprintf(left, sizeof(left), "    --%s %s", o->name, o->arg);
			ADD("  %-28s %s\n", left, o->help);
		}
	}
	if (step >= 11) {
		ADD("\nOptions of exec: -e, -w and -u, as run's.  Of the others:\n");
		for (i = 0; i < NOPTIONS; i++) {
			const struct option_info *o = &options[i];

			if (o->step == 11 && !(o->commands & ONLY(CMD_RUN)))
				ADD("  %-5s %-22s %s\n", command_name(first_command(o)),
				    option_words(o, left, sizeof(left)), o->help);
		}
	}
	if (later) {
		ADD("\nLater steps add:\n");
		for (i = 0; i < NOPTIONS; i++) {
			const struct option_info *o = &options[i];

			if (o->step > step && (o->commands & ONLY(CMD_RUN)))
				ADD("  %-22s (step %02d) %s\n", option_words(o, left, sizeof(left)),
				    o->step, o->help);
		}
		if (step < 9)
			ADD("  and step 09 the commands pull, images, image import and image rm\n");
		if (step < 11)
			ADD("  and step 11 the commands ps, exec, logs, stop, kill and rm\n");
	}
	ADD("\nExit status: the command's own; 128+N if it died of signal N;\n"
	    "125 if boxlab failed; 126 if COMMAND cannot be executed;\n"
	    "127 if COMMAND is not found in ROOTFS.\n");
#undef ADD
}

/*
 * From step 10, open files are limited to 1024, which a program may raise
 * to 524288, unless --ulimit nofile says otherwise: systemd's choice.
 * select() cannot watch a descriptor above 1023, so a higher soft limit
 * only hides that bug until a busy day; and a program that closes every
 * descriptor up to its limit before it execs makes a million calls under
 * a limit of a million.  A default raises nothing: never above our own
 * hard limit (raising it takes CAP_SYS_RESOURCE on the host).
 */
static void default_ulimits(struct config *c)
{
	struct ulimit u = { RLIMIT_NOFILE, "nofile", 1024, 524288 };
	struct rlimit ours;
	int i;

	for (i = 0; i < c->nulimits; i++)
		if (c->ulimits[i].resource == RLIMIT_NOFILE)
			return;
	if (getrlimit(RLIMIT_NOFILE, &ours) == 0 && ours.rlim_max < u.hard)
		u.hard = ours.rlim_max;
	if (u.soft > u.hard)
		u.soft = u.hard;
	if (c->nulimits < MAX_ULIMITS)
		c->ulimits[c->nulimits++] = u;
}

/*
 * Step 08 stacks ROOTFS and the --layer dirs as an overlay's lower layers:
 * each must be a directory, on a filesystem that is not an overlay itself,
 * and its name must not hold the ':' and ',' that separate mount options.
 */
static void check_layer(const char *what, const char *path)
{
	struct statfs fs;
	struct stat st;

	if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
		die("%s \"%s\" is not a directory", what, path);
	if (strpbrk(path, ":,"))
		die("%s \"%s\": an overlay layer's path cannot hold ':' or ',' (they separate the mount's options)",
		    what, path);
	if (statfs(path, &fs) == 0 && fs.f_type == OVERLAYFS_SUPER_MAGIC)
		die("%s \"%s\" is on an overlay filesystem (inside a container already?): boxlab does not stack an overlay on an overlay; copy it to a disk filesystem (ext4, xfs, btrfs)",
		    what, path);
}

/*
 * As root, from step 05 on, container root is host uid --userns-base, a
 * stranger to the host's directories, and the child walks ROOTFS and the
 * layers as container root.  A walk needs to pass through (x) every
 * directory on its way: from / for an absolute path, from the working
 * directory, which the child inherits, for a relative one.  The end
 * needs NEED too.  Rootless, they are your own.  (A kit cloned into a
 * home directory of mode 0700 or 0750 meets this first.)
 */
static void check_reachable(const struct config *c, const char *what, const char *given,
			    mode_t need)
{
	char path[PATH_MAX], *slash;
	struct stat st;

	if (c->rootless || c->step < 5)
		return;
	snprintf(path, sizeof(path), "%s", given);
	for (;;) {
		if (stat(path, &st) == 0 && (long)st.st_uid != c->userns_base &&
		    (st.st_mode & need) != need)
			die("%s \"%s\": container root (host uid %ld) cannot %s %s (mode %04o): chmod o+%s it, or use another dir",
			    what, given, c->userns_base, need & S_IROTH ? "read" : "pass through",
			    path, (unsigned)(st.st_mode & 07777), need & S_IROTH ? "rx" : "x");
		need = S_IXOTH;
		slash = strrchr(path, '/');
		if (slash && slash != path)
			*slash = '\0';
		else if (!slash && strcmp(path, ".") != 0)
			strcpy(path, ".");
		else
			break;
	}
}

static void check_layers(const struct config *c)
{
	int i;

	if (c->step < 8)
		return;
	if (!c->from_image)
		check_layer("ROOTFS", c->rootfs);
	for (i = 0; i < c->nlayers; i++) {
		check_layer("--layer", c->layers[i]);
		check_reachable(c, "--layer", c->layers[i], S_IROTH | S_IXOTH);
	}
}

/*
 * Step 08 keeps each container's state dir under BOXLAB_STATE_DIR, when it
 * is set, making the dirs on the way: refuse, before anything is made, a
 * path that something other than a directory stands in the way of.
 */
static void check_state_dir(const struct config *c)
{
	const char *dir = getenv("BOXLAB_STATE_DIR");
	char path[PATH_MAX], *slash;
	struct stat st;
	int r;

	if (c->step < 8 || !dir || !*dir)
		return;
	snprintf(path, sizeof(path), "%s", dir);
	/* The nearest part of the path that exists must be a directory. */
	while ((r = stat(path, &st)) < 0 && (errno == ENOENT || errno == ENOTDIR) &&
	       (slash = strrchr(path, '/')) && slash != path)
		*slash = '\0';
	if (r == 0 && !S_ISDIR(st.st_mode))
		die("BOXLAB_STATE_DIR \"%s\" cannot hold state dirs: %s is not a directory; point it at a directory, or unset it",
		    dir, path);
}

void parse_command_line(struct config *c, int step, const char *prog, int argc, char **argv)
{
	unsigned char bytes[4];
	char err[512];
	struct stat st;
	int r;

	boxlab_prog = prog;
	r = parse_args(c, step, argc, argv, err, sizeof(err));
	if (r == 1) {
		char help[8192];

		usage_text(step, help, sizeof(help));
		fputs(help, stdout);
		exit(0);
	}
	if (r < 0)
		die("%s", err);
	boxlab_verbose = c->verbose;
	c->rootless = geteuid() != 0;
	if (c->rootless && c->net_veth)
		die("--net veth needs root: the host end of a veth is a host interface (CAP_NET_ADMIN on the host); rootless, use --net none, loopback only");
	if (c->rootless && c->userns_base != USERNS_BASE_DEFAULT)
		die("--userns-base \"%ld\": cannot be mapped without root: a rootless container can map only your own uid (%d)",
		    c->userns_base, geteuid());

	if (c->command != CMD_RUN)
		return;
	/* from step 09, a ROOTFS that does not exist may name an image */
	if (step >= 9 && stat(c->rootfs, &st) < 0 && errno == ENOENT)
		c->from_image = 1;
	if (!c->from_image && !c->argv[0])
		die("missing COMMAND to run in \"%s\"", c->rootfs);
	if (!c->from_image && stat(c->rootfs, &st) < 0 && errno == ENOENT)
		die("ROOTFS \"%s\" does not exist (build one with 'make rootfs')", c->rootfs);
	if (!c->from_image && stat(c->rootfs, &st) < 0)
		kcall_fail(EXIT_RUNTIME_FAILED, errno, "stat(c->rootfs, &st)",
			   "look at ROOTFS \"%s\"", c->rootfs);
	if (!c->from_image && !S_ISDIR(st.st_mode))
		die("ROOTFS \"%s\" is not a directory", c->rootfs);

	if (step >= 10)
		default_ulimits(c);
	check_layers(c);
	/* An id-mapped ROOTFS is container root's own: only the way in is not. */
	if (!c->from_image)
		check_reachable(c, "ROOTFS", c->rootfs, S_IXOTH);
	check_state_dir(c);

	if (getrandom(bytes, sizeof(bytes), 0) != sizeof(bytes))
		die("cannot pick a container id: getrandom failed");
	snprintf(c->id, sizeof(c->id), "%02x%02x%02x%02x", bytes[0], bytes[1], bytes[2], bytes[3]);
	/* Host-side links start with "bx", so a leftover is easy to spot. */
	snprintf(c->host_link, sizeof(c->host_link), "bx%.8s", c->id);
}
