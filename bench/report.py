# SPDX-License-Identifier: MPL-2.0
"""Print the tables of benchmark result files (bench/results/*.json).

    python3 -m bench.report [FILE...]     default: the latest result of
                                          each benchmark
"""

import argparse
import json
import sys
from pathlib import Path

from . import benchlib, querycost, reaction

LATEST = ("querycost-dnsperf-latest.json", "querycost-callgrind-latest.json",
          "reaction-latest.json")


def show(path):
    d = json.loads(Path(path).read_text())
    env = d.get("environment", {})
    p = d.get("params", {})
    print(f"== {path}")
    print(f"   {env.get('time')}  git {str(env.get('git_head'))[:12]}"
          f"{' (modified tree)' if env.get('git_modified') else ''}  "
          f"load {env.get('loadavg')} -> {env.get('loadavg_after')}")
    if d["benchmark"] == "querycost":
        print(f"   querycost {d['mode']}: A = with the plugin, B = without; "
              f"{p.get('pairs')} pairs, order {p.get('order')}")
        if d["mode"] == "dnsperf":
            querycost.print_dnsperf(d["summary"])
        else:
            querycost.print_callgrind(d["summary"])
    elif d["benchmark"] == "reaction":
        print(f"   reaction at the router; plugin interval {p.get('interval')} ms, "
              f"relay stale-after {p.get('stale_after')}, policy {p.get('policy')}")
        reaction.print_summary(d["summary"])
    print()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("files", nargs="*", metavar="FILE",
                    help="result JSON (default: the latest of each benchmark)")
    files = ap.parse_args().files or [benchlib.RESULTS / f for f in LATEST
                                      if (benchlib.RESULTS / f).exists()]
    if not files:
        sys.exit("no results (bench/results/ is empty)")
    for f in files:
        if not Path(f).is_file():
            sys.exit(f"{f}: no such result file")
        show(f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
