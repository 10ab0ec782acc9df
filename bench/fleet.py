# SPDX-License-Identifier: MPL-2.0
"""Faults on one node of the fleet, as the clients and the router see them.

Brings up the lab (lab/fleet.py: client, router with ECMP, --nodes
nameservers, every daemon from the conf/ examples), then, for each
fault in turn on ns1, runs the client at --qps and measures:

- lost: queries sent from the fault on and never answered within
  --deadline (lab/figures.py), split into those sent before the router
  had ns1 back and those sent after ("the node coming back");
- gap: the longest loss episode, in ms (figures.py's definition);
- out / back: when the router's kernel table lost ns1 (ms after the
  fault) and had it again (ms after the recovery action), from `ip -ts
  monitor route` in the router's namespace;
- others: queries lost by the clients that were on the other nodes (0
  expected), and the fewest answers the other nodes gave in any 100 ms
  from the fault to the end (above 0: they answered throughout).

Faults (--faults, default all), each followed by its recovery:

  kill9         kill -9 named; 3 s later named is started again
  sigstop       SIGSTOP named; 5 s later SIGCONT
  upstream-dead ns1's upstream goes silent; 6 s later it answers again
  zone-expired  the primary of sec.example, serving it with an expiry of
                5 s for the fault, is killed (the secondary's copy
                expires 5 s later); 9 s later it is started again
  restart       named gets SIGTERM and is started as soon as it exits
  relay-kill    kill -9 anycast-relay (ExaBGP starts a new one)
  exabgp-kill   kill -9 ExaBGP; 3 s later it is started again
  drain         a planned drain: `anycastctl drain --wait` (ns1 leaves
                the multipath set with GRACEFUL_SHUTDOWN, then is
                withdrawn); 3 s later `anycastctl undrain`

The goals of issue 7 (benchmarks, not assertions), at 1,000 qps over 2
nodes: kill9 <= 5 lost; drain 0 lost; sigstop <= 500 lost (<= 1 s);
upstream-dead: out <= 1 s.

Results: bench/results/fleet-<time>.json (every trial's figures, the
router's changes and the 10 ms timeline around each fault), and a
timeline PNG per run (--png; needs gnuplot, Debian's gnuplot-nox).
"""

import argparse
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lab import figures
from lab.fleet import Lab
from lab.netns import PREFIX
from lab.paths import check_build
from lab.router import ROUTERS

from . import benchlib

NODE = "ns1"


def _start_named(n):
    n.start_named(wait=False)


def _restart(n):
    n.restart_named(wait=False)


def _upstream(mode):
    return lambda n: n.upstream_cmd(f"mode {mode}")


def _exabgp_kill(n):
    n.exabgp.send_signal(signal.SIGKILL)


# name: (inject, seconds held, recover or None, seconds allowed to come back)
FAULTS = {
    "kill9": (lambda n: n.signal_named(signal.SIGKILL), 3, _start_named, 20),
    "sigstop": (lambda n: n.signal_named(signal.SIGSTOP), 5,
                lambda n: n.signal_named(signal.SIGCONT), 20),
    "upstream-dead": (_upstream("silent"), 6, _upstream("answer"), 30),
    "zone-expired": (lambda n: n.primary.send_signal(signal.SIGKILL), 9,
                     lambda n: n.start_primary(wait=False), 20),
    "restart": (_restart, 0, None, 20),
    "relay-kill": (lambda n: n.signal_relay(signal.SIGKILL), 0, None, 20),
    "exabgp-kill": (_exabgp_kill, 3, lambda n: n.start_exabgp(), 20),
    "drain": (lambda n: n.drain(wait=True), 3, lambda n: n.undrain(), 20),
}
# Before and after a fault, outside its timing: the lab's sec.example
# has a real zone's timers (an expiry of two weeks); the fault needs
# one of seconds.
AROUND = {
    "zone-expired": (lambda n: n.sec_timers(short=True),
                     lambda n: n.sec_timers(short=False)),
}


def back_at_router(lab, node):
    return all(node in lab.nexthops(f) for f in (4, 6))


def one_fault(lab, name, args, keep_timeline):
    inject, hold, recover, allowed = FAULTS[name]
    n = lab.node(1)
    everyone = {x.name for x in lab.nodes}
    if name in AROUND:
        AROUND[name][0](n)
    lab.wait_nexthops(everyone, timeout=90)
    time.sleep(args.settle)
    budget = args.pre + hold + allowed + args.post
    start_at = time.time() + 0.5
    load = lab.load(qps=args.qps, count=int(args.qps * budget), mix=args.mix,
                    timeout=args.deadline + 1, start_at=start_at)
    time.sleep(max(0.0, start_at + args.pre - time.time()))
    t0 = time.time()
    inject(n)
    time.sleep(hold)
    t1 = time.time()
    if recover is not None:
        recover(n)
    # Wait for the router to have ns1 again, or for the budget to run out.
    end = start_at + budget - args.post
    back = None
    while time.time() < end:
        if time.time() > t0 + 0.05 and back_at_router(lab, NODE):
            back = time.time()
            break
        time.sleep(0.02)
    time.sleep(args.post)
    load.stop_sending()
    load.wait(60)
    restored = None
    if back is None:
        # Not back on its own (on main: a resolver withdrawn for failed
        # recursions gets no client traffic, and with 'low-traffic:
        # keep' its failed check stands).  A restart of named is hard
        # trouble, which clears the relay's history: the next fault
        # starts from a node that is up again.
        n.restart_named(wait=True)
        restored = "named restarted: ns1 was not back within " \
            f"{allowed} s of the recovery"

    if name in AROUND:
        AROUND[name][1](n)

    qs = figures.read_queries(load.csv)
    ch = figures.route_changes(lab.monitor.text())
    if not args.keep_raw:
        os.unlink(load.csv)
    t_end = qs[-1].sent if qs else t0
    out, regained = {}, {}
    for f in (4, 6):
        o = figures.first_change(ch, f, t0, lambda s: NODE not in s)
        r = None if o is None else figures.first_change(
            ch, f, max(o, t1), lambda s: NODE in s)
        out[f] = None if o is None else 1000 * (o - t0)
        regained[f] = None if r is None else 1000 * (r - t1)
    t_back = max((t1 + regained[f] / 1000 for f in (4, 6) if regained[f] is not None),
                 default=None)
    own = figures.owners(qs, t0)
    split = max(0.1, 20 * len(lab.nodes) / args.qps)
    interval = 1 / args.qps
    whole = figures.phase(qs, t0, t_end + 1, NODE, own, args.deadline, split, interval)
    before = figures.phase(qs, t0, t_back or t_end + 1, NODE, own, args.deadline,
                           split, interval)
    after = figures.phase(qs, t_back, t_end + 1, NODE, own, args.deadline, split,
                          interval) if t_back else None
    span_end = min(t_end, (t_back or t_end) + 1.0)
    nodes = sorted(everyone, key=lambda x: int(x[2:]))
    summary = load.summary()
    return {
        "fault": name, "t0": t0, "t1": t1, "held_s": hold,
        "restored": restored,
        "lost": whole["lost"],
        "lost_before_back": before["lost"],
        "lost_after_back": after["lost"] if after else None,
        "gap_ms": whole["gap_ms"],
        "lost_others": whole["lost_others"],
        "servfail": whole["servfail"],
        "out_ms": out, "back_ms": regained,
        "back_seen_by_poll_s": None if back is None else back - t1,
        "others_min_per_100ms": figures.others_throughout(qs, NODE, t0, t_end),
        "queries": len(qs),
        "send_lateness_ms": summary["send_lateness_ms"],
        "route_changes": [(round(c.time - t0, 6), c.family, sorted(c.nodes))
                          for c in figures.changes_between(ch, t0 - 1, t_end)],
        "timeline_nodes": nodes,
        # Lines of "seconds-from-the-fault answers-per-node... lost", per
        # 10 ms of send time; only for the first trial (the picture's).
        "timeline": [f"{when - 1.0:.2f} " + " ".join(str(c[x]) for x in nodes) + f" {lost}"
                     for when, c, lost in figures.timeline(
                         qs, t0 - 1.0, span_end, nodes, args.deadline)]
        if keep_timeline else None,
    }


def medians(trials, key, sub=None):
    vals = [t[key] if sub is None else (t[key] or {}).get(sub) for t in trials]
    return benchlib.median(vals), vals


def report(results):
    rows = []
    for name, trials in results.items():
        def cell(key, sub=None, spec=".0f"):
            m, vals = medians(trials, key, sub)
            return f"{benchlib.fmt(m, spec)} ({', '.join(benchlib.fmt(v, spec) for v in vals)})"
        thr = [t["others_min_per_100ms"] for t in trials]
        stuck = sum(1 for t in trials if t["restored"])
        rows.append([name, cell("lost"), cell("lost_after_back"), cell("gap_ms"),
                     cell("out_ms", 4, ".1f"), cell("out_ms", 6, ".1f"),
                     cell("back_ms", 4) + (f", {stuck} not back" if stuck else ""),
                     cell("servfail"), cell("lost_others"),
                     "yes" if all(x and x > 0 for x in thr) else f"NO {thr}"])
    return benchlib.table(
        ["fault", "lost", "lost on return", "gap ms", "out ms v4", "out ms v6",
         "back ms v4", "SERVFAIL", "others lost", "others answered throughout"], rows)


GNUPLOT = """set terminal pngcairo size 1400,{height} font "sans,9"
set output "{png}"
set multiplot layout {rows},2 title "{title}"
set xlabel "s from the fault"
set ylabel "answers per 10 ms"
set key top right horizontal
set grid
"""


def plot(data, png):
    """One panel per fault (first trial): answers per 10 ms by node, and
    queries lost, against time from the fault; dashed lines where the
    router lost and regained ns1."""
    faults = [(name, trials[0]) for name, trials in data["results"].items()]
    rows = math.ceil(len(faults) / 2)
    p = data["params"]
    script = GNUPLOT.format(height=330 * rows, png=png, rows=rows,
                            title=f"lab, {p['nodes']} nodes, {p['qps']:.0f} qps: "
                                  f"which node answered the client (faults on {NODE})")
    dat_dir = Path(tempfile.mkdtemp(prefix="fleet-plot-"))
    colors = ["#1f77b4", "#2ca02c", "#9467bd", "#8c564b", "#17becf"]
    for name, t in faults:
        dat = dat_dir / f"{name}.dat"
        dat.write_text("\n".join(t["timeline"]) + "\n")
        script += "unset arrow\n"
        marks = [(0, "fault")]
        if t["held_s"]:
            marks.append((t["t1"] - t["t0"], "recovery"))
        for when, family, nodes in t["route_changes"]:
            if family == 4:
                marks.append((when, ""))
        for x, _ in marks:
            script += (f"set arrow from {x:.3f}, graph 0 to {x:.3f}, graph 1 "
                       f"nohead dt 2 lc rgb \"{'#d62728' if x == 0 else '#555555'}\"\n")
        plots = [f"'{dat}' using 1:{i + 2} with steps lc rgb \"{colors[i % len(colors)]}\" "
                 f"title \"{node}\"" for i, node in enumerate(t["timeline_nodes"])]
        plots.append(f"'{dat}' using 1:{len(t['timeline_nodes']) + 2} with steps "
                     f"lc rgb \"#d62728\" lw 2 title \"lost\"")
        script += (f"set title \"{name}: {t['lost']} lost, gap "
                   f"{benchlib.fmt(t['gap_ms'], '.0f')} ms\"\n"
                   "plot " + ", ".join(plots) + "\n")
    script += "unset multiplot\n"
    r = subprocess.run(["gnuplot"], input=script, text=True, capture_output=True,
                       timeout=120)
    shutil.rmtree(dat_dir, ignore_errors=True)
    if r.returncode != 0:
        raise RuntimeError(f"gnuplot: {r.stderr}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--nodes", type=int, default=2)
    ap.add_argument("--router", choices=ROUTERS, default="bird",
                    help="the router's BGP speaker (lab/fleet.py)")
    ap.add_argument("--qps", type=float, default=1000.0)
    ap.add_argument("--mix", default="auth=50,recursive=50")
    ap.add_argument("--trials", type=int, default=3)
    ap.add_argument("--faults", default=",".join(FAULTS),
                    help="comma-separated, from: " + ", ".join(FAULTS))
    ap.add_argument("--deadline", type=float, default=1.0,
                    help="an answer later than this (s) counts as lost")
    ap.add_argument("--pre", type=float, default=2.0, help="load before the fault (s)")
    ap.add_argument("--post", type=float, default=2.0,
                    help="load after the node is back (s)")
    ap.add_argument("--settle", type=float, default=2.0,
                    help="pause once every node is announced, before the next fault")
    ap.add_argument("--damping", action="store_true",
                    help="keep the example's flap damping (it holds ns1 down "
                         "after the second fault)")
    ap.add_argument("--out", help="result JSON (default bench/results/fleet-<time>.json)")
    ap.add_argument("--png", help="timeline picture (default: beside the JSON)")
    ap.add_argument("--keep-raw", action="store_true",
                    help="keep every client CSV in the lab's work directory")
    args = ap.parse_args()
    faults = [f.strip() for f in args.faults.split(",") if f.strip()]
    bad = [f for f in faults if f not in FAULTS]
    if bad:
        ap.error(f"unknown fault(s): {', '.join(bad)}")
    if os.geteuid() != 0:
        sys.exit("bench.fleet: must run as root (the lab creates network namespaces)")
    check_build()
    benchlib.single_instance()

    env = benchlib.environment()
    results = {f: [] for f in faults}
    workdir = Path(f"/tmp/{PREFIX}bench-{os.getpid()}") if args.keep_raw else None
    with Lab(nodes=args.nodes, damping=args.damping, workdir=workdir,
             router=args.router,
             log=lambda m: print(m, flush=True)) as lab:
        env["drain"] = "anycastctl drain --wait"
        for trial in range(args.trials):
            for name in faults:
                r = one_fault(lab, name, args, keep_timeline=trial == 0)
                results[name].append(r)
                print(f"trial {trial + 1} {name}: lost {r['lost']} "
                      f"(on return {r['lost_after_back']}), gap "
                      f"{benchlib.fmt(r['gap_ms'], '.0f')} ms, out "
                      f"{benchlib.fmt(r['out_ms'][4], '.1f')}/"
                      f"{benchlib.fmt(r['out_ms'][6], '.1f')} ms, back "
                      f"{benchlib.fmt(r['back_ms'][4], '.0f')} ms, others lost "
                      f"{r['lost_others']}, send lateness p99 "
                      f"{r['send_lateness_ms']['p99']:.2f} ms"
                      + (f"; {r['restored']}" if r["restored"] else ""), flush=True)
        configs = {"named.conf": (lab.node(1).named_dir / "named.conf").read_text(),
                   "relay.yaml": (lab.node(1).dir / "relay.yaml").read_text(),
                   "exabgp.conf": (lab.node(1).dir / "exabgp.conf").read_text(),
                   f"router ({args.router})": lab.router_conf()}
    env["loadavg_after"] = os.getloadavg()
    data = {"params": vars(args), "environment": env, "setup": configs,
            "summary": report(results), "results": results}
    path = benchlib.save("fleet", data, args.out)
    print("\n" + data["summary"])
    print(f"\nresults: {path}")
    png = args.png or str(path.with_suffix(".png"))
    try:
        plot(data, png)
        print(f"timeline: {png}")
    except (OSError, RuntimeError) as e:
        print(f"no timeline picture ({e}); install gnuplot-nox", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
