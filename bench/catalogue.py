# SPDX-License-Identifier: MPL-2.0
"""The catalogue of failures, scored against what the relay decides
(issue 13, section 2; lab/catalogue/ has the rows and the rules).

Brings up the fleet on the lab internet once (lab/fleet.py with
internet=True: --nodes nameservers resolving from the lab root, named,
the relay and ExaBGP configured from conf/ as shipped), warms the
nodes' caches, then runs each row in turn: the client's resolver-like
traffic at --qps to the anycast addresses, the fault on ns1 or on
every node, the recovery, and the verdict read from the router.

    /usr/bin/python3 -m bench.catalogue                   # every row
    /usr/bin/python3 -m bench.catalogue --short           # CI's rows
    /usr/bin/python3 -m bench.catalogue --rows uplink-down,tld-bogus --trials 3

This node's faults are run --trials times (time to decide matters);
the others once unless --all-trials.  Results: the JSON (every trial,
the relay's log lines and status samples, the router's changes) in
bench/results/catalogue-<time>.json or --out, and the Markdown table
beside it (--markdown), as doc/benchmarks.md quotes it.  With --trace,
every relay's checks every 0.1 s as well (lab/catalogue/trace.py), and
how close the excuses that kept healthy nodes in service came to the
shared-fault rule's share ('margins' in the JSON).

Run it alone on a shared machine: it takes the benchmarks' lock
(bench/results/.lock).  About 35 minutes for every row with 3 trials.
"""

import argparse
import os
import sys
import time

from lab import catalogue
from lab.catalogue.trace import ChecksTrace, margins, read
from lab.fleet import Lab
from lab.paths import check_build

from . import benchlib


def error_result(row, trial, e):
    """A row that raised, in the shape the table reads."""
    return {"id": row.id, "trial": trial, "fault": row.fault,
            "where": row.where, "expect": row.expect,
            "cannot_tell": row.cannot_tell, "pass": False,
            "verdict_right": False, "why": f"could not run: {e!r}",
            "decide_ms": None, "lost": None, "lost_background": None,
            "route_changes": None, "kinds": {}, "relay": {}, "samples": {},
            "recovery": "error"}


def run_rows(cat, rows, args, results, saved=lambda: None):
    for row in rows:
        trials = args.trials if (row.expect == "this" or args.all_trials) else 1
        for trial in range(1, trials + 1):
            try:
                r = cat.run(row, trial)
            except Exception as e:
                # One row that cannot run (a tool missing, a fault that
                # would not switch) is reported as such; the others go on.
                print(f"{row.id} #{trial}: ERROR: {e!r}", flush=True)
                results.append(error_result(row, trial, e))
                saved()
                continue
            results.append(r)
            print(f"{row.id} #{trial}: {'right' if r['pass'] else 'WRONG'}: "
                  f"{r['why']}; route changes {r['route_changes']}, lost "
                  f"{r['lost']} (background {r['lost_background']}), "
                  f"recovery {r['recovery']} in {r['recovered_s']} s; "
                  f"{catalogue.reason(r)}", flush=True)
            saved()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--nodes", type=int, default=2)
    ap.add_argument("--qps", type=float, default=1000.0)
    ap.add_argument("--rows", help="comma-separated ids (default: all): " +
                    ", ".join(catalogue.BY_ID))
    ap.add_argument("--short", action="store_true", help="the CI subset, "
                    "held as long as CI holds it: " + ", ".join(catalogue.SHORT))
    ap.add_argument("--ci-holds", action="store_true", help="any rows held "
                    "and recovered as CI does (shorter faults, a damping hold "
                    "released after 20 s rather than 150 s)")
    ap.add_argument("--hold", action="append", default=[], metavar="KIND=S",
                    help="hold the faults of one kind (this, world, load) "
                    "S seconds, e.g. world=60: a long outage, after named "
                    "gave up on the servers (10 s) and tried them again")
    ap.add_argument("--trials", type=int, default=3,
                    help="trials of each of this node's faults")
    ap.add_argument("--all-trials", action="store_true",
                    help="--trials of every row, not only this node's")
    ap.add_argument("--warm-up", type=float, default=30.0,
                    help="seconds of traffic into cold caches first")
    ap.add_argument("--keep", action="store_true",
                    help="keep the lab's work directories (logs) in /tmp")
    ap.add_argument("--trace", metavar="FILE",
                    help="poll every relay's checks every 0.1 s into FILE "
                    "(JSON lines); the closest calls go into the result "
                    "JSON ('margins')")
    ap.add_argument("--out", help="result JSON (default "
                    "bench/results/catalogue-<time>.json)")
    ap.add_argument("--markdown", help="the table (default: beside the JSON, .md)")
    args = ap.parse_args()
    if args.short and args.rows:
        ap.error("--short or --rows, not both")
    try:
        rows = catalogue.rows(*(catalogue.SHORT if args.short else
                                [r for r in (args.rows or "").split(",") if r]))
    except KeyError as e:
        ap.error(str(e.args[0]))
    holds = {}
    for h in args.hold:
        kind, _, secs = h.partition("=")
        try:
            if kind not in ("this", "world", "load") or float(secs) <= 0:
                raise ValueError
        except ValueError:
            ap.error(f"--hold {h}: want this=S, world=S or load=S, "
                     "S seconds above 0")
        holds[kind] = float(secs)
    if os.geteuid() != 0:
        sys.exit("bench.catalogue: must run as root (network namespaces)")
    check_build()
    benchlib.single_instance()

    env = benchlib.environment()
    results = []
    t_begin = time.time()
    data = {"params": vars(args), "environment": env}

    def save(done):
        """The JSON and the table so far, after every row: a run cut
        short (Ctrl-C, a deadline) keeps what it measured, and says so."""
        env["loadavg_after"] = os.getloadavg()
        env["minutes"] = round((time.time() - t_begin) / 60, 1)
        table = catalogue.markdown(results)
        data.update({"complete": done, "summary": catalogue.summarize(results),
                     "not_run": [r.id for r in rows
                                 if r.id not in {x["id"] for x in results}],
                     "table": table, "results": results})
        path = benchlib.save("catalogue", data, args.out)
        md = args.markdown or str(path.with_suffix(".md"))
        with open(md, "w") as f:
            f.write(table)
        return path, md, table

    with Lab(nodes=args.nodes, internet=True, keep=args.keep,
             log=lambda m: print(m, flush=True)) as lab:
        short = {"holds": catalogue.SHORT_HOLDS, "attempts": 2,
                 "recovery_timeout": catalogue.SHORT_RECOVERY} \
            if args.short or args.ci_holds else {}
        if holds:
            short["holds"] = {**short.get("holds", {}), **holds}
        cat = catalogue.Catalogue(lab, qps=args.qps,
                                  log=lambda m: print(m, flush=True), **short)
        data["setup"] = {
            "named.conf": (lab.node(1).named_dir / "named.conf").read_text(),
            "relay.yaml": (lab.node(1).dir / "relay.yaml").read_text(),
            "exabgp.conf": (lab.node(1).dir / "exabgp.conf").read_text()}
        trace = ChecksTrace(lab, args.trace,
                            log=lambda m: print(m, flush=True)).start() \
            if args.trace else None
        data["background"] = cat.warm_up(args.warm_up)
        try:
            run_rows(cat, rows, args, results, lambda: save(False))
        finally:
            cat.close()
            if trace is not None:
                trace.stop()
                records = read(args.trace)
                data["margins"] = margins(records)
                if trace.error:
                    data["trace_error"] = trace.error
                # Each row's own: its 'seconds' run from 'pre' before t0.
                for r in results:
                    if r.get("t0") and r.get("seconds"):
                        start = r["t0"] - cat.pre
                        r["margins"] = margins(records, start,
                                               start + r["seconds"])
    path, md, table = save(True)
    print("\n" + table)
    print(f"results: {path}\ntable: {md}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
