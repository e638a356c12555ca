/*
 * step08-overlay: a root of its own to write.
 *
 * Until now the container wrote straight into ROOTFS: two containers of
 * one image saw each other's files, and the image kept whatever a run
 * changed.  overlayfs (Linux 3.18; in a user namespace, 5.11) stacks
 * directories: read-only lower layers, the image at the bottom and any
 * --layer dirs above it, and one writable upper dir on top.  Reads find a
 * file in the highest layer that has it; the first write to a lower file
 * copies it up; deleting one leaves a "whiteout" in the upper dir, a
 * character device 0:0 that hides it.  So the image is never modified,
 * and each container's changes are one directory: the upper dir in its
 * state dir, removed when it ends (kept with --keep, for a look).
 *
 * The container mounts the overlay itself, in its own mount namespace,
 * and pivots into it.  This is the whole runtime: what it still lacks
 * next to docker or podman is in the last chapter of WORKSHOP.md.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
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
	KCALL(sync_recv(c->sync[SYNC_CHILD], &c->idmapped),
	      "sync 1: wait until the parent lets us go on");
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

/* lesson 08: an overlay as its root */
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
/* end of lesson 08 */

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

/* The child: set up the container from inside, then become COMMAND. */
static int container_main(void *arg)
{
	struct config *c = arg;

	join_cgroup(c);
	wait_for_parent(c);
	become_container_root(c);
	die_with_runtime(c);
	enter_new_cgroup_namespace();
	set_hostname(c);
	set_up_network(c);
	enter_new_time_namespace();
	make_mounts_private();
	bind_rootfs(c);
	mount_idmapped_rootfs(c);
	/* lesson 08: mount the overlay */
	mount_overlay(c);
	/* end of lesson 08 */
	mount_proc(c);
	mount_sys(c);
	mount_cgroup(c);
	mount_dev(c);
	mount_tmp(c);
	protect_proc(c);
	pivot_to_rootfs(c);
	exec_command(c);
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

/* lesson 08: a state dir for the overlay */
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
/* end of lesson 08 */

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
	close(c->sync[SYNC_CHILD]);
	KCALL(sync_send(c->sync[SYNC_PARENT], c->idmapped), "sync 1: let the child go on");
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

/* lesson 08: the state dir goes after the run */
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
/* end of lesson 08 */

/* What the state file notes must be gone first: else the next run tries again. */
static void release_state_file(struct config *c)
{
	if (c->cg.made)
		return;
	/* lesson 08: and the state dir */
	if (c->state[0])
		return;
	/* end of lesson 08 */
	state_unlock(c, c->state_lock);
	c->state_lock = -1;
}

/* Undo, after the container or on a failure; each part may never have been made. */
static void clean_up(void *arg)
{
	struct config *c = arg;

	stop_container(&c->pid);
	remove_cgroup(c);
	release_subnet(c);
	/* lesson 08: remove the state dir */
	remove_state_dir(c);
	/* end of lesson 08 */
	release_state_file(c);
}

int main(int argc, char **argv)
{
	struct config c;
	int status;

	parse_command_line(&c, STEP, STEP_NAME, argc, argv);
	require_user_namespaces(&c);
	take_state_file(&c);
	KCALL(sync_pair(c.sync), "make the parent/child sync socket");
	on_die(clean_up, &c);
	claim_subnet(&c);
	make_cgroup(&c);
	/* lesson 08: make its state dir */
	make_state_dir(&c);
	/* end of lesson 08 */
	c.pid = start_container(&c);
	write_id_maps(&c);
	idmap_rootfs(&c);
	connect_veth(&c);
	release_child(&c);
	status = wait_for_container(&c);
	report_end(&c, status);
	clean_up(&c);
	return status;
}
