#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The steps tests/package/test_package.sh runs on a brand-new Debian root
# (../shared/tools/fresh-machine), one per call, from the project's top:
#
#   tests/package/in-root.sh deps|build|lintian|install|check|run|remove
#
# Each step exits non-zero on the first failed check and says which.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

die() { echo "in-root: FAIL: $*" >&2; exit 1; }
say() { echo "in-root: $*"; }

# Build dependencies come from debian/control itself (apt-get build-dep ./).
step_deps() {
	apt-get update -q
	apt-get install -y -q --no-install-recommends dpkg-dev debhelper lintian fakeroot
	apt-get build-dep -y -q ./
}

step_build() {
	dpkg-buildpackage -us -uc -b
	ls -l ../sluice_*.deb ../sluice-decap_*.deb
}

step_lintian() {
	lintian --fail-on error,warning --display-level '>=warning' ../sluice_*_*.changes
	say "lintian: no warnings or errors"
}

step_install() {
	apt-get install -y -q --no-install-recommends ./../sluice_*_*.deb ./../sluice-decap_*_*.deb
	# What the checks below use, as an operator's machine would have.
	apt-get install -y -q --no-install-recommends systemd man-db bash-completion iproute2
}

step_check() {
	local v unit
	v=$(dpkg-parsechangelog -S Version)
	[[ $(sluiced --version) == "sluiced $v" ]] || die "sluiced --version: $(sluiced --version), want $v"
	[[ $(sluicectl --version) == "sluicectl $v" ]] || die "sluicectl --version"
	[[ $(sluice-decap --version) == "sluice-decap $v" ]] || die "sluice-decap --version"
	say "every binary says $v"
	dpkg-query -W -f='${Conffiles}\n' sluice | grep -q '^ /etc/sluice/sluiced.yaml ' ||
		die "/etc/sluice/sluiced.yaml is not a conffile"
	for unit in /lib/systemd/system/sluiced.service; do
		systemd-analyze verify "$unit"
	done
	ln -sf /lib/systemd/system/sluice-decap@.service /tmp/sluice-decap@lo.service
	systemd-analyze verify /tmp/sluice-decap@lo.service
	systemd-analyze security --offline=yes --threshold=30 /lib/systemd/system/sluiced.service | tail -1
	systemd-analyze security --offline=yes --threshold=30 /tmp/sluice-decap@lo.service | tail -1
	! systemctl is-enabled sluiced.service >/dev/null 2>&1 || die "sluiced.service was enabled on install"
	man -w sluiced sluicectl sluice-decap >/dev/null && man -w 5 sluiced.yaml >/dev/null ||
		die "a man page is missing"
	bash -c 'source /usr/share/bash-completion/completions/sluicectl &&
		 COMP_WORDS=(sluicectl backend dr) COMP_CWORD=2 && _sluicectl &&
		 [[ "${COMPREPLY[*]}" == drain ]]' || die "bash completion"
	say "conffile, units, man pages and completion in place"
}

PKG_NS=slpkg
PKG_CFG=/tmp/sluice-pkg.yaml
PKG_SOCK=/run/sluice/pkgtest.sock
PKG_PINS=/sys/fs/bpf/sluice/pkgtest
PKG_STATE=/var/lib/sluice/pkgtest

pkg_ns() { nsenter --net=/run/netns/$PKG_NS "$@"; }

# A namespace of our own with a veth pair, and sluiced's config for it.
pkg_lab_up() {
	mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
	ip netns add $PKG_NS
	trap 'ip netns del '$PKG_NS' 2>/dev/null' EXIT
	ip -n $PKG_NS link set lo up
	ip -n $PKG_NS link add slpkg0 type veth peer name slpkg1
	ip -n $PKG_NS link set slpkg0 up
	ip -n $PKG_NS link set slpkg1 up
	cat >$PKG_CFG <<-YAML
	instance: pkgtest
	interfaces:
	  - name: slpkg0
	encap:
	  source_v4: 198.18.0.1
	vips:
	  - vip: 198.18.0.100:80/tcp
	    backends:
	      - address: 198.18.20.11
	      - address: 198.18.20.12
	YAML
}

# The packaged sluiced started in the namespace; its PID in PKG_PID once
# its control socket answers.
pkg_sluiced_start() {
	local i
	# nsenter itself, not the pkg_ns function: $! must be sluiced's PID.
	nsenter --net=/run/netns/$PKG_NS sluiced -c $PKG_CFG >>/tmp/sluiced-pkg.log 2>&1 &
	PKG_PID=$!
	for i in $(seq 1 100); do
		pkg_ns sluicectl -s $PKG_SOCK status >/dev/null 2>&1 && return 0
		kill -0 $PKG_PID 2>/dev/null || break
		sleep 0.1
	done
	cat /tmp/sluiced-pkg.log
	die "the packaged sluiced did not start"
}

pkg_sluiced_stop() {
	kill $PKG_PID
	wait $PKG_PID || true
}

# The packaged daemon for real: sluiced attached in native mode, a drain
# --wait, a stop, a detach.
step_run() {
	local rc=0
	pkg_lab_up
	# --check looks at this machine too: from the namespace that holds slpkg0.
	pkg_ns sluiced -c $PKG_CFG --check
	pkg_sluiced_start
	pkg_ns sluicectl -s $PKG_SOCK backend list || rc=1
	pkg_ns sluicectl -s $PKG_SOCK \
		backend drain 198.18.0.100:80/tcp 198.18.20.11 --wait --timeout 20s || rc=1
	ip -n $PKG_NS link show slpkg0 | grep -q xdp || { echo "no XDP program on slpkg0"; rc=1; }
	pkg_sluiced_stop
	cat /tmp/sluiced-pkg.log
	pkg_ns sluiced -c $PKG_CFG --detach || rc=1
	[[ $rc -eq 0 ]] || die "the packaged sluiced did not attach, list and drain"
	[[ ! -e $PKG_PINS ]] || die "sluiced --detach left $PKG_PINS"
	say "packaged sluiced attached, drained a backend, stopped and detached"
}

# What a stopped sluiced keeps for its next start: the pinned maps and
# the state file, by name.
pkg_kept() { ls $PKG_PINS $PKG_STATE; }

# Remove keeps the config, purge removes it; neither touches the pinned
# maps or the state of a sluiced that ran (README "Install").
step_remove() {
	local kept
	pkg_lab_up
	pkg_sluiced_start
	pkg_sluiced_stop
	kept=$(pkg_kept) || die "a stopped sluiced left no pins or state"
	apt-get remove -y -q sluice sluice-decap
	[[ -f /etc/sluice/sluiced.yaml ]] || die "remove took the admin's config"
	[[ ! -e /usr/sbin/sluiced ]] || die "remove left sluiced"
	[[ $(pkg_kept) == "$kept" ]] || die "remove touched the pinned maps or the state"
	apt-get purge -y -q sluice sluice-decap
	[[ ! -e /etc/sluice/sluiced.yaml ]] || die "purge left the config"
	[[ $(pkg_kept) == "$kept" ]] || die "purge touched the pinned maps or the state"
	# What `sluiced --detach` would have done, by hand: it is gone.
	rm -rf $PKG_PINS $PKG_STATE
	say "remove keeps the conffile, purge removes it; neither touches pins or state"
}

"step_${1:?usage: in-root.sh deps|build|lintian|install|check|run|remove}"
