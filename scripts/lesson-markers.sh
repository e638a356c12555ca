# shellcheck shell=bash
# The lesson markers, spelled out here and nowhere else.  In each step's
# container.c the lesson is one or more regions, each the lines between
# two comments that stand on lines of their own, indented as the code
# around them:
#
#	/* lesson 04: a new mount namespace */
#	...
#	/* end of lesson 04 */
#
# The text after "lesson NN: " is the region's title.  scripts/lab.sh
# cuts handouts along the regions and finds each one's TODO text by its
# title; scripts/stepdiff.sh (make diff) leaves the markers out; the tests
# look for markers left behind.  All of them source this file.
#
# The patterns are extended regular expressions, for grep -E and awk
# alike, and hold no backslash (awk -v would read it as an escape).

# lesson_marker WHAT [NN]: the pattern of a marker of lesson NN (of any
# lesson without NN).  WHAT is one of:
#   start  the first line of a region
#   end    its last line
#   head   the start of a first line, up to its title (strip it, and
#   tail   what follows the title, to leave the title)
#   like   any line that looks like a marker, whether or not it is one
lesson_marker() {
	local nn=${2:-[0-9][0-9]}
	case $1 in
	head) printf '%s\n' "^[[:blank:]]*/[*] lesson $nn: " ;;
	tail) printf '%s\n' ' [*]/$' ;;
	start) printf '%s\n' "$(lesson_marker head "$nn").*$(lesson_marker tail)" ;;
	end) printf '%s\n' "^[[:blank:]]*/[*] end of lesson $nn [*]/\$" ;;
	like) printf '%s\n' "/[*][[:blank:]]*(end[[:blank:]]+of[[:blank:]]+)?lesson[[:blank:]]+$nn" ;;
	*)
		echo "lesson_marker: start, end, head, tail or like, not \"$1\"" >&2
		return 2
		;;
	esac
}
