/*
 * timer: time commands for `make bench`.
 *
 *   timer [-n RUNS] [-w WARMUP] COMMANDS          one after another
 *   timer -j N [-n ROUNDS] COMMANDS               N at once
 *
 * COMMANDS is a file with one command a line: a label, a tab, then the
 * command's arguments separated by tabs (no shell in between, so nothing
 * but the command itself is timed).  "%i" in an argument becomes a number
 * that no other run of this timer shares, for runtimes that want a fresh
 * container name (it starts from 0 again in the next timer: the caller
 * adds what sets one timer's names apart from another's).
 *
 * One after another: each round runs every command once, starting one
 * further down the list each round, so that whatever drifts on the
 * machine (caches, frequency, other load) falls on every command alike.
 * WARMUP rounds are run first and not counted.  For each command it
 * prints: label, median, first and third quartile, fastest (all in
 * microseconds), the peak resident set size in KiB, and the number of
 * runs.  The peak RSS is what wait4(2) reports for the process started:
 * the largest of its own and of the processes it waited for.
 *
 * N at once: each round starts N copies of a command as fast as it can,
 * then waits for all of them; it prints label, N, the median time a round
 * took (microseconds) and how many runs failed, over all rounds.
 *
 * A failed run prints its exit status and what the command wrote to
 * stderr.  One after another, it also stops everything: timer exits 1.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_COMMANDS   32
#define MAX_ARGS       64
#define MAX_CONCURRENT 1000

struct command {
	char *label;
	char *argv[MAX_ARGS + 1];
	int nargs;
	int stderr_fd; /* a memfd: what the last run wrote to stderr */
	long *times; /* microseconds, one per counted run */
	int ntimes;
	long maxrss; /* KiB */
};

static struct command commands[MAX_COMMANDS];
static int ncommands;
static long run_number;

static void fail(const char *what)
{
	fprintf(stderr, "timer: %s: %s\n", what, strerror(errno));
	exit(1);
}

static long now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000L + ts.tv_nsec / 1000;
}

static void read_commands(const char *path)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t size = 0;

	if (!f)
		fail(path);
	while (getline(&line, &size, f) > 0) {
		struct command *cmd = &commands[ncommands];
		char *field, *rest = line;

		line[strcspn(line, "\n")] = '\0';
		if (!*line || *line == '#')
			continue;
		if (ncommands == MAX_COMMANDS) {
			fprintf(stderr, "timer: more than %d commands in %s\n", MAX_COMMANDS, path);
			exit(2);
		}
		cmd->label = strdup(strsep(&rest, "\t"));
		while ((field = strsep(&rest, "\t")) && cmd->nargs < MAX_ARGS)
			cmd->argv[cmd->nargs++] = strdup(field);
		if (cmd->nargs == 0) {
			fprintf(stderr, "timer: %s: \"%s\" has no command\n", path, cmd->label);
			exit(2);
		}
		cmd->stderr_fd = memfd_create("stderr", 0);
		if (cmd->stderr_fd < 0)
			fail("memfd_create");
		ncommands++;
	}
	free(line);
	fclose(f);
}

/* Start one run of CMD; the caller waits for it. */
static pid_t start(struct command *cmd)
{
	char *argv[MAX_ARGS + 1], number[32];
	long n = run_number++;
	pid_t pid;

	snprintf(number, sizeof(number), "%ld", n);
	pid = fork();
	if (pid < 0)
		fail("fork");
	if (pid > 0)
		return pid;
	for (int i = 0; i < cmd->nargs; i++) {
		char *mark = strstr(cmd->argv[i], "%i");

		argv[i] = cmd->argv[i];
		if (mark && asprintf(&argv[i], "%.*s%s%s", (int)(mark - cmd->argv[i]), cmd->argv[i],
				     number, mark + 2) < 0)
			_exit(127);
	}
	argv[cmd->nargs] = NULL;
	/*
	 * An empty file of our own for stdin and stdout, not /dev/null: crun,
	 * until its fix for crun#1845, chowns its standard streams to the
	 * container's root, and would hand the host's /dev/null to uid 100000.
	 */
	int quiet = open("/tmp", O_TMPFILE | O_RDWR, 0600);

	if (quiet < 0)
		fail("open an unnamed file in /tmp");
	dup2(quiet, 0);
	dup2(quiet, 1);
	dup2(cmd->stderr_fd, 2);
	execvp(argv[0], argv);
	fprintf(stderr, "timer: cannot run %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

/* Wait for PID of CMD; on failure, show why, and return false. */
static bool finish(struct command *cmd, pid_t pid)
{
	struct rusage ru;
	int status;

	if (wait4(pid, &status, 0, &ru) < 0)
		fail("wait4");
	/*
	 * Linux counts into the child's peak RSS the memory it had before
	 * exec: the forked copy of this timer.  That copy is a floor under
	 * every figure, and the timer is linked statically (see the Makefile)
	 * to keep that floor as low as it goes.
	 */
	if (ru.ru_maxrss > cmd->maxrss)
		cmd->maxrss = ru.ru_maxrss;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return true;
	char buf[4096];
	ssize_t n = pread(cmd->stderr_fd, buf, sizeof(buf) - 1, 0);

	buf[n > 0 ? n : 0] = '\0';
	fprintf(stderr, "timer: \"%s\" failed (%s %d); its stderr:\n%s", cmd->label,
		WIFEXITED(status) ? "exit status" : "signal",
		WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), buf);
	return false;
}

/*
 * Empty CMD's stderr for the next run.  Rewound as well as truncated:
 * the runs write at the memfd's offset, which the last ones left at their
 * end, so their successors' words would follow a hole of zeros that
 * finish() reads as an empty string.
 */
static void clear_stderr(struct command *cmd)
{
	if (ftruncate(cmd->stderr_fd, 0) < 0 || lseek(cmd->stderr_fd, 0, SEEK_SET) < 0)
		fail("clear stderr");
}

static long one_run(struct command *cmd)
{
	long t0;

	clear_stderr(cmd);
	t0 = now_us();
	if (!finish(cmd, start(cmd)))
		exit(1);
	return now_us() - t0;
}

static int by_value(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return (x > y) - (x < y);
}

/* The value at fraction Q of the sorted list V of N. */
static long quantile(long *v, int n, double q)
{
	double pos = q * (n - 1);
	int i = (int)pos;

	if (i + 1 >= n)
		return v[n - 1];
	return (long)(v[i] + (pos - i) * (v[i + 1] - v[i]) + 0.5);
}

static void one_after_another(int runs, int warmup)
{
	for (int i = 0; i < ncommands; i++)
		commands[i].times = calloc((size_t)runs, sizeof(long));
	for (int round = 0; round < warmup + runs; round++) {
		for (int k = 0; k < ncommands; k++) {
			struct command *cmd = &commands[(round + k) % ncommands];
			long t = one_run(cmd);

			if (round >= warmup)
				cmd->times[cmd->ntimes++] = t;
		}
	}
	for (int i = 0; i < ncommands; i++) {
		struct command *cmd = &commands[i];

		qsort(cmd->times, (size_t)cmd->ntimes, sizeof(long), by_value);
		printf("%s\t%ld\t%ld\t%ld\t%ld\t%ld\t%d\n", cmd->label,
		       quantile(cmd->times, cmd->ntimes, 0.5),
		       quantile(cmd->times, cmd->ntimes, 0.25),
		       quantile(cmd->times, cmd->ntimes, 0.75), cmd->times[0], cmd->maxrss,
		       cmd->ntimes);
	}
}

static void all_at_once(int n, int rounds)
{
	static pid_t pids[MAX_CONCURRENT];
	long *times = calloc((size_t)rounds, sizeof(long));

	for (int i = 0; i < ncommands; i++) {
		struct command *cmd = &commands[i];

		int failed = 0;

		for (int round = 0; round < rounds; round++) {
			long t0 = now_us();

			clear_stderr(cmd);
			for (int k = 0; k < n; k++)
				pids[k] = start(cmd);
			for (int k = 0; k < n; k++)
				failed += !finish(cmd, pids[k]);
			times[round] = now_us() - t0;
		}
		qsort(times, (size_t)rounds, sizeof(long), by_value);
		printf("%s\t%d\t%ld\t%d\n", cmd->label, n, quantile(times, rounds, 0.5), failed);
	}
	free(times);
}

int main(int argc, char **argv)
{
	int runs = 100, warmup = 10, concurrent = 0, opt;

	while ((opt = getopt(argc, argv, "n:w:j:")) != -1) {
		switch (opt) {
		case 'n':
			runs = atoi(optarg);
			break;
		case 'w':
			warmup = atoi(optarg);
			break;
		case 'j':
			concurrent = atoi(optarg);
			break;
		default:
			goto usage;
		}
	}
	if (optind != argc - 1 || runs < 1 || warmup < 0 || concurrent < 0 ||
	    concurrent > MAX_CONCURRENT)
		goto usage;
	read_commands(argv[optind]);
	if (ncommands == 0) {
		fprintf(stderr, "timer: no commands in %s\n", argv[optind]);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (concurrent)
		all_at_once(concurrent, runs);
	else
		one_after_another(runs, warmup);
	return 0;
usage:
	fprintf(stderr, "usage: timer [-n RUNS] [-w WARMUP] [-j CONCURRENT] COMMANDS-FILE\n");
	return 2;
}
