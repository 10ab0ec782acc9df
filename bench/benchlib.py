# SPDX-License-Identifier: MPL-2.0
"""Helpers shared by the benchmarks in bench/.

The servers themselves are started by the lab package (lab/, as the
system tests start them): this file only adds what benchmarks need on
top of it -- statistics, result files, query lists, and clean-up of
ExaBGP's API processes, which live in their own process groups and so
are not reached by lab's Proc.stop().

Written for /usr/bin/python3 (Debian's), like the lab.
"""

import datetime
import json
import math
import os
import platform
import signal
import subprocess
import sys
import time
from pathlib import Path

from lab.paths import BUILDDIR, PLUGIN, SRCDIR

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results"


_lock = None


def single_instance():
    """Refuse to run beside another benchmark from this directory: they
    would measure each other (flock on bench/results/.lock, released
    when the process exits)."""
    import fcntl
    global _lock
    RESULTS.mkdir(exist_ok=True)
    _lock = open(RESULTS / ".lock", "w")
    try:
        fcntl.flock(_lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        sys.exit("another benchmark from bench/ is running (bench/results/.lock)")


# ---------------------------------------------------------------------------
# statistics

def median(xs):
    xs = sorted(x for x in xs if x is not None)
    if not xs:
        return None
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


def percentile(xs, p):
    """Linear interpolation between closest ranks (numpy's default).

    With 30 samples, p99 lies between the two largest: it is close to
    the maximum, which is what it can honestly say about 30 samples.
    """
    xs = sorted(x for x in xs if x is not None)
    if not xs:
        return None
    k = (len(xs) - 1) * p / 100.0
    lo, hi = math.floor(k), math.ceil(k)
    if lo == hi or xs[hi] == xs[lo]:
        return xs[lo]
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def fmt(x, spec=".3f", none="-"):
    if x is None:
        return none
    if isinstance(x, float) and math.isinf(x):
        return "timeout"
    return format(x, spec)


def table(headers, rows):
    """A plain text table; every cell already a string."""
    rows = [[str(c) for c in r] for r in rows]
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(headers)]
    out = ["  ".join(h.ljust(w) for h, w in zip(headers, widths)),
           "  ".join("-" * w for w in widths)]
    for r in rows:
        out.append("  ".join(c.ljust(w) for c, w in zip(r, widths)))
    return "\n".join(out)


# ---------------------------------------------------------------------------
# results

def environment():
    def run(*argv):
        try:
            return subprocess.run(argv, capture_output=True, text=True,
                                  timeout=10).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            return None

    def pkg(name):
        return run("dpkg-query", "-W", "-f=${Version}", name)

    # In a Debian root (tests/roots/bench) the tree is a copy without
    # .git: the host says which commit it was, and which files differed.
    head = run("git", "-C", str(SRCDIR), "rev-parse", "HEAD")
    if head:
        modified = [l.split(None, 1)[-1] for l in (run(
            "git", "-C", str(SRCDIR), "status", "--porcelain",
            "--untracked-files=no") or "").splitlines()]
    else:
        head = os.environ.get("AH_GIT_HEAD")
        modified = os.environ.get("AH_GIT_MODIFIED", "").split()
    try:
        debian = Path("/etc/debian_version").read_text().strip()
    except OSError:
        debian = None
    return {
        "time": datetime.datetime.now().astimezone().isoformat(),
        "host": platform.node(),
        "debian": debian,
        "cpus": os.cpu_count(),
        "loadavg": os.getloadavg(),
        "git_head": head,
        # Read-only: which tracked files differ from HEAD in this tree.
        "git_modified": modified,
        "builddir": str(BUILDDIR),
        "plugin": str(PLUGIN),
        "packages": {p: pkg(p) for p in ("bind9", "bird2", "exabgp",
                                         "dnsperf", "valgrind")},
    }


def _finite(x):
    """JSON without Infinity/NaN (not JSON, and jq rejects them): null."""
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, dict):
        return {k: _finite(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_finite(v) for v in x]
    return x


def save(name, data, out=None):
    """Write the result JSON; returns its path."""
    if out is None:
        RESULTS.mkdir(exist_ok=True)
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        out = RESULTS / f"{name}-{stamp}.json"
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(_finite(data), indent=1, default=str) + "\n")
    latest = out.parent / f"{name}-latest.json"
    try:
        if latest.is_symlink() or latest.exists():
            latest.unlink()
        latest.symlink_to(out.name)
    except OSError:
        pass
    return out


# ---------------------------------------------------------------------------
# queries

def workload_lines(kind, n=1000):
    """dnsperf datafile lines ('NAME TYPE') for a workload over conf/db.example.

    auth:     answers from the example zone (NOERROR with data)
    nxdomain: 60% NXDOMAIN (distinct names under example.), 20% NOERROR,
              10% NODATA, 10% REFUSED (a name outside every zone; the
              example named has recursion off)
    """
    if kind == "auth":
        base = ["www.example A", "www.example AAAA", "ns1.example A",
                "example SOA", "example NS"]
        return [base[i % len(base)] for i in range(n)]
    if kind == "nxdomain":
        out = []
        for i in range(n):
            r = i % 10
            if r < 6:
                out.append(f"nx{i}.example A")
            elif r < 8:
                out.append("www.example A" if r == 6 else "example SOA")
            elif r == 8:
                out.append("www.example MX")
            else:
                out.append(f"host{i}.example.net A")
        return out
    raise ValueError(f"unknown workload {kind!r}")


WORKLOADS = ("auth", "nxdomain")


# ---------------------------------------------------------------------------
# processes

def cpu_ticks(pid):
    """utime+stime of a process (all threads), in clock ticks."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])     # utime, stime


CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_ns_schedstat(pid):
    """On-CPU nanoseconds summed over the process's live threads
    (/proc/PID/task/*/schedstat), or None if unavailable."""
    total = 0
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return None
    for t in tasks:
        try:
            with open(f"/proc/{pid}/task/{t}/schedstat") as f:
                total += int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            pass
    return total


def forget_reaped(stack, proc):
    """Drop a process that has exited and been reaped from the stack.

    lab's Proc.stop() sends SIGKILL to the process *group* of every
    process it ever started, even one reaped long ago; in a benchmark
    that restarts named dozens of times while healthchecks fork dig
    every second, that group id may by then belong to someone else.
    """
    if proc.alive():
        return
    try:
        proc.logf.close()
    except OSError:
        pass
    if proc in stack.procs:
        stack.procs.remove(proc)


def kill_leftovers(marker, wait=2.0):
    """SIGKILL processes of ours still running after Stack.stop().

    ExaBGP starts its API processes in their own process groups, so
    lab's killpg of ExaBGP does not reach them; they normally exit
    when ExaBGP tells them to or when their stdin closes.  Anything
    whose command line contains 'marker' (this run's unique scratch
    directory) was started by this run; those are killed by PID.
    Returns the command lines it had to kill.
    """
    me = os.getpid()
    deadline = time.monotonic() + wait
    while True:
        found = {}
        for d in os.listdir("/proc"):
            if not d.isdigit() or int(d) == me:
                continue
            try:
                with open(f"/proc/{d}/cmdline", "rb") as f:
                    cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if marker in cmd:
                found[int(d)] = cmd.strip()
        if not found or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    for pid in found:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return list(found.values())
