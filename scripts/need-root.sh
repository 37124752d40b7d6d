#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Stop a make target that needs root at once, before it installs or builds
# anything, and say why: run as another user, its tests and its lab would
# each fail minutes later on a namespace or a BPF call, hundreds of
# failures that name neither root nor the fix.
# Usage: scripts/need-root.sh TARGET. Exit codes: 0 root, 1 not root.
set -uo pipefail

what=${1:?usage: scripts/need-root.sh TARGET}
[[ $(id -u) -eq 0 ]] && exit 0
echo "make $what: needs root: it loads BPF programs and creates network namespaces" >&2
echo "hint: run it as root: sudo make $what" >&2
exit 1
