#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""make bench: the drain-signal lag, as an operator sees it.

Per drain: open --streams paced downloads through the VIP (the lab's
/stream), run `sluicectl backend drain VIP BACKEND --wait` on one backend
while they flow, and measure from the moment the last stream served by
that backend closed (the client closes it after its last byte) to the
moment `drain --wait` exited 0. Then undrain, next backend. Run in the
lab's client namespace; sluicectl reaches sluiced's control socket by path.

  bench-drain-lag.py --vip A --vipspec V --ctl SOCK --sluicectl PATH
                     --backends B1,B2,.. [--drains N] [--streams S]
                     [--seconds T] [--bytes B] [--max-seconds M]
  bench-drain-lag.py --vip A --port P --haproxy-sock SOCK --backends ...

With --haproxy-sock the same streams go through HAProxy (A:P, backend
"stream", its servers named be1, be2, .. in --backends order); a drain is
`set server stream/beN state drain` on its runtime API, and its end is the first moment that
server's `scur` (current sessions) reads 0, polled every 10 ms: HAProxy
terminates connections, so this is how soon it knows.

Prints one JSON object: the lags (ms), p50, p99, max, what was skipped, and
"early": drains whose --wait exited before the last stream of their backend
closed (a negative lag: the signal was wrong, and the report says so).
Bounded: every stream and every drain has a timeout, the run --max-seconds.
"""
import argparse
import json
import socket
import subprocess
import threading
import time

from sluicelab import ExitClock, ctl_call, open_streams, percentile, stream_ends


def haproxy_cmd(path, cmd):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(5)
    s.connect(path)
    s.sendall(cmd.encode() + b"\n")
    chunks = []
    while True:
        b = s.recv(65536)
        if not b:
            break
        chunks.append(b)
    s.close()
    return b"".join(chunks).decode()


def haproxy_scur(path, server):
    """scur of backend "stream" server @server, from `show stat` (CSV)."""
    lines = haproxy_cmd(path, "show stat").splitlines()
    head = lines[0].lstrip("# ").split(",")
    pi, si, ci = head.index("pxname"), head.index("svname"), head.index("scur")
    for line in lines[1:]:
        f = line.split(",")
        if len(f) > ci and f[pi] == "stream" and f[si] == server:
            return int(f[ci])
    raise RuntimeError("no server stream/" + server + " in show stat")


def haproxy_drain(a, server, done):
    """Drain @server, then record when its scur first reads 0."""
    haproxy_cmd(a.haproxy_sock, f"set server stream/{server} state drain")
    deadline = time.time() + 60
    while time.time() < deadline:
        if haproxy_scur(a.haproxy_sock, server) == 0:
            done.append(time.time())
            return
        time.sleep(0.01)


def haproxy_one(a, name, threads, out):
    done = []
    drainer = threading.Thread(target=haproxy_drain, args=(a, name, done), daemon=True)
    drainer.start()
    for t in threads:
        t.join(a.seconds + 40)
    drainer.join(70)
    haproxy_cmd(a.haproxy_sock, f"set server stream/{name} state ready")
    last, failed = stream_ends(out, name)
    if not done:
        return None, 1, failed
    if last is None:
        return None, 0, failed
    return (done[0] - last) * 1000.0, 0, failed


def one_drain(a, be, name):
    out, threads = open_streams(a, a.port, "b")
    if a.haproxy_sock:
        return haproxy_one(a, name, threads, out)
    proc = subprocess.Popen([a.sluicectl, "-s", a.ctl, "backend", "drain", a.vipspec,
                             be, "--wait", "--timeout", "60s"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    clock = ExitClock(proc)
    for t in threads:
        t.join(a.seconds + 40)
    rc, t_ret = clock.result()
    ctl_call(a.ctl, {"cmd": "backend.undrain", "vip": a.vipspec, "backend": be})
    last, failed = stream_ends(out, name)
    if last is None:
        return None, rc, failed
    return (t_ret - last) * 1000.0, rc, failed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vip", required=True)
    ap.add_argument("--port", type=int, default=80)
    ap.add_argument("--vipspec")
    ap.add_argument("--ctl")
    ap.add_argument("--sluicectl")
    ap.add_argument("--haproxy-sock", help="measure HAProxy instead (its runtime API)")
    ap.add_argument("--backends", required=True)
    ap.add_argument("--drains", type=int, default=20)
    ap.add_argument("--streams", type=int, default=9)
    ap.add_argument("--seconds", type=float, default=1.0)
    ap.add_argument("--bytes", type=int, default=200000)
    ap.add_argument("--max-seconds", type=float, default=240)
    ap.add_argument("--settings", default="", help="sluiced settings, echoed")
    a = ap.parse_args()
    if not a.haproxy_sock and not (a.vipspec and a.ctl and a.sluicectl):
        ap.error("--vipspec, --ctl and --sluicectl are needed unless --haproxy-sock")
    bes = a.backends.split(",")
    lags, skipped, bad_rc, failed, early = [], 0, 0, 0, 0
    start = time.time()
    i = 0
    while len(lags) < a.drains and time.time() - start < a.max_seconds:
        be = bes[i % len(bes)]
        name = f"be{i % len(bes) + 1}" if a.haproxy_sock else "be" + be.rsplit(".", 1)[1][1:]
        lag, rc, f = one_drain(a, be, name)
        i += 1
        failed += f
        if rc != 0:
            bad_rc += 1
        elif lag is None:
            skipped += 1
        else:
            lags.append(round(lag, 1))
            early += lag < 0
    print(json.dumps({
        "drains": len(lags), "lags_ms": lags,
        "p50_ms": percentile(lags, 50), "p99_ms": percentile(lags, 99),
        "max_ms": max(lags) if lags else None,
        "skipped_no_stream_on_backend": skipped, "drain_exit_nonzero": bad_rc,
        "early": early,
        "streams_failed": failed, "streams_per_drain": a.streams,
        "settings": a.settings,
        "seconds": round(time.time() - start, 1)}))


if __name__ == "__main__":
    main()
