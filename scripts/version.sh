#!/bin/sh
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Print sluice's version: from git tags (v1.2.3 -> 1.2.3, with -N-gHASH past
# a tag and -dirty for uncommitted changes), "0.0.0-gHASH" in a repository
# with no tag yet, else the VERSION file of a release tarball, else 0.0.0.
cd "$(dirname "$0")/.." || exit 1
if v=$(git describe --tags --always --dirty 2>/dev/null) && [ -n "$v" ]; then
	case $v in
	v[0-9]*) echo "${v#v}" ;;
	[0-9]*.*) echo "$v" ;;
	*) echo "0.0.0-g$v" ;;	# no tag: describe printed the bare hash
	esac
elif [ -s VERSION ]; then
	head -n 1 VERSION
else
	echo 0.0.0
fi
