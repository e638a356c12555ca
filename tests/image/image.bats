#!/usr/bin/env bats
# Step 09's images, end to end, as root: every form an image comes in
# (an OCI layout, its tar, a docker-archive, zstd layers), pulled from a
# real registry (docker-registry on 127.0.0.1: plain HTTP, TLS with a CA
# made here, behind a token server), the container's root compared path
# by path with umoci's unpacking of the same image, and each bad input
# refused in one line with status 125 and the store as it was.  The
# fixtures are made from Debian's packages: tests/lib/image.bash.

load ../lib/common
load ../lib/image

PROG=${STEP_NAMES[$STEP]}
IMAGE=localhost/busybox-oci:latest
HELLO="hello from app in /home/app"

setup() {
	load_libs
	[ "$STEP" -ge 9 ] || skip "images arrive in step 09"
	remember_host_state
	export BOXLAB_STORE_DIR=$TEST_TMP/store
}

teardown() {
	stop_registry
	assert_nothing_left
}

# import PATH: into the test's store, quietly.
import() {
	runtime image import "$1" >"$TEST_TMP/import.out" 2>&1 || {
		cat "$TEST_TMP/import.out"
		return 1
	}
}

# refused STATUS LINE CMD...: CMD fails with exit 125 and says LINE, and
# the store is as it was (nothing half made, nothing in tmp/).
refused() {
	local line=$1 before after
	shift
	runtime images >/dev/null
	before=$(store_listing "$BOXLAB_STORE_DIR")
	run "$@"
	after=$(store_listing "$BOXLAB_STORE_DIR")
	assert_failure 125
	assert_output "$line"
	[ "$before" = "$after" ] || fail "the store changed: $(diff <(echo "$before") <(echo "$after"))"
}

@test "image import: an OCI layout, its tar, a docker-archive and zstd layers run alike" {
	local layout
	layout=$(test_image)
	oci_archive "$TEST_TMP/oci.tar"
	docker_archive "$TEST_TMP/docker.tar"
	zstd_layout "$TEST_TMP/zstd"
	for from in "$layout" "$TEST_TMP/oci.tar" "$TEST_TMP/docker.tar" "$TEST_TMP/zstd"; do
		import "$from"
	done
	run runtime images
	assert_success
	assert_line --regexp '^localhost/busybox-oci +latest +[0-9a-f]{12} '
	assert_line --regexp '^localhost/oci +latest '
	assert_line --regexp '^test/busybox +latest '
	assert_line --regexp '^localhost/zstd +latest '
	for name in localhost/busybox-oci localhost/oci test/busybox localhost/zstd; do
		run runtime run "$name"
		assert_success
		assert_output "$HELLO"
	done
	# the same three layers, whatever the form
	[ "$(find "$BOXLAB_STORE_DIR/layers/sha256" -mindepth 1 -maxdepth 1 | wc -l)" = 3 ]
}

@test "the container's root equals umoci's unpacking of the image, path by path" {
	local inside outside
	import "$(test_image)"
	umoci unpack --image "$(test_image):latest" "$TEST_TMP/bundle" >/dev/null 2>&1
	# type, mode, owner, size (of files and links) and content, from inside
	# the container and from the reference on the host; /proc, /sys, /dev
	# and /tmp are the container's own mounts (the runtime makes the first
	# three, which this image lacks), so they are left out.
	inside=$(runtime run -u 0 "$IMAGE" -c 'cd / && find . -xdev ! -path "./proc*" ! -path "./sys*" ! -path "./dev*" ! -path "./tmp/*" | sort | while read -r p; do
		if [ -d "$p" ] && [ ! -L "$p" ]; then stat -c "%n %F %a %u:%g" "$p"
		elif [ -f "$p" ] && [ ! -L "$p" ]; then echo "$(stat -c "%n %F %a %u:%g %s" "$p") $(sha256sum <"$p" | cut -c1-64)"
		else stat -c "%n %F %a %u:%g %s" "$p"; fi; done')
	outside=$(cd "$TEST_TMP/bundle/rootfs" && find . -xdev ! -path "./proc*" ! -path "./sys*" ! -path "./dev*" ! -path "./tmp/*" | sort | while read -r p; do
		if [ -d "$p" ] && [ ! -L "$p" ]; then stat -c "%n %F %a %u:%g" "$p"
		elif [ -f "$p" ] && [ ! -L "$p" ]; then echo "$(stat -c "%n %F %a %u:%g %s" "$p") $(sha256sum <"$p" | cut -c1-64)"
		else stat -c "%n %F %a %u:%g %s" "$p"; fi; done)
	[ "$inside" = "$outside" ] || fail "$(diff <(echo "$outside") <(echo "$inside"))"
	echo "# $(wc -l <<<"$inside") paths equal: $(grep -c ' regular file ' <<<"$inside") files, $(grep -c ' directory ' <<<"$inside") directories, $(grep -c ' symbolic link ' <<<"$inside") links" >&3
}

@test "run: COMMAND replaces Cmd, --entrypoint replaces both, -e, -w and -u change the rest" {
	import "$(test_image)"
	run runtime run "$IMAGE" id
	assert_failure 2
	assert_output "/bin/sh: can't open 'id': No such file or directory"
	run runtime run --entrypoint /bin/id "$IMAGE" -un
	assert_output app
	run runtime run -e GREETING=bye -e HOME -w /made/here "$IMAGE"
	assert_output "bye from app in /made/here"
	run runtime run -u 0:50 --entrypoint /bin/id "$IMAGE"
	assert_output "uid=0(root) gid=50(staff) groups=50(staff)"
	run runtime run -u nobody "$IMAGE"
	assert_failure 125
	assert_output "$PROG: cannot run as user \"nobody\" of $IMAGE: unable to find user nobody: no matching entries in passwd file"
}

@test "pull: over plain HTTP from a registry on 127.0.0.1, by tag and by digest" {
	local digest
	start_registry plain
	push_image "$(test_image)" test/busybox:latest
	run runtime pull "$REGISTRY/test/busybox"
	assert_success
	assert_line "pulled $REGISTRY/test/busybox:latest: 3 layers, 3 new"
	run runtime run "$REGISTRY/test/busybox"
	assert_output "$HELLO"
	digest=$(runtime images | awk '{ print $3 }' | tail -1)
	run runtime pull "$REGISTRY/test/busybox:latest"
	assert_success
	assert_line --regexp ': already in the store$'
	run runtime run "$digest"
	assert_output "$HELLO"
}

@test "pull: over TLS with --cert-dir, and refused without it" {
	start_registry tls
	push_image "$(test_image)" test/busybox:latest
	refused "$PROG: cannot pull $REGISTRY/test/busybox: $REGISTRY speaks HTTPS, not plain HTTP: give its CA with --cert-dir DIR (DIR/ca.crt)" \
		runtime pull "$REGISTRY/test/busybox"
	run runtime pull --cert-dir "$REGISTRY_CERT_DIR" "$REGISTRY/test/busybox"
	assert_success
	run runtime run "$REGISTRY/test/busybox"
	assert_output "$HELLO"
}

@test "pull: through a token server, as from Docker Hub; a token for another repository is refused" {
	start_registry token
	push_image "$(test_image)" test/busybox:latest
	run runtime pull "$REGISTRY/test/busybox"
	assert_success
	set_registry_token test/other pull
	refused "$PROG: cannot pull $REGISTRY/test/busybox:v2: access denied to test/busybox at $REGISTRY: it does not exist or needs a login (the kit pulls anonymously)" \
		runtime pull "$REGISTRY/test/busybox:v2"
}

@test "pull: an index gives this machine's image, or the one --platform names" {
	multiarch_layout "$TEST_TMP/multi"
	start_registry plain
	push_image "$TEST_TMP/multi" test/multi:latest --all
	run runtime pull --platform linux/arm64 "$REGISTRY/test/multi"
	assert_success
	grep -q '"architecture":"arm64"' "$BOXLAB_STORE_DIR"/blobs/sha256/* || fail "no arm64 config in the store"
	refused "$PROG: cannot pull $REGISTRY/test/multi: test/multi:latest: no linux/s390x image in it (it has: linux/amd64, linux/arm64/v8)" \
		runtime pull --platform linux/s390x "$REGISTRY/test/multi"
}

@test "pull: a registry that is down, a name it does not have, a corrupt blob" {
	local port blob
	start_registry plain
	push_image "$(test_image)" test/busybox:latest
	refused "$PROG: cannot pull $REGISTRY/test/nope: test/nope:latest: not found in $REGISTRY" \
		runtime pull "$REGISTRY/test/nope"
	# the first layer's blob, changed in the registry's own storage
	blob=$(find "$REGISTRY_DIR/data" -path '*/blobs/sha256/*/data' -size +100k | head -1)
	printf 'X' | dd of="$blob" bs=1 seek=1000 conv=notrunc 2>/dev/null
	run runtime pull "$REGISTRY/test/busybox"
	assert_failure 125
	assert_output --regexp "^$PROG: cannot pull $REGISTRY/test/busybox: blob sha256:[0-9a-f]{12} has digest sha256:[0-9a-f]{12}: it is corrupt\$"
	[ -z "$(ls -A "$BOXLAB_STORE_DIR/tmp")" ] || fail "left in tmp: $(ls "$BOXLAB_STORE_DIR/tmp")"
	port=${REGISTRY##*:}
	stop_registry
	refused "$PROG: cannot pull 127.0.0.1:$port/test/busybox: cannot reach 127.0.0.1:$port: connection refused; is the registry running?" \
		runtime pull "127.0.0.1:$port/test/busybox"
}

@test "bad input: one line, status 125, the store as it was" {
	local copy blob size
	import "$(test_image)"
	refused "$PROG: cannot pull \"Busybox\": the repository name must be lowercase" runtime pull Busybox
	refused "$PROG: no image docker.io/library/nosuch:latest in the store, and no directory \"nosuch\": pull it (container pull nosuch) or import it (container image import PATH)" \
		runtime run nosuch
	refused "$PROG: cannot import \"$TEST_TMP\": \"$TEST_TMP\" is neither an OCI image layout (no oci-layout) nor a docker-archive (no manifest.json)" \
		runtime image import "$TEST_TMP"
	# a layer blob changed by one byte, and one cut short
	copy=$TEST_TMP/corrupt
	cp -r "$(test_image)" "$copy"
	blob=$(find "$copy/blobs/sha256" -size +100k | head -1)
	size=$(stat -c %s "$blob")
	printf 'X' | dd of="$blob" bs=1 seek=1000 conv=notrunc 2>/dev/null
	# a store that has none of its blobs yet
	export BOXLAB_STORE_DIR=$TEST_TMP/store2
	refused "$PROG: cannot import \"$copy\": blob sha256:$(basename "$blob" | cut -c1-12) has digest sha256:$(sha256sum "$blob" | cut -c1-12): it is corrupt" \
		runtime image import "$copy"
	truncate -s 1000 "$blob"
	refused "$PROG: cannot import \"$copy\": blob sha256:$(basename "$blob" | cut -c1-12) is 1000 bytes, not $size" \
		runtime image import "$copy"
	local commands="run, pull, images, image import or image rm"
	[ "$STEP" -lt 11 ] || commands="run, ps, exec, logs, stop, kill, rm, pull, images, image import or image rm"
	refused "$PROG: unknown command \"image\": use $commands (try --help)" runtime image frob
	refused "$PROG: cannot remove \"nosuch\": no image \"nosuch\" in the store" runtime image rm nosuch
}

@test "image rm: names go, then every layer and blob no image needs" {
	import "$(test_image)"
	oci_archive "$TEST_TMP/oci.tar"
	import "$TEST_TMP/oci.tar"
	run runtime image rm localhost/busybox-oci:latest
	assert_success
	assert_line "deleted 0 layers and 0 blobs no image needs"
	run runtime image rm localhost/oci:latest
	assert_line "deleted 3 layers and 5 blobs no image needs"
	[ -z "$(find "$BOXLAB_STORE_DIR/layers/sha256" "$BOXLAB_STORE_DIR/blobs/sha256" -mindepth 1)" ]
}

@test "an import killed half way leaves nothing the next one keeps" {
	local pid
	runtime image import "$(test_image)" >/dev/null 2>&1 &
	pid=$!
	sleep 0.05
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" || true
	import "$(test_image)"
	[ -z "$(ls -A "$BOXLAB_STORE_DIR/tmp")" ]
	run runtime run "$IMAGE"
	assert_output "$HELLO"
}
