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

# The packaged daemon for real: a namespace of our own with a veth pair,
# sluiced attached in native mode, a drain --wait, a stop, a detach.
step_run() {
	local ns=slpkg cfg=/tmp/sluice-pkg.yaml pid rc=0 i
	mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
	ip netns add $ns
	trap 'ip netns del '$ns' 2>/dev/null' EXIT
	ip -n $ns link set lo up
	ip -n $ns link add slpkg0 type veth peer name slpkg1
	ip -n $ns link set slpkg0 up
	ip -n $ns link set slpkg1 up
	cat >$cfg <<-YAML
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
	# --check looks at this machine too: from the namespace that holds slpkg0.
	nsenter --net=/run/netns/$ns sluiced -c $cfg --check
	nsenter --net=/run/netns/$ns sluiced -c $cfg >/tmp/sluiced-pkg.log 2>&1 &
	pid=$!
	for i in $(seq 1 100); do
		nsenter --net=/run/netns/$ns sluicectl -s /run/sluice/pkgtest.sock status >/dev/null 2>&1 && break
		kill -0 $pid 2>/dev/null || break
		sleep 0.1
	done
	nsenter --net=/run/netns/$ns sluicectl -s /run/sluice/pkgtest.sock backend list || rc=1
	nsenter --net=/run/netns/$ns sluicectl -s /run/sluice/pkgtest.sock \
		backend drain 198.18.0.100:80/tcp 198.18.20.11 --wait --timeout 20s || rc=1
	ip -n $ns link show slpkg0 | grep -q xdp || { echo "no XDP program on slpkg0"; rc=1; }
	kill $pid
	wait $pid || true
	cat /tmp/sluiced-pkg.log
	nsenter --net=/run/netns/$ns sluiced -c $cfg --detach || rc=1
	[[ $rc -eq 0 ]] || die "the packaged sluiced did not attach, list and drain"
	say "packaged sluiced attached, drained a backend, stopped and detached"
}

step_remove() {
	apt-get remove -y -q sluice sluice-decap
	[[ -f /etc/sluice/sluiced.yaml ]] || die "remove took the admin's config"
	[[ ! -e /usr/sbin/sluiced ]] || die "remove left sluiced"
	apt-get purge -y -q sluice
	[[ ! -e /etc/sluice/sluiced.yaml ]] || die "purge left the config"
	say "remove keeps the conffile, purge removes it"
}

"step_${1:?usage: in-root.sh deps|build|lintian|install|check|run|remove}"
