#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""A lab backend: HTTP on port 80 and UDP echo on port 53, dual-stack.

HTTP (Python's http.server, one thread per connection):
  GET /                      -> "<name>\\n"
  GET /stream?bytes=N&seconds=S&seed=K
                             -> N deterministic bytes paced over S seconds
                                (block i = sha256("K:i") * 128), so a client
                                can verify every byte it receives
  GET /health                -> 200, or the status set by /admin/health
  GET /admin/health?status=C -> make /health answer C from now on
  GET /hang                  -> never answers (a check that must time out)
  POST /upload               -> "<bytes received> <sha256 hex>\n" of the body
                                (Content-Length), so a client can check
                                that every byte it sent arrived
Every response carries "X-Backend: <name>". UDP: each datagram is answered
with "<name> <payload>", sent from the address the datagram was sent to.
"""
import argparse
import hashlib
import socket
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

BLOCK = 4096


def block(seed, i):
    return hashlib.sha256(f"{seed}:{i}".encode()).digest() * (BLOCK // 32)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    health_status = 200

    def log_message(self, fmt, *args):
        pass

    def reply(self, code, body):
        self.send_response(code)
        self.send_header("X-Backend", self.server.name)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        url = urlparse(self.path)
        q = {k: v[0] for k, v in parse_qs(url.query).items()}
        if url.path == "/":
            self.reply(200, f"{self.server.name}\n".encode())
        elif url.path == "/stream":
            self.stream(int(q.get("bytes", BLOCK)), float(q.get("seconds", 0)),
                        q.get("seed", "0"))
        elif url.path == "/health":
            code = Handler.health_status
            self.reply(code, b"ok\n" if code == 200 else b"unhealthy\n")
        elif url.path == "/admin/health":
            Handler.health_status = int(q.get("status", 200))
            self.reply(200, b"set\n")
        elif url.path == "/hang":
            time.sleep(3600)
        else:
            self.reply(404, b"not found\n")

    def do_POST(self):
        if urlparse(self.path).path != "/upload":
            self.reply(404, b"not found\n")
            return
        left = int(self.headers.get("Content-Length", 0))
        got, h = 0, hashlib.sha256()
        while left > 0:
            chunk = self.rfile.read(min(65536, left))
            if not chunk:
                break
            h.update(chunk)
            got += len(chunk)
            left -= len(chunk)
        self.reply(200, f"{got} {h.hexdigest()}\n".encode())

    def stream(self, size, seconds, seed):
        self.send_response(200)
        self.send_header("X-Backend", self.server.name)
        self.send_header("Content-Length", str(size))
        self.end_headers()
        blocks = (size + BLOCK - 1) // BLOCK
        pause = seconds / blocks if blocks else 0
        sent = 0
        for i in range(blocks):
            chunk = block(seed, i)[: size - sent]
            self.wfile.write(chunk)
            self.wfile.flush()
            sent += len(chunk)
            if pause:
                time.sleep(pause)


class DualStackHTTP(ThreadingHTTPServer):
    address_family = socket.AF_INET6
    daemon_threads = True
    request_queue_size = 1024

    def server_bind(self):
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        super().server_bind()


IP_PKTINFO = getattr(socket, "IP_PKTINFO", 8)
IPV6_RECVPKTINFO = getattr(socket, "IPV6_RECVPKTINFO", 49)
IPV6_PKTINFO = getattr(socket, "IPV6_PKTINFO", 50)


def udp_echo(name, family, port):
    """Answer each datagram from the address it was sent to (the VIP), as a
    direct-server-return backend must: IP_PKTINFO / IPV6_PKTINFO."""
    s = socket.socket(family, socket.SOCK_DGRAM)
    if family == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s.setsockopt(socket.IPPROTO_IPV6, IPV6_RECVPKTINFO, 1)
        s.bind(("::", port))
    else:
        s.setsockopt(socket.IPPROTO_IP, IP_PKTINFO, 1)
        s.bind(("0.0.0.0", port))
    while True:
        data, anc, _, peer = s.recvmsg(2048, 256)
        reply = name.encode() + b" " + data
        cmsg = []
        for level, kind, blob in anc:
            if family == socket.AF_INET and kind == IP_PKTINFO:
                # struct in_pktinfo { ifindex; spec_dst; addr }: reply from addr.
                cmsg = [(socket.IPPROTO_IP, IP_PKTINFO,
                         struct.pack("=i4s4s", 0, blob[8:12], b"\0" * 4))]
            elif family == socket.AF_INET6 and kind == IPV6_PKTINFO:
                cmsg = [(socket.IPPROTO_IPV6, IPV6_PKTINFO, blob[:16] + b"\0" * 4)]
        s.sendmsg([reply], cmsg, 0, peer)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--name", required=True)
    ap.add_argument("--http-port", type=int, default=80)
    ap.add_argument("--udp-port", type=int, default=53)
    args = ap.parse_args()
    http = DualStackHTTP(("::", args.http_port), Handler)
    http.name = args.name
    for fam in (socket.AF_INET, socket.AF_INET6):
        threading.Thread(target=udp_echo, args=(args.name, fam, args.udp_port),
                         daemon=True).start()
    http.serve_forever()


if __name__ == "__main__":
    main()
