#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""make bench, part 2: packets per second through the edge box on veth.

Runs on a lab that scripts/bench.sh brought up, with sluiced serving the
UDP VIP [fd00:100::100]:9 and its link pinned. The generator
(bench_lab gen: BPF_PROG_TEST_RUN in live-frames mode, as xdp-trafficgen
does) sends one UDP flow out of the router's port towards the edge box,
whose native XDP program runs, in turn:

  sluice    the real program (sluiced's link, swapped back and forth with
            bpf_link_update; sluiced keeps running)
  floor     bpf/bench_floor.bpf.c, the same flow pre-filled
  reflect   bpf/bench_reflect.bpf.c: swap MACs, XDP_TX
  drop      XDP_DROP: what the generator and the edge box's receive path
            manage with nothing sent back (the ceiling of this set-up)

"edge": what the edge box sends out is counted where it arrives, on the
router's port (an XDP_DROP sink there; veth counts XDP packets per
queue). "backend": the lab's own path (router port passes to the bridge,
the backend's sluice-decap strips the tunnel), counted by the backends'
decap counters: sluice and floor only (the reflector sends nothing to a
backend).

Each run is bounded by --seconds and --max-packets; the order of the
programs rotates between repetitions. Prints one JSON object.
"""
import argparse
import json
import subprocess
import sys
import time

VIP = "fd00:100::100"
CLIENT = "fd00:10::5"
SPORT, DPORT = 4000, 9


def sh(args, timeout=30, check=True):
    r = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    if check and r.returncode:
        sys.exit(f"bench-pps: {' '.join(args)} failed: {r.stderr.strip()}")
    return r.stdout


def ns(a, name, *cmd):
    return ["nsenter", f"--net=/run/netns/{a.prefix}-{name}", *cmd]


def ethtool_stat(a, nsname, dev, key):
    for line in sh(ns(a, nsname, "ethtool", "-S", dev)).splitlines():
        k, _, v = line.strip().partition(":")
        if k == key:
            return int(v)
    sys.exit(f"bench-pps: no {key} in ethtool -S {dev}")


def decap_total(a):
    total = 0
    for i in range(1, a.backends + 1):
        out = sh(ns(a, f"be{i}", f"{a.build}/sluice-decap", "stats",
                    f"{a.prefix}b{i}"))
        for line in out.splitlines():
            if line.startswith("decapsulated"):
                total += int(line.split()[1])
    return total


def lb_mac(a):
    j = json.loads(sh(["ip", "-n", f"{a.prefix}-lb", "-j", "link", "show",
                       f"{a.prefix}l"]))
    return j[0]["address"]


def gen(a, mac, seconds):
    out = sh(ns(a, "rtr", a.tool, "gen", f"{a.prefix}lr", mac, CLIENT, VIP,
                str(SPORT), str(DPORT), str(seconds), str(a.max_packets)),
             timeout=seconds + 20)
    return json.loads(out)


def reasons(a):
    """sluice's per-reason packet counters (sluicectl -j status)."""
    if not a.ctl_socket:
        return {}
    out = sh(ns(a, "lb", f"{a.build}/sluicectl", "-s", a.ctl_socket, "-j",
                "status"), check=False)
    try:
        r = json.loads(out).get("reasons", {})
    except (ValueError, AttributeError):
        return {}
    if isinstance(r, list):		# rows: [{"reason": ..., "packets": ...}]
        r = {x.get("reason"): x.get("packets", 0) for x in r}
    return {k: v for k, v in r.items() if isinstance(v, int)}


def hold_neighbours(a, state):
    """Set the edge box's neighbours on its port to NUD @state.

    The sink on the router's port drops neighbour discovery too, so a
    probe of the router (sluiced asks for one when an entry goes STALE,
    since XDP traffic never confirms it) fails mid-run; sluiced then drops
    the next hop, and sluice its packets as drop_no_nexthop, while the
    floor, its next hop copied once, never asks. Held "permanent" during
    the runs, set back to "stale" after (the kernel re-probes)."""
    dev = f"{a.prefix}l"
    for fam in ("-4", "-6"):
        rows = json.loads(sh(["ip", "-n", f"{a.prefix}-lb", fam, "-j",
                              "neigh", "show", "dev", dev]) or "[]")
        for e in rows:
            if "lladdr" not in e or e["dst"].startswith("fe80:"):
                continue
            sh(["ip", "-n", f"{a.prefix}-lb", fam, "neigh", "replace",
                e["dst"], "lladdr", e["lladdr"], "dev", dev, "nud", state])


def swap(a, prog):
    sh([a.tool, "swap", a.link, f"{a.pins}/{prog}"])


def run_edge(a, mac, prog):
    swap(a, prog)
    lb = f"{a.prefix}l"
    rx0 = ethtool_stat(a, "lb", lb, "rx_queue_0_xdp_packets")
    err0 = ethtool_stat(a, "lb", lb, "rx_queue_0_xdp_tx_errors")
    out0 = ethtool_stat(a, "rtr", f"{a.prefix}lr", "rx_queue_0_xdp_packets")
    g = gen(a, mac, a.seconds)
    rx = ethtool_stat(a, "lb", lb, "rx_queue_0_xdp_packets") - rx0
    # XDP_TX into a full veth ring: lost by the driver, not the program
    tx_err = ethtool_stat(a, "lb", lb, "rx_queue_0_xdp_tx_errors") - err0
    out = ethtool_stat(a, "rtr", f"{a.prefix}lr", "rx_queue_0_xdp_packets") - out0
    # The drop program sends nothing: its figure is what the box took in.
    counted = rx if prog == "drop" else out
    return {"sent": g["sent"], "edge_rx": rx, "delivered": out,
            "xdp_tx_errors": tx_err,
            "seconds": g["seconds"], "mpps": counted / g["seconds"] / 1e6}


def run_backend(a, mac, prog):
    swap(a, prog)
    d0 = decap_total(a)
    g = gen(a, mac, a.seconds_e2e)
    d = decap_total(a) - d0
    return {"sent": g["sent"], "delivered": d, "seconds": g["seconds"],
            "mpps": d / g["seconds"] / 1e6}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--prefix", required=True)
    p.add_argument("--build", required=True)
    p.add_argument("--link", required=True, help="sluiced's pinned link")
    p.add_argument("--pin-dir", required=True, help="sluiced's pin_dir")
    p.add_argument("--pins", required=True, help="bench program pins dir")
    p.add_argument("--ctl-socket", help="sluiced's control socket")
    p.add_argument("--backends", type=int, default=3)
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--reps-e2e", type=int, default=3)
    p.add_argument("--seconds", type=float, default=2.0)
    p.add_argument("--seconds-e2e", type=float, default=1.5)
    p.add_argument("--max-packets", type=int, default=40_000_000)
    a = p.parse_args()
    a.tool = f"{a.build}/bench/bench_lab"
    mac = lb_mac(a)
    lr = f"{a.prefix}lr"

    # sluice first, through the normal path: the flow gets established
    # (first datagram into sl_new, the second promotes it), then the floor
    # copies its backend.
    sh([a.tool, "pin-link-prog", a.link, f"{a.pins}/sluice"])
    for _ in range(20):
        d0 = decap_total(a)
        sh(ns(a, "rtr", a.tool, "gen", lr, mac, CLIENT, VIP, str(SPORT),
              str(DPORT), "1", "1000"))
        if decap_total(a) - d0 >= 1000:
            break
        time.sleep(0.5)     # next hop not cached yet: sluiced refreshes it
    else:
        sys.exit("bench-pps: sluice does not deliver the flow to a backend")
    sh([a.tool, "load-floor", f"{a.pins}/floor", a.pin_dir, CLIENT, VIP,
        str(SPORT), str(DPORT), "udp"])
    sh([a.tool, "load", "reflect", f"{a.pins}/reflect"])
    sh([a.tool, "load", "drop", f"{a.pins}/drop"])

    progs = ["sluice", "floor", "reflect", "drop"]
    edge = {k: [] for k in progs}
    e2e = {k: [] for k in ("sluice", "floor")}
    # Sink on the router's port: the lab's pass-through decap out, XDP_DROP in.
    sh(ns(a, "rtr", f"{a.build}/sluice-decap", "detach", lr))
    hold_neighbours(a, "permanent")
    sh(ns(a, "rtr", a.tool, "attach", lr, f"{a.pins}/drop"))
    reasons0 = reasons(a)
    try:
        for r in range(a.reps):
            for prog in progs[r % 4:] + progs[:r % 4]:
                edge[prog].append(run_edge(a, mac, prog))
    finally:
        sh(ns(a, "rtr", a.tool, "detach", lr), check=False)
        sh(ns(a, "rtr", f"{a.build}/sluice-decap", "attach", lr), check=False)
        hold_neighbours(a, "stale")
        swap(a, "sluice")
    # What sluice did with the frames it got in the edge runs: every
    # frame it did not forward has its reason here.
    reasons1 = reasons(a)
    sluice_reasons = {k: v - reasons0.get(k, 0) for k, v in reasons1.items()
                      if v - reasons0.get(k, 0)}
    try:
        for r in range(a.reps_e2e):
            for prog in (("sluice", "floor") if r % 2 == 0 else ("floor", "sluice")):
                e2e[prog].append(run_backend(a, mac, prog))
    finally:
        swap(a, "sluice")

    print(json.dumps({"bench": "pps", "flow": f"[{CLIENT}]:{SPORT} -> [{VIP}]:{DPORT}/udp",
                      "frame_bytes": 64, "generator": "bench_lab gen (live-frames test run), 1 thread",
                      "seconds": a.seconds, "seconds_e2e": a.seconds_e2e,
                      "edge": edge, "sluice_reasons_edge": sluice_reasons,
                      "backend": e2e}, indent=1))


if __name__ == "__main__":
    main()
