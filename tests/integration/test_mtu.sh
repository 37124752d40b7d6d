# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# MTU: every lab link is 1500 bytes, so a full-size client segment for a
# VIP no longer fits once encapsulated (20 bytes of IPIP, 40 of IPv6).
# Two things keep big transfers working, and each is tested alone:
# backends that advertise an MSS leaving room for the tunnel (the lab's
# default, the README's advice), and, for backends that do not, sluice's
# ICMP too-big, which makes the client's path MTU discovery lower its MSS.

MTU_VIP6="[$LAB_VIP6]:80/tcp"

mtu_add_vip6() {
	local i
	lab_ctl vip add "$MTU_VIP6" || return 1
	for i in 1 2 3; do
		lab_ctl backend add "$MTU_VIP6" "$(lab_be6 "$i")" || return 1
	done
}

mtu_reason() {	# label
	lab_ctl -j status | json - "j['reasons']['$1']"
}

# A 1 MB upload, then twenty POSTs of 1460-byte bodies (each a full
# segment with its headers), through one VIP: every request succeeds and
# the backend confirms every byte the client sent (length and sha256).
mtu_transfers() {	# vip label
	local out
	out=$(lab_client post --vip "$1" --count 1 --size 1048576 --timeout 30 \
		--max-seconds 60)
	echo "$2 1 MB upload: $out"
	assert_eq "$2 upload succeeded" 1 "$(echo "$out" | json - "j['ok']")" || return 1
	assert_eq "$2 upload bytes sent by the client" 1048576 \
		"$(echo "$out" | json - "j['bytes_sent']")" || return 1
	assert_eq "$2 upload bytes confirmed by the backend" 1048576 \
		"$(echo "$out" | json - "j['bytes_acked']")" || return 1
	out=$(lab_client post --vip "$1" --count 20 --size 1460 --timeout 10 \
		--max-seconds 120)
	echo "$2 1460-byte POSTs: $out"
	assert_eq "$2 1460-byte POSTs succeeded" 20 "$(echo "$out" | json - "j['ok']")" ||
		return 1
	assert_eq "$2 POST bytes sent by the client" $((20 * 1460)) \
		"$(echo "$out" | json - "j['bytes_sent']")" || return 1
	assert_eq "$2 POST bytes confirmed by the backends" $((20 * 1460)) \
		"$(echo "$out" | json - "j['bytes_acked']")" || return 1
}

# Wait until the client holds path MTU $3 for VIP $2, sending one
# full-size POST before each look (bounded by $1 seconds of wall time).
mtu_wait_learnt() {	# secs vip mtu
	local end=$((SECONDS + $1)) got
	while :; do
		lab_client post --vip "$2" --count 1 --size 1460 --timeout 5 \
			--max-seconds 10 >/dev/null
		got=$(lab_ns cli ip route get "$2" | grep -o 'mtu [0-9]*')
		[[ $got == "mtu $3" ]] && return 0
		((SECONDS < end)) || break
		sleep 0.5
	done
	fail "waited $1s for the client to learn MTU $3 for $2, it holds: ${got:-no MTU}"
}

# Backends without MSS clamping: the client's first full segment is too
# big for the tunnel, sluice answers ICMP too-big from the VIP, the
# client's kernel records the usable MTU (1480 / 1460) for the VIP and
# resends smaller, and every transfer completes. Then the edge box's
# routes to the backends get their own MTU, 1400: sluice takes it over
# the interface's 1500 at its next sweeps (README "Which MTU"), announces
# 1400 - overhead, and the client lowers its path MTU to that.
t_mtu_pmtud_without_clamping() {
	local i before route
	for i in 1 2 3; do lab_mss_clamp "$i" off || return 1; done
	mtu_add_vip6 || return 1
	before=$(mtu_reason icmp_toobig)
	mtu_transfers "$LAB_VIP4" IPv4 || return 1
	mtu_transfers "$LAB_VIP6" IPv6 || return 1
	route=$(lab_ns cli ip -4 route get "$LAB_VIP4")
	echo "client route to the IPv4 VIP: $route"
	[[ $route == *"mtu 1480"* ]] ||
		fail "the client did not learn MTU 1480 for $LAB_VIP4" || return 1
	route=$(lab_ns cli ip -6 route get "$LAB_VIP6")
	echo "client route to the IPv6 VIP: $route"
	[[ $route == *"mtu 1460"* ]] ||
		fail "the client did not learn MTU 1460 for $LAB_VIP6" || return 1
	assert_ge "icmp_toobig sent (one per family at least)" \
		"$(mtu_reason icmp_toobig)" $((before + 2)) || return 1
	assert_eq "packets dropped as too big" 0 "$(mtu_reason drop_too_big)" || return 1

	# The route's own MTU wins: host routes, so the box's link keeps 1500.
	for i in 1 2 3; do
		ip -n "${LAB_P}-lb" route add "$(lab_be4 "$i")/32" dev "${LAB_P}l" mtu 1400 &&
			ip -n "${LAB_P}-lb" -6 route add "$(lab_be6 "$i")/128" dev "${LAB_P}l" mtu 1400 ||
			fail "cannot add a route with mtu 1400 to backend $i" || return 1
	done
	before=$(mtu_reason icmp_toobig)
	# Until a sweep re-resolves the next hops, 1480 / 1460 still fit.
	mtu_wait_learnt 10 "$LAB_VIP4" 1380 || return 1
	mtu_wait_learnt 10 "$LAB_VIP6" 1360 || return 1
	mtu_transfers "$LAB_VIP4" "IPv4, route mtu 1400" || return 1
	mtu_transfers "$LAB_VIP6" "IPv6, route mtu 1400" || return 1
	assert_ge "icmp_toobig sent under the route's MTU" \
		"$(mtu_reason icmp_toobig)" $((before + 2)) || return 1
	assert_eq "packets dropped as too big, route mtu 1400" 0 "$(mtu_reason drop_too_big)"
}

# The lab's default: backends advertise MSS 1440 (IPv4) / 1400 (IPv6), so
# no client segment is too big, no ICMP is needed, and everything flows.
t_mtu_mss_clamped_backends() {
	local before route
	mtu_add_vip6 || return 1
	before=$(mtu_reason icmp_toobig)
	mtu_transfers "$LAB_VIP4" IPv4 || return 1
	mtu_transfers "$LAB_VIP6" IPv6 || return 1
	assert_eq "icmp_toobig with clamped backends" "$before" \
		"$(mtu_reason icmp_toobig)" || return 1
	route=$(lab_ns cli ip -4 route get "$LAB_VIP4")
	[[ $route != *"mtu "* ]] ||
		fail "the client learnt a path MTU without any ICMP: $route"
}
