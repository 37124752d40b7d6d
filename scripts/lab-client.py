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
  hold    --vip A [--port P] --count N --ready FILE --close FILE --go FILE
          [--max-seconds S]
          N keep-alive connections, one request each, then quiet. FILE
          --ready gets {"open": n, "ports": {backend: [client ports]}} once
          all are open. If FILE --close appears before FILE --go (client
          ports, one a line; rename it into place whole), those
          connections are closed (FIN) and FILE.done is written; when
          FILE --go appears (or S seconds passed), the rest.
  udp     --vip A [--port P] --flows N --packets M --interval I [--sport-base P]
          N UDP flows (one source port each), M request/replies per flow:
          does each flow keep its backend?
          With --sport-base P, flow i binds source port P+i (a later run
          continues the same flows).
  drainrace --vip A --ctl SOCK --vipspec V --tries N [--hold-ms H]
          N times: open a connection, make a request (which backend?), drain
          that backend at once over the control socket, watch its state for
          H ms while the connection stays open (never "drained"), make a
          second request on it (same backend?), close; every --settle-every
          tries wait for the drain to complete, then undrain.
  halfclose --vip A --count N --bytes B --seconds S [--ready FILE]
          N connections that ask for a paced stream and then shutdown(SHUT_WR)
          at once (HTTP/1.0-style): the server streams on to a half-closed
          client. Every byte is checked; resets are counted.
  reuse   --vip A --ctl SOCK --vipspec V --tries N --sport P
          N times from one fixed source port: a request with
          "Connection: close" (the server closes first, so the client keeps
          no TIME_WAIT), drain its backend, then a new connection on the same
          4-tuple at once: it must succeed; then wait for the drain, undrain.
  post    --vip A [--port P] --count N --size B [--timeout T] [--max-seconds S]
          N POSTs of a B-byte deterministic body, each on a new
          connection (T seconds each at most): how many bytes the client
          sent, and how many the server says it received intact (length
          and sha256).
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

from sluicelab import ctl_call

BLOCK = 4096


def block(seed, i):
    return hashlib.sha256(f"{seed}:{i}".encode()).digest() * (BLOCK // 32)


class SourceHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host, port, source, timeout):
        super().__init__(host, port, timeout=timeout,
                         source_address=(source, 0) if source else None)


def host_of(vip):
    return vip.strip("[]")


def body_outcome(got_len, got_digest, seed, nbytes):
    """A stream's outcome from what arrived: its length and its SHA-256."""
    want, i = hashlib.sha256(), 0
    while i * BLOCK < nbytes:
        want.update(block(seed, i)[: nbytes - i * BLOCK])
        i += 1
    if got_len < nbytes:
        return "truncated"
    return "corrupt" if got_digest != want.digest() else "completed"


def run_streams(a, one, poll):
    """Start a.count threads of one(a, idx, res, lock, opened), write how
    many opened to a.ready once all have opened or ended (30 s at most),
    wait for them: (results, seconds, last end per backend)."""
    res, lock, opened, threads = [], threading.Lock(), [], []
    start = time.time()
    for idx in range(a.count):
        t = threading.Thread(target=one, args=(a, idx, res, lock, opened), daemon=True)
        t.start()
        threads.append(t)
    if a.ready:
        while len(opened) + len(res) < a.count and time.time() - start < 30:
            time.sleep(poll)
        with open(a.ready, "w") as f:
            f.write(f"{len(opened)}\n")
    for t in threads:
        t.join(a.seconds + 60)
    last_end = {}
    for _, b, t in res:
        last_end[b or "none"] = max(t, last_end.get(b or "none", 0))
    return res, round(time.time() - start, 2), last_end


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
        got, h_got = 0, hashlib.sha256()
        while got < a.bytes:
            chunk = r.read(min(65536, a.bytes - got))
            if not chunk:
                break
            h_got.update(chunk)
            got += len(chunk)
        outcome = body_outcome(got, h_got.digest(), seed, a.bytes)
    except (ConnectionResetError, BrokenPipeError):
        outcome = "reset"
    except Exception as e:  # noqa: BLE001
        outcome = "error:" + type(e).__name__
    finally:
        conn.close()
    with lock:
        res.append((outcome, backend, time.time()))


def cmd_streams(a):
    res, seconds, last_end = run_streams(a, one_stream, 0.05)
    outcomes = Counter(o for o, _, _ in res)
    backends = Counter(b for o, b, _ in res if b)
    by_backend = {}
    for o, b, _ in res:
        by_backend.setdefault(b or "none", Counter())[o] += 1
    return {"count": a.count, "finished": len(res), "outcomes": dict(outcomes),
            "completed": outcomes.get("completed", 0), "backends": dict(backends),
            "by_backend": {b: dict(c) for b, c in by_backend.items()},
            "last_end": last_end, "seconds": seconds}


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


def wait_file(paths, deadline):
    """The first of @paths that exists, or None once @deadline passed."""
    while time.time() < deadline:
        for p in paths:
            try:
                with open(p):
                    return p
            except FileNotFoundError:
                pass
        time.sleep(0.05)
    return None


def cmd_hold(a):
    conns, errors = {}, Counter()
    srcs = a.sources.split(",") if a.sources else [None]
    start = time.time()
    deadline = start + a.max_seconds
    for i in range(a.count):
        if time.time() > deadline:
            errors["deadline"] += a.count - i
            break
        c = SourceHTTPConnection(host_of(a.vip), a.port, srcs[i % len(srcs)], 10)
        try:
            be = request(c)
            conns[c.sock.getsockname()[1]] = (c, be)
        except Exception as e:  # noqa: BLE001 - the kind is what we report
            errors["open:" + type(e).__name__] += 1
            c.close()
    ports = {}
    for port, (_, be) in conns.items():
        ports.setdefault(be, []).append(port)
    with open(a.ready, "w") as f:
        json.dump({"open": len(conns), "ports": ports,
                   "seconds": round(time.time() - start, 2)}, f)
    closed_first = 0
    if wait_file([a.close, a.go], deadline) == a.close:
        with open(a.close) as f:
            for line in f:
                c, _ = conns.pop(int(line), (None, None))
                if c:
                    c.close()
                    closed_first += 1
        with open(a.close + ".done", "w") as f:
            f.write(f"{closed_first}\n")
    wait_file([a.go], deadline)
    for c, _ in conns.values():
        c.close()
    return {"count": a.count, "open": closed_first + len(conns),
            "closed_first": closed_first, "closed_last": len(conns),
            "errors": dict(errors), "seconds": round(time.time() - start, 2)}


def one_udp_flow(a, idx, out, lock):
    fam = socket.AF_INET6 if ":" in a.vip else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.settimeout(2)
    if a.sport_base:  # the same flows again from a later run
        s.bind(("::" if fam == socket.AF_INET6 else "0.0.0.0", a.sport_base + idx))
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


def be_state(a, backend):
    r = ctl_call(a.ctl, {"cmd": "backend.status", "vip": a.vipspec, "backend": backend})
    row = r["result"][0]
    return row["state"], row.get("flows", 0)


def be_addr(name):
    """Lab backends are named beN and live at 198.18.20.1N."""
    return f"198.18.20.1{name[2:]}"


def wait_drained(a, backend, limit):
    t0 = time.time()
    while time.time() - t0 < limit:
        if be_state(a, backend)[0] == "drained":
            return time.time() - t0
        time.sleep(0.02)
    return None


def request(conn, path="/", close=False):
    conn.request("GET", path, headers={"Connection": "close"} if close else {})
    r = conn.getresponse()
    r.read()
    return r.getheader("X-Backend")


def one_race(a, i, out):
    conn = SourceHTTPConnection(host_of(a.vip), a.port, None, 5)
    first = request(conn)
    be = be_addr(first)
    ctl_call(a.ctl, {"cmd": "backend.drain", "vip": a.vipspec, "backend": be})
    t0, early, low = time.time(), 0, 0
    while time.time() - t0 < a.hold_ms / 1000.0:
        state, flows = be_state(a, be)
        early += state == "drained"
        low += flows < 1
        time.sleep(0.01)
    second = request(conn)
    state, flows = be_state(a, be)
    early += state == "drained"
    out["early"] += early > 0
    out["count_below_open"] += low > 0
    out["moved"] += second != first
    conn.close()
    if a.settle_every and i % a.settle_every == 0:
        took = wait_drained(a, be, 15)
        if took is None:
            out["never_drained"] += 1
        else:
            out["settle_s"].append(round(took, 3))
    ctl_call(a.ctl, {"cmd": "backend.undrain", "vip": a.vipspec, "backend": be})


def cmd_drainrace(a):
    out = {"tries": 0, "early": 0, "moved": 0, "count_below_open": 0,
           "never_drained": 0, "errors": Counter(), "settle_s": []}
    deadline = time.time() + a.max_seconds
    for i in range(1, a.tries + 1):
        if time.time() > deadline:
            break
        try:
            one_race(a, i, out)
            out["tries"] += 1
        except Exception as e:  # noqa: BLE001
            out["errors"][type(e).__name__] += 1
    out["errors"] = dict(out["errors"])
    return out


def one_halfclose(a, idx, res, lock, opened):
    fam = socket.AF_INET6 if ":" in a.vip else socket.AF_INET
    seed = f"h{a.seed}-{idx}"
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(a.seconds + 30)
    outcome, got, backend = "completed", b"", None
    try:
        s.connect((host_of(a.vip), a.port))
        s.sendall(f"GET /stream?bytes={a.bytes}&seconds={a.seconds}&seed={seed} "
                  f"HTTP/1.0\r\nHost: x\r\n\r\n".encode())
        s.shutdown(socket.SHUT_WR)
        with lock:
            opened.append(idx)
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            got += chunk
        head, _, body = got.partition(b"\r\n\r\n")
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"x-backend:"):
                backend = line.split(b":", 1)[1].strip().decode()
        outcome = body_outcome(len(body), hashlib.sha256(body[: a.bytes]).digest(),
                               seed, a.bytes)
    except (ConnectionResetError, BrokenPipeError):
        outcome = "reset"
    except Exception as e:  # noqa: BLE001
        outcome = "error:" + type(e).__name__
    finally:
        s.close()
    with lock:
        res.append((outcome, backend, time.time()))


def cmd_halfclose(a):
    res, seconds, last_end = run_streams(a, one_halfclose, 0.02)
    outcomes = Counter(o for o, _, _ in res)
    return {"count": a.count, "outcomes": dict(outcomes),
            "completed": outcomes.get("completed", 0),
            "resets": outcomes.get("reset", 0), "end": time.time(),
            "last_end": last_end, "seconds": seconds}


def bound_conn(a):
    """A connection from the fixed source port (SO_REUSEADDR: the previous
    one on this port is closed, and the server closed first)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.settimeout(5)
    s.bind(("0.0.0.0", a.sport))
    s.connect((host_of(a.vip), a.port))
    c = http.client.HTTPConnection(host_of(a.vip), a.port, timeout=5)
    c.sock = s
    return c


def one_reuse(a, out):
    c = bound_conn(a)
    first = request(c, close=True)
    be = be_addr(first)
    ctl_call(a.ctl, {"cmd": "backend.drain", "vip": a.vipspec, "backend": be})
    c.close()
    time.sleep(0.05)	# the server's FIN and our own have crossed
    for attempt in range(20):
        try:
            c = bound_conn(a)
            break
        except OSError:
            time.sleep(0.05)
    else:
        out["reconnect_failed"] += 1
        return
    second = request(c, close=True)
    c.close()
    out["second_ok"] += second is not None
    out["second_same_backend"] += second == first
    took = wait_drained(a, be, 20)
    if took is None:
        out["never_drained"] += 1
    r = ctl_call(a.ctl, {"cmd": "backend.status", "vip": a.vipspec, "backend": be})
    out["lost"] += r["result"][0].get("lost", 0) - out["lost_seen"].get(be, 0)
    out["lost_seen"][be] = r["result"][0].get("lost", 0)
    ctl_call(a.ctl, {"cmd": "backend.undrain", "vip": a.vipspec, "backend": be})


def cmd_reuse(a):
    out = {"tries": 0, "second_ok": 0, "second_same_backend": 0, "lost": 0,
           "never_drained": 0, "reconnect_failed": 0, "errors": Counter(),
           "lost_seen": {}}
    deadline = time.time() + a.max_seconds
    for _ in range(a.tries):
        if time.time() > deadline:
            break
        try:
            one_reuse(a, out)
            out["tries"] += 1
        except Exception as e:  # noqa: BLE001
            out["errors"][type(e).__name__] += 1
    out["errors"] = dict(out["errors"])
    del out["lost_seen"]
    return out
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
    ho = sub.add_parser("hold")
    ho.add_argument("--count", type=int, default=100)
    ho.add_argument("--ready", required=True)
    ho.add_argument("--close", required=True)
    ho.add_argument("--go", required=True)
    ho.add_argument("--max-seconds", type=float, default=90)
    u = sub.add_parser("udp")
    u.add_argument("--flows", type=int, default=10)
    u.add_argument("--packets", type=int, default=5)
    u.add_argument("--interval", type=float, default=0.5)
    u.add_argument("--sport-base", type=int, default=0)
    r = sub.add_parser("drainrace")
    r.add_argument("--ctl", required=True)
    r.add_argument("--vipspec", required=True)
    r.add_argument("--tries", type=int, default=300)
    r.add_argument("--hold-ms", type=float, default=300)
    r.add_argument("--settle-every", type=int, default=10)
    r.add_argument("--max-seconds", type=float, default=170)
    h = sub.add_parser("halfclose")
    h.add_argument("--count", type=int, default=5)
    h.add_argument("--bytes", type=int, default=1 << 20)
    h.add_argument("--seconds", type=float, default=5)
    h.add_argument("--seed", default="h")
    h.add_argument("--ready")
    e = sub.add_parser("reuse")
    e.add_argument("--ctl", required=True)
    e.add_argument("--vipspec", required=True)
    e.add_argument("--tries", type=int, default=10)
    e.add_argument("--sport", type=int, default=45678)
    e.add_argument("--max-seconds", type=float, default=120)
    po = sub.add_parser("post")
    po.add_argument("--count", type=int, default=10)
    po.add_argument("--size", type=int, default=1460)
    po.add_argument("--timeout", type=float, default=20)
    po.add_argument("--max-seconds", type=float, default=120)
    for p in (g, s, i, ho, u, r, h, e, po):
        p.add_argument("--vip", required=True)
        p.add_argument("--port", type=int, default=53 if p is u else 80)
        p.add_argument("--sources")
    a = ap.parse_args()
    result = {"get": cmd_get, "streams": cmd_streams, "idle": cmd_idle,
              "hold": cmd_hold, "udp": cmd_udp, "drainrace": cmd_drainrace,
              "halfclose": cmd_halfclose, "reuse": cmd_reuse,
              "post": cmd_post}[a.mode](a)
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
