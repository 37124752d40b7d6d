#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""The lab's clients. Every mode is bounded in count and time and prints
one JSON object with what it measured.

  get     --vip A [--port P] --count N [--sources A,B,..]
          N short HTTP requests, each on a new connection: which backend
          answered each, and how many failed.
  streams --vip A [--port P] --count N --bytes B --seconds S [--ready FILE]
          N concurrent long downloads; every byte is checked against the
          server's deterministic pattern. Writes FILE once all are open.
  idle    --vip A [--port P] --count N --ready FILE --go FILE [--max-seconds S]
          N keep-alive connections: one request each, then quiet until FILE
          "go" appears, then a second request on each: did it reach the
          same backend, on the same connection?
  udp     --vip A [--port P] --flows N --packets M --interval I
          N UDP flows (one source port each), M request/replies per flow:
          does each flow keep its backend?
  post    --vip A [--port P] --count N --size B [--max-seconds S]
          N POSTs of a B-byte deterministic body, each on a new
          connection: how many bytes the client sent, and how many the
          server says it received intact (length and sha256).
"""
import argparse
import hashlib
import http.client
import json
import socket
import sys
import threading
import time
from collections import Counter

BLOCK = 4096


def block(seed, i):
    return hashlib.sha256(f"{seed}:{i}".encode()).digest() * (BLOCK // 32)


class SourceHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host, port, source, timeout):
        super().__init__(host, port, timeout=timeout,
                         source_address=(source, 0) if source else None)


def host_of(vip):
    return vip.strip("[]")


def cmd_get(a):
    seen, errors, err_kinds = Counter(), 0, Counter()
    sources = a.sources.split(",") if a.sources else [None]
    deadline = time.time() + a.max_seconds
    for i in range(a.count):
        if time.time() > deadline:
            break
        conn = SourceHTTPConnection(host_of(a.vip), a.port, sources[i % len(sources)], 5)
        try:
            conn.request("GET", "/", headers={"Connection": "close"})
            r = conn.getresponse()
            r.read()
            seen[r.getheader("X-Backend")] += 1
        except Exception as e:  # noqa: BLE001 - the kind is what we report
            errors += 1
            err_kinds[type(e).__name__] += 1
        finally:
            conn.close()
        if a.interval:
            time.sleep(a.interval)
    return {"backends": dict(seen), "errors": errors, "error_kinds": dict(err_kinds)}


def one_stream(a, idx, res, lock, opened):
    seed = f"{a.seed}-{idx}"
    src = a.sources.split(",")[idx % len(a.sources.split(","))] if a.sources else None
    conn = SourceHTTPConnection(host_of(a.vip), a.port, src, a.seconds + 30)
    outcome, backend = "completed", None
    try:
        conn.request("GET", f"/stream?bytes={a.bytes}&seconds={a.seconds}&seed={seed}")
        r = conn.getresponse()
        backend = r.getheader("X-Backend")
        with lock:
            opened.append(idx)
        got, i, h_got, h_want = 0, 0, hashlib.sha256(), hashlib.sha256()
        while got < a.bytes:
            chunk = r.read(min(65536, a.bytes - got))
            if not chunk:
                break
            h_got.update(chunk)
            got += len(chunk)
        while i * BLOCK < a.bytes:
            h_want.update(block(seed, i)[: a.bytes - i * BLOCK])
            i += 1
        if got < a.bytes:
            outcome = "truncated"
        elif h_got.digest() != h_want.digest():
            outcome = "corrupt"
    except (ConnectionResetError, BrokenPipeError):
        outcome = "reset"
    except Exception as e:  # noqa: BLE001
        outcome = "error:" + type(e).__name__
    finally:
        conn.close()
    with lock:
        res.append((outcome, backend))


def cmd_streams(a):
    res, lock, opened, threads = [], threading.Lock(), [], []
    start = time.time()
    for idx in range(a.count):
        t = threading.Thread(target=one_stream, args=(a, idx, res, lock, opened), daemon=True)
        t.start()
        threads.append(t)
    if a.ready:
        while len(opened) + len(res) < a.count and time.time() - start < 30:
            time.sleep(0.05)
        with open(a.ready, "w") as f:
            f.write(f"{len(opened)}\n")
    for t in threads:
        t.join(a.seconds + 60)
    outcomes = Counter(o for o, _ in res)
    backends = Counter(b for o, b in res if b)
    by_backend = {}
    for o, b in res:
        by_backend.setdefault(b or "none", Counter())[o] += 1
    return {"count": a.count, "finished": len(res), "outcomes": dict(outcomes),
            "completed": outcomes.get("completed", 0), "backends": dict(backends),
            "by_backend": {b: dict(c) for b, c in by_backend.items()},
            "seconds": round(time.time() - start, 2)}


def cmd_idle(a):
    conns, first, errors = [], [], Counter()
    srcs = a.sources.split(",") if a.sources else [None]
    for i in range(a.count):
        c = SourceHTTPConnection(host_of(a.vip), a.port, srcs[i % len(srcs)], 10)
        try:
            c.request("GET", "/")
            r = c.getresponse()
            r.read()
            conns.append(c)
            first.append(r.getheader("X-Backend"))
        except Exception as e:  # noqa: BLE001
            errors["first:" + type(e).__name__] += 1
    with open(a.ready, "w") as f:
        f.write(f"{len(conns)}\n")
    deadline = time.time() + a.max_seconds
    while time.time() < deadline:
        try:
            with open(a.go) as f:
                break
        except FileNotFoundError:
            time.sleep(0.1)
    same, changed, by_backend = 0, 0, {}
    for c, b in zip(conns, first):
        try:
            c.request("GET", "/")
            r = c.getresponse()
            r.read()
            ok = r.getheader("X-Backend") == b
            same += ok
            changed += not ok
            by_backend.setdefault(b, Counter())["same" if ok else "changed"] += 1
        except Exception as e:  # noqa: BLE001
            errors["second:" + type(e).__name__] += 1
            by_backend.setdefault(b, Counter())["error"] += 1
        finally:
            c.close()
    return {"count": a.count, "open": len(conns), "same_backend": same,
            "changed": changed, "errors": dict(errors),
            "by_backend": {k: dict(v) for k, v in by_backend.items()}}


def one_udp_flow(a, idx, out, lock):
    fam = socket.AF_INET6 if ":" in a.vip else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.settimeout(2)
    s.connect((host_of(a.vip), a.port))  # replies must come from the VIP
    names, lost = [], []
    for n in range(a.packets):
        try:
            s.send(f"{idx}:{n}".encode())
            data = s.recv(2048)
            names.append(data.split(b" ")[0].decode())
        except (socket.timeout, ConnectionRefusedError):
            lost.append(n)
        time.sleep(a.interval)
    s.close()
    with lock:
        out.append((names, lost))


def cmd_udp(a):
    out, lock, threads = [], threading.Lock(), []
    for idx in range(a.flows):
        t = threading.Thread(target=one_udp_flow, args=(a, idx, out, lock), daemon=True)
        t.start()
        threads.append(t)
    for t in threads:
        t.join(a.packets * (a.interval + 3) + 10)
    consistent = sum(1 for names, _ in out if names and len(set(names)) == 1)
    first = Counter(names[0] for names, _ in out if names)
    lost_at = Counter(n for _, lost in out for n in lost)
    return {"flows": a.flows, "consistent": consistent,
            "inconsistent": sum(1 for names, _ in out if len(set(names)) > 1),
            "lost": sum(len(lost) for _, lost in out), "lost_at": dict(lost_at),
            "backends": dict(first)}


def one_post(a, i):
    """POST one body; (bytes sent, bytes the server confirmed, error)."""
    body = b"".join(block(f"post-{i}", j) for j in range((a.size + BLOCK - 1) // BLOCK))
    body = body[: a.size]
    conn = SourceHTTPConnection(host_of(a.vip), a.port, None, a.timeout)
    try:
        conn.request("POST", "/upload", body=body,
                     headers={"Connection": "close", "Content-Type": "application/octet-stream"})
        r = conn.getresponse()
        got, digest = r.read().decode().split()
        ok = r.status == 200 and digest == hashlib.sha256(body).hexdigest()
        return len(body), int(got) if ok else 0, None if ok else "mismatch"
    except Exception as e:  # noqa: BLE001 - the kind is what we report
        return 0, 0, type(e).__name__
    finally:
        conn.close()


def cmd_post(a):
    sent = acked = ok = 0
    errors, slowest, start = Counter(), 0.0, time.time()
    for i in range(a.count):
        if time.time() - start > a.max_seconds:
            errors["deadline"] += a.count - i
            break
        t0 = time.time()
        s, got, err = one_post(a, i)
        slowest = max(slowest, time.time() - t0)
        sent += s
        acked += got
        if err:
            errors[err] += 1
        else:
            ok += 1
    return {"count": a.count, "ok": ok, "failed": a.count - ok,
            "error_kinds": dict(errors), "bytes_sent": sent, "bytes_acked": acked,
            "seconds": round(time.time() - start, 3), "slowest": round(slowest, 3)}


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="mode", required=True)
    g = sub.add_parser("get")
    g.add_argument("--count", type=int, default=10)
    g.add_argument("--interval", type=float, default=0)
    g.add_argument("--max-seconds", type=float, default=120)
    s = sub.add_parser("streams")
    s.add_argument("--count", type=int, default=10)
    s.add_argument("--bytes", type=int, default=1 << 20)
    s.add_argument("--seconds", type=float, default=5)
    s.add_argument("--seed", default="s")
    s.add_argument("--ready")
    i = sub.add_parser("idle")
    i.add_argument("--count", type=int, default=30)
    i.add_argument("--ready", required=True)
    i.add_argument("--go", required=True)
    i.add_argument("--max-seconds", type=float, default=60)
    u = sub.add_parser("udp")
    u.add_argument("--flows", type=int, default=10)
    u.add_argument("--packets", type=int, default=5)
    u.add_argument("--interval", type=float, default=0.5)
    po = sub.add_parser("post")
    po.add_argument("--count", type=int, default=10)
    po.add_argument("--size", type=int, default=1460)
    po.add_argument("--timeout", type=float, default=20)
    po.add_argument("--max-seconds", type=float, default=120)
    for p in (g, s, i, u, po):
        p.add_argument("--vip", required=True)
        p.add_argument("--port", type=int, default=53 if p is u else 80)
        p.add_argument("--sources")
    a = ap.parse_args()
    result = {"get": cmd_get, "streams": cmd_streams, "idle": cmd_idle,
              "udp": cmd_udp, "post": cmd_post}[a.mode](a)
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
