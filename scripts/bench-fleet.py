#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""make bench, part fleet: a fleet drain, as a deploy pipeline sees it.

In the fleet lab (scripts/fleet.sh, FLEET_CLUSTER=1: every box follows
one desired state in etcd), per drain: open --streams paced downloads
through the VIP (ECMP spreads them over the boxes), run
`sluicectl --cluster E backend drain VIP BACKEND --wait` once, and measure

  apply: from the command starting to the last box showing the backend
         draining on its own control socket (polled every 5 ms);
  lag:   from the last stream served by that backend closing (the client
         closes it after its last byte) to the fleet --wait exiting 0.

Then undrain, wait until every box shows it active again, next backend.
Run in the lab's client namespace; the fleet command runs in the router's
(where etcd listens), the boxes are reached by their sockets' paths.

  bench-fleet.py --vip A --vipspec V --router-ns NS --sluicectl PATH
                 --etcd URL --prefix P --socks S1,S2,.. --backends B1,B2,..
                 [--drains N] [--streams S] [--seconds T] [--max-seconds M]

Prints one JSON object: apply and lag (ms) with p50/p99/max, "early" (a
--wait that exited before its backend's last stream closed), what failed.
Bounded: every stream, poll and drain has a timeout, the run --max-seconds.
"""
import argparse
import json
import subprocess
import threading
import time

from sluicelab import ExitClock, ctl_call, open_streams, percentile, stream_ends


def be_state(sock, vipspec, backend):
    try:
        r = ctl_call(sock, {"cmd": "backend.status", "vip": vipspec, "backend": backend},
                     timeout=5)
        return r["result"][0]["state"]
    except Exception:  # noqa: BLE001 - a box that does not answer yet
        return None


def fleet_cmd(a, *args):
    return ["nsenter", f"--net=/run/netns/{a.router_ns}", a.sluicectl,
            "--cluster", a.etcd, "--prefix", a.prefix, *args]


def watch_boxes(a, backend, want, t0, seen, deadline_s=10):
    """Record when each box first shows @backend in a state of @want."""
    end = t0 + deadline_s
    while len(seen) < len(a.socks) and time.time() < end:
        for sock in a.socks:
            if sock not in seen and be_state(sock, a.vipspec, backend) in want:
                seen[sock] = time.time()
        time.sleep(0.005)


def undrain(a, be):
    subprocess.run(fleet_cmd(a, "backend", "undrain", a.vipspec, be),
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=20)
    seen = {}
    watch_boxes(a, be, ("active",), time.time(), seen, 20)
    return len(seen) == len(a.socks)


def one_drain(a, be, name):
    out, threads = open_streams(a, 80, "f")
    seen = {}
    t_cmd = time.time()
    proc = subprocess.Popen(fleet_cmd(a, "backend", "drain", a.vipspec, be,
                                      "--wait", "--timeout", "60s"),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    watcher = threading.Thread(target=watch_boxes,
                               args=(a, be, ("draining", "drained"), t_cmd, seen),
                               daemon=True)
    watcher.start()
    clock = ExitClock(proc)
    for t in threads:
        t.join(a.seconds + 40)
    watcher.join(15)
    rc, t_ret = clock.result()
    back = undrain(a, be)
    apply_ms = None
    if len(seen) == len(a.socks):
        apply_ms = (max(seen.values()) - t_cmd) * 1000.0
    last, failed = stream_ends(out, name)
    lag = (t_ret - last) * 1000.0 if last is not None else None
    return {"rc": rc, "apply_ms": apply_ms, "lag_ms": lag, "failed": failed,
            "undrained": back}


def summary(xs):
    xs = [round(x, 1) for x in xs]
    return {"values": xs, "p50": percentile(xs, 50), "p99": percentile(xs, 99),
            "max": max(xs) if xs else None}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vip", required=True)
    ap.add_argument("--vipspec", required=True)
    ap.add_argument("--router-ns", required=True)
    ap.add_argument("--sluicectl", required=True)
    ap.add_argument("--etcd", required=True)
    ap.add_argument("--prefix", required=True)
    ap.add_argument("--socks", required=True, help="each box's control socket")
    ap.add_argument("--backends", required=True)
    ap.add_argument("--drains", type=int, default=12)
    ap.add_argument("--streams", type=int, default=30)
    ap.add_argument("--seconds", type=float, default=1.0)
    ap.add_argument("--bytes", type=int, default=200000)
    ap.add_argument("--max-seconds", type=float, default=240)
    a = ap.parse_args()
    a.socks = a.socks.split(",")
    bes = a.backends.split(",")
    applies, lags = [], []
    res = {"boxes": len(a.socks), "streams_per_drain": a.streams,
           "drain_exit_nonzero": 0, "apply_unseen": 0, "early": 0,
           "skipped_no_stream_on_backend": 0, "streams_failed": 0,
           "undrain_unseen": 0}
    start, i = time.time(), 0
    while len(lags) < a.drains and time.time() - start < a.max_seconds:
        be = bes[i % len(bes)]
        r = one_drain(a, be, "be" + be.rsplit(".", 1)[1][1:])
        i += 1
        res["streams_failed"] += r["failed"]
        res["undrain_unseen"] += not r["undrained"]
        if r["apply_ms"] is None:
            res["apply_unseen"] += 1
        else:
            applies.append(r["apply_ms"])
        if r["rc"] != 0:
            res["drain_exit_nonzero"] += 1
        elif r["lag_ms"] is None:
            res["skipped_no_stream_on_backend"] += 1
        else:
            lags.append(r["lag_ms"])
            res["early"] += r["lag_ms"] < 0
    res["drains"] = len(lags)
    res["apply_ms"] = summary(applies)
    res["lag_ms"] = summary(lags)
    res["seconds"] = round(time.time() - start, 1)
    print(json.dumps(res))


if __name__ == "__main__":
    main()
