#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# make test-package: build the Debian packages on a brand-new Debian 12
# root and install them there (../shared/tools/fresh-machine clones the
# committed HEAD of this repository into it), then check them as an
# operator would: lintian-clean, versions, conffile, units, man pages,
# completion, the packaged sluiced attached and draining in a namespace of
# its own, remove and purge. Slow (minutes): not part of `make test`.
#
#   tests/package/test_package.sh
# Prints fresh-machine's per-step summary, then "ok"/"not ok" and the time.
# Root only. The full log is in $FRESH_LOG (default /tmp/sluice-package.log).
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
tool=${FRESH_MACHINE:-$top/../shared/tools/fresh-machine}
[[ -x $tool ]] || tool=/work/shared/tools/fresh-machine
[[ -x $tool ]] || { echo "test_package: no fresh-machine tool (set FRESH_MACHINE)" >&2; exit 2; }
[[ $(id -u) -eq 0 ]] || { echo "test_package: run as root" >&2; exit 2; }
git -C "$top" diff --quiet HEAD -- debian tests/package Makefile ||
	echo "test_package: note: uncommitted changes are not tested (fresh-machine clones HEAD)" >&2

export FRESH_LOG=${FRESH_LOG:-/tmp/sluice-package.log}
start=$(date +%s)
cd "$top" || exit 2
"$tool" -t 1500 \
	"tests/package/in-root.sh deps" \
	"tests/package/in-root.sh build" \
	"tests/package/in-root.sh lintian" \
	"tests/package/in-root.sh install" \
	"tests/package/in-root.sh check" \
	"tests/package/in-root.sh run" \
	"tests/package/in-root.sh remove"
rc=$?
secs=$(($(date +%s) - start))
if [[ $rc -eq 0 ]]; then
	echo "ok - packages built, lintian-clean, installed and run on a fresh machine (${secs}s)"
else
	echo "not ok - test_package failed after ${secs}s; full log: $FRESH_LOG"
fi
exit $rc
