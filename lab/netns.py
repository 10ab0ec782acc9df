# SPDX-License-Identifier: MPL-2.0
"""Network namespaces of the fleet lab, and finding them again.

Every lab names its namespaces `ahlab-<id>-ROLE` and keeps a record
/run/ahlab/<id>.json naming the process that owns it, so that a lab
whose owner died (SIGKILL, a crash) can be found and removed by
`python3 -m lab down` or by the next lab that comes up.
"""

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

from .proc import proc_start_time, run

PREFIX = "ahlab-"
REGISTRY = Path("/run/ahlab")


def ip_batch(netns, cmds):
    """Many `ip` commands in one namespace, in one process (each would
    cost a fork)."""
    r = subprocess.run(["ip", "-n", netns, "-batch", "-"],
                       input="\n".join(cmds) + "\n",
                       capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        raise RuntimeError(f"ip -n {netns} -batch: {r.stderr.strip()}")


def sysctl(netns, settings):
    run("ip", "netns", "exec", netns, "sysctl", "-q", "-w",
        *(f"{k}={v}" for k, v in settings.items()))


def owner_alive(state):
    pid, start = state.get("owner_pid"), state.get("owner_start")
    return pid is not None and proc_start_time(pid) == start


def lab_namespaces():
    out = run("ip", "netns", "list").stdout
    return [line.split()[0] for line in out.splitlines()
            if line.startswith(PREFIX)]


def netns_pids(netns):
    r = run("ip", "netns", "pids", netns, check=False)
    return [int(p) for p in r.stdout.split()]


def kill_netns(netns):
    """SIGKILL every process in a namespace of ours, then delete it."""
    for _ in range(50):
        pids = netns_pids(netns)
        if not pids:
            break
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.05)
    run("ip", "netns", "del", netns, check=False)


def register(run_id, state):
    """Write down lab run_id's record (owner, work directory, ...)."""
    REGISTRY.mkdir(exist_ok=True)
    (REGISTRY / f"{run_id}.json").write_text(json.dumps(state, indent=1))


def unregister(run_id):
    try:
        (REGISTRY / f"{run_id}.json").unlink()
    except FileNotFoundError:
        pass


def records():
    """The records of the labs on this host, oldest id first."""
    if not REGISTRY.is_dir():
        return []
    return [json.loads(rec.read_text()) for rec in sorted(REGISTRY.glob("*.json"))]


def cleanup(run_id=None, detached=True, force=False, log=print):
    """Remove labs whose owner is gone: namespaces (and every process
    in them), records, and work directories the lab made itself.

    run_id: only that lab.  detached: also labs left running on purpose
    by `up --detach` (their owner has exited by design).  force: even
    labs whose owner still runs.  Returns the ids removed.
    """
    ids = {ns[len(PREFIX):].split("-", 1)[0] for ns in lab_namespaces()}
    if REGISTRY.is_dir():
        ids |= {p.stem for p in REGISTRY.glob("*.json")}
    removed = []
    for rid in sorted(ids):
        if run_id is not None and rid != run_id:
            continue
        rec = REGISTRY / f"{rid}.json"
        try:
            state = json.loads(rec.read_text())
        except (OSError, ValueError):
            state = {}
        if not force:
            if state.get("detached") and not detached:
                continue
            if not state.get("detached") and owner_alive(state):
                continue
        for ns in lab_namespaces():
            if ns.startswith(f"{PREFIX}{rid}-"):
                kill_netns(ns)
        if state.get("own_workdir") and state.get("workdir"):
            shutil.rmtree(state["workdir"], ignore_errors=True)
        unregister(rid)
        log(f"lab {rid}: removed")
        removed.append(rid)
    return removed
