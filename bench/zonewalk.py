# SPDX-License-Identifier: MPL-2.0
"""Query latency while the plugin walks 10,000 zones (issue 8 item 9).

named serves 10,000 generated zones in one view.  Two named, the same
configuration except for the plugin statement (all-zones yes, its
default zone-interval of 1000 ms, or --zone-interval):

  A  named without the plugin
  B  named with the plugin, a subscriber reading every snapshot

dnsperf sends the same fixed rate of queries (names spread over all
zones) to each for --seconds, in pairs in ABBA order (each pair's
first run alternates), with a warm-up run before each measured run.
Every query's latency comes from dnsperf -v.  Per run: p50, p99,
p99.9; per pair: the ratio B/A of each.  Reported: the median ratio
over pairs and the spread of the per-pair ratios; a goal (p99.9 ratio
<= 1.05) is "met" only if every pair's ratio is within it,
"inconclusive" if the spread straddles it, "missed" otherwise.

    /usr/bin/python3 -m bench.zonewalk [--pairs 6] [--seconds 20] [--rate 20000]

Run it alone (under /work/coord/heavy.lock on shared machines): it
measures tails, which any other load disturbs.
"""

import argparse
import os
import subprocess
import sys
import tempfile

import lab
from lab.feed import Subscriber
from lab.paths import check_build

from . import benchlib
from .benchlib import fmt, median, percentile

ZONE_FILE = """$TTL 300
@	SOA	ns1 hostmaster 1 3600 600 86400 300
	NS	ns1
ns1	A	192.0.2.53
www	A	198.51.100.80
"""
GOAL = 1.05


def make_named(stack, name, plugin, zones, zone_interval):
    named = lab.Named(stack, name=name, plugin=plugin)
    (named.dir / "db.gen").write_text(ZONE_FILE)
    text = named.conf.read_text()
    if plugin:
        text = text.replace('zones { "example"; };', "all-zones yes;")
        text = text.replace("zone-interval 1000;",
                            f"zone-interval {zone_interval};")
    text += "".join(f'zone "z{i}.bench" {{ type primary; file '
                    f'"{named.dir}/db.gen"; }};\n' for i in range(zones))
    named.conf.write_text(text)
    return named.start()


def dnsperf(named, qfile, seconds, rate):
    """Latencies in ms of every answered query of one run."""
    r = subprocess.run(["dnsperf", "-s", "127.0.0.1", "-p", str(named.port),
                        "-d", qfile, "-l", str(seconds), "-Q", str(rate),
                        "-c", "4", "-q", "200", "-v"],
                       capture_output=True, text=True,
                       timeout=seconds + 60)
    # "> RCODE NAME TYPE SECONDS" per answer; "> T NAME TYPE" (no
    # latency) for a query that timed out, counted apart.
    lat, timeouts = [], 0
    for line in r.stdout.splitlines():
        f = line.split()
        if not f or f[0] != ">":
            continue
        if f[1] == "T":
            timeouts += 1
        else:
            lat.append(float(f[-1]) * 1000)
    if not lat:
        sys.exit("dnsperf answered nothing:\n" + r.stdout[-2000:] + r.stderr)
    return lat, timeouts


def quantiles(run):
    lat, timeouts = run
    return {"p50": percentile(lat, 50), "p99": percentile(lat, 99),
            "p99.9": percentile(lat, 99.9), "n": len(lat),
            "timeouts": timeouts}


def verdict(ratios):
    if all(r <= GOAL for r in ratios):
        return "met"
    if all(r > GOAL for r in ratios):
        return "missed"
    return "inconclusive"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pairs", type=int, default=6)
    ap.add_argument("--seconds", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--rate", type=int, default=20000)
    ap.add_argument("--zones", type=int, default=10000)
    ap.add_argument("--zone-interval", type=int, default=1000)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    check_build()
    benchlib.single_instance()

    work = tempfile.mkdtemp(prefix="ah-zonewalk-")
    stack = lab.Stack(work)
    runs = {"A": [], "B": []}
    pairs = []
    try:
        named = {"A": make_named(stack, "plain", False, args.zones,
                                 args.zone_interval),
                 "B": make_named(stack, "plugin", True, args.zones,
                                 args.zone_interval)}
        # Snapshots are built and sent during the measurement.
        reader = Subscriber(named["B"].socket, wait=10).discard()
        qfile = os.path.join(work, "queries")
        with open(qfile, "w") as f:
            for i in range(0, args.zones, max(1, args.zones // 5000)):
                f.write(f"www.z{i}.bench A\n")
        for p in range(args.pairs):
            order = "AB" if p % 2 == 0 else "BA"
            got = {}
            for side in order:
                dnsperf(named[side], qfile, args.warmup, args.rate)
                got[side] = quantiles(dnsperf(named[side], qfile,
                                              args.seconds, args.rate))
                runs[side].append(got[side])
            ratio = {q: got["B"][q] / got["A"][q]
                     for q in ("p50", "p99", "p99.9")}
            pairs.append({"order": order, "A": got["A"], "B": got["B"],
                          "ratio": ratio})
            print(f"pair {p + 1} ({order}): p99.9 A {got['A']['p99.9']:.3f} ms"
                  f"  B {got['B']['p99.9']:.3f} ms  ratio "
                  f"{ratio['p99.9']:.3f}  timeouts A {got['A']['timeouts']}"
                  f" B {got['B']['timeouts']}", flush=True)
        reader.stop()
    finally:
        stack.stop()

    rows, summary = [], {}
    for q in ("p50", "p99", "p99.9"):
        rs = [p["ratio"][q] for p in pairs]
        summary[q] = {"A_ms": median(r[q] for r in runs["A"]),
                      "B_ms": median(r[q] for r in runs["B"]),
                      "ratio_median": median(rs), "ratio_min": min(rs),
                      "ratio_max": max(rs), "verdict": verdict(rs)}
        s = summary[q]
        rows.append([q, fmt(s["A_ms"]), fmt(s["B_ms"]),
                     fmt(s["ratio_median"]),
                     f"{fmt(s['ratio_min'])}..{fmt(s['ratio_max'])}",
                     s["verdict"] if q == "p99.9" else ""])
    print(f"\nquery latency, {args.zones} zones, all-zones yes, zone-interval "
          f"{args.zone_interval} ms, {args.rate} q/s, {args.pairs} pairs of "
          f"{args.seconds} s (medians; goal: p99.9 ratio <= {GOAL})")
    print(benchlib.table(["quantile", "without (ms)", "with (ms)",
                          "ratio", "per-pair range", "goal"], rows))
    summary["timeouts"] = {side: sum(r["timeouts"] for r in runs[side])
                           for side in runs}
    print(f"queries timed out (dnsperf's 5 s, not in the quantiles): "
          f"without {summary['timeouts']['A']}, with {summary['timeouts']['B']}, "
          f"of {sum(r['n'] + r['timeouts'] for side in runs for r in runs[side])}")
    path = benchlib.save("zonewalk", {
        "args": vars(args), "env": benchlib.environment(),
        "pairs": pairs, "summary": summary}, args.json)
    print(f"\nresults: {path}")


if __name__ == "__main__":
    main()
