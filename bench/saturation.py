# SPDX-License-Identifier: MPL-2.0
"""Saturation must not look like a hang (issue 8 item 2).

named with the plugin and the relay, both with their default
configuration (plugin interval 100 ms, stale-after three intervals,
the liveness probe; the example's service, its canary included),
the benchmark playing ExaBGP.  dnsperf sends as fast as named answers
for --seconds, --runs times, a pause between runs.  Reported per run:
queries per second and the relay's route changes during the run (goal:
0), with the reason of each change if there was one.

    /usr/bin/python3 -m bench.saturation [--runs 3] [--seconds 25]

Run it alone (under /work/coord/heavy.lock on shared machines).
"""

import argparse
import os
import re
import subprocess
import tempfile
import time

import lab
from lab.paths import check_build

from . import benchlib
from .benchlib import fmt, median


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=25)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    check_build()
    benchlib.single_instance()

    work = tempfile.mkdtemp(prefix="ah-saturation-")
    stack = lab.Stack(work)
    runs = []
    try:
        named = lab.Named(stack, interval=100).start()
        relay = lab.Relay(stack, named)
        proc = lab.RelayUnderTest(stack, relay)
        # Both prefixes announced before anything is counted.
        lab.wait_for(lambda: sum(" announce " in c
                                 for c in proc.commands) == 2,
                     20, what="both prefixes announced")
        qfile = os.path.join(work, "queries")
        with open(qfile, "w") as f:
            f.write("\n".join(benchlib.workload_lines("auth")) + "\n")
        for run in range(args.runs):
            before = len(proc.commands)
            log0 = len(proc.proc.text())
            r = subprocess.run(
                ["dnsperf", "-s", "127.0.0.1", "-p", str(named.port),
                 "-d", qfile, "-l", str(args.seconds), "-c",
                 str(args.clients), "-q", "500"],
                capture_output=True, text=True, timeout=args.seconds + 60)
            m = re.search(r"Queries per second:\s+([\d.]+)", r.stdout)
            time.sleep(1)
            changes = [c for c in proc.commands[before:]
                       if " withdraw " in f" {c} " or " announce " in f" {c} "]
            reasons = [l for l in proc.proc.text()[log0:].splitlines()
                       if "DOWN" in l or "UP," in l]
            runs.append({"qps": float(m.group(1)) if m else None,
                         "route_changes": len(changes), "reasons": reasons})
            print(f"run {run + 1}: {runs[-1]['qps']:.0f} q/s, "
                  f"{len(changes)} route changes", flush=True)
            for l in reasons:
                print("   ", l)
            time.sleep(2)
    finally:
        stack.stop()

    print(f"\nsaturation, defaults (interval 100 ms, stale-after 300 ms): "
          f"{args.runs} runs of {args.seconds} s, dnsperf -c {args.clients}")
    print(benchlib.table(["run", "q/s", "route changes"],
                         [[i + 1, fmt(r["qps"], ".0f"), r["route_changes"]]
                          for i, r in enumerate(runs)]))
    print(f"median {fmt(median(r['qps'] for r in runs), '.0f')} q/s; "
          f"route changes in all: {sum(r['route_changes'] for r in runs)} "
          f"(goal: 0)")
    path = benchlib.save("saturation", {
        "args": vars(args), "env": benchlib.environment(), "runs": runs},
        args.json)
    print(f"\nresults: {path}")


if __name__ == "__main__":
    main()
