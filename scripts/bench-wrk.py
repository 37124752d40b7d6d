#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""make bench, part 4: HTTP through sluice, nginx (stream, L4 proxy) and
HAProxy (mode tcp), on the same lab backends, in one run.

wrk runs in the client namespace against:
  sluice   the VIP 198.18.0.100:8080 (XDP, direct server return)
  nginx    198.18.20.3:8081 on the edge box (proxies to the backends)
  haproxy  198.18.20.3:8082 on the edge box (proxies to the backends)
with and without keep-alive ("Connection: close": a TCP connection per
request). The order of the balancers and of the two modes rotates between
repetitions; every run is bounded by wrk's -d and a timeout.

CPU the balancer spent, per request:
  nginx, haproxy  utime + stime of their processes (/proc/PID/stat; nginx:
                  master and workers). Softirq work done for them (packet
                  receive) is not in these figures: this kernel has no
                  IRQ time accounting, so it lands on whatever ran.
  sluice          the XDP program's run time (run_time_ns of the program
                  on the link; scripts/bench.sh runs this script under
                  `bench_lab with-stats`, which enables it) plus sluiced's
                  utime + stime. The veth driver work around the program
                  (the same for any XDP program) is not in it.
Also the whole VM's busy time per request (/proc/stat; includes wrk, the
backends, the router, and any other job on the machine).
Prints one JSON object.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import time

TARGETS = {
    "sluice": "http://198.18.0.100:8080/",
    "nginx": "http://198.18.20.3:8081/",
    "haproxy": "http://198.18.20.3:8082/",
}
TICK = os.sysconf("SC_CLK_TCK")


def proc_cpu_ms(pid):
    """utime + stime of a process (all its threads), in ms."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            rest = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(rest[11]) + int(rest[12])) * 1000.0 / TICK


def children(pid):
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                rest = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(rest[1]) == pid:
            out.append(int(d))
    return out


def vm_ticks():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    user, nice, system, idle, iowait, irq, softirq, steal = v[:8]
    return {"busy": user + nice + system + irq + softirq + steal,
            "softirq": softirq}


def xdp_stats(a):
    r = subprocess.run([a.tool, "prog-stats", "link", a.link],
                       capture_output=True, text=True, timeout=10)
    if r.returncode:
        sys.exit(f"bench-wrk: prog-stats: {r.stderr.strip()}")
    return json.loads(r.stdout)


def balancer_cpu(a, lb):
    if lb == "nginx":
        return sum(proc_cpu_ms(p) for p in [a.nginx_pid] + children(a.nginx_pid))
    if lb == "haproxy":
        return proc_cpu_ms(a.haproxy_pid)
    return proc_cpu_ms(a.sluiced_pid)


UNIT = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def to_ms(text):
    m = re.match(r"([\d.]+)(us|ms|s)$", text)
    return float(m.group(1)) * UNIT[m.group(2)] if m else None


def parse_wrk(out):
    res = {"requests": 0, "rps": 0.0, "p50_ms": None, "p99_ms": None,
           "errors": 0, "non2xx": 0}
    for line in out.splitlines():
        s = line.split()
        if len(s) == 2 and s[0] in ("50%", "99%"):
            res["p50_ms" if s[0] == "50%" else "p99_ms"] = to_ms(s[1])
        elif line.startswith("Requests/sec:"):
            res["rps"] = float(s[1])
        elif "requests in" in line:
            res["requests"] = int(s[0])
        elif line.strip().startswith("Socket errors:"):
            res["errors"] = sum(int(x) for x in re.findall(r"\d+", line))
        elif "Non-2xx" in line:
            res["non2xx"] = int(s[-1])
    return res


def run(a, lb, mode, seconds):
    cmd = ["nsenter", f"--net=/run/netns/{a.prefix}-cli", "wrk",
           f"-t{a.threads}", f"-c{a.conns}", f"-d{seconds}s", "--latency"]
    if mode == "close":
        cmd += ["-H", "Connection: close"]
    cmd.append(TARGETS[lb])
    x0, c0, v0 = xdp_stats(a), balancer_cpu(a, lb), vm_ticks()
    t0 = time.monotonic()
    r = subprocess.run(cmd, capture_output=True, text=True,
                       timeout=seconds + 20)
    wall = time.monotonic() - t0
    x1, c1, v1 = xdp_stats(a), balancer_cpu(a, lb), vm_ticks()
    if r.returncode:
        sys.exit(f"bench-wrk: wrk failed: {r.stderr.strip()}")
    res = parse_wrk(r.stdout)
    n = max(res["requests"], 1)
    xdp_ns = x1["run_time_ns"] - x0["run_time_ns"]
    proc_ms = c1 - c0
    lb_ms = proc_ms + (xdp_ns / 1e6 if lb == "sluice" else 0.0)
    res.update({
        "lb": lb, "mode": mode, "wall_s": round(wall, 3),
        "proc_cpu_ms": round(proc_ms, 1),
        "xdp_ms": round(xdp_ns / 1e6, 3),
        "xdp_runs": x1["run_cnt"] - x0["run_cnt"],
        "lb_cpu_ms": round(lb_ms, 3),
        "lb_cpu_us_per_req": round(lb_ms * 1e3 / n, 3),
        "vm_busy_us_per_req": round((v1["busy"] - v0["busy"]) * 1e6 / TICK / n, 2),
        "vm_softirq_ms": (v1["softirq"] - v0["softirq"]) * 1000.0 / TICK,
    })
    return res


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--prefix", required=True)
    p.add_argument("--build", required=True)
    p.add_argument("--link", required=True)
    p.add_argument("--sluiced-pid", type=int, required=True)
    p.add_argument("--nginx-pid", type=int, required=True)
    p.add_argument("--haproxy-pid", type=int, required=True)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--seconds", type=int, default=4)
    p.add_argument("--conns", type=int, default=32)
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    a.tool = f"{a.build}/bench/bench_lab"

    lbs = ["sluice", "nginx", "haproxy"]
    for lb in lbs:			# warm-up, not recorded
        run(a, lb, "keepalive", 1)
    runs = []
    for r in range(a.reps):
        modes = ("keepalive", "close") if r % 2 == 0 else ("close", "keepalive")
        for mode in modes:
            for lb in lbs[r % 3:] + lbs[:r % 3]:
                res = run(a, lb, mode, a.seconds)
                res["rep"] = r
                runs.append(res)
    print(json.dumps({"bench": "wrk", "seconds": a.seconds, "conns": a.conns,
                      "threads": a.threads, "targets": TARGETS,
                      "runs": runs}, indent=1))


if __name__ == "__main__":
    main()
