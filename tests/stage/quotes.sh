#!/usr/bin/env bash
# tests/stage/quotes.sh [DOC...]: do the documents quote the code as it
# is?  DOC defaults to WORKSHOP.md, README.md and docs/*.md but for
# docs/answers.md, whose code is the exercises' changes to the kit.  Runs
# no container; tests/stage/stage.bats runs it.
#
#   ```c      Each piece of the block, the lines between two elisions,
#             must be found whole, in order and byte for byte (tabs
#             included), in one of the kit's C files: common/, its
#             subdirectories, the C of scripts/bench/ and tests/, or a
#             step*/container.c as it reads or as `make diff` shows it
#             (its lesson marks left out).
#   ```diff   Under "## Chapter N", a block is a part of `make diff
#             STEP=N`: each piece must be found in scripts/stepdiff.sh N.
#             Where no step has that diff, each + line must be a line of a
#             C file.
#
# An elision is a line that holds only "..." or "/* ... */"; a line that
# ends in " ..." is cut short: what it shows must begin the source's
# line, and the piece ends there.  A "/* 1 */" at the end of a line is
# the document's callout, for a numbered list below the block.  A block
# indented under a list item loses the indent of its fence.
#
# And a line that gives the size of `make diff STEP=N` ("changes 55
# lines", "adds 152 lines and removes 41", "157 lines added") must give
# the numbers of the diff's own summary, the "N insertions(+), M
# deletions(-)" of its first lines.
#
# Prints a line per mismatch, DOC:LINE and the first line that differs
# (tabs shown as \t), then a count; exits 1 if anything differs.
set -euo pipefail

docs=()
for doc in "$@"; do
	case $doc in
	/*) docs+=("$doc") ;;
	*) docs+=("$PWD/$doc") ;;
	esac
done
cd "$(dirname "$0")/../.."
top=$PWD
if [ ${#docs[@]} -eq 0 ]; then
	for doc in "$top/WORKSHOP.md" "$top/README.md" "$top"/docs/*.md; do
		[ "$doc" = "$top/docs/answers.md" ] || docs+=("$doc")
	done
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The sources, one "NAME<tab>FILE" line each: the C files as they read
# first (a mismatch names the nearest line in them), then each step as
# make diff shows it, then the diffs of make diff STEP=N.
for f in step[0-9][0-9]-*/container.c common/*.[ch] common/*/*.[ch] scripts/bench/*.c tests/*/*.c; do
	printf '%s\t%s\n' "$f" "$top/$f"
done >"$tmp/c"
for dir in step[0-9][0-9]-*/; do
	dir=${dir%/}
	scripts/stepdiff.sh --code "$dir" >"$tmp/code.$dir"
	printf '%s\t%s\n' "$dir/container.c as make diff shows it" "$tmp/code.$dir"
done >>"$tmp/c"
: >"$tmp/diffs"
for dir in step[0-9][0-9]-*/; do
	n=${dir#step}
	n=$((10#${n%%-*}))
	[ "$n" -ge 2 ] || continue
	BOXLAB_COLOUR=never scripts/stepdiff.sh "$n" >"$tmp/diff.$n"
	printf '%s\t%s\n' "$n" "$tmp/diff.$n" >>"$tmp/diffs"
done

status=0
awk -v csources="$tmp/c" -v diffsources="$tmp/diffs" -v top="$top/" '
function load(name, file,   line, k) {
	k = 0
	while ((getline line <file) > 0)
		src[name, ++k] = line
	close(file)
	srclen[name] = k
}

BEGIN {
	while ((getline line <csources) > 0) {
		split(line, f, "\t")
		cname[++ncsrc] = f[1]
		load(f[1], f[2])
	}
	while ((getline line <diffsources) > 0) {
		split(line, f, "\t")
		name = "make diff STEP=" f[1]
		diffname[f[1]] = name
		load(name, f[2])
		# git diff --stat: " 1 file changed, 43 insertions(+), 12 deletions(-)"
		ins[f[1]] = del[f[1]] = 0
		for (k = 1; k <= srclen[name]; k++) {
			if (src[name, k] !~ /file changed/)
				continue
			if (match(src[name, k], /[0-9]+ insertion/))
				ins[f[1]] = substr(src[name, k], RSTART, RLENGTH - 10) + 0
			if (match(src[name, k], /[0-9]+ deletion/))
				del[f[1]] = substr(src[name, k], RSTART, RLENGTH - 9) + 0
			break
		}
	}
	elision = "^[ \t]*(\\.\\.\\.|/\\* *\\.\\.\\. *\\*/)[ \t]*$"
}

function vis(s) {
	gsub(/\t/, "\\\\t", s)
	return "\"" s "\""
}

function mismatch(line, msg) {
	print doc ":" line ": " msg
	bad++
}

# Is doc line d source line s?  A line cut short (" ..." at its end, the
# last of its piece) need only begin s; a callout added by the document, a
# "/* 1 */" at the end, is not part of the source.
function same(d, s, cut) {
	if (d == s)
		return 1
	if (sub(/[ \t]+\/\* [0-9]+ \*\/$/, "", d) && d == s)
		return 1
	if (!cut)
		return 0
	sub(/ \.\.\.$/, "", d)
	return index(s, d) == 1
}

# How many characters a and b share at their start, indents (and the
# + or - of a diff) left out.
function common_prefix(a, b,   i, n) {
	sub(/^[-+]?[ \t]*/, "", a)
	sub(/^[-+]?[ \t]*/, "", b)
	n = length(a) < length(b) ? length(a) : length(b)
	for (i = 1; i <= n; i++)
		if (substr(a, i, 1) != substr(b, i, 1))
			break
	return i - 1
}

# Look for lines a..b of the block in the sources named in cand[1..ncand];
# say where they differ if they are in none.
function find_piece(a, b, what,   cut, i, s, p, k, best, bs, bp, d, near, cp, bestcp) {
	cut = blk[b] ~ / \.\.\.$/
	best = -1
	for (i = 1; i <= ncand; i++) {
		s = cand[i]
		for (p = 1; p <= srclen[s]; p++) {
			k = 0
			while (a + k <= b && p + k <= srclen[s] &&
			       same(blk[a + k], src[s, p + k], cut && a + k == b))
				k++
			if (a + k > b)
				return
			if (k > best) {
				best = k
				bs = s
				bp = p
			}
		}
	}
	d = a + best
	if (best > 0 && bp + best <= srclen[bs]) {
		near = bs ":" (bp + best) " has " vis(src[bs, bp + best])
	} else if (best > 0) {
		near = bs " ends after line " (bp + best - 1)
	} else {
		# Not even the first line: the line most like it.
		bestcp = 0
		for (i = 1; i <= ncand; i++)
			for (p = 1; p <= srclen[cand[i]]; p++) {
				cp = common_prefix(blk[d], src[cand[i], p])
				if (cp > bestcp) {
					bestcp = cp
					near = cand[i] ":" p " has " vis(src[cand[i], p])
				}
			}
		if (near == "")
			near = "no line is like it"
	}
	mismatch(blkno[d], "the " lang " block of line " start " " what ": " vis(blk[d]) "; " near)
}

function check_block(   i, p0) {
	nblocks[lang]++
	ncand = 0
	if (lang == "c" || !(chapter in diffname))
		for (i = 1; i <= ncsrc; i++)
			cand[++ncand] = cname[i]
	if (lang == "diff" && (chapter in diffname)) {
		cand[++ncand] = diffname[chapter]
	} else if (lang == "diff") {
		# No diff to hold it to: its + lines, each in some C file.
		for (i = 1; i <= n; i++)
			if (blk[i] ~ /^\+/ && blk[i] !~ /^\+\+\+ /) {
				sub(/^\+/, "", blk[i])
				npieces++
				find_piece(i, i, "adds a line that is in no C file")
			}
		return
	}
	p0 = 0
	for (i = 1; i <= n; i++) {
		if (blk[i] ~ elision) {
			if (p0) {
				npieces++
				find_piece(p0, i - 1, lang == "c" ? "differs from every C file" : "differs from " diffname[chapter])
			}
			p0 = 0
			continue
		}
		if (!p0)
			p0 = i
		if (blk[i] ~ / \.\.\.$/ || i == n) {
			npieces++
			find_piece(p0, i, lang == "c" ? "differs from every C file" : "differs from " diffname[chapter])
			p0 = 0
		}
	}
}

# The sizes a line gives of `make diff STEP=N`, against its --stat.
function check_sizes(text,   rest, step, said) {
	while (match(text, /`make diff STEP=[0-9]+`/)) {
		step = substr(text, RSTART + 16, RLENGTH - 17) + 0
		rest = substr(text, RSTART + RLENGTH)
		text = rest
		if (match(rest, /`make diff STEP=/))
			rest = substr(rest, 1, RSTART - 1)
		if (!(step in diffname))
			continue
		if (match(rest, /changes [0-9]+ lines/)) {
			said = substr(rest, RSTART + 8, RLENGTH - 14) + 0
			if (said != ins[step] + del[step])
				mismatch(FNR, "make diff STEP=" step " changes " ins[step] + del[step] " lines (" ins[step] " insertions, " del[step] " deletions), not " said)
		}
		if (match(rest, /adds [0-9]+ lines/) || match(rest, /[0-9]+ lines added/)) {
			said = substr(rest, RSTART, RLENGTH)
			gsub(/[^0-9]/, "", said)
			if (said + 0 != ins[step])
				mismatch(FNR, "make diff STEP=" step " adds " ins[step] " lines, not " said)
		}
		if (match(rest, /removes [0-9]+/) || match(rest, /[0-9]+ lines removed/)) {
			said = substr(rest, RSTART, RLENGTH)
			gsub(/[^0-9]/, "", said)
			if (said + 0 != del[step])
				mismatch(FNR, "make diff STEP=" step " removes " del[step] " lines, not " said)
		}
	}
}

FNR == 1 {
	doc = FILENAME
	if (index(doc, top) == 1)
		doc = substr(doc, length(top) + 1)
	inblock = 0
	chapter = -1
}

inblock && /^ *```[ \t]*$/ {
	if (lang == "c" || lang == "diff")
		check_block()
	inblock = 0
	next
}

inblock {
	line = $0
	for (i = 1; i <= indent && substr(line, 1, 1) == " "; i++)
		line = substr(line, 2)
	blk[++n] = line
	blkno[n] = FNR
	next
}

match($0, /^ *```/) {
	indent = RLENGTH - 3
	lang = substr($0, RLENGTH + 1)
	inblock = 1
	start = FNR
	n = 0
	next
}

/^## Chapter [0-9]+ / {
	chapter = $0
	sub(/^## Chapter /, "", chapter)
	sub(/ .*/, "", chapter)
	chapter += 0
}

/`make diff STEP=[0-9]+`/ {
	check_sizes($0)
}

END {
	if (inblock)
		mismatch(start, "a " lang " block that never ends")
	printf "quotes.sh: %d C blocks and %d diffs, %d pieces: ", nblocks["c"], nblocks["diff"], npieces
	if (bad) {
		printf "%d mismatch%s\n", bad, bad == 1 ? "" : "es"
		exit 1
	}
	print "each is the source as it is"
}
' "${docs[@]}" || status=$?
exit "$status"
