#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The single list of Debian packages sluice needs to build, test, demo and
# benchmark. Idempotent. With --if-missing it does nothing (not even an
# apt-get update) when every package is already installed.
set -euo pipefail

PACKAGES=(
	# build
	make gcc clang llvm pkg-config bpftool linux-libc-dev
	libbpf-dev libxdp-dev libelf-dev zlib1g-dev
	libfyaml-dev libjson-c-dev libclang-rt-14-dev libmicrohttpd-dev libxxhash-dev libmnl-dev libcurl4-openssl-dev
	# tests
	libcmocka-dev iproute2 ethtool xdp-tools python3 curl procps
	iputils-ping
	# monitoring tests: prometheus and promtool (tests/integration/test_metrics.sh)
	prometheus
	# make bench: the L4 proxies it compares against, and the HTTP load tool
	nginx-light libnginx-mod-stream haproxy wrk
)

# Packaging and systemd (branch packaging; kept apart for the build/test/
# bench split): libsystemd for sd_notify (build), scdoc for the man pages
# (build), debhelper and lintian for dpkg-buildpackage (make test-package),
# bash-completion (the completion test), systemd for systemd-analyze (the
# unit tests), debootstrap and systemd-container for fresh roots.
PACKAGING_PACKAGES=(
	libsystemd-dev scdoc
	dpkg-dev debhelper lintian fakeroot bash-completion systemd
	debootstrap systemd-container
	# the Ansible example in docs/examples, run by tests/integration/test_pipeline.sh
	ansible-core python3-yaml
)
PACKAGES+=("${PACKAGING_PACKAGES[@]}")

missing=()
for p in "${PACKAGES[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing+=("$p")
done

if [[ "${1:-}" == "--if-missing" && ${#missing[@]} -eq 0 ]]; then
	exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
	echo "install-deps: must run as root to install: ${missing[*]:-(none)}" >&2
	exit 1
fi

echo "install-deps: installing ${missing[*]:-nothing new (refreshing)}" >&2
export DEBIAN_FRONTEND=noninteractive
# nginx and haproxy must not start as system services listening on the
# host: make bench runs its own instances inside lab namespaces.
if [[ ! -e /usr/sbin/policy-rc.d ]]; then
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
	chmod 0755 /usr/sbin/policy-rc.d
	trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >/dev/null
