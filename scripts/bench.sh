#!/usr/bin/env bash
# make bench: what each step costs, beside the tools a learner could
# compare it with.
#
#   scripts/bench.sh        as root; RUNS, WARMUP, CONCURRENT and IMPORTS
#                           change the counts (200, 20, 100 and 5), BENCH_OUT where the
#                           figures go (build/bench; a relative path is
#                           taken from the top of the kit)
#
# It times /bin/true in a container, from start to teardown, for every
# step, and on the same rootfs in the same run for plain chroot, unshare
# with the same namespaces, bubblewrap (--unshare-all), crun and runc (an
# OCI bundle with step 08's namespaces, id map and limits).  The commands
# take turns (build/bench/timer), so that whatever drifts on the machine
# falls on all of them alike.  Step 09 runs twice more: the test image
# (tests/lib/mkimage.sh, three layers) from its store, and the same three
# layers given as directories, ROOTFS and --layer.  Then it starts
# CONCURRENT containers at once, step 08's and crun's, and counts
# containers per second, and times step 09's image import beside umoci
# unpack of the same layout, for the test image and for a minimal Debian.
# Last, exec: /bin/true run in a running container, step 11's exec beside
# crun exec, both containers with step 10's hardening, taking turns.
#
# It prints a table, the cost of each step's feature and the targets, and
# writes them with the raw figures to results.txt and as a bar chart to
# bench.svg in BENCH_OUT.  Nothing here is asserted: the figures are this
# machine's.
set -euo pipefail
cd "$(dirname "$0")/.."

readonly me="boxlab bench"
# work: the timer, which make builds, and the rootfs and bundle every
# command runs in.  out: what one run measured, so that a small run (the
# test's) need not overwrite a learner's figures.
readonly work=build/bench out=${BENCH_OUT:-build/bench}
readonly runs=${RUNS:-200} warmup=${WARMUP:-20} concurrent=${CONCURRENT:-100}
readonly limits=(--memory 64M --cpus 1 --pids-limit 64)
# step 09's images: the tests' busybox one and their Debian (make bench
# makes them)
readonly image=build/images/busybox-oci debian=build/images/debian-oci

say() { printf '%s: %s\n' "$me" "$*" >&2; }

# A tool we could not get is left out, with one line saying why.
skipped=()
have() {
	command -v "$1" >/dev/null && return 0
	skipped+=("$1: $2")
	return 1
}

# The bench's own copy of the learner's rootfs: no test or container run
# by hand has mounts in it while the clock runs.
make_rootfs() {
	rm -rf "$work/rootfs"
	cp -a rootfs "$work/rootfs"
}

# Step 09's: the test image in a store of the bench's own, and its three
# layers copied out of the store as directories (cp -a keeps overlay's
# whiteouts and opaque attribute), for a directory run of the same layers.
make_image() {
	local layer n=0
	rm -rf "$work/store" "$work/layers"
	BOXLAB_STORE_DIR=$PWD/$work/store step09-image/container image import "$image" >/dev/null
	mkdir -p "$work/layers"
	for layer in $(image_layers); do
		n=$((n + 1))
		cp -a "$work/store/layers/sha256/$layer/root" "$work/layers/$n"
	done
}

# The test image's layers in the store, bottom first: its config's diff_ids.
image_layers() {
	local config
	config=$(sed -n 's/.*"config": *"sha256:\([0-9a-f]*\)".*/\1/p' "$work/store/images.json" | head -n 1)
	grep -o 'sha256:[0-9a-f]\{64\}' "$work/store/blobs/sha256/$config" | sed 's/^sha256://'
}

# An OCI bundle as close to step 08 as the spec allows: the same seven
# namespaces but time (runc cannot make one), container ids 0-65535 as
# host ids 100000-165535, the same limits, a writable root, and the same
# mounts (/proc, /dev with devpts and shm, a read-only /sys, the masked and
# read-only /proc paths).
# json_names NAME...: "a","b",... for a JSON list.
json_names() {
	local IFS=,
	set -- "${@/#/\"}"
	echo "${*/%/\"}"
}

# The capabilities of step 10, and its seccomp filter, for crun's config:
# the names in the tables of common/seccomp/filter.c.  Its conditional
# rules (clone, socket, personality) are plain allows here.
harden_caps_json() {
	local caps
	caps=$(json_names CAP_CHOWN CAP_DAC_OVERRIDE CAP_FOWNER CAP_FSETID CAP_KILL CAP_SETGID \
		CAP_SETUID CAP_SETPCAP CAP_NET_BIND_SERVICE CAP_NET_RAW CAP_SYS_CHROOT CAP_MKNOD \
		CAP_AUDIT_WRITE CAP_SETFCAP)
	echo "    \"capabilities\": {\"bounding\": [$caps], \"effective\": [$caps], \"permitted\": [$caps]},"
}

harden_seccomp_json() {
	local allowed refused
	mapfile -t allowed < <(sed -n '/^static const char \*const allowed\[\] = {/,/^};/p' \
		common/seccomp/filter.c | grep -o '"[a-z0-9_]*"' | tr -d '"')
	mapfile -t refused < <(sed -n '/^} refused\[\] = {/,/^};/p' common/seccomp/filter.c |
		grep -o '{ "[a-z0-9_]*"' | tr -d '{" ')
	echo "    \"seccomp\": {\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": 38, \"syscalls\": ["
	echo "      {\"names\": [$(json_names "${allowed[@]}" clone socket personality)], \"action\": \"SCMP_ACT_ALLOW\"},"
	echo "      {\"names\": [$(json_names "${refused[@]}")], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 1}]},"
}

# write_bundle DIR [harden]: crun's and runc's bundle; with harden, step
# 10's capabilities and seccomp filter too.
write_bundle() {
	local dir=$1 caps="" seccomp=""
	mkdir -p "$dir"
	if [ "${2:-}" = harden ]; then
		caps=$(harden_caps_json)
		seccomp=$(harden_seccomp_json)
	fi
	cat >"$dir/config.json" <<EOF
{
  "ociVersion": "1.0.2",
  "process": {
    "terminal": false,
    "user": {"uid": 0, "gid": 0},
    "args": ["/bin/true"],
    "env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"],
    "cwd": "/",
$caps
    "noNewPrivileges": true
  },
  "root": {"path": "$PWD/$work/rootfs", "readonly": false},
  "hostname": "bench",
  "mounts": [
    {"destination": "/proc", "type": "proc", "source": "proc"},
    {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "mode=755", "size=64k"]},
    {"destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]},
    {"destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid", "noexec", "nodev", "mode=1777"]},
    {"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev", "mode=1777"]},
    {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]}
  ],
  "linux": {
$seccomp
    "uidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}],
    "gidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}],
    "namespaces": [{"type": "pid"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"},
                   {"type": "user"}, {"type": "network"}, {"type": "cgroup"}],
    "resources": {
      "memory": {"limit": 67108864, "swap": 67108864},
      "cpu": {"quota": 100000, "period": 100000},
      "pids": {"limit": 64}
    },
    "maskedPaths": ["/proc/keys", "/proc/timer_list"],
    "readonlyPaths": ["/proc/sys", "/proc/irq", "/proc/bus", "/proc/fs"]
  }
}
EOF
}

# One command a line for the timer: a label, then its arguments, by tabs.
command_line() {
	local IFS=$'\t'
	printf '%s\n' "$*"
}

write_commands() {
	local root=$PWD/$work/rootfs step n label
	have chroot "coreutils has no chroot here" &&
		command_line chroot chroot "$root" /bin/true
	have unshare "util-linux has no unshare here" &&
		command_line unshare unshare --fork --pid --mount --uts --ipc --net --cgroup --time \
			--user --map-root-user --root "$root" /bin/true
	have bwrap "bubblewrap could not be installed" &&
		command_line bwrap bwrap --unshare-all --bind "$root" / --proc /proc --dev /dev /bin/true
	for step in step[0-9][0-9]-*; do
		n=${step:4:2}
		label="step$n"
		case $n in
		0[1-6]) command_line "$label" "$step/container" run "$root" /bin/true ;;
		*) command_line "$label" "$step/container" run "${limits[@]}" "$root" /bin/true ;;
		esac
	done
	command_line "step08 veth" step08-overlay/container run --net veth "${limits[@]}" "$root" /bin/true
	command_line "step09 layers" step09-image/container run "${limits[@]}" --layer "$PWD/$work/layers/2" \
		--layer "$PWD/$work/layers/3" "$PWD/$work/layers/1" /bin/true
	command_line "step09 image" step09-image/container run "${limits[@]}" --entrypoint /bin/true \
		localhost/busybox-oci
	have crun "crun could not be installed" &&
		command_line crun crun run --bundle "$PWD/$work/bundle" "bench$$-%i" &&
		command_line "crun harden" crun run --bundle "$PWD/$work/bundle-harden" "bench$$-h%i"
	have runc "runc could not be installed" &&
		command_line runc runc run --bundle "$PWD/$work/bundle" "bench$$-%i"
	return 0
}

# The cgroup layout: v2, v1, or hybrid, cgroup v1 with an empty cgroup2
# mounted beside it (systemd's).  main reads it once into $layout.
cgroup_layout() {
	case $(stat -f -c %T /sys/fs/cgroup) in
	cgroup2fs) echo v2 ;;
	tmpfs)
		if [ "$(stat -f -c %T /sys/fs/cgroup/unified 2>/dev/null)" = cgroup2fs ]; then
			echo hybrid
		else
			echo v1
		fi
		;;
	*) echo v1 ;;
	esac
}

# hybrid is a layout crun refuses.  The runtimes below use only the v1
# hierarchies, so every command runs in a mount namespace of its own in
# which the empty cgroup2 is unmounted: for all of them alike.
in_bench_namespace() {
	if [ "$layout" = hybrid ]; then
		unshare --mount --propagation private sh -c 'umount /sys/fs/cgroup/unified && exec "$@"' sh "$@"
	else
		"$@"
	fi
}

# crun and runc keep a container's state in /run until it is deleted, so
# a bench killed mid-run leaves containers that a later run's names would
# collide with.  Ours are named bench<the bench's pid>-<run>: delete those
# whose bench is gone, and leave a bench that still runs its own.
remove_leftovers() {
	local tool id
	for tool in crun runc; do
		command -v "$tool" >/dev/null || continue
		for id in $("$tool" list -q 2>/dev/null || true); do
			[[ $id =~ ^bench([0-9]+)-[a-z0-9]+$ ]] || continue
			kill -0 "${BASH_REMATCH[1]}" 2>/dev/null && continue
			in_bench_namespace "$tool" delete -f "$id" >/dev/null 2>&1 ||
				say "could not delete $tool's leftover container $id"
		done
	done
	[ -x step11-exec/container ] || return 0
	for id in $(step11-exec/container ps -a | awk '$2 ~ /^bench[0-9]+-exec$/ { print $2 }'); do
		[[ $id =~ ^bench([0-9]+)- ]] && kill -0 "${BASH_REMATCH[1]}" 2>/dev/null && continue
		in_bench_namespace step11-exec/container rm -f "$id" >/dev/null ||
			say "could not remove step 11's leftover container $id"
	done
}

machine() {
	local v=v1
	[ "$layout" = v2 ] && v=v2
	printf '%s, %s CPUs, Linux %s, cgroup %s' "$(uname -m)" "$(nproc)" "$(uname -r)" "$v"
}

# The table, from the timer's lines: label median q1 q3 min maxrss runs.
table() {
	awk -F'\t' '
		{ label[NR] = $1; med[NR] = $2; q1[NR] = $3; q3[NR] = $4; rss[NR] = $6; n = NR
		  if ($1 == "step01") base = $2; if ($1 == "crun") crun = $2 }
		END {
			printf "%-13s %9s %15s %9s %8s %9s\n", "", "median ms", "middle half", "/ step01", "/ crun", "peak RSS"
			for (i = 1; i <= n; i++)
				printf "%-13s %9.2f %7.2f - %5.2f %9s %8s %6.1f MiB\n", label[i], med[i] / 1000,
					q1[i] / 1000, q3[i] / 1000,
					base ? sprintf("%.2f", med[i] / base) : "-",
					crun ? sprintf("%.2f", med[i] / crun) : "-", rss[i] / 1024
		}' "$out/times.tsv"
}

# What each step's feature costs: its median less the step before's.
costs() {
	awk -F'\t' '
		BEGIN {
			what["step02"] = "the PID namespace and its /proc"
			what["step03"] = "the UTS, IPC and time namespaces"
			what["step04"] = "the mount namespace, pivot_root and /dev"
			what["step05"] = "the user namespace and the id-mapped root"
			what["step06"] = "the network namespace and its loopback"
			what["step07"] = "the cgroup, three limits, the cgroup namespace"
			what["step08"] = "the overlayfs root and its state dir"
			what["step08 veth"] = "--net veth: the cable, its /30 and routes"
			what["step09"] = "step 09: the C library, loaded at run time"
			what["step09 image"] = "an image (id-mapped layers, its config), over dirs,"
			what["step10"] = "capabilities, no_new_privs, the seccomp filter"
			what["crun harden"] = "crun: the same capabilities and filter"
			what["step11"] = "the record a run keeps, for exec and ps"
			before["step02"] = "step01"; before["step03"] = "step02"; before["step04"] = "step03"
			before["step05"] = "step04"; before["step06"] = "step05"; before["step07"] = "step06"
			before["step08"] = "step07"; before["step08 veth"] = "step08"
			before["step09"] = "step08"; before["step09 image"] = "step09 layers"
			before["step10"] = "step09"; before["crun harden"] = "crun"
			before["step11"] = "step10"
		}
		{ med[$1] = $2; order[NR] = $1; n = NR }
		END {
			for (i = 1; i <= n; i++) {
				l = order[i]
				if (!(l in before) || !(before[l] in med))
					continue
				d = (med[l] - med[before[l]]) / 1000
				printf "%-57s %s%.2f ms\n", what[l] " adds", d < 0 ? "" : "+", d
			}
		}' "$out/times.tsv"
}

median_of() {
	awk -F'\t' -v l="$1" '$1 == l { print $2 }' "$out/times.tsv"
}

ratio() {
	local a=$1 b=$2
	[ -n "$a" ] && [ -n "$b" ] || { echo "-"; return; }
	awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", a / b }'
}

targets() {
	local s08 veth crun rss
	s08=$(median_of step08)
	veth=$(median_of "step08 veth")
	crun=$(median_of crun)
	rss=$(awk -F'\t' '$1 ~ /^step/ && $6 > m { m = $6 } END { printf "%.2f", m / 1024 }' "$out/times.tsv")
	if [ -n "$crun" ]; then
		printf 'step08, every feature but veth, / crun:  %s  (target: at most 0.5)\n' "$(ratio "$s08" "$crun")"
		printf 'step08 with --net veth, / crun:          %s  (target: at most 0.7)\n' "$(ratio "$veth" "$crun")"
	else
		echo "step08 / crun: no crun to compare with"
	fi
	printf 'step09 image / the same layers as dirs:   %s  (target: at most 1.10)\n' \
		"$(ratio "$(median_of "step09 image")" "$(median_of "step09 layers")")"
	[ -z "$(median_of step10)" ] || [ -z "$crun" ] ||
		printf 'step10 / crun with the same hardening:   %s  (target: at most 0.5)\n' \
			"$(ratio "$(median_of step10)" "$(median_of "crun harden")")"
	printf 'the runtime'"'"'s peak RSS, largest step:    %s MiB  (target: at most 2 MiB)\n' "$rss"
}

# imports NAME LAYOUT: step 09's import of LAYOUT beside umoci unpack of
# it, each into a directory of its own, taking turns, IMPORTS times:
# "NAME import MICROSECONDS" and "NAME umoci MICROSECONDS" lines.
imports() {
	local i t0
	for ((i = 0; i < ${IMPORTS:-5}; i++)); do
		rm -rf "$work/import-store" "$work/umoci-bundle"
		t0=$(date +%s%N)
		BOXLAB_STORE_DIR=$PWD/$work/import-store step09-image/container image import "$2" >/dev/null
		echo "$1 import $((($(date +%s%N) - t0) / 1000))"
		t0=$(date +%s%N)
		umoci unpack --image "$2:latest" "$work/umoci-bundle" >/dev/null 2>&1
		echo "$1 umoci $((($(date +%s%N) - t0) / 1000))"
	done
	rm -rf "$work/import-store" "$work/umoci-bundle"
}

# execs: /bin/true exec'd into a running container, step 11's beside
# crun's, taking turns, each container with step 10's hardening and the
# limits; the timer's lines in exec.tsv.
execs() {
	local id crun_id="bench$$-exec"
	[ -x step11-exec/container ] && have crun "crun could not be installed" || return 0
	write_bundle "$work/bundle-exec" harden
	sed -i 's|"args": \["/bin/true"\]|"args": ["/bin/sleep", "100000"]|' "$work/bundle-exec/config.json"
	id=$(in_bench_namespace step11-exec/container run -d --name "bench$$-exec" "${limits[@]}" \
		"$PWD/$work/rootfs" /bin/sleep 100000)
	# crun gives its container's standard streams to the container's root:
	# a file of our own, never the host's /dev/null
	: >"$work/exec-crun.out"
	in_bench_namespace crun run --detach --bundle "$PWD/$work/bundle-exec" "$crun_id" \
		<"$work/exec-crun.out" >"$work/exec-crun.out" 2>&1
	{
		command_line "step11 exec" step11-exec/container exec "$id" /bin/true
		command_line "crun exec" crun exec "$crun_id" /bin/true
	} >"$out/exec-commands"
	in_bench_namespace "$work/timer" -n "$runs" -w "$warmup" "$out/exec-commands" >"$out/exec.tsv"
	in_bench_namespace step11-exec/container rm -f "$id" >/dev/null
	in_bench_namespace crun delete -f "$crun_id"
	rm -f "$work/exec-crun.out"
}

# The medians of execs(), ms, and their ratio.
exec_line() {
	[ -s "$out/exec.tsv" ] || return 0
	awk -F'\t' '{ med[$1] = $2 / 1000 }
		END { printf "step11 exec of /bin/true: %.2f ms; crun exec of it: %.2f ms; step11 / crun: %.2f\n",
			med["step11 exec"], med["crun exec"], med["step11 exec"] / med["crun exec"] }' "$out/exec.tsv"
}

# A line an image, in the order they ran: the medians, ms, and their ratio.
import_table() {
	sort -k1,2 -k3n "$out/imports.txt" | awk '
		NR == FNR { if (!($1 in seen)) { seen[$1]; name[++images] = $1 }; next }
		{ v[$1, $2, ++n[$1, $2]] = $3 }
		END {
			for (k in n) { split(k, f, SUBSEP); med[k] = v[f[1], f[2], int((n[k] + 1) / 2)] / 1000 }
			for (i = 1; i <= images; i++) {
				im = med[name[i], "import"]; um = med[name[i], "umoci"]
				printf "step09 image import of the %s image: %.1f ms; umoci unpack of it: %.1f ms; import / umoci: %.2f  (target: at most 1.00)\n",
					name[i], im, um, im / um
			}
		}' "$out/imports.txt" -
}

# N containers at once: label N median-seconds-a-round failures.
throughput() {
	awk -F'\t' '{ printf "%-13s %d at once: %6.2f s, %6.0f containers/s, %d failed\n",
		$1, $2, $3 / 1e6, $2 / ($3 / 1e6), $4 }' "$out/concurrent.tsv"
}

# The bar chart: one bar a command, its median, the steps in one colour
# and the other tools in another.
svg() {
	awk -F'\t' -v title="/bin/true in a container, start to teardown: the median of $runs runs" \
		-v machine="$(machine)" '
		{ label[NR] = $1; med[NR] = $2 / 1000; if (med[NR] > max) max = med[NR]; n = NR }
		END {
			left = 110; width = 560; bar = 22; gap = 8; top = 64
			h = top + n * (bar + gap) + 40
			printf "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-family=\"sans-serif\" font-size=\"13\">\n", left + width + 90, h
			printf "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
			printf "<text x=\"10\" y=\"24\" font-size=\"14\" font-weight=\"bold\">%s</text>\n", title
			printf "<text x=\"10\" y=\"44\" fill=\"#4a5568\">%s</text>\n", machine
			for (i = 1; i <= n; i++) {
				y = top + (i - 1) * (bar + gap)
				w = med[i] / max * width
				colour = label[i] ~ /^step/ ? "#2b6cb0" : "#a0aec0"
				printf "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>\n", left - 8, y + bar - 6, label[i]
				printf "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\"/>\n", left, y, w, bar, colour
				printf "<text x=\"%.1f\" y=\"%d\">%.2f ms</text>\n", left + w + 6, y + bar - 6, med[i]
			}
			printf "<text x=\"%d\" y=\"%d\" fill=\"#4a5568\">blue: boxlab'"'"'s steps; grey: other tools on the same rootfs</text>\n", left, h - 14
			printf "</svg>\n"
		}' "$out/times.tsv"
}

main() {
	[ -d rootfs ] || { say "no rootfs/: run make rootfs first (make bench does)"; exit 1; }
	[ -x "$work/timer" ] || { say "no $work/timer: run make bench, which builds it"; exit 1; }
	layout=$(cgroup_layout)
	hybrid_note=""
	[ "$layout" = hybrid ] &&
		hybrid_note="cgroup v1 with an empty cgroup2 beside it, which crun refuses: every command ran in a mount namespace that hides the cgroup2"
	mkdir -p "$out"
	scripts/deps.sh bench ||
		say "some tools could not be installed: they are left out below"
	remove_leftovers
	make_rootfs
	make_image
	write_bundle "$work/bundle"
	write_bundle "$work/bundle-harden" harden
	write_commands >"$out/commands"
	awk -F'\t' '$1 == "step08" || $1 == "step08 veth" || $1 == "crun"' "$out/commands" >"$out/concurrent"

	say "timing $(wc -l <"$out/commands") commands, $runs runs each after $warmup warm-up rounds, taking turns"
	BOXLAB_STORE_DIR=$PWD/$work/store in_bench_namespace "$work/timer" -n "$runs" -w "$warmup" "$out/commands" >"$out/times.tsv"
	say "starting $concurrent at once, 3 rounds each"
	in_bench_namespace "$work/timer" -j "$concurrent" -n 3 "$out/concurrent" >"$out/concurrent.tsv"
	say "importing the test image and the Debian one ${IMPORTS:-5} times each, and unpacking them with umoci as often"
	{
		imports test "$image"
		imports Debian "$debian"
	} >"$out/imports.txt"
	say "exec'ing /bin/true into a running container, step 11's and crun's, $runs times each, taking turns"
	execs

	{
		echo "make bench: $(machine), $(date -u +%Y-%m-%d)"
		[ -n "$hybrid_note" ] && echo "($hybrid_note)"
		echo
		table
		echo
		costs
		echo
		throughput
		echo
		import_table
		exec_line
		echo
		targets
		for s in "${skipped[@]}"; do echo "skipped $s"; done
	} | tee "$out/results.txt"
	svg >"$out/bench.svg"
	echo
	echo "written: $out/results.txt, $out/bench.svg (raw figures: $out/times.tsv, $out/concurrent.tsv)"
}

main "$@"
