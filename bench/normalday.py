# SPDX-License-Identifier: MPL-2.0
"""A normal day on the fleet (issue 13, section 4): at least 30 minutes
of the lab internet's resolver-like traffic, with its background of
broken domains, and the routine of running a fleet: `rndc reconfig`
every few minutes, relays killed now and then (ExaBGP respawns them),
one ExaBGP restart.  Counts the route changes at the router on every
node (goal: 0), each with the routine event before it and the relay's
reason, and what the client lost (lab/catalogue/normalday.py).

    /usr/bin/python3 -m bench.normalday                 # 30 minutes
    /usr/bin/python3 -m bench.normalday --minutes 2     # the short one

The nodes' caches are warmed first (--warm-up seconds of the same
traffic); route changes during the warm-up (cold caches) are reported
apart.  Results: bench/results/normalday-<time>.json or --out.  Run it
alone (it takes the benchmarks' lock, bench/results/.lock).
"""

import argparse
import os
import sys

from lab import catalogue
from lab.fleet import Lab
from lab.paths import check_build

from . import benchlib


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--nodes", type=int, default=2)
    ap.add_argument("--qps", type=float, default=1000.0)
    ap.add_argument("--minutes", type=float, default=30.0)
    ap.add_argument("--warm-up", type=float, default=60.0)
    ap.add_argument("--reconfig-every", type=int, default=180,
                    help="seconds between rndc reconfigs of every node (0: none)")
    ap.add_argument("--relay-kill-every", type=int, default=420,
                    help="seconds between relay kills, one node at a time (0: none)")
    ap.add_argument("--exabgp-restart-at", type=int, default=None,
                    help="seconds into the day (default: two thirds; 0: none)")
    ap.add_argument("--out", help="result JSON (default "
                    "bench/results/normalday-<time>.json)")
    args = ap.parse_args()
    if args.minutes <= 0 or args.qps <= 0:
        ap.error("--minutes and --qps must be positive")
    if os.geteuid() != 0:
        sys.exit("bench.normalday: must run as root (network namespaces)")
    check_build()
    benchlib.single_instance()

    env = benchlib.environment()
    with Lab(nodes=args.nodes, internet=True,
             log=lambda m: print(m, flush=True)) as lab:
        cat = catalogue.Catalogue(lab, qps=args.qps,
                                  log=lambda m: print(m, flush=True))
        warm = cat.warm_up(args.warm_up)
        day = catalogue.normal_day(
            lab, args.minutes * 60, qps=args.qps, reconfig_every=args.reconfig_every,
            relay_kill_every=args.relay_kill_every,
            exabgp_restart_at=args.exabgp_restart_at,
            log=lambda m: print(m, flush=True))
    env["loadavg_after"] = os.getloadavg()
    data = {"params": vars(args), "environment": env, "warm_up": warm,
            "day": day}
    path = benchlib.save("normalday", data, args.out)
    print(f"\n{args.minutes:g} minutes at {day['qps']} q/s: {day['route_changes']} "
          f"route changes (IPv6: {day['route_changes_v6']}); lost "
          f"{day['lost']} of {day['queries']} queries "
          f"({100 * day['lost_share']:.2f} %), SERVFAIL "
          f"{100 * day['servfail_share']:.2f} %")
    for c in day["changes"]:
        print(f"  +{c['at_s']:.1f} s {c['node']} {c['router']} (after {c['after']}): "
              f"{c['relay']}")
    print(f"events: {day['events']}")
    print(f"results: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
