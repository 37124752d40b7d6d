#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# What `make install` puts on a machine, checked without installing there:
# installs into a scratch PREFIX and asserts that every path follows it
# (the units' ExecStart included), that systemd-analyze verifies the units
# (binaries executable, man pages found) and rates their exposure at 3.0 or
# less and at the README's figures, that the man pages render cleanly,
# that bash completion offers sluicectl's commands and options, that
# `make uninstall` removes it all but the admin's config, that the Debian
# build dependencies cover what a plain `make` requires, and that the C
# tests check with tests/lib/check.h's CHECK_*() only.
#
#   tests/package/test_units.sh BUILD
# TAP output; exit 0 only if every check passed.
set -uo pipefail

build=${1:?usage: test_units.sh BUILD}
MAX_EXPOSURE=3.0
root=$(mktemp -d /tmp/sluice-units.XXXXXX)
trap 'rm -rf "$root"' EXIT
n=0
failed=0

ok() {	# name command...
	local name=$1 out
	shift
	n=$((n + 1))
	if out=$("$@" 2>&1); then
		echo "ok $n - $name"
	else
		echo "not ok $n - $name"
		echo "$out" | sed 's/^/#   /'
		failed=$((failed + 1))
	fi
}

prefix=$root/opt/sluice
etc=$root/etc
unitdir=$prefix/lib/systemd/system
export MANPATH=$prefix/share/man

install_it() {
	make -s BUILD="$build" PREFIX="$prefix" SYSCONFDIR="$etc" install >/dev/null
}

exec_paths_follow_prefix() {
	local u
	for u in "$unitdir/sluiced.service" "$unitdir/sluice-decap@.service" \
		"$unitdir/sluice-agent.service"; do
		[[ -f $u ]] || { echo "missing $u"; return 1; }
		if grep -E '^Exec' "$u" | grep -vE "^Exec[A-Za-z]*=$prefix/sbin/"; then
			echo "an Exec line of $u does not run from $prefix/sbin"
			return 1
		fi
		if grep -n '/usr/local\|@[A-Z]*@' "$u"; then
			echo "$u names another prefix or an unexpanded placeholder"
			return 1
		fi
	done
	grep -qx "ExecStart=$prefix/sbin/sluiced -c $etc/sluice/sluiced.yaml" \
		"$unitdir/sluiced.service" || { echo "sluiced's ExecStart is wrong"; return 1; }
	grep -qx "ExecReload=$prefix/sbin/sluicectl reload" "$unitdir/sluiced.service" ||
		{ echo "sluiced's ExecReload is wrong"; return 1; }
	grep -qx "ExecStart=$prefix/sbin/sluice-decap agent \$SLUICE_AGENT_ARGS" \
		"$unitdir/sluice-agent.service" || { echo "the agent's ExecStart is wrong"; return 1; }
}

# The agent serves the network: no capability, a throwaway user.
agent_unprivileged() {
	grep -qx 'CapabilityBoundingSet=' "$1" && grep -qx 'AmbientCapabilities=' "$1" &&
		grep -qx 'DynamicUser=yes' "$1"
}

# Enabled, sluice-decap@IFACE is wanted by boot and by IFACE's device, so
# a re-created interface gets its program back: `systemctl --root` enables
# it in a scratch root, as an admin's enable would.
decap_follows_device() {
	local r=$root/enable
	mkdir -p "$r/usr/lib/systemd/system" || return 1
	cp "$unitdir/sluice-decap@.service" "$r/usr/lib/systemd/system/" || return 1
	systemctl --root="$r" enable sluice-decap@eth9.service >/dev/null 2>&1 ||
		{ echo "systemctl --root enable failed"; return 1; }
	[[ -L $r/etc/systemd/system/multi-user.target.wants/sluice-decap@eth9.service ]] ||
		{ echo "not wanted by multi-user.target"; return 1; }
	[[ -L $r/etc/systemd/system/sys-subsystem-net-devices-eth9.device.wants/sluice-decap@eth9.service ]] ||
		{ echo "not wanted by eth9's device: a re-created eth9 stays without decap"; return 1; }
}

# Verified as a real instance name: a template alone is not a unit.
instance_of_decap() {
	mkdir -p "$root/inst"
	ln -sf "$unitdir/sluice-decap@.service" "$root/inst/sluice-decap@lo.service"
	echo "$root/inst/sluice-decap@lo.service"
}

verify() {	# unit-file
	local out
	# Prints nothing when the unit is clean: any line is a finding.
	out=$(cd "$root" && systemd-analyze verify "$1" 2>&1) || { echo "$out"; return 1; }
	[[ -z $out ]] || { echo "$out"; return 1; }
}

# The exposure systemd-analyze gives @1: at most MAX_EXPOSURE, and exactly
# what the README says (@2, systemd 252 as in Debian 12), so a unit that
# loosens is caught, and one that tightens updates the README.
exposure_is() {	# unit-file readme-level
	local line level
	line=$(systemd-analyze security --offline=yes "$1" 2>&1 | grep 'Overall exposure level')
	echo "$line"
	level=$(echo "$line" | sed -n 's/.*: \([0-9.]*\) .*/\1/p')
	[[ -n $level ]] || return 1
	awk -v l="$level" -v m="$MAX_EXPOSURE" 'BEGIN { exit !(l <= m) }' || return 1
	[[ $level == "$2" ]] || { echo "the README says $2"; return 1; }
}

# The unit's system-call filter, as systemd builds it (a "~" line takes
# from an allow-list), allows every call named.
unit_allows() {	# unit-file call...
	local unit=$1 allowed c
	shift
	allowed=$(tests/integration/unit_sandbox.py --list "$unit") || return 1
	for c in "$@"; do
		grep -qx -- "$c" <<<"$allowed" || { echo "$unit refuses $c()"; return 1; }
	done
}

# As README ("Running it under systemd") says, value for value.
type_notify_with_watchdog() {
	grep -qx 'Type=notify' "$1" && grep -qx 'WatchdogSec=30s' "$1" &&
		grep -qx 'Restart=on-failure' "$1" &&
		grep -qx 'CapabilityBoundingSet=CAP_BPF CAP_NET_ADMIN CAP_PERFMON' "$1"
}

man_pages_clean() {
	local p warn
	for p in man8/sluiced.8 man8/sluicectl.8 man8/sluice-decap.8 man5/sluiced.yaml.5; do
		[[ -s $prefix/share/man/$p ]] || { echo "missing $p"; return 1; }
		warn=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$prefix/share/man/$p" 2>&1 >/dev/null)
		[[ -z $warn ]] || { echo "$p: $warn"; return 1; }
	done
}

complete_words() {	# words... -> the completions of the last word
	PATH="$prefix/sbin:$PATH" bash -c '
		source "$1"; shift
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		_sluicectl; printf "%s\n" "${COMPREPLY[@]}"' _ \
		"$prefix/share/bash-completion/completions/sluicectl" "$@"
}

completion_offers() {	# expected-words... -- words...
	local want=() got w
	while [[ $1 != -- ]]; do want+=("$1"); shift; done
	shift
	got=$(complete_words "$@")
	for w in "${want[@]}"; do
		grep -qx -- "$w" <<<"$got" || { echo "'$*' offers [$got], not $w"; return 1; }
	done
}

completion_offers_nothing_else() {	# expected -- words...
	local want=$1 got
	shift 2
	got=$(complete_words "$@")
	[[ $got == "$want" ]] || { echo "'$*' offers [$got], expected only $want"; return 1; }
}

# What a plain `make` insists on (check-build-deps) must be in the source
# package's Build-Depends, or dpkg-buildpackage fails in a clean chroot;
# make and gcc come with build-essential.
build_depends_cover_build_set() {
	local bd p missing=()
	bd=$(sed -n '/^Build-Depends:/,/^[A-Z][A-Za-z-]*:/p' debian/control | grep -v '^Standards' |
		sed 's/^Build-Depends://' | tr ',' '\n' | sed 's/(.*)//; s/^[[:space:]]*//; s/[[:space:]]*$//')
	for p in $(scripts/install-deps.sh --list build); do
		[[ $p == make || $p == gcc ]] && continue
		grep -qx -- "$p" <<<"$bd" || missing+=("$p")
	done
	[[ ${#missing[@]} -eq 0 ]] ||
		{ echo "in install-deps.sh's build set but not in Build-Depends: ${missing[*]}"; return 1; }
}

# One assertion family in the C tests: check.h's CHECK_*() name their case
# and print actual vs expected; a bare cmocka assert_*() does neither.
c_tests_check_only() {
	local found
	found=$(grep -rnE --include='*.c' --include='*.h' \
		'(^|[^A-Za-z0-9_])assert_[a-z_]+[[:space:]]*\(' tests)
	[[ -z $found ]] ||
		{ echo "$found"; echo "use tests/lib/check.h's CHECK_*() instead of cmocka's assert_*()"; return 1; }
}

uninstall_leaves_config_only() {
	local left
	make -s BUILD="$build" PREFIX="$prefix" SYSCONFDIR="$etc" uninstall >/dev/null || return 1
	left=$(find "$prefix" -type f)
	[[ -z $left ]] || { echo "left behind: $left"; return 1; }
	[[ -f $etc/sluice/sluiced.yaml ]] || { echo "uninstall removed the admin's config"; return 1; }
}

ok "make install PREFIX=... into a scratch root" install_it
ok "units run the binaries from PREFIX (no /usr/local)" exec_paths_follow_prefix
ok "sluiced.service: Type=notify, WatchdogSec=30s, Restart=on-failure, three capabilities" \
	type_notify_with_watchdog "$unitdir/sluiced.service"
ok "systemd-analyze verify sluiced.service" verify "$unitdir/sluiced.service"
decap=$(instance_of_decap)
ok "systemd-analyze verify sluice-decap@lo.service" verify "$decap"
ok "sluiced.service exposure 2.5 (README)" exposure_is "$unitdir/sluiced.service" 2.5
ok "sluice-decap@.service exposure 2.0 (README)" exposure_is "$decap" 2.0
ok "sluice-decap@.service enabled is wanted by its device (re-created interfaces)" decap_follows_device
ok "systemd-analyze verify sluice-agent.service" verify "$unitdir/sluice-agent.service"
ok "sluice-agent.service: no capability, DynamicUser" agent_unprivileged "$unitdir/sluice-agent.service"
ok "sluice-agent.service exposure 1.6 (README)" exposure_is "$unitdir/sluice-agent.service" 1.6
ok "sluiced.service's system-call filter lets bpf() through" \
	unit_allows "$unitdir/sluiced.service" bpf setpriority sched_setaffinity
ok "sluice-decap@.service's system-call filter lets bpf() through" unit_allows "$decap" bpf
ok "sluice-agent.service's system-call filter lets bpf() through (--iface)" \
	unit_allows "$unitdir/sluice-agent.service" bpf
ok "man pages render without warnings" man_pages_clean
ok "completion: objects" completion_offers status vip backend top -- sluicectl ""
ok "completion: backend verbs" completion_offers add del drain undrain list -- sluicectl backend ""
ok "completion: drain options" completion_offers --wait --timeout -- sluicectl backend drain VIP ADDR --
ok "completion: global options" completion_offers --socket --json --version -- sluicectl --
ok "completion: only matching words" completion_offers_nothing_else undrain -- sluicectl backend un
ok "make uninstall removes all but the config" uninstall_leaves_config_only
ok "debian/control Build-Depends cover the build set" build_depends_cover_build_set
ok "C tests check with CHECK_*() only (no bare cmocka assert_*())" c_tests_check_only
echo "# $((n - failed)) of $n checks passed"
[[ $failed -eq 0 ]]
