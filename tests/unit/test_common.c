/*
 * test_common.c - cmocka tests of the pure parts of common/: the hint
 * table, errno names, the command-line parser and the value parsers.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include <sys/resource.h>
#include <linux/capability.h>

#include "caps.h"
#include "cli.h"
#include "process.h"
#include "hints.h"
#include "parse.h"
#include "fake_tree.h"

static void test_call_name(void **state)
{
	char name[32];

	(void)state;
	call_name("sys_pivot_root(\".\", \".\")", name, sizeof(name));
	assert_string_equal(name, "pivot_root");
	call_name("mount(\"proc\", in_rootfs(c, \"/proc\"), ...)", name, sizeof(name));
	assert_string_equal(name, "mount");
	call_name("averyveryverylongname(x)", name, 8);
	assert_string_equal(name, "averyve");
}

static void test_hints(void **state)
{
	(void)state;
	/* A row for the call wins over the row for any call. */
	assert_non_null(
		strstr(hint_for("sys_pivot_root(\".\", \".\")", NULL, EINVAL), "mount point"));
	assert_non_null(strstr(hint_for("mount(a, b, c, d, e)", NULL, ENOSPC), "mount-max"));
	assert_non_null(strstr(hint_for("chroot(c->rootfs)", NULL, EPERM), "CAP_SYS_CHROOT"));
	assert_non_null(
		strstr(hint_for("clone(fn, stack, flags, c)", NULL, EPERM), "CAP_SYS_ADMIN"));
	assert_non_null(strstr(hint_for("unshare(CLONE_NEWTIME)", NULL, EINVAL), "5.6"));
	/* A word in the call's text narrows a row to one file. */
	assert_non_null(
		strstr(hint_for("write_file(\"/proc/self/timens_offsets\", ...)", NULL, EACCES),
		       "before any process"));
	assert_null(strstr(hint_for("write_file(\"/etc/x\", ...)", NULL, EACCES),
			   "before any process"));
	/* "*" rows catch what no call-specific row does. */
	assert_non_null(strstr(hint_for("sethostname(n, l)", NULL, EACCES), "permission"));
	assert_non_null(strstr(hint_for("chdir(\"/\")", NULL, ENOENT), "make rootfs"));
	/* Or a word in what we were doing: the exec cases. */
	assert_non_null(strstr(hint_for("execvp(c->argv[0], c->argv)",
					"run \"/bin/x\", which is in ROOTFS \"r\"", ENOENT),
			       "interpreter"));
	assert_non_null(strstr(hint_for("execvp(c->argv[0], c->argv)",
					"run \"/bin/x\", which is not in ROOTFS \"r\"", ENOENT),
			       "inside the container"));
	assert_non_null(strstr(
		hint_for("execvp(c->argv[0], c->argv)", "run \"x\" from ROOTFS \"r\"", ENOENT),
		"PATH"));
	/* errno 0: a setting of the machine, and its fix. */
	assert_non_null(
		strstr(hint_for("kernel.apparmor_restrict_unprivileged_userns = 1", NULL, 0),
		       "apparmor_restrict_unprivileged_userns=0"));
	/* And some failures have no hint. */
	assert_null(hint_for("chdir(\"/\")", NULL, EIO));
}

static void test_errno_name(void **state)
{
	(void)state;
	assert_string_equal(errno_name(EINVAL), "EINVAL");
	assert_string_equal(errno_name(EPERM), "EPERM");
	assert_string_equal(errno_name(4095), "E4095");
}

static void test_parse_size(void **state)
{
	(void)state;
	assert_int_equal(parse_size("4096"), 4096);
	assert_int_equal(parse_size("64M"), 64LL << 20);
	assert_int_equal(parse_size("64m"), 64LL << 20);
	assert_int_equal(parse_size("1G"), 1LL << 30);
	assert_int_equal(parse_size("2k"), 2048);
	assert_int_equal(parse_size("512MiB"), 512LL << 20);
	assert_int_equal(parse_size("1gb"), 1LL << 30);
	assert_int_equal(parse_size("0"), -1);
	assert_int_equal(parse_size("0M"), -1);
	assert_int_equal(parse_size("-1M"), -1);
	assert_int_equal(parse_size("M"), -1);
	assert_int_equal(parse_size("12Q"), -1);
	assert_int_equal(parse_size("12MM"), -1);
	assert_int_equal(parse_size(""), -1);
	assert_int_equal(parse_size("99999999999T"), -1);
}

static void test_parse_count(void **state)
{
	(void)state;
	assert_int_equal(parse_count("32", 1000), 32);
	assert_int_equal(parse_count("0", 1000), -1);
	assert_int_equal(parse_count("1001", 1000), -1);
	assert_int_equal(parse_count("3x", 1000), -1);
	assert_int_equal(parse_count("-3", 1000), -1);
}

static void test_parse_cpus(void **state)
{
	(void)state;
	assert_int_equal(parse_cpus("0.5", 100000, 4), 50000);
	assert_int_equal(parse_cpus("1", 100000, 4), 100000);
	assert_int_equal(parse_cpus("1.25", 100000, 4), 125000);
	assert_int_equal(parse_cpus("0.01", 100000, 4), 1000);
	assert_int_equal(parse_cpus("4", 100000, 4), 400000);
	assert_int_equal(parse_cpus("4.5", 100000, 4), -1);
	assert_int_equal(parse_cpus("5", 100000, 4), -1);
	assert_int_equal(parse_cpus("0", 100000, 4), -1);
	assert_int_equal(parse_cpus("0.00", 100000, 4), -1);
	assert_int_equal(parse_cpus("0.001", 100000, 4), -1);
	assert_int_equal(parse_cpus("1.", 100000, 4), -1);
	assert_int_equal(parse_cpus(".5", 100000, 4), -1);
	assert_int_equal(parse_cpus("half", 100000, 4), -1);
	assert_int_equal(parse_cpus("-1", 100000, 4), -1);
}

static void test_valid_hostname(void **state)
{
	(void)state;
	assert_true(valid_hostname("box"));
	assert_true(valid_hostname("box-1.example"));
	assert_false(valid_hostname(""));
	assert_false(valid_hostname("-box"));
	assert_false(valid_hostname("bad name"));
	assert_false(valid_hostname("bad_name"));
	assert_true(
		valid_hostname("0123456789012345678901234567890123456789012345678901234567890123"));
	assert_false(valid_hostname(
		"01234567890123456789012345678901234567890123456789012345678901234"));
}

/* parse_args on a command line given as words. */
static int parse(struct config *c, int step, char *err, const char *words)
{
	static char buf[512];
	static char *argv[32];
	int argc = 0;
	char *w;

	strncpy(buf, words, sizeof(buf) - 1);
	for (w = strtok(buf, " "); w && argc < 31; w = strtok(NULL, " "))
		argv[argc++] = w;
	argv[argc] = NULL;
	err[0] = '\0';
	return parse_args(c, step, argc, argv, err, 256);
}

static void test_parse_args(void **state)
{
	struct config c;
	char err[256];

	(void)state;
	assert_int_equal(parse(&c, 1, err, "container run -v rootfs /bin/sh -c x"), 0);
	assert_true(c.verbose);
	assert_string_equal(c.rootfs, "rootfs");
	assert_string_equal(c.argv[0], "/bin/sh");
	assert_string_equal(c.argv[2], "x");
	assert_null(c.argv[3]);

	/* Options stop at ROOTFS: the command's own options are its own. */
	assert_int_equal(parse(&c, 1, err, "container run rootfs ls -v"), 0);
	assert_false(c.verbose);
	assert_string_equal(c.argv[1], "-v");

	assert_int_equal(parse(&c, 3, err, "container run --hostname box rootfs sh"), 0);
	assert_string_equal(c.hostname, "box");
	assert_int_equal(parse(&c, 3, err, "container run --hostname=box2 rootfs sh"), 0);
	assert_string_equal(c.hostname, "box2");
	assert_int_equal(parse(&c, 3, err, "container run -- -odd sh"), 0);
	assert_string_equal(c.rootfs, "-odd");

	assert_int_equal(parse(&c, 1, err, "container --help"), 1);
	assert_int_equal(parse(&c, 1, err, "container run -h"), 1);
}

static void test_parse_args_errors(void **state)
{
	struct config c;
	char err[256];

	(void)state;
	assert_int_equal(parse(&c, 1, err, "container"), -1);
	assert_string_equal(err, "missing the command \"run\" (try --help)");
	assert_int_equal(parse(&c, 1, err, "container run"), -1);
	assert_string_equal(
		err, "missing ROOTFS and COMMAND: container run [OPTIONS] ROOTFS COMMAND [ARG...]");
	assert_int_equal(parse(&c, 1, err, "container run rootfs"), -1);
	assert_string_equal(err, "missing COMMAND to run in \"rootfs\"");
	assert_int_equal(parse(&c, 1, err, "container run --nope rootfs sh"), -1);
	assert_string_equal(err, "unknown option \"--nope\" (try --help)");
	assert_int_equal(parse(&c, 2, err, "container run --hostname x rootfs sh"), -1);
	assert_string_equal(err, "--hostname arrives in step 03 (step03-uts-ipc); this is step 02");
	assert_int_equal(parse(&c, 4, err, "container run --memory 64M rootfs sh"), -1);
	assert_string_equal(err, "--memory arrives in step 07 (step07-cgroups); this is step 04");
	assert_int_equal(parse(&c, 5, err, "container run --userns-base 0 rootfs sh"), -1);
	assert_string_equal(
		err,
		"--userns-base \"0\": cannot be mapped: use a host id from 1 to 4294901759, so that all 65536 container ids fit below 4294967295");
	assert_int_equal(parse(&c, 5, err, "container run --userns-base 4294901760 rootfs sh"), -1);
	assert_int_equal(parse(&c, 5, err, "container run --userns-base 4294901759 rootfs sh"), 0);
	assert_int_equal(c.userns_base, 4294901759L);
	assert_int_equal(parse(&c, 3, err, "container run --hostname"), -1);
	assert_string_equal(err, "--hostname needs a value: --hostname NAME");
	assert_int_equal(parse(&c, 3, err, "container run --hostname a_b rootfs sh"), -1);
	assert_string_equal(err,
			    "--hostname \"a_b\": use 1 to 64 letters, digits, dots and dashes");
	assert_int_equal(parse(&c, 3, err, "container run --verbose=yes rootfs sh"), -1);
	assert_string_equal(err, "--verbose takes no value");
	/* A prefix of an option is not the option. */
	assert_int_equal(parse(&c, 3, err, "container run --host x rootfs sh"), -1);
	assert_string_equal(err, "unknown option \"--host\" (try --help)");
}

/* Step 09's commands and the options of run and pull. */
static void test_parse_args_images(void **state)
{
	struct config c;
	char err[256];

	(void)state;
	assert_int_equal(parse(&c, 9, err, "container run alpine"), 0);
	assert_int_equal(c.command, CMD_RUN);
	assert_string_equal(c.rootfs, "alpine");
	assert_null(c.argv[0]);
	assert_int_equal(parse(&c, 9, err,
			       "container run -e A=1 -e B --env=C=3 -w /w -u app:staff "
			       "--entrypoint /bin/id alpine -g"),
			 0);
	assert_int_equal(c.nenv, 3);
	assert_string_equal(c.env[1], "B");
	assert_string_equal(c.env[2], "C=3");
	assert_string_equal(c.workdir, "/w");
	assert_string_equal(c.user, "app:staff");
	assert_string_equal(c.entrypoint, "/bin/id");
	assert_string_equal(c.argv[0], "-g");
	assert_int_equal(
		parse(&c, 9, err, "container pull --platform linux/arm64 --cert-dir d alpine"), 0);
	assert_int_equal(c.command, CMD_PULL);
	assert_string_equal(c.platform, "linux/arm64");
	assert_string_equal(c.cert_dir, "d");
	assert_string_equal(c.args[0], "alpine");
	assert_int_equal(parse(&c, 9, err, "container image import x.tar"), 0);
	assert_int_equal(c.command, CMD_IMAGE_IMPORT);
	assert_int_equal(parse(&c, 9, err, "container images"), 0);
	assert_int_equal(c.command, CMD_IMAGES);
	assert_int_equal(parse(&c, 9, err, "container image ls"), 0);
	assert_int_equal(c.command, CMD_IMAGES);
	assert_int_equal(parse(&c, 9, err, "container image rm a b"), 0);
	assert_string_equal(c.args[1], "b");

	assert_int_equal(parse(&c, 8, err, "container pull alpine"), -1);
	assert_string_equal(err, "\"pull\" arrives in step 09 (step09-image); this is step 08");
	assert_int_equal(parse(&c, 9, err, "container pull"), -1);
	assert_string_equal(err, "pull: usage: container pull [OPTIONS] NAME[:TAG|@DIGEST]");
	assert_int_equal(parse(&c, 9, err, "container images x"), -1);
	assert_string_equal(err, "images: usage: container images");
	assert_int_equal(parse(&c, 9, err, "container image frob"), -1);
	assert_string_equal(
		err,
		"unknown command \"image\": use run, pull, images, image import or image rm (try --help)");
	assert_int_equal(parse(&c, 9, err, "container pull --memory 6M alpine"), -1);
	assert_string_equal(err, "--memory is an option of \"run\", not of \"pull\"");
	assert_int_equal(parse(&c, 9, err, "container run --cert-dir d alpine"), -1);
	assert_string_equal(err, "--cert-dir is an option of \"pull\", not of \"run\"");
	assert_int_equal(parse(&c, 9, err, "container run -w rel alpine"), -1);
	assert_string_equal(err,
			    "--workdir \"rel\": the working directory must be an absolute path");
	assert_int_equal(parse(&c, 9, err, "container run -e =x alpine"), -1);
	assert_string_equal(err, "--env \"=x\": use K=V, or K for the host's value");
	assert_int_equal(parse(&c, 9, err, "container pull --platform arm64 alpine"), -1);
	assert_string_equal(err,
			    "--platform \"arm64\": use linux/ARCH[/VARIANT], like linux/arm64");
	assert_int_equal(parse(&c, 8, err, "container run -e A=1 rootfs sh"), -1);
	assert_string_equal(err, "--env arrives in step 09 (step09-image); this is step 08");
}

/* Step 10's options: the capability set, the two switches, the limits. */
static void test_harden_options(void **state)
{
	struct config c;
	char err[512];

	(void)state;
	assert_int_equal(parse(&c, 10, err, "container run rootfs sh"), 0);
	assert_int_equal(c.caps, caps_default);
	assert_int_equal(c.no_new_privs, 1);
	assert_int_equal(c.seccomp, 1);
	assert_int_equal(
		parse(&c, 10, err,
		      "container run --cap-drop ALL --cap-add SYS_ADMIN --cap-add KILL rootfs sh"),
		0);
	assert_int_equal(c.caps, CAP_BIT(CAP_SYS_ADMIN) | CAP_BIT(CAP_KILL));
	assert_int_equal(
		parse(&c, 10, err,
		      "container run --security-opt no-new-privileges=false --security-opt seccomp=unconfined rootfs sh"),
		0);
	assert_int_equal(c.no_new_privs, 0);
	assert_int_equal(c.seccomp, 0);
	/* a later --ulimit for the same limit wins; one number is both */
	assert_int_equal(
		parse(&c, 10, err,
		      "container run --ulimit nofile=10:20 --ulimit nproc=-1 --ulimit nofile=30 rootfs sh"),
		0);
	assert_int_equal(c.nulimits, 2);
	assert_int_equal(c.ulimits[0].resource, RLIMIT_NOFILE);
	assert_int_equal(c.ulimits[0].soft, 30);
	assert_int_equal(c.ulimits[0].hard, 30);
	assert_true(c.ulimits[1].soft == RLIM_INFINITY && c.ulimits[1].hard == RLIM_INFINITY);
	assert_int_equal(parse(&c, 10, err, "container run --ulimit nofile=1:2:3 rootfs sh"), -1);
	assert_int_equal(parse(&c, 10, err, "container run --ulimit nofile rootfs sh"), -1);
	assert_int_equal(parse(&c, 10, err, "container run --cap-add , rootfs sh"), -1);
	assert_int_equal(parse(&c, 9, err, "container run --cap-drop ALL rootfs sh"), -1);
	assert_string_equal(err, "--cap-drop arrives in step 10 (step10-harden); this is step 09");
}

static void test_usage_text(void **state)
{
	char help[4096];

	(void)state;
	usage_text(2, help, sizeof(help));
	assert_non_null(strstr(help, "step02-pid-ns"));
	assert_non_null(strstr(help, "-v, --verbose"));
	/* Later options are listed with the step that brings them. */
	assert_non_null(strstr(help, "(step 03) the container's host name"));
	usage_text(3, help, sizeof(help));
	assert_null(strstr(help, "(step 03)"));
	assert_non_null(strstr(help, "and step 11 the commands ps, exec, logs, stop, kill and rm"));
	/* A buffer too small is cut, never overrun. */
	usage_text(1, help, 16);
	assert_int_equal(strlen(help), 15);
}

/* Step 11's commands: containers in the background, and a way in. */
static void test_container_commands(void **state)
{
	struct config c;
	char err[256];

	(void)state;
	assert_int_equal(parse(&c, 11, err, "container run -d --name web alpine"), 0);
	assert_true(c.detach);
	assert_string_equal(c.name, "web");
	assert_int_equal(parse(&c, 11, err, "container exec -e A=1 -w /tmp -u 1000 web ls -l"), 0);
	assert_int_equal(c.command, CMD_EXEC);
	assert_string_equal(c.args[0], "web");
	assert_string_equal(c.argv[0], "ls");
	assert_string_equal(c.argv[1], "-l");
	assert_null(c.argv[2]);
	assert_string_equal(c.env[0], "A=1");
	assert_string_equal(c.user, "1000");
	/* Options stop at CONTAINER: COMMAND's own are its own. */
	assert_int_equal(parse(&c, 11, err, "container exec web sh -c -v"), 0);
	assert_false(c.verbose);
	/* -f is logs' --follow and rm's --force. */
	assert_int_equal(parse(&c, 11, err, "container logs -f web"), 0);
	assert_true(c.follow);
	assert_false(c.force);
	assert_int_equal(parse(&c, 11, err, "container rm -f a b"), 0);
	assert_true(c.force);
	assert_string_equal(c.args[1], "b");
	assert_int_equal(parse(&c, 11, err, "container stop web"), 0);
	assert_int_equal(c.stop_timeout, 10);
	assert_int_equal(parse(&c, 11, err, "container stop -t 0 web"), 0);
	assert_int_equal(c.stop_timeout, 0);
	assert_int_equal(parse(&c, 11, err, "container kill web"), 0);
	assert_int_equal(c.signal, SIGKILL);
	assert_int_equal(parse(&c, 11, err, "container kill -s sigterm web"), 0);
	assert_int_equal(c.signal, SIGTERM);
	assert_int_equal(parse(&c, 11, err, "container ps -a"), 0);
	assert_true(c.all);

	assert_int_equal(parse(&c, 10, err, "container exec web sh"), -1);
	assert_string_equal(err, "\"exec\" arrives in step 11 (step11-exec); this is step 10");
	assert_int_equal(parse(&c, 10, err, "container run -d rootfs sh"), -1);
	assert_string_equal(err, "--detach arrives in step 11 (step11-exec); this is step 10");
	assert_int_equal(parse(&c, 11, err, "container exec web"), -1);
	assert_string_equal(err,
			    "exec: usage: container exec [OPTIONS] CONTAINER COMMAND [ARG...]");
	assert_int_equal(parse(&c, 11, err, "container run --name -x alpine"), -1);
	assert_string_equal(
		err,
		"--name \"-x\": use 1 to 63 letters, digits, '_', '.' and '-', a letter or digit first");
	assert_int_equal(parse(&c, 11, err, "container kill -s NOPE web"), -1);
	assert_int_equal(parse(&c, 11, err, "container stop -t soon web"), -1);
	assert_string_equal(err, "--time \"soon\": use a whole number of seconds from 0 to 86400");
	assert_int_equal(parse(&c, 11, err, "container exec --memory 6M web sh"), -1);
	assert_string_equal(err, "--memory is an option of \"run\", not of \"exec\"");
	assert_int_equal(parse(&c, 11, err, "container ps -f"), -1);
	assert_string_equal(err, "--follow is an option of \"logs\", not of \"ps\"");
}

static void test_signals_and_names(void **state)
{
	(void)state;
	assert_int_equal(parse_signal("TERM"), SIGTERM);
	assert_int_equal(parse_signal("SIGKILL"), SIGKILL);
	assert_int_equal(parse_signal("hup"), SIGHUP);
	assert_int_equal(parse_signal("9"), 9);
	assert_int_equal(parse_signal("0"), -1);
	assert_int_equal(parse_signal("SIG"), -1);
	assert_int_equal(parse_signal("NOPE"), -1);
	assert_true(valid_name("web-1.a_b"));
	assert_false(valid_name(""));
	assert_false(valid_name("_web"));
	assert_false(valid_name("a/b"));
	assert_false(valid_name("a b"));
}

/* A fake /proc/sys: the named sysctl set to value, in a fresh directory. */
static char *fake_sysctls(const char *name, const char *value)
{
	static char dir[64];
	char path[128], cmd[256];
	FILE *f;

	make_fake(dir, sizeof(dir), "/tmp/boxlab-sysctl.XXXXXX");
	snprintf(cmd, sizeof(cmd), "mkdir -p %s/kernel %s/user", dir, dir);
	assert_int_equal(system(cmd), 0);
	if (name) {
		snprintf(path, sizeof(path), "%s/%s", dir, name);
		f = fopen(path, "w");
		assert_non_null(f);
		fputs(value, f);
		fclose(f);
	}
	return dir;
}

static void test_userns_blocker(void **state)
{
	char *dir;

	(void)state;
	dir = fake_sysctls(NULL, NULL);
	assert_null(userns_blocker(dir));
	remove_fake(dir);

	dir = fake_sysctls("kernel/unprivileged_userns_clone", "0\n");
	assert_string_equal(userns_blocker(dir), "kernel.unprivileged_userns_clone = 0");
	assert_non_null(strstr(hint_for(userns_blocker(dir), NULL, 0),
			       "kernel.unprivileged_userns_clone=1"));
	remove_fake(dir);

	dir = fake_sysctls("kernel/unprivileged_userns_clone", "1\n");
	assert_null(userns_blocker(dir));
	remove_fake(dir);

	dir = fake_sysctls("user/max_user_namespaces", "0\n");
	assert_string_equal(userns_blocker(dir), "user.max_user_namespaces = 0");
	assert_non_null(
		strstr(hint_for(userns_blocker(dir), NULL, 0), "user.max_user_namespaces=15000"));
	remove_fake(dir);

	dir = fake_sysctls("kernel/apparmor_restrict_unprivileged_userns", "1\n");
	assert_string_equal(userns_blocker(dir),
			    "kernel.apparmor_restrict_unprivileged_userns = 1");
	remove_fake(dir);
}

static void test_step_name(void **state)
{
	(void)state;
	assert_string_equal(step_name(1), "step01-chroot");
	assert_string_equal(step_name(9), "step09-image");
	assert_string_equal(step_name(10), "step10-harden");
	assert_string_equal(step_name(11), "step11-exec");
	assert_null(step_name(0));
	assert_null(step_name(12));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_call_name),	   cmocka_unit_test(test_hints),
		cmocka_unit_test(test_errno_name),	   cmocka_unit_test(test_parse_size),
		cmocka_unit_test(test_parse_count),	   cmocka_unit_test(test_parse_cpus),
		cmocka_unit_test(test_valid_hostname),	   cmocka_unit_test(test_parse_args),
		cmocka_unit_test(test_parse_args_errors),  cmocka_unit_test(test_parse_args_images),
		cmocka_unit_test(test_usage_text),	   cmocka_unit_test(test_userns_blocker),
		cmocka_unit_test(test_step_name),	   cmocka_unit_test(test_harden_options),
		cmocka_unit_test(test_container_commands), cmocka_unit_test(test_signals_and_names),
	};

	return cmocka_run_group_tests_name("common", tests, NULL, NULL);
}
