# SPDX-License-Identifier: MPL-2.0
"""What counting a query costs one of named's threads, from 1 thread to
as many as this machine has: the plugin's per-thread shards beside the
shared atomic counters it had before issue 14.

Runs bench/threads (built with the tree: AH_BUILDDIR) for --rounds
rounds; in every round each variant runs at each thread count for --ms
milliseconds, the variants taking turns.  A run's figure is the median
over its threads of a thread's CPU time per query counted; reported is
the median over rounds, and the median of the per-round ratios to one
thread ('x 1 thread': 1.00 is perfect scaling) and to the shards.

Variants (bench/threads.c says exactly what each does per query):
  shared-atomics  before issue 14: two locked adds on counters every
                  thread writes
  shards          now: one add to the thread's own shard
                  (plugin/counters.h, the hooks' own code)
  shards-locked   the same shards, with a locked add: what the plain
                  add saves

No timing is asserted; 'make check' runs bench/threads -c, which checks
that every count reaches the publisher's sums.
"""

import argparse
import json
import os
import subprocess
import sys

from lab.paths import BUILDDIR

from . import benchlib
from .benchlib import fmt, median

VARIANTS = ("shared-atomics", "shards", "shards-locked")


def summarize(runs):
    counts = sorted({r["threads"] for r in runs})
    rounds = sorted({r["round"] for r in runs})
    at = {(r["variant"], r["threads"], r["round"]): r["ns_per_query"]
          for r in runs}
    out = []
    for n in counts:
        row = {"threads": n}
        for v in VARIANTS:
            ns = [at.get((v, n, k)) for k in rounds]
            one = [at.get((v, counts[0], k)) for k in rounds]
            shard = [at.get(("shards", n, k)) for k in rounds]
            row[v] = {
                "ns_per_query": median(ns),
                "ns_per_query_all": ns,
                "x_first": median(a / b for a, b in zip(ns, one)
                                  if a is not None and b),
                "x_shards": median(a / b for a, b in zip(ns, shard)
                                   if a is not None and b),
            }
        out.append(row)
    return out


def print_summary(summary, first):
    rows = []
    for row in summary:
        cells = [str(row["threads"])]
        for v in VARIANTS:
            r = row[v]
            cells += [fmt(r["ns_per_query"], ".2f"), fmt(r["x_first"], ".2f")]
        cells.append(fmt(row["shared-atomics"]["x_shards"], ".1f"))
        rows.append(cells)
    heads = ["threads"]
    for v in VARIANTS:
        heads += [f"{v} ns/q", f"x {first} thr"]
    heads.append("shared/shards")
    print(benchlib.table(heads, rows))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--ms", type=int, default=200,
                    help="milliseconds of counting per run (default 200)")
    ap.add_argument("--threads", help="thread counts, e.g. 1,2,4 "
                    "(default 1, 2, 4, ... and the CPUs this process may use)")
    ap.add_argument("--json", help="result file (default bench/results/threads-*.json)")
    args = ap.parse_args()
    if not 1 <= args.rounds <= 1000:
        ap.error("--rounds must be 1..1000")
    prog = BUILDDIR / "bench" / "threads"
    if not prog.exists():
        sys.exit(f"build first (or set AH_BUILDDIR): missing {prog}")
    benchlib.single_instance()
    env = benchlib.environment()
    argv = [str(prog), "-j", "-r", str(args.rounds), "-m", str(args.ms)]
    if args.threads:
        argv += ["-t", args.threads]
    r = subprocess.run(argv, capture_output=True, text=True,
                       timeout=args.rounds * args.ms * 200 / 1000 + 600)
    if r.returncode != 0:
        sys.exit(f"{' '.join(argv)}: exit {r.returncode}\n{r.stderr}")
    runs = [json.loads(line) for line in r.stdout.splitlines() if line]
    summary = summarize(runs)
    env["loadavg_after"] = os.getloadavg()
    data = {"benchmark": "threads", "params": vars(args), "environment": env,
            "cpus_allowed": len(os.sched_getaffinity(0)),
            "summary": summary, "runs": runs}
    path = benchlib.save("threads", data, args.json)
    first = summary[0]["threads"]
    print(f"threads: ns per query per thread (its CPU time / queries), median "
          f"of {args.rounds} rounds of {args.ms} ms; {data['cpus_allowed']} CPUs")
    print_summary(summary, first)
    print(f"\nresults: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
