#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Checks the C lines changed since a base commit against .clang-format.
# Only changed lines: the tree predates the style file and is never
# reformatted wholesale (that would collide with every branch in flight).
#
#   scripts/check-format.sh [BASE]      (make format-check [FORMAT_BASE=...])
#
# BASE defaults to the merge base with main; the working tree (committed or
# not; a new file once it is git-added) is compared with it. Prints what
# clang-format would change, as a diff, and how to apply it.
#
# Alignment is left to the author: a difference only in the run of spaces
# and tabs inside a line (tab-aligned trailing comments, #define values,
# struct fields) is not reported, since clang-format cannot reproduce the
# tab-stop alignment the code uses. Indentation, line breaks, braces and
# spacing around tokens are checked.
#
# Exit: 0 clean (or no C changes), 1 lines to reformat, 2 usage or a
# missing tool.
set -uo pipefail

die() {
	echo "check-format: $1" >&2
	[[ -n ${2:-} ]] && echo "hint: $2" >&2
	exit 2
}

cd "$(dirname "$0")/.." || exit 2
[[ $# -le 1 ]] || die "usage: scripts/check-format.sh [BASE]"
command -v clang-format-diff-14 >/dev/null ||
	die "clang-format-diff-14 not found" "apt-get install clang-format-14"
if [[ -n ${1:-} ]]; then
	base=$1
else
	base=$(git merge-base HEAD main 2>/dev/null) ||
		die "no merge base with main" "name a base: scripts/check-format.sh origin/main"
fi
git rev-parse --verify -q "$base^{commit}" >/dev/null ||
	die "'$base' is not a commit" "pass a branch, tag or commit id"

diff=$(git diff -U0 --no-color --diff-filter=ACMR "$base" -- \
	'*.c' '*.h' | clang-format-diff-14 -p1 -binary clang-format-14) ||
	die "clang-format-diff-14 failed"

# Keep only hunks that differ in more than in-line whitespace runs.
read -r -d '' filter <<'EOF'
import re
import sys

def norm(line):
    lead = re.match(r"[ \t]*", line).group(0)
    return lead + re.sub(r"[ \t]+", " ", line[len(lead):]).rstrip()

found, header, shown, hunk = False, [], None, []

def flush():
    global found, shown
    old = [norm(l[1:]) for l in hunk if l.startswith("-")]
    new = [norm(l[1:]) for l in hunk if l.startswith("+")]
    if hunk and old != new:
        if shown != header:
            print("\n".join(header))
            shown = list(header)
        print("\n".join(hunk))
        found = True

for l in sys.stdin.read().splitlines():
    if l.startswith("--- "):
        flush(); hunk = []; header = [l]
    elif l.startswith("+++ "):
        header.append(l)
    elif l.startswith("@@"):
        flush(); hunk = [l]
    elif hunk:
        hunk.append(l)
flush()
base = sys.argv[1]
if found:
    print("check-format: the lines above differ from .clang-format "
          "(changes since %s)" % base, file=sys.stderr)
    print("hint: apply with: git diff -U0 %s -- '*.c' '*.h' | "
          "clang-format-diff-14 -p1 -i" % base, file=sys.stderr)
    sys.exit(1)
print("check-format: changed C lines follow .clang-format (base %s)" % base)
EOF
python3 -c "$filter" "$base" <<<"$diff"
