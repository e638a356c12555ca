# The image tests' fixtures: the test image in each form an image comes
# in (an OCI layout, an OCI tar, a docker-archive, zstd layers, a
# multi-platform index), a local registry to pull it from (plain HTTP,
# TLS, or behind a token server), and a listing of a store to show that
# it did not change; and a real distribution's image, a minimal Debian.
# Everything is made here from Debian's packages (umoci, skopeo,
# docker-registry, openssl, busybox-static, debootstrap), offline but for
# the one debootstrap: no image is kept in the repository.
#
# Loaded by bats files after common.bash: TOP is the repository, and
# TEST_TMP the test's own temporary directory, where the registries live.

# Where mkimage.sh is: next to this file.
IMAGE_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# skopeo ARGS...: skopeo without the host's signature policy.  The images
# are our own, made a moment ago; a host whose policy.json rejects
# unsigned images must not fail the tests.
_skopeo() {
	skopeo --insecure-policy "$@"
}

# test_image: print the path of the test image, an OCI layout with the
# tag "latest" made by mkimage.sh from busybox.  It is made again only
# when mkimage.sh or /bin/busybox is newer than it.
test_image() {
	_kept_image busybox-oci "$IMAGE_LIB_DIR/mkimage.sh /bin/busybox" busybox
}

# debian_image: print the path of the Debian image, an OCI layout with
# the tag "latest" made by mkimage.sh from a minimal Debian.  That Debian
# is debootstrapped once, from Debian's archive (about two minutes: a
# line on stderr says so), and kept as a tar beside the layout.
debian_image() {
	local tar=$TOP/build/images/debian-minbase.tar
	_image_is_fresh "$tar" "" ||
		echo "making a minimal Debian for the image tests with debootstrap: about two minutes, once" >&2
	_kept_image debian-minbase.tar "" debootstrap >/dev/null &&
		_kept_image debian-oci "$IMAGE_LIB_DIR/mkimage.sh $tar" debian "$tar"
}

# _kept_image NAME DEPS KIND [ARG]: print the path of build/images/NAME,
# made first by "mkimage.sh KIND PATH [ARG]" if it is missing or older
# than one of the files in DEPS (a list, by spaces).  It is made in a
# temporary directory and renamed into place under a lock, so that two
# tests starting together make it once, and a run killed halfway leaves
# nothing half made for the next one to use.
_kept_image() {
	local name=$1 deps=$2 kind=$3 dir=$TOP/build/images dest tmp fd status=0
	shift 3
	dest=$dir/$name
	if _image_is_fresh "$dest" "$deps"; then
		echo "$dest"
		return 0
	fi
	mkdir -p "$dir" || return 1
	exec {fd}>"$dir/.$name.lock" || return 1
	flock "$fd" || status=$?
	# Someone else may have made it while we waited for the lock.
	if [ "$status" -eq 0 ] && ! _image_is_fresh "$dest" "$deps"; then
		# Holding the lock, any temporary directory is a killed run's.
		rm -rf "$dir/.$name.tmp."*
		tmp=$(mktemp -d "$dir/.$name.tmp.XXXXXX") || status=$?
		if [ "$status" -eq 0 ]; then
			# The old one leaves by a rename too: a test still using
			# it sees either the old or the new one, never a mix.
			"$IMAGE_LIB_DIR/mkimage.sh" "$kind" "$tmp/$name" "$@" && touch "$tmp/$name" &&
				{ [ ! -e "$dest" ] || mv -T "$dest" "$tmp/old"; } &&
				mv -T "$tmp/$name" "$dest" || status=$?
			rm -rf "$tmp"
		fi
	fi
	exec {fd}>&-
	[ "$status" -eq 0 ] || return 1
	echo "$dest"
}

# _image_is_fresh PATH DEPS: PATH is there (it only ever appears whole)
# and not older than any file of DEPS.
_image_is_fresh() {
	local dep
	[ -e "$1" ] || return 1
	for dep in $2; do
		[ ! "$dep" -nt "$1" ] || return 1
	done
}

# docker_archive OUT [NAME:TAG]: write the test image as a docker-archive
# tar (what "docker save" writes) at OUT, replacing OUT.  Its RepoTags
# hold NAME:TAG as skopeo spells it, with the registry: the default
# test/busybox:latest is listed as "docker.io/test/busybox:latest".
docker_archive() {
	local out=$1 name=${2:-test/busybox:latest} img
	img=$(test_image) || return 1
	rm -f -- "$out"
	_skopeo copy -q "oci:$img:latest" "docker-archive:$out:$name"
}

# oci_archive OUT: the test image's layout as one tar at OUT (as
# "tar -C LAYOUT -cf OUT ." gives it: names start with "./").
oci_archive() {
	local img
	img=$(test_image) || return 1
	tar -C "$img" -cf "$1" .
}

# zstd_layout OUT: a copy of the test image at OUT whose layers are
# compressed with zstd (media type application/vnd.oci.image.layer.v1.tar+zstd).
zstd_layout() {
	local img
	img=$(test_image) || return 1
	_skopeo copy -q --dest-compress-format zstd "oci:$img:latest" "oci:$1:latest"
}

# multiarch_layout OUT: a layout at OUT whose tag "latest" names an image
# index (as Docker Hub serves for most images) with three entries:
#   - platform linux/amd64,
#   - platform linux/arm64 variant v8,
#   - platform unknown/unknown, annotated as Docker Hub annotates its
#     attestation manifests, pointing at the amd64 manifest.
# The machine's own entry is the test image; the other is its twin: the
# same layers and a config that differs only by its architecture.  Only
# the image on the machine's architecture can run, but a pull that picks
# the wrong entry shows in the config it stores.
multiarch_layout() {
	local out=$1 img index manifest config arch other twin
	local m_hex m_size c_hex c_size t_hex t_size tm_hex tm_size i_hex i_size
	local amd64 arm64 desc=application/vnd.oci.image.manifest.v1+json
	img=$(test_image) || return 1
	if [ -e "$out" ]; then
		echo "multiarch_layout: $out exists" >&2
		return 1
	fi
	cp -r "$img" "$out" || return 1
	# The test image's manifest (the one entry of index.json) and config.
	# umoci writes compact JSON, so plain matching finds the fields.
	index=$(<"$out/index.json")
	[[ $index =~ \"digest\":\"sha256:([0-9a-f]{64})\",\"size\":([0-9]+) ]] || {
		echo "multiarch_layout: no manifest in $out/index.json" >&2
		return 1
	}
	m_hex=${BASH_REMATCH[1]} m_size=${BASH_REMATCH[2]}
	manifest=$(<"$out/blobs/sha256/$m_hex")
	[[ $manifest =~ \"config\":\{[^}]*\"digest\":\"sha256:([0-9a-f]{64})\",\"size\":([0-9]+)\} ]] || {
		echo "multiarch_layout: no config in manifest sha256:$m_hex" >&2
		return 1
	}
	c_hex=${BASH_REMATCH[1]} c_size=${BASH_REMATCH[2]}
	config=$(<"$out/blobs/sha256/$c_hex")
	[[ $config =~ \"architecture\":\"([a-z0-9]+)\" ]] || {
		echo "multiarch_layout: no architecture in config sha256:$c_hex" >&2
		return 1
	}
	arch=${BASH_REMATCH[1]}
	case $arch in
	amd64) other='"architecture":"arm64","variant":"v8"' ;;
	arm64) other='"architecture":"amd64"' ;;
	*)
		echo "multiarch_layout: the test image is for $arch, not amd64 or arm64" >&2
		return 1
		;;
	esac
	# The twin: its config, then a manifest naming it.
	twin=${config/\"architecture\":\"$arch\"/$other}
	_image_add_blob "$out" "$twin" t_hex t_size || return 1
	manifest=${manifest/\"digest\":\"sha256:$c_hex\",\"size\":$c_size/\"digest\":\"sha256:$t_hex\",\"size\":$t_size}
	_image_add_blob "$out" "$manifest" tm_hex tm_size || return 1
	if [ "$arch" = amd64 ]; then
		amd64=$m_hex:$m_size arm64=$tm_hex:$tm_size
	else
		amd64=$tm_hex:$tm_size arm64=$m_hex:$m_size
	fi
	printf -v index '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[%s,%s,%s]}' \
		"{\"mediaType\":\"$desc\",\"digest\":\"sha256:${amd64%:*}\",\"size\":${amd64#*:},\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}}" \
		"{\"mediaType\":\"$desc\",\"digest\":\"sha256:${arm64%:*}\",\"size\":${arm64#*:},\"platform\":{\"architecture\":\"arm64\",\"os\":\"linux\",\"variant\":\"v8\"}}" \
		"{\"mediaType\":\"$desc\",\"digest\":\"sha256:${amd64%:*}\",\"size\":${amd64#*:},\"annotations\":{\"vnd.docker.reference.digest\":\"sha256:${amd64%:*}\",\"vnd.docker.reference.type\":\"attestation-manifest\"},\"platform\":{\"architecture\":\"unknown\",\"os\":\"unknown\"}}"
	_image_add_blob "$out" "$index" i_hex i_size || return 1
	printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.index.v1+json","digest":"sha256:%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"latest"}}]}' \
		"$i_hex" "$i_size" >"$out/index.json.tmp" &&
		mv "$out/index.json.tmp" "$out/index.json"
}

# _image_add_blob LAYOUT TEXT HEXVAR SIZEVAR: store TEXT as a blob of
# LAYOUT, named by its sha256; set HEXVAR and SIZEVAR to its digest (hex)
# and size in bytes.
_image_add_blob() {
	local tmp=$1/blobs/sha256/.new hex
	printf '%s' "$2" >"$tmp" || return 1
	hex=$(sha256sum "$tmp") || return 1
	hex=${hex%% *}
	printf -v "$3" %s "$hex"
	printf -v "$4" %s "$(wc -c <"$tmp")"
	mv "$tmp" "$1/blobs/sha256/$hex"
}

# start_registry [plain|tls|token]: start a registry (Debian's
# docker-registry) on 127.0.0.1 on a free port between 15000 and 15999,
# its config, data and log in $TEST_TMP/registry (the pushed blobs are in
# $TEST_TMP/registry/data, for tests that damage them).  Returns when
# /v2/ answers.  Sets and exports:
#   REGISTRY            its address, e.g. 127.0.0.1:15003
#   REGISTRY_PID        its process
#   REGISTRY_KIND       plain, tls or token
#   REGISTRY_DIR        $TEST_TMP/registry
# plain: HTTP, no authentication.
# tls: HTTPS with a certificate for IP 127.0.0.1 from a CA made for the
#   test; REGISTRY_CERT_DIR is a directory holding only that CA as ca.crt,
#   the layout podman's and skopeo's --cert-dir expect.
# token: HTTP, with docker's token authentication: the registry sends
#   clients to a token server (busybox httpd on another port, process
#   REGISTRY_TOKEN_PID) that hands anyone a token granting pull and push
#   on test/busybox only (set_registry_token changes that).
# Tests call stop_registry in their teardown.
start_registry() {
	local kind=${1:-plain} dir=$TEST_TMP/registry port v hide
	case $kind in
	plain | tls | token) ;;
	*)
		echo "start_registry: no registry kind \"$kind\" (plain, tls or token)" >&2
		return 1
		;;
	esac
	if [ -n "${REGISTRY_PID:-}" ]; then
		echo "start_registry: a registry is running already ($REGISTRY)" >&2
		return 1
	fi
	mkdir -p "$dir/data" || return 1
	export REGISTRY_KIND=$kind REGISTRY_DIR=$dir
	if [ "$kind" = tls ]; then
		_registry_certs "$dir/certs" || return 1
		export REGISTRY_CERT_DIR=$dir/certs/client
	fi
	if [ "$kind" = token ]; then
		_registry_token_server "$dir" || return 1
	fi
	# A port that looked free may be taken before the registry binds it
	# (tests run in parallel): then try another.
	for _ in 1 2 3 4 5; do
		port=$(_registry_free_port) || break
		hide=()
		for v in ${!REGISTRY*}; do
			hide+=(-u "$v")
		done
		_registry_config "$dir" "$kind" "$port" >"$dir/config.yml"
		# The registry reads every REGISTRY_* variable as a setting, ours
		# too: it gets none.
		env "${hide[@]}" docker-registry serve "$dir/config.yml" >"$dir/log" 2>&1 </dev/null 3>&- &
		export REGISTRY_PID=$! REGISTRY=127.0.0.1:$port
		if _registry_wait "$REGISTRY_PID" "$port" "$kind" "$dir/log"; then
			return 0
		fi
		_image_stop_pid "$REGISTRY_PID"
		unset REGISTRY_PID REGISTRY
		grep -q 'address already in use' "$dir/log" || break
	done
	echo "start_registry: the registry did not start: $(tail -n 1 "$dir/log" 2>/dev/null)" >&2
	stop_registry
	return 1
}

# _registry_config DIR KIND PORT: the registry's config, on stdout.
_registry_config() {
	local dir=$1 kind=$2 port=$3
	cat <<-EOF
		version: 0.1
		log:
		  level: error
		  accesslog:
		    disabled: true
		storage:
		  filesystem:
		    rootdirectory: "$dir/data"
		  delete:
		    enabled: true
		http:
		  addr: 127.0.0.1:$port
	EOF
	if [ "$kind" = tls ]; then
		cat <<-EOF
			  tls:
			    certificate: "$dir/certs/server.crt"
			    key: "$dir/certs/server.key"
		EOF
	fi
	if [ "$kind" = token ]; then
		cat <<-EOF
			auth:
			  token:
			    realm: "http://127.0.0.1:$REGISTRY_TOKEN_PORT/token"
			    service: boxlab-test
			    issuer: boxlab-test-issuer
			    rootcertbundle: "$dir/token/token.crt"
		EOF
	fi
}

# _registry_free_port: print a port in 15000-15999 that nothing listens
# on, starting from a random one so that parallel tests spread out.
_registry_free_port() {
	local used='' p i
	used=$(ss -Hltn 2>/dev/null | awk '{ print $4 }') || used=''
	for i in $(seq 50); do
		p=$((15000 + (RANDOM + BASHPID + i) % 1000))
		if [ -n "$used" ]; then
			grep -q ":$p\$" <<<"$used" && continue
		elif (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			continue
		fi
		echo "$p"
		return 0
	done
	echo "start_registry: no free port in 15000-15999" >&2
	return 1
}

# _http_status PORT PATH: the status code 127.0.0.1:PORT answers to a
# GET of PATH, through bash's /dev/tcp (no curl needed).
_http_status() {
	(
		exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
		printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1:%s\r\n\r\n' "$2" "$1" >&3
		read -r -t 5 _ code _ <&3 && echo "$code"
	) 2>/dev/null
}

# _https_status PORT PATH CAFILE: the same over TLS, checking the server's
# certificate against CAFILE for the address 127.0.0.1.
_https_status() {
	local line
	line=$(printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1:%s\r\n\r\n' "$2" "$1" |
		timeout 5 openssl s_client -quiet -verify_return_error -verify_ip 127.0.0.1 \
			-CAfile "$3" -connect "127.0.0.1:$1" 2>/dev/null | head -n 1) || true
	line=${line#* }
	echo "${line%% *}"
}

# _listens PID PORT: process PID listens on 127.0.0.1:PORT (and not
# someone else who took the port first).  Without ss, any listener.
_listens() {
	if command -v ss >/dev/null; then
		ss -Hltnp "sport = :$2" 2>/dev/null | grep -q "pid=$1,"
	else
		(exec 3<>"/dev/tcp/127.0.0.1/$2") 2>/dev/null
	fi
}

# _registry_wait PID PORT KIND LOG: wait up to 10 s until the registry
# answers on PORT; fail at once if it ends (its last words are in LOG).
_registry_wait() {
	local pid=$1 port=$2 kind=$3 want=200 code i
	[ "$kind" != token ] || want=401
	for i in $(seq 200); do
		kill -0 "$pid" 2>/dev/null || return 1
		if _listens "$pid" "$port"; then
			if [ "$kind" = tls ]; then
				code=$(_https_status "$port" /v2/ "$REGISTRY_CERT_DIR/ca.crt")
			else
				code=$(_http_status "$port" /v2/)
			fi
			[ "$code" = "$want" ] && return 0
			if [ -n "$code" ]; then
				echo "start_registry: /v2/ answered $code, not $want" >>"$4"
				return 1
			fi
		fi
		sleep 0.05
	done
	echo "start_registry: no answer on port $port after 10 s" >>"$4"
	return 1
}

# _registry_certs DIR: a CA and a certificate it signs for the address
# 127.0.0.1 (and the name localhost), in DIR; DIR/client/ca.crt is the CA
# alone, for clients.  EC keys: made in milliseconds, where RSA takes
# a tenth of a second or more.
_registry_certs() {
	local dir=$1 req
	mkdir -p "$dir/client" || return 1
	req=(openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
	{
		"${req[@]}" -x509 -days 1 -subj /CN=boxlab-test-ca \
			-addext basicConstraints=critical,CA:TRUE \
			-addext keyUsage=critical,keyCertSign,cRLSign \
			-keyout "$dir/ca.key" -out "$dir/ca.crt" &&
			"${req[@]}" -subj /CN=127.0.0.1 \
				-keyout "$dir/server.key" -out "$dir/server.csr" &&
			printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >"$dir/server.ext" &&
			openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" \
				-CAcreateserial -days 1 -extfile "$dir/server.ext" -out "$dir/server.crt" &&
			cp "$dir/ca.crt" "$dir/client/ca.crt"
	} >"$dir/openssl.log" 2>&1 || {
		echo "start_registry: cannot make the certificates: $(tail -n 1 "$dir/openssl.log")" >&2
		return 1
	}
}

# _registry_token_server DIR: the key that signs tokens and its
# certificate (which the registry trusts), a token for test/busybox, and
# busybox httpd serving it on a free port.  Sets and exports
# REGISTRY_TOKEN_PID and REGISTRY_TOKEN_PORT.
_registry_token_server() {
	local dir=$1 port i
	mkdir -p "$dir/token/www" || return 1
	# RS256, the algorithm every registry client knows; openssl signs.
	openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=boxlab-token \
		-keyout "$dir/token/token.key" -out "$dir/token/token.crt" >"$dir/token/openssl.log" 2>&1 || {
		echo "start_registry: cannot make the token key: $(tail -n 1 "$dir/token/openssl.log")" >&2
		return 1
	}
	set_registry_token test/busybox pull,push || return 1
	# An empty configuration: no host's /etc/httpd.conf applies.
	: >"$dir/token/httpd.conf"
	for _ in 1 2 3 4 5; do
		port=$(_registry_free_port) || return 1
		busybox httpd -f -p "127.0.0.1:$port" -h "$dir/token/www" -c "$dir/token/httpd.conf" \
			>"$dir/token/log" 2>&1 </dev/null 3>&- &
		export REGISTRY_TOKEN_PID=$! REGISTRY_TOKEN_PORT=$port
		for i in $(seq 100); do
			kill -0 "$REGISTRY_TOKEN_PID" 2>/dev/null || break
			if _listens "$REGISTRY_TOKEN_PID" "$port" &&
				[ "$(_http_status "$port" /token)" = 200 ]; then
				return 0
			fi
			sleep 0.05
		done
		_image_stop_pid "$REGISTRY_TOKEN_PID"
		unset REGISTRY_TOKEN_PID REGISTRY_TOKEN_PORT
	done
	echo "start_registry: the token server did not start: $(tail -n 1 "$dir/token/log")" >&2
	return 1
}

# set_registry_token REPO ACTIONS: from now on the token server of a
# "token" registry hands out a token granting ACTIONS (comma-separated:
# "pull,push", "pull", or "" for none) on repository REPO.  A token for
# another repository is how a test sees a registry refuse a pull.
# The token is a JWT (header.claims.signature, each base64url) signed
# RS256 with the key the registry trusts; its x5c header carries the
# certificate, which is how the registry finds the key.  Valid for an hour.
set_registry_token() {
	local dir=$REGISTRY_DIR/token repo=$1 actions='' a now x5c head claims sig
	for a in ${2//,/ }; do
		actions+="${actions:+,}\"$a\""
	done
	now=$(date +%s)
	x5c=$(openssl x509 -in "$dir/token.crt" -outform DER | base64 -w0) || return 1
	head=$(printf '{"alg":"RS256","typ":"JWT","x5c":["%s"]}' "$x5c" | _b64url)
	claims=$(printf '{"iss":"boxlab-test-issuer","sub":"","aud":"boxlab-test","exp":%d,"nbf":%d,"iat":%d,"jti":"%s","access":[{"type":"repository","name":"%s","actions":[%s]}]}' \
		$((now + 3600)) $((now - 60)) $((now - 60)) "$now-$RANDOM" "$repo" "$actions" | _b64url)
	sig=$(printf '%s.%s' "$head" "$claims" | openssl dgst -sha256 -sign "$dir/token.key" | _b64url)
	[ -n "$sig" ] || return 1
	printf '{"token":"%s.%s.%s","expires_in":3600}' "$head" "$claims" "$sig" >"$dir/www/token.tmp" &&
		mv "$dir/www/token.tmp" "$dir/www/token"
}

# Base64url without padding, as JWTs spell it.
_b64url() {
	base64 -w0 | tr '+/' '-_' | tr -d '='
}

# push_image LAYOUT[:TAG] REPO:TAG [SKOPEO-OPTIONS...]: copy an image of
# an OCI layout (tag "latest" if none) to the running registry as
# REPO:TAG, e.g. push_image "$(test_image)" test/busybox:latest.  The
# options go to skopeo copy: --all for every image of an index, --format
# v2s2 for docker's media types.  A token registry's token allows the
# push of test/busybox by anyone: no credentials are needed.
push_image() {
	local src=$1 dst=$2 layout tag=latest opts=()
	shift 2
	layout=$src
	# A tag follows the last colon, unless that colon is part of the path.
	if [[ $src == *:* && ${src##*:} != */* ]]; then
		layout=${src%:*} tag=${src##*:}
	fi
	if [ -z "${REGISTRY:-}" ]; then
		echo "push_image: no registry running (start_registry first)" >&2
		return 1
	fi
	case $REGISTRY_KIND in
	tls) opts=(--dest-cert-dir "$REGISTRY_CERT_DIR") ;;
	*) opts=(--dest-tls-verify=false) ;;
	esac
	_skopeo copy -q "${opts[@]}" "$@" "oci:$layout:$tag" "docker://$REGISTRY/$dst"
}

# stop_registry: stop the registry start_registry started, and its token
# server, by their process ids, and wait until they are gone.  Does
# nothing when none runs: safe to call from every teardown.
stop_registry() {
	local pid status=0
	for pid in "${REGISTRY_PID:-}" "${REGISTRY_TOKEN_PID:-}"; do
		[ -z "$pid" ] || _image_stop_pid "$pid" || status=1
	done
	unset REGISTRY REGISTRY_PID REGISTRY_KIND REGISTRY_CERT_DIR \
		REGISTRY_TOKEN_PID REGISTRY_TOKEN_PORT
	return "$status"
}

# _image_stop_pid PID: end one of our servers: SIGTERM, SIGKILL after
# about 3 s.  Only while the process still runs from our registry directory:
# once it is gone, its number could be given to anyone's.
_image_stop_pid() {
	local pid=$1 args=() i stat
	[ -n "${REGISTRY_DIR:-}" ] || return 0
	{ mapfile -d '' args <"/proc/$pid/cmdline"; } 2>/dev/null || return 0
	[[ "${args[*]}" == *"$REGISTRY_DIR/"* ]] || return 0
	kill "$pid" 2>/dev/null || return 0
	for i in $(seq 250); do
		{ read -r stat <"/proc/$pid/stat"; } 2>/dev/null || return 0
		stat=${stat##*) }
		if [ "${stat:0:1}" = Z ]; then
			# Ended.  If it is our child, reap it (bats' setup_file may
			# have started it from another shell: then its parent does).
			wait "$pid" 2>/dev/null || true
			return 0
		fi
		[ "$i" -ne 125 ] || kill -KILL "$pid" 2>/dev/null || true
		sleep 0.02
	done
	echo "stop_registry: process $pid does not end" >&2
	return 1
}

# store_listing DIR: every path under DIR (DIR itself as ".") with its
# type (find's %y: f, d, l, c...), mode, owner, group, size, and for a
# regular file its sha256 or for a symbolic link its target; sorted.
# Two listings differ when anything in DIR was added, removed, changed,
# chmod'ed or chown'ed.
#   store_listing "$STORE" >before; ...; store_listing "$STORE" | diff before -
store_listing() {
	local dir=$1
	[ -d "$dir" ] || {
		echo "store_listing: $dir is not a directory" >&2
		return 1
	}
	(
		cd "$dir" || exit 1
		export LC_ALL=C
		awk -F '\t' '
			FILENAME == ARGV[1] { sub(/  /, "\t"); split($0, h, "\t"); sum[h[2]] = h[1]; next }
			{
				line = $1 " " $2 " " $3 " " $4 ":" $5 " " $6
				if ($2 == "f")
					line = line " " sum[$1]
				else if ($2 == "l")
					line = line " -> " $7
				print line
			}' \
			<(find . -type f -exec sha256sum {} +) \
			<(find . -printf '%p\t%y\t%m\t%U\t%G\t%s\t%l\n') | sort
	)
}
