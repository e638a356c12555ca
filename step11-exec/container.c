/*
 * step11-exec: a container that runs without its terminal, and a way in.
 *
 * Ten steps ran a container as long as the command that started it, and
 * nothing could join it.  Here run -d leaves the runtime behind as a
 * monitor: the container's parent, in a session of its own, which reaps
 * the container, keeps its output in a log and its exit status in a
 * record.  exec starts another process inside the running container: it
 * joins all its namespaces at once with setns() and a pidfd, forks so the
 * command is in its PID namespace, joins its cgroup, and goes through the
 * same restrictions as the first process, the filter last.  ps, logs,
 * stop, kill and rm read the records and signal through pidfds, so a
 * reused pid is never signalled.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <linux/magic.h>
#include <time.h>
#include <unistd.h>

#include "boxlab.h"

/*
 * cgroup v1: we move ourselves in, first thing (on v2 we were born in it,
 * and close the group's directory that took us there: it is a way into
 * the host's cgroups).  A process that moves itself takes no global lock;
 * moving another one takes a lock whose first writer waits out an RCU
 * grace period.
 */
static void join_cgroup(const struct config *c)
{
	if (c->cg.fd >= 0)
		close(c->cg.fd);
	if (c->cg.made && c->cg.layout == CGROUP_V1)
		KCALL(cgroup_enter(&c->cg), "move into our cgroup, %s", c->cg.rel);
}

/*
 * Sync 1, the child's side: until the parent has written our id maps we
 * are uid 65534, "nobody", to ourselves.  It may send an id-mapped copy
 * of ROOTFS along.
 */
static void wait_for_parent(struct config *c)
{
	close(c->sync[SYNC_PARENT]);
	if (!c->from_image)
		KCALL(sync_recv(c->sync[SYNC_CHILD], &c->idmapped),
		      "sync 1: wait until the parent lets us go on");
	else
		KCALL(sync_recv_fds(c->sync[SYNC_CHILD], c->layer_fds, c->nimage_layers, NULL),
		      "sync 1: wait until the parent lets us go on, with the image's layers");
}

/*
 * Writing the maps did not change our ids: take the container's root ids,
 * and drop the host's supplementary groups (rootless, setgroups() is
 * denied and they show as nogroup).  Changing ids made us "not dumpable",
 * which hands our /proc/self files to host root: take them back, for
 * timens_offsets.
 */
static void become_container_root(const struct config *c)
{
	KCALL(setresgid(0, 0, 0), "become group 0 of the container");
	KCALL(setresuid(0, 0, 0), "become root of the container");
	if (!c->rootless)
		KCALL(setgroups(0, NULL), "drop the host's supplementary groups");
	KCALL(prctl(PR_SET_DUMPABLE, 1, 0, 0, 0), "keep our /proc/self files our own");
}

/*
 * The /30 is claimed in the runtime's name: should the runtime die, the
 * container must too, or its claim would look free while its link still
 * holds the addresses.  Asked after setresuid(), which clears it; if the
 * runtime died before we asked, its end of the socket is closed.
 */
static void die_with_runtime(const struct config *c)
{
	KCALL(prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0), "die if the runtime dies");
	KCALL(sync_check_peer(c->sync[SYNC_CHILD]), "make sure the runtime is still there");
}

/* The parent has put us in our cgroup: make it the root of our view. */
static void enter_new_cgroup_namespace(void)
{
	KCALL(unshare(CLONE_NEWCGROUP), "make our cgroup the root of a new cgroup namespace");
}

static void set_hostname(const struct config *c)
{
	const char *name = c->hostname ? c->hostname : c->id;

	KCALL(sethostname(name, strlen(name)), "name the container \"%s\"", name);
}

/*
 * A new network namespace has one interface, lo, and it is down.  With
 * --net veth the parent has put eth0 here too: its address first, then
 * the route, which needs a way to its gateway.
 */
static void set_up_network(const struct config *c)
{
	int nl = (int)KCALL(nl_open(), "open an rtnetlink socket in the new network namespace");

	KCALL(nl_link_up(nl, "lo"), "bring up lo");
	if (c->net_veth) {
		KCALL(nl_addr_add(nl, "eth0", c->subnet.container, c->subnet.prefixlen),
		      "give eth0 the address %s/%d", c->subnet.container, c->subnet.prefixlen);
		KCALL(nl_link_up(nl, "eth0"), "bring up eth0");
		KCALL(nl_route_add_default(nl, c->subnet.host),
		      "route the rest via the host's end, %s", c->subnet.host);
	}
	close(nl);
}

/*
 * A time namespace's clock offsets can be written only while no process
 * is inside it, so clone() cannot make one (its flag's bit is the exit
 * signal's in clone's flags anyway): unshare() makes it for our future
 * children, we set its clocks back to zero, then setns() steps us in.
 */
static void enter_new_time_namespace(void)
{
	struct timespec mono, boot;
	int fd;

	clock_gettime(CLOCK_MONOTONIC, &mono);
	clock_gettime(CLOCK_BOOTTIME, &boot);
	KCALL(unshare(CLONE_NEWTIME), "create a time namespace");
	KCALL(write_file("/proc/self/timens_offsets", "monotonic %ld 0\nboottime %ld 0\n",
			 -(long)mono.tv_sec, -(long)boot.tv_sec),
	      "start its clocks near zero (minus %lds)", (long)boot.tv_sec);
	fd = (int)KCALL(open("/proc/self/ns/time_for_children", O_RDONLY | O_CLOEXEC),
			"open the new time namespace");
	KCALL(setns(fd, CLONE_NEWTIME), "enter the new time namespace");
	close(fd);
}

/*
 * Since Linux 2.6.15 mounts propagate between mount namespaces, and
 * systemd makes "/" shared: without this, every mount below would show
 * up on the host too, and pivot_root() would fail with EINVAL.
 */
static void make_mounts_private(void)
{
	KCALL(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL),
	      "stop mounts propagating between the container and the host");
}

/* pivot_root() needs the new root to be a mount point: bind it on itself. */
static void bind_rootfs(const struct config *c)
{
	KCALL(mount(c->rootfs, c->rootfs, NULL, MS_BIND | MS_REC, NULL),
	      "make \"%s\" a mount point of its own", c->rootfs);
}

/* As root, the parent's id-mapped copy of ROOTFS goes on top of it. */
static void mount_idmapped_rootfs(struct config *c)
{
	if (c->idmapped < 0)
		return;
	KCALL(sys_move_mount(c->idmapped, "", AT_FDCWD, c->rootfs, MOVE_MOUNT_F_EMPTY_PATH),
	      "mount the id-mapped \"%s\" on itself", c->rootfs);
	close(c->idmapped);
	c->idmapped = -1;
}

/*
 * Lower layers are listed top first: the last --layer, down to the
 * image.  In a user namespace overlayfs keeps its notes in user.* xattrs
 * (userxattr), not trusted.*, which only host root may write.  volatile:
 * an upper dir thrown away at the end need not be synced to disk when it
 * is unmounted; --keep keeps it, so it is synced as usual.
 */
static void mount_overlay(struct config *c)
{
	char lower[8192] = "", options[16384];
	int i;

	for (i = c->nlayers - 1; i >= 0; i--)
		snprintf(lower + strlen(lower), sizeof(lower) - strlen(lower), "%s:", c->layers[i]);
	snprintf(lower + strlen(lower), sizeof(lower) - strlen(lower), "%s", c->rootfs);
	KCALL(mkdir(in_state(c, "upper"), 0755), "make the upper dir, for the container's writes");
	KCALL(mkdir(in_state(c, "work"), 0700), "make overlayfs's work dir");
	KCALL(mkdir(c->merged, 0755), "make the dir to mount the overlay on");
	snprintf(options, sizeof(options), "lowerdir=%s,upperdir=%s,workdir=%s,userxattr%s", lower,
		 in_state(c, "upper"), in_state(c, "work"), c->keep ? "" : ",volatile");
	KCALL(mount("overlay", c->merged, "overlay", 0, options), "mount the overlay on %s: %s",
	      c->merged, options);
	c->rootfs = c->merged;
}

/*
 * STATE/lower/N: the image's layers, bottom first, where the overlay can
 * name them in few bytes (a mount's options must fit in a page).  As
 * root, the parent sent an id-mapped copy of each: the store is host
 * root's and closed to container root, so only the copies cross.
 * Rootless, the store is our own: bind the layers.  The bottom layer
 * takes ROOTFS's place, the others go under any --layer.
 */
static void attach_layers(struct config *c)
{
	int i, above = c->nimage_layers - 1;

	if (!c->from_image)
		return;
	KCALL(mkdir(in_state(c, "lower"), 0700), "make the dir for the image's layers");
	memmove(&c->layers[above], &c->layers[0], (size_t)c->nlayers * sizeof(c->layers[0]));
	c->nlayers += above;
	for (i = 0; i < c->nimage_layers; i++) {
		char name[32], *dir;

		snprintf(name, sizeof(name), "lower/%d", i);
		dir = strdup(in_state(c, name));
		KCALL(mkdir(dir, 0755), "make %s", dir);
		if (c->layer_fds[i] >= 0) {
			KCALL(sys_move_mount(c->layer_fds[i], "", AT_FDCWD, dir,
					     MOVE_MOUNT_F_EMPTY_PATH),
			      "mount the id-mapped copy of layer %d on %s", i, dir);
			close(c->layer_fds[i]);
		} else
			KCALL(mount(c->image_layers[i], dir, NULL, MS_BIND, NULL),
			      "bind layer %d on %s", i, dir);
		if (i == 0)
			c->rootfs = dir;
		else
			c->layers[i - 1] = dir;
	}
}

/*
 * An image made FROM scratch may have no /proc, /sys, /dev or /tmp to
 * mount on: make them in the overlay, which puts them in the upper dir,
 * never in the image's layers.
 */
static void make_mount_points(const struct config *c)
{
	static const char *const dirs[] = { "/proc", "/sys", "/dev", "/tmp" };
	size_t i;

	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		if (access(in_rootfs(c, dirs[i]), F_OK) != 0)
			KCALL(mkdir(in_rootfs(c, dirs[i]), 0755), "make %s: the image has none",
			      dirs[i]);
}

/* A /proc that shows the new PID namespace: the mounter's one. */
static void mount_proc(const struct config *c)
{
	KCALL(mount("proc", in_rootfs(c, "/proc"), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL),
	      "mount a /proc for the new PID namespace on \"%s\"", in_rootfs(c, "/proc"));
}

/*
 * /sys shows the host's devices: the container may look, not touch.  Only
 * the owner of the network namespace may mount a sysfs; ours shows our
 * own interfaces in /sys/class/net.
 */
static void mount_sys(const struct config *c)
{
	KCALL(mount("sysfs", in_rootfs(c, "/sys"), "sysfs",
		    MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL),
	      "mount /sys read-only");
}

/*
 * Programs size themselves by their limits in /sys/fs/cgroup: the JVM,
 * Go's runtime, nproc.  Mounted from inside the cgroup namespace, a cgroup
 * filesystem's root is our own group, and read-only: the limits are the
 * runtime's to set.  On v1, a tmpfs holds one mount per hierarchy.
 */
static void mount_cgroup(const struct config *c)
{
	const char *target = in_rootfs(c, CGROUP_ROOT);

	if (!c->cg.made)
		return;
	if (c->cg.layout == CGROUP_V2)
		KCALL(mount("cgroup2", target, "cgroup2",
			    MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL),
		      "mount our cgroup, as the root of a cgroup2, read-only at %s", CGROUP_ROOT);
	else
		KCALL(cgroup_mount_v1(target, in_rootfs(c, "/proc/self/cgroup")),
		      "mount our cgroup's v1 hierarchies read-only under %s", CGROUP_ROOT);
}

/* Device nodes the container may have: none of them reaches hardware. */
static const char *const devices[] = {
	"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty",
};

/* clang-format off */
static const struct dev_link {
	const char *path, *target;
} dev_links[] = {
	{ "/dev/ptmx", "pts/ptmx" },
	{ "/dev/fd", "/proc/self/fd" },
	{ "/dev/stdin", "/proc/self/fd/0" },
	{ "/dev/stdout", "/proc/self/fd/1" },
	{ "/dev/stderr", "/proc/self/fd/2" },
};
/* clang-format on */

/* A fresh /dev: a tmpfs with the tables above, its own ptys and shm. */
static void mount_dev(const struct config *c)
{
	size_t i;

	KCALL(mount("tmpfs", in_rootfs(c, "/dev"), "tmpfs", MS_NOSUID | MS_NOEXEC,
		    "mode=0755,size=64k"),
	      "mount an empty /dev");
	umask(0); /* the modes below are meant as written */
	/* In a user namespace mknod() of a device is refused: bind the host's. */
	for (i = 0; i < sizeof(devices) / sizeof(devices[0]); i++) {
		KCALL(create_file(in_rootfs(c, devices[i]), 0666), "create %s to mount over",
		      devices[i]);
		KCALL(mount(devices[i], in_rootfs(c, devices[i]), NULL, MS_BIND, NULL),
		      "bind the host's %s", devices[i]);
	}
	for (i = 0; i < sizeof(dev_links) / sizeof(dev_links[0]); i++)
		KCALL(symlink(dev_links[i].target, in_rootfs(c, dev_links[i].path)),
		      "link %s to %s", dev_links[i].path, dev_links[i].target);
	KCALL(mkdir(in_rootfs(c, "/dev/pts"), 0755), "create /dev/pts");
	/* newinstance: ptys of its own, not the host's (Linux 2.6.29). */
	KCALL(mount("devpts", in_rootfs(c, "/dev/pts"), "devpts", MS_NOSUID | MS_NOEXEC,
		    "newinstance,ptmxmode=0666,mode=0620"),
	      "mount a private devpts for the container's terminals");
	KCALL(mkdir(in_rootfs(c, "/dev/shm"), 01777), "create /dev/shm");
	KCALL(mount("shm", in_rootfs(c, "/dev/shm"), "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		    "mode=1777"),
	      "mount /dev/shm for POSIX shared memory");
	umask(022);
}

static void mount_tmp(const struct config *c)
{
	KCALL(mount("tmpfs", in_rootfs(c, "/tmp"), "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777"),
	      "mount an empty /tmp");
}

/* Doors into the running kernel: readable, not writable. */
static const char *const proc_read_only[] = {
	"/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus", "/proc/fs",
};

/* Entries that show host secrets or kernel memory: hidden behind /dev/null. */
static const char *const proc_masked[] = {
	"/proc/kcore",
	"/proc/keys",
	"/proc/timer_list",
	"/proc/sched_debug",
};

/*
 * A bind mount ignores MS_RDONLY: it takes a remount of the bind, which
 * sets every flag anew, so it repeats the ones /proc was mounted with.
 * Not every kernel has every entry; a missing one needs no protection.
 */
static void protect_proc(const struct config *c)
{
	size_t i;

	for (i = 0; i < sizeof(proc_read_only) / sizeof(proc_read_only[0]); i++) {
		const char *path = in_rootfs(c, proc_read_only[i]);

		if (access(path, F_OK) != 0)
			continue;
		KCALL(mount(path, path, NULL, MS_BIND | MS_REC, NULL), "bind %s on itself",
		      proc_read_only[i]);
		KCALL(mount(NULL, path, NULL,
			    MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
			    NULL),
		      "make %s read-only", proc_read_only[i]);
	}
	for (i = 0; i < sizeof(proc_masked) / sizeof(proc_masked[0]); i++) {
		const char *path = in_rootfs(c, proc_masked[i]);

		if (access(path, F_OK) != 0)
			continue;
		KCALL(mount(in_rootfs(c, "/dev/null"), path, NULL, MS_BIND, NULL), "hide %s",
		      proc_masked[i]);
	}
}

/*
 * pivot_root(".", ".") puts the old root on top of the new one, at the
 * same place (pivot_root(2), NOTES): unmounting "." then takes the old
 * root away, and with it every path to the host.
 */
static void pivot_to_rootfs(const struct config *c)
{
	KCALL(chdir(c->rootfs), "stand in \"%s\"", c->rootfs);
	KCALL(sys_pivot_root(".", "."), "make \"%s\" the root mount", c->rootfs);
	KCALL(umount2(".", MNT_DETACH), "detach the host's root from the container");
	KCALL(chdir("/"), "stand at the new root");
}

/*
 * After pivot_root, /etc/passwd is the image's: a user is looked up
 * there, never on the host.  The working directory is made when the
 * image lacks it, as docker does.  The ids change last, after
 * everything container root had to do.  Rootless, only root is mapped.
 */
static void become_image_user(struct config *c)
{
	FILE *passwd = fopen("/etc/passwd", "re"), *group = fopen("/etc/group", "re");
	struct image_user u;
	char err[512], cwd[PATH_MAX];

	if (user_resolve(c->user, passwd, group, &u, err, sizeof(err)) < 0)
		die("cannot run as user \"%s\" of %s: %s", c->user, c->image, err);
	if (passwd)
		fclose(passwd);
	if (group)
		fclose(group);
	if (c->workdir && access(c->workdir, F_OK) != 0)
		KCALL(make_dirs(c->workdir, 0755), "make the working directory %s", c->workdir);
	if (c->workdir)
		KCALL(chdir(c->workdir), "enter the working directory %s", c->workdir);
	/*
	 * A path through /proc/self/fd/N goes wherever descriptor N leads,
	 * out of our root too (runc's CVE-2024-21626); getcwd() fails in a
	 * directory our root cannot reach.
	 */
	if (c->workdir && !getcwd(cwd, sizeof(cwd)))
		die("the working directory %s leads out of %s's root", c->workdir, c->image);
	KCALL(image_env_add(&c->envp, "HOME", u.home), "set HOME to %s", u.home);
	if (u.uid == 0 && u.gid == 0)
		return;
	if (!c->rootless)
		KCALL(setgroups((size_t)u.ngroups, u.groups), "take the groups of user %s",
		      c->user);
	KCALL(setresgid(u.gid, u.gid, u.gid), "become group %u", u.gid);
	KCALL(setresuid(u.uid, u.uid, u.uid), "become user %u (%s)", u.uid, c->user);
	/* Changing ids cleared "die with the runtime" (step 06): ask again. */
	/* lesson 11: an exec'd process has no runtime to die with */
	if (c->sync[SYNC_CHILD] >= 0)
		die_with_runtime(c);
	/* end of lesson 11 */
}

/*
 * Container root is root of its namespaces only, yet each capability it
 * holds there still opens kernel code that no namespace wraps: mount
 * reaches filesystem drivers, a new user namespace hands back a full set.
 * The bounding set is the most any program we start can ever get, even
 * a setuid-root one: cut it first, while we hold CAP_SETPCAP, which
 * cutting takes.
 */
static void limit_bounding_set(const struct config *c)
{
	char names[1024];

	KCALL(caps_limit_bounding(c->caps), "keep only %s in the bounding set",
	      caps_text(c->caps, names, sizeof(names)));
}

/*
 * Then the sets the command starts with: permitted and effective the
 * kept ones (a user other than root lost them when its ids changed),
 * inheritable and ambient none, so nothing passes through an execve.
 */
static void set_capabilities(const struct config *c)
{
	KCALL(caps_set(c->caps), "keep only those in the permitted and effective sets");
}

/*
 * The seccomp filter is a BPF program the kernel runs on every system
 * call: docker's list allowed, the dangerous ones EPERM, the rest ENOSYS.
 * libseccomp writes it, in a few milliseconds that the child spends
 * first thing, while the parent is busy with its id maps.
 */
static void build_seccomp_filter(struct config *c)
{
	if (c->seccomp)
		KCALL(filter_build(c->caps, &c->filter), "build the seccomp filter");
}

/*
 * Once loaded, the filter judges every call, ours included.  Loading one
 * takes no_new_privs, or CAP_SYS_ADMIN.  With no_new_privs it goes last;
 * without it, it must go before the capabilities do, and let through the
 * calls still to come (setresuid, capset: it does).
 */
static void load_seccomp_filter(struct config *c)
{
	if (!c->seccomp)
		return;
	KCALL(sys_seccomp(SECCOMP_SET_MODE_FILTER, 0, &c->filter.prog),
	      "load the seccomp filter, %u BPF instructions", c->filter.prog.len);
	narrate("the filter: %d calls allowed, %d refused with EPERM, %d answered ENOSYS",
		c->filter.counts.allowed, c->filter.counts.refused, c->filter.counts.enosys);
}

/* lesson 11: the restrictions, in one place for run and exec */
/*
 * The last things the first process does before it becomes COMMAND, in
 * the kernel's order (step 10).  exec puts every process it starts
 * through them too: joining the container's namespaces gave that process
 * every capability container root can have, and no filter at all.
 */
static void restrict_process(struct config *c)
{
	limit_bounding_set(c);
	if (!c->no_new_privs)
		load_seccomp_filter(c);
	become_image_user(c);
	set_capabilities(c);
	if (c->no_new_privs) {
		KCALL(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0),
		      "let no program we run gain privileges: setuid bits and file capabilities do nothing");
		load_seccomp_filter(c);
	}
}
/* end of lesson 11 */

/* The child: set up the container from inside, then become COMMAND. */
static int container_main(void *arg)
{
	struct config *c = arg;

	join_cgroup(c);
	build_seccomp_filter(c);
	wait_for_parent(c);
	become_container_root(c);
	die_with_runtime(c);
	enter_new_cgroup_namespace();
	set_hostname(c);
	set_up_network(c);
	enter_new_time_namespace();
	make_mounts_private();
	attach_layers(c);
	bind_rootfs(c);
	mount_idmapped_rootfs(c);
	mount_overlay(c);
	make_mount_points(c);
	mount_proc(c);
	mount_sys(c);
	mount_cgroup(c);
	mount_dev(c);
	mount_tmp(c);
	protect_proc(c);
	pivot_to_rootfs(c);
	/* lesson 11: the restrictions exec shares */
	restrict_process(c);
	/* end of lesson 11 */
	exec_command(c);
}

/* Told of each layer as it lands in the store. */
static void report_layer(const char *diff_id, const struct unpack_stats *st)
{
	printf("layer %.19s: %llu bytes in %u files\n", diff_id, st->size, st->entries);
	if (st->devices)
		narrate("left out %u device nodes of layer %.19s: a container's /dev is its own",
			st->devices, diff_id);
}

static void import_image(struct store *s, const char *path)
{
	struct import_result r;
	char err[1024];
	int i;

	if (image_import(s, path, &r, report_layer, err, sizeof(err)) < 0)
		die("cannot import \"%s\": %s", path, err);
	for (i = 0; i < r.count; i++)
		printf("imported %s: %d layers, %d new\n", r.names[i][0] ? r.names[i] : "<none>",
		       r.layers, r.unpacked);
}

/* REPOSITORY, TAG, IMAGE ID (the config's digest, cut), CREATED, SIZE: as docker lists them. */
static void list_images(const struct store *s)
{
	struct stored_image *list;
	char err[512];
	int count, i, j;

	if (store_list(s, &list, &count, err, sizeof(err)) < 0)
		die("cannot list the images: %s", err);
	printf("%-32s %-10s %-14s %-12s %s\n", "REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE");
	for (i = 0; i < count; i++) {
		struct manifest m;
		struct image_config c;
		struct image_ref ref;
		char repo[512] = "<none>";
		long long size = 0;

		if (image_open(s, &list[i], &m, &c, err, sizeof(err)) < 0)
			continue;
		if (ref_parse(list[i].name, &ref, NULL) == 0)
			ref_repository(&ref, repo, sizeof(repo));
		for (j = 0; j < c.count; j++)
			size += store_layer_size(s, c.diff_ids[j]);
		printf("%-32s %-10s %-14.12s %-12.10s %.1fMB\n", repo,
		       ref.tag[0] ? ref.tag : "<none>", digest_hex(list[i].config),
		       c.created ? c.created : "", size / 1e6);
		config_free(&c);
		manifest_free(&m);
	}
	free(list);
}

/*
 * Told as a layer's bytes arrive: on a terminal, one line per layer
 * redrawn in place; otherwise (a log, CI) only the line at its end.
 */
static void report_download(const char *digest, long long done, long long total, int finished)
{
	int tty = isatty(STDOUT_FILENO);

	if (finished == 2)
		printf("%.19s: already in the store\n", digest);
	else if (finished)
		printf("%s%.19s: pulled, %lld bytes\n", tty ? "\r\033[K" : "", digest, total);
	else if (tty && total > 0)
		printf("\r\033[K%.19s: %3lld%% of %lld bytes", digest, done * 100 / total, total);
	fflush(stdout);
}

static void pull_image(const struct config *c, struct store *s)
{
	struct pull_options o = { c->cert_dir, c->insecure_registry, c->platform };
	struct import_result r;
	struct image_ref ref;
	const char *why;
	char err[1024];

	if (ref_parse(c->args[0], &ref, &why) < 0)
		die("cannot pull \"%s\": %s", c->args[0], why);
	if (registry_pull(s, &ref, &o, &r, report_download, err, sizeof(err)) < 0)
		die("cannot pull %s: %s", c->args[0], err);
	printf("pulled %s: %d layers, %d new\n", r.names[0], r.layers, r.unpacked);
}

/* Take the names off, then remove what no image needs any more. */
static void remove_images(struct store *s, char **names)
{
	char err[512];
	int blobs, layers;

	for (; *names; names++) {
		if (store_untag(s, *names, err, sizeof(err)) < 0)
			die("cannot remove \"%s\": %s", *names, err);
		printf("untagged %s\n", *names);
	}
	if (store_gc(s, &blobs, &layers, err, sizeof(err)) < 0)
		die("%s", err);
	printf("deleted %d layers and %d blobs no image needs\n", layers, blobs);
}

/* The commands other than run: they only change the store. */
static int image_command(struct config *c)
{
	struct store s;
	char err[512];

	if (store_open(&s, c->command != CMD_IMAGES, err, sizeof(err)) < 0)
		die("%s", err);
	if (c->command == CMD_PULL)
		pull_image(c, &s);
	else if (c->command == CMD_IMAGE_IMPORT)
		import_image(&s, c->args[0]);
	else if (c->command == CMD_IMAGES)
		list_images(&s);
	else if (c->command == CMD_IMAGE_RM)
		remove_images(&s, c->args);
	store_close(&s);
	return 0;
}

/*
 * IMAGE is looked up in the store, which stays locked (shared) until the
 * run ends, so that image rm waits.  Without COMMAND, the image's
 * Entrypoint and Cmd run, with its Env, WorkingDir and User; -e, -w, -u
 * and --entrypoint change them, as docker's options do.
 */
static void open_image(struct config *c)
{
	struct image_config *ic = calloc(1, sizeof(*ic));
	struct stored_image im;
	struct image_ref ref;
	struct manifest m;
	struct store s;
	char name[600], path[PATH_MAX], err[1024];
	const char *why;
	int i;

	if (c->from_image) {
		if (ref_parse(c->image, &ref, &why) < 0)
			die("ROOTFS \"%s\" does not exist (build one with 'make rootfs'), and it is no image name either: %s",
			    c->image, why);
		ref_format(&ref, name, sizeof(name));
		if (store_open(&s, 0, err, sizeof(err)) < 0)
			die("%s", err);
		if (store_find(&s, name, &im) < 0 && store_find(&s, c->image, &im) < 0)
			die("no image %s in the store, and no directory \"%s\": pull it (container pull %s) or import it (container image import PATH)",
			    name, c->image, c->image);
		if (image_open(&s, &im, &m, ic, err, sizeof(err)) < 0)
			die("cannot run %s: %s", name, err);
		if (ic->count < 1 || ic->count > MAX_IMAGE_LAYERS)
			die("cannot run %s: it has %d layers; boxlab runs 1 to %d", name, ic->count,
			    MAX_IMAGE_LAYERS);
		for (i = 0; i < ic->count; i++) {
			store_layer_path(&s, ic->diff_ids[i], path, sizeof(path));
			c->image_layers[i] = strdup(path);
			c->layer_fds[i] = -1;
		}
		c->nimage_layers = ic->count;
		c->store_lock = s.lock;
		manifest_free(&m);
		narrate("image %s: %d layers, config %.19s", name, ic->count, im.config);
	}
	c->image_config = ic;
	c->argv = image_argv(ic, c->entrypoint, c->argv, err, sizeof(err));
	if (!c->argv)
		die("cannot run %s: %s", c->image, err);
	c->envp = image_env(ic, c->env, c->nenv);
	if (!c->workdir && ic->workdir && ic->workdir[0])
		c->workdir = ic->workdir;
	if (!c->user && ic->user && ic->user[0])
		c->user = ic->user;
}

/* What open_image() took, given back after the run. */
static void close_image(struct config *c)
{
	int i;

	for (i = 0; i < c->nimage_layers; i++)
		free(c->image_layers[i]);
	c->nimage_layers = 0;
	if (c->image_config) {
		free(c->argv);
		image_env_free(c->envp);
		config_free(c->image_config);
		free(c->image_config);
		c->image_config = NULL;
	}
}

/* The sweep removes; the step says what it removed, or why not. */
static void report_leftover(const char *id, const char *what, int err)
{
	if (err)
		warn("container %s: cannot remove %s: %s, leaving it", id, what, errno_name(err));
	else
		warn("removed what container %s left behind when its runtime was killed: %s", id,
		     what);
}

/* A runtime killed with SIGKILL could not clean up: do it for it. */
static void take_state_file(struct config *c)
{
	KCALL_TOLERATED(sweep_leftovers(c, report_leftover),
			"remove what killed runtimes left behind");
	c->state_lock = (int)KCALL(state_lock(c), "take this container's state file");
}

/* lesson 11: a name, and a monitor for a detached container */
/* --name: one container each, and taken in the record before anything is made. */
static void claim_name(struct config *c)
{
	if (record_claim_name(c, c->state_lock) == 0)
		return;
	if (errno == EEXIST)
		die("the name \"%s\" is taken by another container: remove it (container rm %s) or choose another --name",
		    c->name, c->name);
	kcall_fail(EXIT_RUNTIME_FAILED, errno, "record_claim_name(c, c->state_lock)",
		   "claim the name \"%s\"", c->name);
}

/*
 * -d: the runtime splits in two.  The child goes on as the monitor, the
 * container's parent: it must be there to reap the container's first
 * process and keep its exit status, or the container's end would leave a
 * zombie and nobody to clean up.  In a session of its own it has no
 * terminal, so closing this one sends it no SIGHUP; it keeps none of the
 * descriptors it was given, which a shell may be waiting to see closed.
 * The parent waits until the container has started, says its id and
 * returns; if the monitor fails first, it prints what the monitor said.
 */
static void detach(struct config *c)
{
	int ready[2], log, devnull, status;
	char byte, text[4096];
	pid_t monitor;
	ssize_t n;
	off_t at = 0;

	KCALL(make_dirs(state_run_dir(c), 0700), "make %s", state_run_dir(c));
	log = (int)KCALL(
		open(record_log(c, c->id), O_RDWR | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600),
		"make the container's log, %s", record_log(c, c->id));
	devnull = (int)KCALL(open("/dev/null", O_RDONLY | O_CLOEXEC), "open /dev/null");
	KCALL(pipe2(ready, O_CLOEXEC), "make a pipe to hear that the container started");
	monitor = (pid_t)KCALL(fork(), "start the monitor");
	if (monitor == 0) {
		KCALL(setsid(), "leave the terminal's session for a session of our own");
		KCALL(dup2(devnull, STDIN_FILENO), "read from /dev/null");
		KCALL(dup2(log, STDOUT_FILENO), "write to the log");
		KCALL(dup2(log, STDERR_FILENO), "write our errors to the log too");
		close_range(3, (unsigned)ready[1] - 1, 0);
		close_range((unsigned)ready[1] + 1, ~0U, 0);
		c->ready = ready[1];
		return;
	}
	close(ready[1]);
	if (read(ready[0], &byte, 1) == 1) {
		printf("%s\n", c->id);
		exit(0);
	}
	waitpid(monitor, &status, 0);
	while ((n = pread(log, text, sizeof(text), at)) > 0 &&
	       write(STDERR_FILENO, text, (size_t)n) == n)
		at += n;
	unlink(record_log(c, c->id));
	exit(WIFEXITED(status) ? WEXITSTATUS(status) : EXIT_RUNTIME_FAILED);
}

/*
 * The container has started once its first process has become COMMAND:
 * its end of the sync socket closes then (SOCK_CLOEXEC), or when it dies.
 * Not before: exec must never join a container still building its root.
 */
static void wait_for_exec(const struct config *c)
{
	char byte;
	ssize_t n;

	do
		n = recv(c->sync[SYNC_PARENT], &byte, 1, 0);
	while (n > 0 || (n < 0 && errno == EINTR));
}

/* The container runs: the terminal may go. */
static void report_started(struct config *c)
{
	if (c->ready < 0)
		return;
	KCALL(write(c->ready, "", 1), "tell the terminal the container started");
	close(c->ready);
	c->ready = -1;
}
/* end of lesson 11 */

/* Where the runtime notes which /30 each container holds. */
#define SUBNET_DIR "/run/boxlab/subnets"

/* The child needs its address, so the /30 is claimed before clone. */
static void claim_subnet(struct config *c)
{
	if (!c->net_veth)
		return;
	KCALL(subnet_claim(SUBNET_DIR, getpid(), &c->subnet), "claim a /30 in %s", SUBNET_DIR);
	KCALL(state_note_subnet(c->state_lock, SUBNET_DIR, &c->subnet),
	      "note the claim in the runtime's state file");
	narrate("the container's /30: %s on the host's end, %s on its own", c->subnet.host,
		c->subnet.container);
}

/*
 * The container's cgroup, boxlab/ID, with its limits.  Rootless, only a
 * subtree the system delegated to us (systemd's user@UID.service on
 * cgroup v2) is ours to write; without one there are no limits.  Past
 * memory.max the OOM killer strikes inside the group; with swap allowed,
 * the group would page out instead.
 */
static void make_cgroup(struct config *c)
{
	enum cgroup_layout layout = cgroup_layout(CGROUP_ROOT);
	char parent[192] = CGROUP_PARENT;

	if (c->rootless &&
	    (layout != CGROUP_V2 ||
	     cgroup_delegated(CGROUP_ROOT, "/proc/self/cgroup", parent, sizeof(parent) - 7) < 0)) {
		if (c->memory || c->cpu_quota || c->pids_limit)
			warn("rootless: no cgroup delegated to you (%s), so no limits: on cgroup v2 with systemd, run under 'systemd-run --user --scope -p Delegate=yes', or run as root",
			     cgroup_layout_name(layout));
		return;
	}
	if (c->rootless)
		strcat(parent, "/" CGROUP_PARENT);
	KCALL(state_note_cgroup(c->state_lock, layout, CGROUP_ROOT, parent, c->id),
	      "note the cgroup in the runtime's state file");
	KCALL(cgroup_create(&c->cg, layout, CGROUP_ROOT, parent, c->id),
	      "make the container's cgroup, %s/%s (%s)", parent, c->id, cgroup_layout_name(layout));
	if (c->memory) {
		KCALL(cgroup_set(&c->cg, "memory.max", "%lld", c->memory), "limit its memory to %s",
		      c->memory_arg);
		KCALL_TOLERATED(cgroup_set(&c->cg, "memory.swap.max", "0"), "and its swap to none");
	}
	if (c->cpu_quota)
		KCALL(cgroup_set(&c->cg, "cpu.max", "%ld %d", c->cpu_quota, CPU_PERIOD),
		      "limit it to %s CPUs: %ldus of every %dus", c->cpus_arg, c->cpu_quota,
		      CPU_PERIOD);
	if (c->pids_limit)
		KCALL(cgroup_set(&c->cg, "pids.max", "%ld", c->pids_limit),
		      "limit it to %ld processes", c->pids_limit);
}

/*
 * STATE/ID: the parent makes it and hands it to container root, who makes
 * the overlay's dirs in it.  An overlay cannot keep its upper dir on
 * another overlay (as / is in most containers): say so before the kernel
 * says EINVAL.
 */
static void make_state_dir(struct config *c)
{
	const char *root = state_root(c);
	struct statfs fs;

	snprintf(c->state, sizeof(c->state), "%s/%s", root, c->id);
	snprintf(c->merged, sizeof(c->merged), "%s/root", c->state);
	KCALL(make_dirs(root, 0711), "make the home of the state dirs, %s", root);
	if (statfs(root, &fs) == 0 && fs.f_type == OVERLAYFS_SUPER_MAGIC)
		die("the state dir %s is on overlayfs, which cannot hold an overlay's upper dir: set BOXLAB_STATE_DIR to a directory on ext4, xfs, btrfs or tmpfs",
		    root);
	if (!c->keep)
		KCALL(state_note_dir(c->state_lock, c->state),
		      "note the state dir in the runtime's state file");
	KCALL(mkdir(c->state, 0700), "make the container's state dir %s", c->state);
	if (!c->rootless)
		KCALL(chown(c->state, (uid_t)c->userns_base, (gid_t)c->userns_base),
		      "give it to container root (host uid %ld)", c->userns_base);
}

/* The flags are the lesson: a namespace each. */
static pid_t start_container(struct config *c)
{
	int flags = SIGCHLD; /* tell the parent when the child ends */
	pid_t pid;

	flags |= CLONE_NEWPID; /* the command becomes PID 1 of a new tree */
	flags |= CLONE_NEWUTS; /* its own host name */
	flags |= CLONE_NEWIPC; /* its own System V IPC and POSIX queues */
	flags |= CLONE_NEWNS; /* its own mount table */
	flags |= CLONE_NEWUSER; /* its own user and group ids: root inside only */
	flags |= CLONE_NEWNET; /* its own interfaces, addresses, routes and ports */
	if (c->cg.fd >= 0) {
		pid = KCALL_TOLERATED(clone_into_cgroup(container_main, flags, c, c->cg.fd),
				      "start the container's first process in its cgroup");
		if (pid > 0)
			return pid;
	}
	pid = KCALL(clone(container_main, child_stack_top(), flags, c),
		    "start the container's first process");
	if (c->cg.made && c->cg.layout == CGROUP_V2)
		KCALL(cgroup_add(&c->cg, pid), "move it into its cgroup, %s", c->cg.rel);
	return pid;
}

/*
 * Sync 1, the parent's side.  A map is written once, by a process that
 * holds the ids it maps in the namespace outside: root may map any range;
 * anybody else only their own uid and gid.
 */
static void write_id_maps(const struct config *c)
{
	if (!c->rootless) {
		KCALL(write_file(in_proc(c->pid, "uid_map"), "0 %ld %d\n", c->userns_base,
				 USERNS_SIZE),
		      "map container uids 0-%d to host uids %ld-%ld", USERNS_SIZE - 1,
		      c->userns_base, c->userns_base + USERNS_SIZE - 1);
		KCALL(write_file(in_proc(c->pid, "gid_map"), "0 %ld %d\n", c->userns_base,
				 USERNS_SIZE),
		      "map container gids the same way");
		return;
	}
	KCALL(write_file(in_proc(c->pid, "uid_map"), "0 %d 1\n", geteuid()),
	      "map container root to your uid %d (rootless)", geteuid());
	/*
	 * Since Linux 3.19 an unprivileged gid_map needs setgroups() denied
	 * first: otherwise dropping a group could grant access (CVE-2014-8989).
	 */
	KCALL(write_file(in_proc(c->pid, "setgroups"), "deny"),
	      "give up setgroups() in the container");
	KCALL(write_file(in_proc(c->pid, "gid_map"), "0 %d 1\n", getegid()),
	      "map container group 0 to your gid %d", getegid());
}

/*
 * ROOTFS usually belongs to host root, who is nobody inside.  An id-mapped
 * mount (mount_setattr(2), Linux 5.12) shows it through the container's
 * map: owner 0 on disk reads as container root, and its writes are stored
 * as 0 again.  Only host root may make one; rootless, or on a filesystem
 * that cannot be id-mapped, the rootfs keeps its real owners.  The copy is
 * a peer of the host's mount, as every copy of a shared mount is: private,
 * or the container's mounts on it would show up on the host.
 */
static void idmap_rootfs(struct config *c)
{
	struct mount_attr attr = { .attr_set = MOUNT_ATTR_IDMAP, .propagation = MS_PRIVATE };
	int userns, tree;

	if (c->rootless)
		return;
	userns = (int)KCALL(open(in_proc(c->pid, "ns/user"), O_RDONLY | O_CLOEXEC),
			    "open the container's user namespace");
	tree = (int)KCALL(sys_open_tree(AT_FDCWD, c->rootfs,
					OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE),
			  "copy the mount of \"%s\", detached", c->rootfs);
	attr.userns_fd = (uint64_t)userns;
	if (KCALL_TOLERATED(
		    sys_mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)),
		    "show the copy through the container's id map") == 0)
		c->idmapped = tree;
	else
		close(tree);
	close(userns);
}

/*
 * The image's layers are host root's, as ROOTFS is: each gets the
 * id-mapped copy idmap_rootfs() makes of ROOTFS, sent to the child.
 */
static void idmap_layers(struct config *c)
{
	struct mount_attr attr = { .attr_set = MOUNT_ATTR_IDMAP, .propagation = MS_PRIVATE };
	int userns, i;

	if (c->rootless)
		return;
	userns = (int)KCALL(open(in_proc(c->pid, "ns/user"), O_RDONLY | O_CLOEXEC),
			    "open the container's user namespace");
	attr.userns_fd = (uint64_t)userns;
	for (i = 0; i < c->nimage_layers; i++) {
		c->layer_fds[i] = (int)KCALL(sys_open_tree(AT_FDCWD, c->image_layers[i],
							   OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC),
					     "copy layer %d, detached", i);
		KCALL_TOLERATED(
			sys_mount_setattr(c->layer_fds[i], "", AT_EMPTY_PATH, &attr, sizeof(attr)),
			"show layer %d through the container's id map", i);
	}
	close(userns);
}

/*
 * --ulimit's limits, and open files at 1024:524288 unless it names them
 * (common/cli.c says why).  The parent sets them on the child, which is
 * still waiting: raising a hard limit takes CAP_SYS_RESOURCE on the host,
 * which no capability inside a user namespace can stand for.
 */
static void set_ulimits(const struct config *c)
{
	const struct ulimit *u;
	struct rlimit r;

	for (u = c->ulimits; u < c->ulimits + c->nulimits; u++) {
		r.rlim_cur = u->soft;
		r.rlim_max = u->hard;
		KCALL(prlimit(c->pid, u->resource, &r, NULL),
		      "limit the container's %s to %llu:%llu", u->name, u->soft, u->hard);
	}
}

/* --net veth: the cable, one end on the host, the other born as eth0 inside. */
static void connect_veth(const struct config *c)
{
	int nl;

	if (!c->net_veth)
		return;
	nl = (int)KCALL(nl_open(), "open an rtnetlink socket on the host");
	KCALL(nl_veth_create(nl, c->host_link, "eth0", c->pid),
	      "make a veth pair: %s on the host, eth0 in the container", c->host_link);
	KCALL(nl_addr_add(nl, c->host_link, c->subnet.host, c->subnet.prefixlen),
	      "give %s the address %s/%d", c->host_link, c->subnet.host, c->subnet.prefixlen);
	KCALL(nl_link_up(nl, c->host_link), "bring up %s", c->host_link);
	close(nl);
}

/* Sync 1, the end: the child may go on, with the id-mapped ROOTFS if any. */
static void release_child(struct config *c)
{
	int i;

	close(c->sync[SYNC_CHILD]);
	if (c->from_image && !c->rootless)
		KCALL(sync_send_fds(c->sync[SYNC_PARENT], c->layer_fds, c->nimage_layers),
		      "sync 1: let the child go on, with a copy of each of the %d layers",
		      c->nimage_layers);
	else
		KCALL(sync_send(c->sync[SYNC_PARENT], c->idmapped), "sync 1: let the child go on");
	for (i = 0; i < c->nimage_layers; i++)
		if (c->layer_fds[i] >= 0)
			close(c->layer_fds[i]);
	if (c->idmapped >= 0)
		close(c->idmapped);
	c->idmapped = -1;
}

/* The exit status cannot tell an OOM kill from any other SIGKILL; the cgroup can. */
static void report_end(const struct config *c, int status)
{
	long long peak, usec;

	if (!c->cg.made)
		return;
	if (status == 128 + SIGKILL && cgroup_read(&c->cg, "memory.events", "oom_kill") > 0)
		warn("the container was killed by the OOM killer (memory limit %s)",
		     c->memory_arg ? c->memory_arg : "none: the host ran out");
	else if (status > 128)
		warn("the container was killed by signal %d (SIG%s)", status - 128,
		     sigabbrev_np(status - 128));
	peak = cgroup_read(&c->cg, "memory.peak", NULL);
	usec = cgroup_read(&c->cg, "cpu.stat", "usage_usec");
	if (peak >= 0)
		narrate("it used at most %lld KiB of memory", peak / 1024);
	if (usec >= 0)
		narrate("it used %lld.%03lld s of CPU time", usec / 1000000, usec / 1000 % 1000);
}

static void remove_cgroup(struct config *c)
{
	if (c->cg.made &&
	    KCALL_TOLERATED(cgroup_remove(&c->cg), "remove the cgroup %s", c->cg.rel) == 0)
		narrate("removed the cgroup %s", c->cg.rel);
}

/*
 * The veth dies with the container's network namespace, which the kernel
 * takes down in the background once nothing holds it.  A connection the
 * container has just closed holds it until the host acknowledges its FIN,
 * which needs the host end's address and route: leave them.  The next
 * claim skips a /30 whose address is still on a link.
 */
static void release_subnet(struct config *c)
{
	if (!c->net_veth || c->subnet.owner == 0)
		return;
	subnet_release(SUBNET_DIR, &c->subnet);
	narrate("released the container's /30 (%s and %s); the kernel deletes %s with the container's namespace",
		c->subnet.host, c->subnet.container, c->host_link);
	c->subnet.owner = 0;
}

/* --keep keeps it, for a look. */
static void remove_state_dir(struct config *c)
{
	if (!c->state[0])
		return;
	if (c->keep)
		warn("kept the state dir %s: the container's changes are in %s/upper (a deleted file is a whiteout there: a character device 0,0); remove it with rm -rf",
		     c->state, c->state);
	else if (KCALL_TOLERATED(remove_tree(c->state), "remove the state dir %s", c->state) < 0)
		return;
	c->state[0] = '\0';
}

/* What the state file notes must be gone first: else the next run tries again. */
static void release_state_file(struct config *c)
{
	if (c->cg.made)
		return;
	if (c->state[0])
		return;
	/* lesson 11: a detached container's record stays, until rm */
	if (c->detach && c->status >= 0) {
		KCALL_TOLERATED(record_finish(c->state_lock, c->status),
				"note in the container's record how it ended");
		close(c->state_lock);
	} else {
		if (c->detach)
			unlink(record_log(c, c->id));
		state_unlock(c, c->state_lock);
	}
	/* end of lesson 11 */
	c->state_lock = -1;
}

/* Undo, after the container or on a failure; each part may never have been made. */
static void clean_up(void *arg)
{
	struct config *c = arg;

	stop_container(&c->pid);
	remove_cgroup(c);
	release_subnet(c);
	remove_state_dir(c);
	close_image(c);
	release_state_file(c);
}

/* lesson 11: exec: join a running container */
/* CONTAINER, by id or name, after the sweep: a runtime killed with SIGKILL left no record. */
static void find_container(struct config *c, const char *name, struct record *r)
{
	KCALL_TOLERATED(sweep_leftovers(c, report_leftover),
			"remove what killed runtimes left behind");
	if (record_find(c, name, r) == 0)
		return;
	if (errno == ENOENT)
		die("no container \"%s\": 'container ps -a' lists them", name);
	kcall_fail(EXIT_RUNTIME_FAILED, errno, "record_find(c, name, r)", "find container %s",
		   name);
}

/*
 * CONTAINER, by id or name, and only a running one: the record names its
 * first process by pid and start time, and the pidfd is taken before the
 * start time is checked, so it can never be a later process with the
 * same pid.
 */
static void open_container(struct config *c, const char *name, struct record *r)
{
	find_container(c, name, r);
	if (r->running && !r->pid)
		die("container %s is still starting: try again in a moment", name);
	c->pidfd = record_pidfd(r);
	if (c->pidfd < 0 && errno == ESRCH && r->exited)
		die("container %s is not running: it exited with status %d ('container logs %s' shows what it wrote)",
		    name, r->status, name);
	if (c->pidfd < 0 && errno == ESRCH)
		die("container %s is not running: it is ending", name);
	if (c->pidfd < 0)
		kcall_fail(EXIT_RUNTIME_FAILED, errno, "sys_pidfd_open(r->pid, 0)",
			   "open a pidfd for container %s (pid %d on the host)", name, r->pid);
	c->pid = r->pid;
}

/*
 * What exec's process starts from: the restrictions and the user of the
 * container's first process (its record has them), that process's
 * environment, then -e, -w and -u.
 */
static void take_container_config(struct config *c, const struct record *r)
{
	struct image_config env = { 0 };
	int own_user = c->user != NULL;
	struct stat st;
	char **e;

	c->image = r->image;
	c->from_image = stat(r->image, &st) < 0;
	c->caps = r->caps;
	c->no_new_privs = r->no_new_privs;
	c->seccomp = r->seccomp;
	if (!c->user && r->user[0])
		c->user = r->user;
	if (!c->workdir && r->workdir[0])
		c->workdir = r->workdir;
	c->cg = r->cg;
	env.env = process_environ(c->pid);
	if (!env.env)
		kcall_fail(EXIT_RUNTIME_FAILED, errno, "process_environ(c->pid)",
			   "read the environment of the container's first process");
	/* exec -u: HOME is that user's, from the container's /etc/passwd */
	for (e = env.env; own_user && *e; e++)
		if (strncmp(*e, "HOME=", 5) == 0)
			**e = '\0';
	c->envp = image_env(&env, c->env, c->nenv);
}

/*
 * Resource limits belong to a process, not to a namespace: copy those of
 * the first process (step 10's --ulimit) onto ours, for the child to
 * inherit.  Raising one above our own takes CAP_SYS_RESOURCE on the host:
 * without it, that one stays ours.
 */
static void copy_limits(const struct config *c)
{
	struct rlimit r;
	int i;

	narrate("take the %d resource limits of the container's first process", RLIM_NLIMITS);
	for (i = 0; i < RLIM_NLIMITS; i++)
		if (prlimit(c->pid, i, NULL, &r) == 0)
			setrlimit(i, &r);
}

/*
 * Joining the namespaces made us root of the container's user namespace
 * with our host ids: take container root's ids, as its first process did.
 */
static void become_root_inside(const struct config *c)
{
	KCALL(setresgid(0, 0, 0), "become group 0 of the container");
	KCALL(setresuid(0, 0, 0), "become root of the container");
	if (!c->rootless)
		KCALL(setgroups(0, NULL), "drop the host's supplementary groups");
}

/*
 * exec's child: it was born in the container's user and PID namespaces,
 * and on v2 in its cgroup; on v1 it moves itself in, while it still sees
 * the host's cgroup mounts.  setns() with a pidfd then joins all the
 * other namespaces at once (Linux 5.8).  Joining the mount namespace puts
 * our root and working directory at its root, which pivot_root made the
 * container's.
 */
static int exec_main(void *arg)
{
	struct config *c = arg;

	join_cgroup(c);
	build_seccomp_filter(c);
	KCALL(setns(c->pidfd, CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET |
				      CLONE_NEWCGROUP | CLONE_NEWTIME),
	      "join the container's other namespaces at once");
	become_root_inside(c);
	restrict_process(c);
	exec_command(c);
}

/*
 * A process's PID namespace is fixed at its birth: setns(CLONE_NEWPID)
 * only says where our children will be born.  So exec forks, as nsenter
 * does.  Saying it takes CAP_SYS_ADMIN in our own user namespace, which
 * rootless we lack on the host: we join the container's first, and have
 * every capability there.  The other namespaces wait for the child: on
 * cgroup v1 it moves itself into the cgroup while it still sees the
 * host's cgroup mounts, and on v2 its birth in the cgroup is checked
 * against our cgroup namespace, which must still be the host's.  Born
 * there, it counts against the limits from its first instant.
 */
static pid_t start_exec(struct config *c)
{
	char path[PATH_MAX];

	KCALL(setns(c->pidfd, CLONE_NEWUSER | CLONE_NEWPID),
	      "join the container's user namespace, and make our children part of its PID namespace");
	if (c->cg.made && c->cg.layout == CGROUP_V2) {
		snprintf(path, sizeof(path), "%s/%s", c->cg.root, c->cg.rel);
		c->cg.fd = (int)KCALL(open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC),
				      "open the container's cgroup, %s", path);
		return (pid_t)KCALL(clone_into_cgroup(exec_main, SIGCHLD, c, c->cg.fd),
				    "start the command in the container's cgroup");
	}
	return (pid_t)KCALL(clone(exec_main, child_stack_top(), SIGCHLD, c), "start the command");
}

/*
 * Until it execs, our child is this program, in a PID namespace where
 * container root can see it.  Not dumpable, its memory and /proc/PID/exe
 * stay closed to container root, who could otherwise write to the
 * runtime's binary on the host through it (runc's CVE-2019-5736).
 */
static int exec_in_container(struct config *c)
{
	struct record r;

	open_container(c, c->args[0], &r);
	take_container_config(c, &r);
	copy_limits(c);
	KCALL(prctl(PR_SET_DUMPABLE, 0, 0, 0, 0), "keep container root out of our memory");
	c->pid = start_exec(c);
	return wait_for_container(c);
}
/* end of lesson 11 */

/* lesson 11: ps, logs, stop, kill and rm */
/* "5 s ago", "3 min ago": how long ago t was. */
static const char *ago(long long t, char *buf, size_t size)
{
	long long s = (long long)time(NULL) - t;

	if (s < 120)
		snprintf(buf, size, "%lld s ago", s);
	else if (s < 7200)
		snprintf(buf, size, "%lld min ago", s / 60);
	else
		snprintf(buf, size, "%lld h ago", s / 3600);
	return buf;
}

/* CONTAINER ID, NAME, IMAGE, COMMAND, CREATED, STATUS: from the records alone. */
static void list_containers(struct config *c)
{
	struct record *list, *r;
	char created[32], status[32];
	int count, i;

	KCALL_TOLERATED(sweep_leftovers(c, report_leftover),
			"remove what killed runtimes left behind");
	KCALL(record_list(c, &list, &count), "read the containers' records");
	printf("%-12s %-16s %-20s %-24s %-12s %s\n", "CONTAINER ID", "NAME", "IMAGE", "COMMAND",
	       "CREATED", "STATUS");
	for (i = 0; i < count; i++) {
		r = &list[i];
		if (!r->running && !c->all)
			continue;
		if (r->running && !r->pid)
			snprintf(status, sizeof(status), "starting");
		else if (r->running)
			snprintf(status, sizeof(status), "running");
		else if (r->exited)
			snprintf(status, sizeof(status), "exited (%d)", r->status);
		else
			snprintf(status, sizeof(status), "runtime killed");
		printf("%-12s %-16s %-20.20s %-24.24s %-12s %s\n", r->id,
		       r->name[0] ? r->name : "-", r->image, r->command,
		       r->created ? ago(r->created, created, sizeof(created)) : "-", status);
	}
	free(list);
}

static void print_logs(struct config *c)
{
	struct record r;

	find_container(c, c->args[0], &r);
	KCALL(record_print_log(c, &r, c->follow), "print the log of container %s", c->args[0]);
}

/*
 * A signal through a pidfd reaches the process the record names, or
 * nobody: 0, or -1 if that process has ended.  PID 1 of a PID namespace
 * gets only the signals it has a handler for (SIGKILL aside): a shell or
 * sleep as PID 1 ignores SIGTERM.
 */
static int signal_container(struct config *c, const char *name, struct record *r, int sig)
{
	if (!r->pid)
		die("container %s is still starting: try again in a moment", name);
	c->pidfd = record_pidfd(r);
	if (c->pidfd < 0 && errno == ESRCH)
		return -1;
	if (c->pidfd < 0)
		kcall_fail(EXIT_RUNTIME_FAILED, errno, "sys_pidfd_open(r->pid, 0)",
			   "open a pidfd for container %s (pid %d on the host)", name, r->pid);
	KCALL(sys_pidfd_send_signal(c->pidfd, sig), "send SIG%s to container %s", sigabbrev_np(sig),
	      name);
	return 0;
}

static void kill_containers(struct config *c)
{
	struct record r;
	char **name;

	for (name = c->args; *name; name++) {
		open_container(c, *name, &r);
		KCALL(sys_pidfd_send_signal(c->pidfd, c->signal), "send SIG%s to container %s",
		      sigabbrev_np(c->signal), *name);
		close(c->pidfd);
		printf("%s\n", *name);
	}
}

/*
 * Until the container's monitor has cleaned up and noted the end; then
 * the sweep, should the monitor itself have been killed.
 */
static void wait_for_monitor(struct config *c, const char *name, struct record *r)
{
	KCALL(record_wait(c, r), "wait for the runtime of %s to clean up", name);
	KCALL_TOLERATED(sweep_leftovers(c, report_leftover),
			"remove what killed runtimes left behind");
	r->running = 0;
}

/*
 * SIGTERM, then SIGKILL if it has not ended after -t seconds: a pidfd
 * polls readable when its process ends.  Then wait for the monitor to
 * clean up.  A container that has ended already is no error, as in docker.
 */
static void stop_containers(struct config *c)
{
	struct pollfd p = { .events = POLLIN };
	struct record r;
	char **name;

	for (name = c->args; *name; name++) {
		find_container(c, *name, &r);
		if (r.running && signal_container(c, *name, &r, SIGTERM) == 0) {
			p.fd = c->pidfd;
			if (poll(&p, 1, (int)c->stop_timeout * 1000) == 0) {
				narrate("container %s is still running after %ld s: SIGKILL", *name,
					c->stop_timeout);
				KCALL(sys_pidfd_send_signal(c->pidfd, SIGKILL),
				      "send SIGKILL to container %s", *name);
			}
			close(c->pidfd);
		}
		wait_for_monitor(c, *name, &r);
		printf("%s\n", *name);
	}
}

/* A record goes with its log; -f kills a running container first. */
static void remove_containers(struct config *c)
{
	struct record r;
	char **name;

	for (name = c->args; *name; name++) {
		find_container(c, *name, &r);
		if (r.running && !c->force)
			die("container %s is running: stop it first (container stop %s), or use rm -f",
			    *name, *name);
		if (r.running && signal_container(c, *name, &r, SIGKILL) == 0)
			close(c->pidfd);
		if (r.running)
			wait_for_monitor(c, *name, &r);
		/* the sweep has removed a killed monitor's record already */
		if (record_remove(c, &r) < 0 && errno != ENOENT)
			kcall_fail(EXIT_RUNTIME_FAILED, errno, "record_remove(c, &r)",
				   "remove the record and log of container %s", *name);
		printf("%s\n", *name);
	}
}

/* The commands other than run. */
static int other_command(struct config *c)
{
	switch (c->command) {
	case CMD_EXEC:
		return exec_in_container(c);
	case CMD_PS:
		list_containers(c);
		return 0;
	case CMD_LOGS:
		print_logs(c);
		return 0;
	case CMD_STOP:
		stop_containers(c);
		return 0;
	case CMD_KILL:
		kill_containers(c);
		return 0;
	case CMD_RM:
		remove_containers(c);
		return 0;
	default:
		return image_command(c);
	}
}
/* end of lesson 11 */

int main(int argc, char **argv)
{
	struct config c;
	int status;

	parse_command_line(&c, STEP, STEP_NAME, argc, argv);
	/* lesson 11: the commands of images and containers */
	if (c.command != CMD_RUN)
		return other_command(&c);
	/* end of lesson 11 */
	require_user_namespaces(&c);
	/* lesson 11: with -d, the monitor goes on from here */
	if (c.detach)
		detach(&c);
	/* end of lesson 11 */
	open_image(&c);
	take_state_file(&c);
	KCALL(sync_pair(c.sync), "make the parent/child sync socket");
	on_die(clean_up, &c);
	/* lesson 11: a name of its own */
	claim_name(&c);
	/* end of lesson 11 */
	claim_subnet(&c);
	make_cgroup(&c);
	make_state_dir(&c);
	c.pid = start_container(&c);
	write_id_maps(&c);
	if (c.from_image)
		idmap_layers(&c);
	else
		idmap_rootfs(&c);
	connect_veth(&c);
	set_ulimits(&c);
	release_child(&c);
	/* lesson 11: once it is COMMAND: its record, and the terminal may go */
	wait_for_exec(&c);
	KCALL(record_write(&c, c.state_lock), "note the container in its record");
	report_started(&c);
	/* end of lesson 11 */
	status = wait_for_container(&c);
	report_end(&c, status);
	clean_up(&c);
	return status;
}
