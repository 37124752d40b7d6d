#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The single list of Debian packages sluice needs, in sets, each including
# the ones before it:
#   build   make (compilers, libbpf, libxdp and the libraries sluiced links)
#   test    make test, make demo (cmocka, the lab's tools, prometheus)
#   bench   make bench (the proxies it compares against, wrk)
#   package make test-package (dpkg-buildpackage, lintian)
#   all     every set
#
#   scripts/install-deps.sh [--if-missing | --check | --list] [build|test|bench|package|all]
#
# Default set: all. Without an option it refreshes the package lists and
# installs the set. --if-missing does nothing (not even an apt-get update)
# when the set is already installed. --check installs nothing: it names
# the missing packages and the command that installs them. --list prints
# the set, one package a line (debian/control's Build-Depends are checked
# against the build set by tests/package/test_units.sh).
# Exit codes: 0 ok, 1 packages missing (--check) or install failed,
# 2 usage.
set -euo pipefail

BUILD_PKGS=(
	make gcc clang llvm pkg-config bpftool linux-libc-dev
	libbpf-dev libxdp-dev libelf-dev zlib1g-dev
	libfyaml-dev libjson-c-dev libmicrohttpd-dev
	libxxhash-dev libmnl-dev libcurl4-openssl-dev
	# sd_notify (systemd readiness) and the man pages' source format
	libsystemd-dev scdoc
)
TEST_PKGS=(
	# the sanitizer and fuzzer builds of make test (clang's runtimes)
	libclang-rt-14-dev
	libcmocka-dev iproute2 ethtool xdp-tools python3 curl procps
	# the units' system-call filters applied in the tests (tests/integration/unit_sandbox.py)
	python3-seccomp
	iputils-ping util-linux
	# the HTTPS health-check test's certificate
	openssl
	# monitoring tests: prometheus and promtool (tests/integration/test_metrics.sh)
	prometheus
	# the fleet lab's routers (scripts/fleet.sh)
	bird2
	# the fleet lab's desired state (FLEET_CLUSTER=1, tests/integration/test_cluster.sh)
	etcd-server etcd-client
	# systemd-analyze for the units, man for their Documentation= pages
	# and the man page lint, and the completion test
	systemd man-db bash-completion
	# the Ansible example in docs/examples, run by tests/integration/test_pipeline.sh
	ansible-core python3-yaml
	# a wall-clock step for sluiced alone (t_robust_wall_clock_step)
	libfaketime
)
PACKAGE_PKGS=(
	# make test-package: dpkg-buildpackage, lintian, fresh roots
	dpkg-dev debhelper lintian fakeroot debootstrap systemd-container
)
BENCH_PKGS=(
	# the L4 proxies make bench compares against, and the HTTP load tool
	nginx-light libnginx-mod-stream haproxy wrk
)

usage() {
	echo "usage: scripts/install-deps.sh [--if-missing | --check | --list] [build|test|bench|package|all]" >&2
	exit 2
}

mode=install
case ${1:-} in
--if-missing) mode=if-missing; shift ;;
--check) mode=check; shift ;;
--list) mode=list; shift ;;
-*) usage ;;
esac
set_name=${1:-all}
[[ $# -le 1 ]] || usage
case $set_name in
build) PACKAGES=("${BUILD_PKGS[@]}") ;;
test) PACKAGES=("${BUILD_PKGS[@]}" "${TEST_PKGS[@]}") ;;
bench) PACKAGES=("${BUILD_PKGS[@]}" "${TEST_PKGS[@]}" "${BENCH_PKGS[@]}") ;;
package) PACKAGES=("${BUILD_PKGS[@]}" "${PACKAGE_PKGS[@]}") ;;
all) PACKAGES=("${BUILD_PKGS[@]}" "${TEST_PKGS[@]}" "${BENCH_PKGS[@]}" "${PACKAGE_PKGS[@]}") ;;
*)
	echo "install-deps: unknown set '$set_name' (build, test, bench, package or all)" >&2
	usage
	;;
esac

if [[ $mode == list ]]; then
	printf '%s\n' "${PACKAGES[@]}"
	exit 0
fi

# Not Debian: we cannot tell what is installed; the build will say.
if ! command -v dpkg-query >/dev/null; then
	[[ $mode == install ]] || exit 0
	echo "install-deps: no dpkg-query: this script knows Debian packages only;" \
		"install the equivalents of: ${PACKAGES[*]}" >&2
	exit 1
fi

# One dpkg-query for the whole set: `make` runs --check every time. It
# exits 1 when a package was never known to dpkg: that is an answer too.
installed=$(dpkg-query -W -f='${Package} ${Status}\n' "${PACKAGES[@]}" 2>/dev/null |
	awk '/ ok installed$/ {print $1}' || true)
missing=()
for p in "${PACKAGES[@]}"; do
	grep -qx -- "$p" <<<"$installed" || missing+=("$p")
done

if [[ $mode != install && ${#missing[@]} -eq 0 ]]; then
	exit 0
fi
if [[ $mode == check ]]; then
	echo "missing: ${missing[*]} (run: sudo scripts/install-deps.sh $set_name)" >&2
	exit 1
fi
if [[ $(id -u) -ne 0 ]]; then
	echo "install-deps: must run as root to install: ${missing[*]:-(none)}" >&2
	echo "hint: sudo scripts/install-deps.sh $set_name" >&2
	exit 1
fi

echo "install-deps: installing ($set_name) ${missing[*]:-nothing new (refreshing)}" >&2
export DEBIAN_FRONTEND=noninteractive
# nginx and haproxy must not start as system services listening on the
# host: make bench runs its own instances inside lab namespaces.
if [[ ! -e /usr/sbin/policy-rc.d ]]; then
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
	chmod 0755 /usr/sbin/policy-rc.d
	trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get update -qq
if ! apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >/dev/null; then
	echo "install-deps: apt-get install failed for set $set_name (see above)" >&2
	exit 1
fi
