#!/usr/bin/python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Run a command under the system-call filter of a systemd unit, as
systemd would apply it, without systemd as PID 1.

    unit_sandbox.py UNIT -- CMD [ARG...]
    unit_sandbox.py --devices UNIT -- CMD [ARG...]
                                      PrivateDevices=yes: CMD in a mount
                                      namespace of its own whose /dev has
                                      only what systemd's has (run as root,
                                      before setpriv drops capabilities)
    unit_sandbox.py --list UNIT       print the allowed system calls
    unit_sandbox.py --caps UNIT       print CapabilityBoundingSet= (setpriv's
                                      form: +bpf,+net_admin), or -all

The filter follows systemd.exec(5): the first SystemCallFilter= line says
allow-list or deny-list; later lines add to or take from that set in
order ("~" takes away from an allow-list); an empty one resets; an
allow-list implies @default and execve, exit, exit_group, getrlimit,
rt_sigreturn and sigreturn. Sets (@name) are expanded, nested ones
included, by `systemd-analyze syscall-filter`, i.e. by the systemd that
would run the unit. Denied calls fail with SystemCallErrorNumber=.
RestrictAddressFamilies= (an allow-list) limits socket() to those
families, as systemd's own filter does (other families get EPERM here,
EAFNOSUPPORT under systemd). Only SystemCallArchitectures=native is
supported (the native ABI alone).
Uses libseccomp's Python binding (Debian: python3-seccomp), which sets
no_new_privs, as NoNewPrivileges=yes does.
"""
import errno
import os
import socket
import subprocess
import sys

ALWAYS = {"execve", "exit", "exit_group", "getrlimit", "rt_sigreturn", "sigreturn"}


def die(msg):
    sys.exit(f"unit_sandbox: {msg}")


def service_settings(path, key):
    """Every value of @key in the unit's [Service] section, in order."""
    values, section = [], None
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("["):
                section = line
            elif section == "[Service]" and line.startswith(key + "="):
                values.append(line[len(key) + 1:].strip())
    return values


def expand(name, cache={}):
    """@set -> its system calls (nested sets expanded); a name -> itself."""
    if not name.startswith("@"):
        return {name}
    if name not in cache:
        out = subprocess.run(["systemd-analyze", "syscall-filter", name],
                             capture_output=True, text=True)
        if out.returncode:
            die(f"systemd-analyze does not know {name}: {out.stderr.strip()}")
        calls = set()
        for line in out.stdout.splitlines()[1:]:
            word = line.strip()
            if word and not word.startswith("#"):
                calls |= expand(word)
        cache[name] = calls
    return cache[name]


def allowed_calls(unit):
    allow, allow_list = set(), None
    for value in service_settings(unit, "SystemCallFilter"):
        if not value:
            allow, allow_list = set(), None
            continue
        invert = value.startswith("~")
        names = set()
        for word in value.lstrip("~").split():
            names |= expand(word)
        if allow_list is None:
            allow_list = not invert
            if allow_list:
                allow |= expand("@default") | ALWAYS
        if allow_list:
            allow = allow - names if invert else allow | names
        else:
            die("a deny-list SystemCallFilter= is not supported")
    if allow_list is None:
        die(f"{unit} has no SystemCallFilter=")
    return allow


def error_number(unit):
    values = service_settings(unit, "SystemCallErrorNumber")
    if not values:
        return None  # systemd kills the process
    name = values[-1]
    if not hasattr(errno, name):
        die(f"SystemCallErrorNumber={name}: unknown errno")
    return getattr(errno, name)


def address_families(unit):
    """RestrictAddressFamilies= as socket() family numbers, or None."""
    values = service_settings(unit, "RestrictAddressFamilies")
    if not values:
        return None
    names = values[-1].split()
    if not names or names[0].startswith("~"):
        die("only an allow-list RestrictAddressFamilies= is supported")
    families = []
    for name in names:
        if not hasattr(socket, name):
            die(f"RestrictAddressFamilies={name}: unknown family")
        families.append(int(getattr(socket, name)))
    return families


def capabilities(unit):
    values = service_settings(unit, "CapabilityBoundingSet")
    caps = values[-1].split() if values else []
    if not caps:
        return "-all"
    return ",".join("+" + c.lower().removeprefix("cap_") for c in caps)


# What systemd puts in a PrivateDevices=yes /dev (systemd.exec(5)):
# pseudo devices, bound from the real /dev; symlinks; empty mounts.
PRIVATE_DEV_NODES = ["null", "zero", "full", "random", "urandom", "tty"]
PRIVATE_DEV_LINKS = {"fd": "/proc/self/fd", "stdin": "/proc/self/fd/0",
                     "stdout": "/proc/self/fd/1", "stderr": "/proc/self/fd/2"}
CLONE_NEWNS, MS_BIND, MS_REC, MS_PRIVATE, MS_MOVE = 0x20000, 4096, 16384, 1 << 18, 8192


def private_dev():
    import ctypes
    import tempfile

    libc = ctypes.CDLL(None, use_errno=True)

    def check(rc, what):
        if rc:
            die(f"{what}: {os.strerror(ctypes.get_errno())}")

    def mount(src, dst, fstype, flags, data=None):
        check(libc.mount(src.encode(), dst.encode(), fstype.encode() if fstype else None,
                         ctypes.c_ulong(flags), data.encode() if data else None),
              f"mount {dst}")

    check(libc.unshare(CLONE_NEWNS), "unshare(CLONE_NEWNS)")
    mount("none", "/", None, MS_REC | MS_PRIVATE)
    stage = tempfile.mkdtemp(prefix="sluice-dev.")
    mount("tmpfs", stage, "tmpfs", 0, "mode=0755")
    for node in PRIVATE_DEV_NODES:
        open(os.path.join(stage, node), "w").close()
        mount(f"/dev/{node}", os.path.join(stage, node), None, MS_BIND)
    for name, target in PRIVATE_DEV_LINKS.items():
        os.symlink(target, os.path.join(stage, name))
    for d in ("shm", "pts", "mqueue"):
        os.mkdir(os.path.join(stage, d))
    mount("tmpfs", os.path.join(stage, "shm"), "tmpfs", 0, "mode=1777")
    mount(stage, "/dev", None, MS_MOVE)
    os.rmdir(stage)  # empty once its mount moved


def main(argv):
    if len(argv) == 3 and argv[1] == "--list":
        print("\n".join(sorted(allowed_calls(argv[2]))))
        return 0
    if len(argv) == 3 and argv[1] == "--caps":
        print(capabilities(argv[2]))
        return 0
    if len(argv) >= 5 and argv[1] == "--devices" and argv[3] == "--":
        if service_settings(argv[2], "PrivateDevices") == ["yes"]:
            private_dev()
        os.execvp(argv[4], argv[4:])
    if len(argv) < 4 or argv[2] != "--":
        die("usage: unit_sandbox.py [--devices] UNIT -- CMD [ARG...] | --list UNIT | --caps UNIT")
    unit, cmd = argv[1], argv[3:]
    if service_settings(unit, "SystemCallArchitectures") != ["native"]:
        die(f"{unit}: only SystemCallArchitectures=native is supported")
    import seccomp  # here: --list and --caps do without it

    err = error_number(unit)
    f = seccomp.SyscallFilter(seccomp.KILL if err is None else seccomp.ERRNO(err))
    families = address_families(unit)
    for call in sorted(allowed_calls(unit)):
        if call == "socket" and families is not None:
            for fam in families:
                f.add_rule(seccomp.ALLOW, call, seccomp.Arg(0, seccomp.EQ, fam))
            continue
        try:
            f.add_rule(seccomp.ALLOW, call)
        except (RuntimeError, ValueError, OSError):
            pass  # not a system call of this architecture
    f.load()
    os.execvp(cmd[0], cmd)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
