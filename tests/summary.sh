#!/usr/bin/env bash
# The closing line of `make test`: every TAP result under build/tap counted,
# but the emulated machines': those are make test-vm's, test-arm64's and
# test-fresh's, which may run beside make test (as in CI) and finish first.
cd "$(dirname "$0")/.." || exit
shopt -s nullglob extglob
files=(build/tap/!(matrix-vm-*|fresh).tap)
passed=$(cat "${files[@]}" /dev/null | grep -E '^ok ' | grep -vc '# skip')
skipped=$(cat "${files[@]}" /dev/null | grep -E '^ok ' | grep -c '# skip')
failed=$(cat "${files[@]}" /dev/null | grep -c '^not ok ')
echo
echo "make test: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
