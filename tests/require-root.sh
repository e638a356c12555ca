#!/usr/bin/env bash
# require-root.sh WHAT: the tests create namespaces and mounts; say so
# plainly instead of failing a hundred checks with EPERM.
if [ "$(id -u)" -ne 0 ]; then
	echo "boxlab: $1 needs root (the checks create namespaces and mounts): run 'sudo $1'" >&2
	exit 1
fi
