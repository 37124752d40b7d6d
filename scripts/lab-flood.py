#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""A bounded flood of spoofed TCP packets for the lab (raw socket).

  lab-flood.py --vip A --port P --count N [--kind syn|ack|pair] [--seconds S]

Sources are random addresses in 198.19.0.0/16 (the lab's benchmarking
range, never routed anywhere else). kind: syn (one SYN per tuple), ack (one
ACK per tuple), pair (SYN then ACK per tuple: two packets, which promote
the tuple into the established flow table). Stops after N tuples or S
seconds, whichever first, and prints JSON {"tuples": n, "packets": n}.
"""
import argparse
import json
import random
import socket
import struct
import time


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def packet(src, dst, sport, dport, flags, seq):
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, 0, 5 << 4, flags, 65535, 0, 0)
    pseudo = src + dst + struct.pack("!BBH", 0, socket.IPPROTO_TCP, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", csum(pseudo + tcp)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0x4000, 64,
                     socket.IPPROTO_TCP, 0, src, dst)
    return ip + tcp


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vip", required=True)
    ap.add_argument("--port", type=int, default=80)
    ap.add_argument("--count", type=int, default=10000)
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--kind", choices=("syn", "ack", "pair"), default="syn")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    dst = socket.inet_aton(a.vip)
    flags = {"syn": [0x02], "ack": [0x10], "pair": [0x02, 0x10]}[a.kind]
    end = time.time() + a.seconds
    sent = tuples = 0
    for tuples in range(1, a.count + 1):
        src = bytes([198, 19, rnd.randrange(256), rnd.randrange(1, 255)])
        sport = rnd.randrange(1024, 65536)
        seq = rnd.randrange(1 << 32)
        for f in flags:
            s.sendto(packet(src, dst, sport, a.port, f, seq), (a.vip, 0))
            sent += 1
        if time.time() > end:
            break
    print(json.dumps({"tuples": tuples, "packets": sent}))


if __name__ == "__main__":
    main()
