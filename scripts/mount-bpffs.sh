#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Mount bpffs at /sys/fs/bpf if it is not: sluiced pins its maps there, and
# a new machine often boots without it. Says so in one line when it mounts.
# Exit codes: 0 mounted (now or before), 1 cannot mount.
set -uo pipefail

dir=/sys/fs/bpf
[[ $(stat -f -c %T "$dir" 2>/dev/null) == bpf_fs ]] && exit 0
if [[ $(id -u) -ne 0 ]]; then
	echo "bpffs: $dir is not a BPF filesystem and only root can mount it" >&2
	echo "hint: sudo mount -t bpf bpf $dir" >&2
	exit 1
fi
mkdir -p "$dir" 2>/dev/null
if ! mount -t bpf bpf "$dir"; then
	echo "bpffs: cannot mount a BPF filesystem at $dir (see above)" >&2
	exit 1
fi
echo "bpffs: mounted a BPF filesystem at $dir (it was not mounted)"
