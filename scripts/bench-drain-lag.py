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

Prints one JSON object: the lags (ms), p50, p99, max, and what was skipped.
Bounded: every stream and every drain has a timeout, the run --max-seconds.
"""
import argparse
import http.client
import json
import socket
import subprocess
import threading
import time


def ctl_call(path, req):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(10)
    s.connect(path)
    s.sendall(json.dumps(req).encode() + b"\n")
    line = s.makefile().readline()
    s.close()
    return json.loads(line)


def stream(a, idx, out, lock, opened):
    conn = http.client.HTTPConnection(a.vip, a.port, timeout=a.seconds + 30)
    try:
        conn.request("GET", f"/stream?bytes={a.bytes}&seconds={a.seconds}&seed=b{idx}")
        r = conn.getresponse()
        with lock:
            opened.append(idx)
        name = r.getheader("X-Backend")
        r.read()
        conn.close()
        with lock:
            out.append((name, time.time()))
    except Exception:  # noqa: BLE001 - counted as a failed stream
        conn.close()
        with lock:
            out.append((None, time.time()))


def percentile(xs, p):
    xs = sorted(xs)
    if not xs:
        return None
    k = min(len(xs) - 1, max(0, int(round(p / 100.0 * (len(xs) - 1)))))
    return xs[k]


def one_drain(a, be, name):
    out, lock, opened, threads = [], threading.Lock(), [], []
    for idx in range(a.streams):
        t = threading.Thread(target=stream, args=(a, idx, out, lock, opened), daemon=True)
        t.start()
        threads.append(t)
    t0 = time.time()
    while len(opened) + len(out) < a.streams and time.time() - t0 < 10:
        time.sleep(0.01)
    proc = subprocess.Popen([a.sluicectl, "-s", a.ctl, "backend", "drain", a.vipspec,
                             be, "--wait", "--timeout", "60s"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for t in threads:
        t.join(a.seconds + 40)
    try:
        rc = proc.wait(timeout=70)
    except subprocess.TimeoutExpired:
        proc.kill()
        rc = proc.wait()
    t_ret = time.time()
    ctl_call(a.ctl, {"cmd": "backend.undrain", "vip": a.vipspec, "backend": be})
    failed = sum(1 for n, _ in out if n is None)
    mine = [t for n, t in out if n == name]
    if not mine:
        return None, rc, failed
    return (t_ret - max(mine)) * 1000.0, rc, failed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vip", required=True)
    ap.add_argument("--port", type=int, default=80)
    ap.add_argument("--vipspec", required=True)
    ap.add_argument("--ctl", required=True)
    ap.add_argument("--sluicectl", required=True)
    ap.add_argument("--backends", required=True)
    ap.add_argument("--drains", type=int, default=20)
    ap.add_argument("--streams", type=int, default=9)
    ap.add_argument("--seconds", type=float, default=1.0)
    ap.add_argument("--bytes", type=int, default=200000)
    ap.add_argument("--max-seconds", type=float, default=240)
    ap.add_argument("--settings", default="", help="sluiced settings, echoed")
    a = ap.parse_args()
    bes = a.backends.split(",")
    lags, skipped, bad_rc, failed = [], 0, 0, 0
    start = time.time()
    i = 0
    while len(lags) < a.drains and time.time() - start < a.max_seconds:
        be = bes[i % len(bes)]
        lag, rc, f = one_drain(a, be, "be" + be.rsplit(".", 1)[1][1:])
        i += 1
        failed += f
        if rc != 0:
            bad_rc += 1
        elif lag is None:
            skipped += 1
        else:
            lags.append(round(lag, 1))
    print(json.dumps({
        "drains": len(lags), "lags_ms": lags,
        "p50_ms": percentile(lags, 50), "p99_ms": percentile(lags, 99),
        "max_ms": max(lags) if lags else None,
        "skipped_no_stream_on_backend": skipped, "drain_exit_nonzero": bad_rc,
        "streams_failed": failed, "streams_per_drain": a.streams,
        "settings": a.settings,
        "seconds": round(time.time() - start, 1)}))


if __name__ == "__main__":
    main()
