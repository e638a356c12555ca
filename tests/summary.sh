#!/usr/bin/env bash
# The closing line of `make test`: every TAP result under build/tap counted.
cd "$(dirname "$0")/.." || exit
shopt -s nullglob
files=(build/tap/*.tap)
passed=$(cat "${files[@]}" /dev/null | grep -E '^ok ' | grep -vc '# skip')
skipped=$(cat "${files[@]}" /dev/null | grep -E '^ok ' | grep -c '# skip')
failed=$(cat "${files[@]}" /dev/null | grep -c '^not ok ')
echo
echo "make test: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
