# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""What the lab's Python clients share: sluiced's control socket, the paced
streams a drain is measured against, and the numbers made of them.

Not run on its own. The scripts beside it run as `python3 scripts/X.py`,
which puts this folder first on sys.path, so a plain `import sluicelab`
finds this file from any working directory or network namespace.
"""
import http.client
import json
import socket
import threading
import time


def ctl_call(path, req, timeout=10):
    """One request on sluiced's control socket (a path: reachable from any
    network namespace)."""
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(timeout)
    s.connect(path)
    s.sendall(json.dumps(req).encode() + b"\n")
    line = s.makefile().readline()
    s.close()
    return json.loads(line)


def stream(a, port, seed, out, lock, opened):
    """One paced download of the lab's /stream from @a.vip:@port. Appends
    @seed to @opened once the headers are in, then (backend, close time)
    to @out; backend None if it failed."""
    conn = http.client.HTTPConnection(a.vip, port, timeout=a.seconds + 30)
    try:
        conn.request("GET", f"/stream?bytes={a.bytes}&seconds={a.seconds}&seed={seed}")
        r = conn.getresponse()
        with lock:
            opened.append(seed)
        name = r.getheader("X-Backend")
        r.read()
        conn.close()
        with lock:
            out.append((name, time.time()))
    except Exception:  # noqa: BLE001 - counted as a failed stream
        conn.close()
        with lock:
            out.append((None, time.time()))


def open_streams(a, port, prefix):
    """Start @a.streams streams and wait (10 s at most) until each has its
    headers or has failed, so a drain starts with all of them flowing.
    Returns (out, threads): see stream() for out."""
    out, lock, opened, threads = [], threading.Lock(), [], []
    for idx in range(a.streams):
        t = threading.Thread(target=stream,
                             args=(a, port, f"{prefix}{idx}", out, lock, opened),
                             daemon=True)
        t.start()
        threads.append(t)
    t0 = time.time()
    while len(opened) + len(out) < a.streams and time.time() - t0 < 10:
        time.sleep(0.01)
    return out, threads


def stream_ends(out, name):
    """(when the last stream served by backend @name closed or None,
    how many streams failed)."""
    mine = [t for n, t in out if n == name]
    failed = sum(1 for n, _ in out if n is None)
    return (max(mine) if mine else None), failed


class ExitClock:
    """The moment @proc exits, taken by a thread of its own: not after the
    streams are joined, which would hide an exit before the last close."""

    def __init__(self, proc):
        self.proc = proc
        self.exited = []
        self.waiter = threading.Thread(target=self._wait, daemon=True)
        self.waiter.start()

    def _wait(self):
        rc = self.proc.wait()
        self.exited.append((rc, time.time()))

    def result(self, limit=70):
        """(exit code, exit time); kills @proc if it outlives @limit s."""
        self.waiter.join(limit)
        if not self.exited:
            self.proc.kill()
            self.waiter.join(5)
        return self.exited[0] if self.exited else (self.proc.wait(), time.time())


def percentile(xs, p):
    xs = sorted(xs)
    if not xs:
        return None
    k = min(len(xs) - 1, max(0, int(round(p / 100.0 * (len(xs) - 1)))))
    return xs[k]
