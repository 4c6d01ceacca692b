#!/usr/bin/python3
"""Finds the processes a test suite left running, names them, and kills them.

scripts/test runs ctest with TMPDIR set to a directory of the suite's own, so
every process a test starts either inherited that TMPDIR, or runs in a
directory under it, or names one on its command line (a task supervisor names
its run directory, under a test's temporary home). Once ctest has ended, no
test runs: any such process is a leftover. Usage:

    tests/leftover_processes.py SUITE_TMP

Waits up to a minute for processes that are on their way out (killed moments
before the suite ended), then prints each one left with its command line and
what ties it to the suite, kills it (SIGKILL) and exits 1; exits 0 when none.
"""

import os
import signal
import sys
import time


def read(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return b""


def state(pid):
    stat = read(f"/proc/{pid}/stat")
    close = stat.rfind(b")")
    return stat[close + 2:close + 3].decode() if close >= 0 else ""


def tie(pid, suite):
    """What ties process `pid` to the suite, or None."""
    if state(pid) in ("", "Z"):  # gone, or a zombie its parent has yet to reap
        return None
    try:
        cwd = os.readlink(f"/proc/{pid}/cwd")
    except OSError:
        cwd = ""
    if cwd == suite or cwd.startswith(suite + "/"):
        return f"works in {cwd}"
    argv = read(f"/proc/{pid}/cmdline").split(b"\0")
    if any(suite.encode() in arg for arg in argv):
        return "names the suite's directory on its command line"
    if f"TMPDIR={suite}".encode() in read(f"/proc/{pid}/environ").split(b"\0"):
        return "inherited the suite's TMPDIR"
    return None


def leftovers(suite):
    me = os.getpid()
    found = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != me:
            why = tie(int(entry), suite)
            if why:
                found[int(entry)] = why
    return found


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: tests/leftover_processes.py SUITE_TMP")
    suite = os.path.realpath(sys.argv[1])
    deadline = time.monotonic() + 60
    found = leftovers(suite)
    while found and time.monotonic() < deadline:
        time.sleep(0.5)
        found = leftovers(suite)
    if not found:
        return 0
    print(f"leftover processes: {len(found)} process(es) of the suite still run after it ended:", file=sys.stderr)
    for pid, why in sorted(found.items()):
        argv = read(f"/proc/{pid}/cmdline").replace(b"\0", b" ").decode(errors="replace").strip()
        print(f"  pid {pid}: {argv or '?'} ({why})", file=sys.stderr)
    for pid in found:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    print("leftover processes: killed them; the test that started them must stop them", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
