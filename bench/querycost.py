# SPDX-License-Identifier: MPL-2.0
"""Query-path cost of the anycast-health plugin.

named with the plugin (A) against the same named.conf without the
plugin statement (B), both started by the lab package (lab/) from
conf/named.conf and conf/db.example.  Every measurement is a pair of
runs, A and B back to back, repeated; what is reported is the ratio
within each pair and the median of those ratios, never a single run.

Modes:

  dnsperf (default)
    qps  dnsperf at saturation (-l SECONDS, bounded by -n too): queries
         per second.  Goal: median ratio A/B >= 0.99.
    cpu  dnsperf at a fixed rate below saturation (-Q RATE): named's CPU
         time per query, from /proc/PID/stat utime+stime (all threads;
         10 ms ticks), with /proc/PID/task/*/schedstat (ns) beside it.
         Goal: median ratio A/B <= 1.01.
    Both nameds run side by side for the whole benchmark (-n 2 threads
    each, as the lab starts them); only one is queried at a time.

  callgrind
    named -g -n 1 under valgrind --tool=callgrind --separate-threads=yes.
    After a warm-up, the counters are zeroed, a fixed number of queries
    is sent one at a time from a bounded loop (each waits for its
    answer), and the counters are dumped.  Instructions per query =
    instructions of named's threads in that window / queries.  The
    plugin's publisher thread is counted apart: it works once per
    interval of wall time, not per query, and its share of a window
    depends on how long valgrind took.  Goal: A/B <= 1.01.

The plugin named has a subscriber reading its socket (as the relay
would), so it publishes as in production.

Workloads (bench/benchlib.py workload_lines): 'auth', answers from the
example zone; 'nxdomain', 60% NXDOMAIN, 20% answers, 10% NODATA, 10%
REFUSED.

Run as `/usr/bin/python3 -m bench.querycost` from the top of the source
tree; needs the build (AH_BUILDDIR, default the source tree).
"""

import argparse
import glob
import os
import re
import socket
import subprocess
import sys
import tempfile
import time

import lab
from lab.feed import Subscriber
from lab.paths import check_build

from . import benchlib
from .benchlib import fmt, median

QPS_GOAL = 0.99      # A/B at saturation: at least this
COST_GOAL = 1.01     # A/B CPU or instructions per query: at most this

VARIANTS = ("plugin", "base")


def order_for(i, order):
    if order == "abba" and i % 2:
        return ("base", "plugin")
    return ("plugin", "base")


# ---------------------------------------------------------------------------
# dnsperf mode

DNSPERF_FIELDS = {
    "sent": r"Queries sent:\s+(\d+)",
    "completed": r"Queries completed:\s+(\d+)",
    "lost": r"Queries lost:\s+(\d+)",
    "runtime": r"Run time \(s\):\s+([\d.]+)",
    "qps": r"Queries per second:\s+([\d.]+)",
    "latency_avg": r"Average Latency \(s\):\s+([\d.]+)",
}


def dnsperf(port, datafile, seconds, extra, max_qps_for_cap=500000):
    """One dnsperf run; returns the parsed statistics.  Bounded by -l
    and by -n (passes over the datafile), and by a subprocess timeout."""
    with open(datafile) as f:
        lines = sum(1 for _ in f)
    cap = max(1, int(seconds * max_qps_for_cap / lines) + 1)
    argv = ["dnsperf", "-s", "127.0.0.1", "-p", str(port), "-d", str(datafile),
            "-l", str(seconds), "-n", str(cap), "-t", "2", *extra]
    r = subprocess.run(argv, capture_output=True, text=True,
                       timeout=seconds + 30)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: exit {r.returncode}\n{r.stderr}")
    out = {}
    for k, rx in DNSPERF_FIELDS.items():
        m = re.search(rx, r.stdout)
        if not m:
            raise RuntimeError(f"dnsperf output lacks {k}:\n{r.stdout}")
        out[k] = float(m.group(1))
    m = re.search(r"Response codes:\s+(.*)", r.stdout)
    out["rcodes"] = dict((c, int(n)) for c, n in
                         re.findall(r"(\w+) (\d+) \(", m.group(1))) if m else {}
    out["argv"] = argv
    return out


def measured(named, fn):
    """Run fn() and take named's CPU around it."""
    pid = named.proc.pid
    t0, n0, w0 = benchlib.cpu_ticks(pid), benchlib.cpu_ns_schedstat(pid), time.monotonic()
    res = fn()
    t1, n1, w1 = benchlib.cpu_ticks(pid), benchlib.cpu_ns_schedstat(pid), time.monotonic()
    q = res["completed"] or 1
    res["cpu_s"] = (t1 - t0) / benchlib.CLK_TCK
    res["cpu_us_per_query"] = 1e6 * res["cpu_s"] / q
    if n0 is not None and n1 is not None:
        res["cpu_sched_us_per_query"] = (n1 - n0) / 1e3 / q
    res["wall_s"] = w1 - w0
    return res


def run_dnsperf(args, work, stack):
    nameds = {
        "plugin": lab.Named(stack, name="named-plugin", plugin=True,
                            interval=args.interval).start(),
        "base": lab.Named(stack, name="named-base", plugin=False).start(),
    }
    sub = Subscriber(nameds["plugin"].socket, wait=10).discard()
    files = {}
    for wl in args.workloads:
        files[wl] = os.path.join(work, f"{wl}.txt")
        with open(files[wl], "w") as f:
            f.write("\n".join(benchlib.workload_lines(wl)) + "\n")
    sat = ["-c", str(args.clients), "-T", str(args.threads),
           "-q", str(args.outstanding)]
    fixed = ["-c", "1", "-T", "1", "-q", str(args.outstanding),
             "-Q", str(args.rate)]

    # Warm-up, discarded: first queries after start, page faults, caches.
    for wl in args.workloads:
        for v in VARIANTS:
            dnsperf(nameds[v].port, files[wl], 1, ["-Q", str(args.rate)])

    runs = []
    try:
        for i in range(args.pairs):
            for wl in args.workloads:
                for metric in args.metrics:
                    pair = {"pair": i, "workload": wl, "metric": metric}
                    for v in order_for(i, args.order):
                        n = nameds[v]
                        if metric == "qps":
                            res = measured(n, lambda: dnsperf(
                                n.port, files[wl], args.seconds, sat))
                        else:
                            res = measured(n, lambda: dnsperf(
                                n.port, files[wl], args.cpu_seconds, fixed))
                        res["variant"] = v
                        res["order"] = len(pair) - 3
                        pair[v] = res
                        print(f"  pair {i} {wl:8} {metric:3} {v:6}: "
                              f"{res['qps']:9.0f} q/s  "
                              f"{res['cpu_us_per_query']:6.2f} us CPU/q  "
                              f"lost {res['lost']:.0f}", flush=True)
                    runs.append(pair)
    finally:
        sub.stop()
    for n in nameds.values():
        assert n.proc.alive(), f"{n.name} died:\n{n.proc.text()[-2000:]}"
    return runs


def summarize_dnsperf(runs, args):
    out = []
    for wl in args.workloads:
        for metric in args.metrics:
            pairs = [p for p in runs if p["workload"] == wl and p["metric"] == metric]
            if not pairs:
                continue
            if metric == "qps":
                key, goal, better = "qps", QPS_GOAL, "ge"
            else:
                key, goal, better = "cpu_us_per_query", COST_GOAL, "le"
            ratios = [p["plugin"][key] / p["base"][key] for p in pairs
                      if p["base"][key] > 0]
            row = {
                "workload": wl, "metric": metric, "key": key,
                "pairs": len(pairs),
                "plugin_median": median(p["plugin"][key] for p in pairs),
                "base_median": median(p["base"][key] for p in pairs),
                "ratios": ratios,
                "median_ratio": median(ratios),
                "goal": goal, "goal_is": better,
            }
            if metric == "cpu":
                row["delta_ns_per_query_median"] = median(
                    1e3 * (p["plugin"][key] - p["base"][key]) for p in pairs)
                sched = [p["plugin"].get("cpu_sched_us_per_query", 0) /
                         p["base"]["cpu_sched_us_per_query"] for p in pairs
                         if p["base"].get("cpu_sched_us_per_query")]
                row["schedstat_ratios"] = sched
                row["schedstat_median_ratio"] = median(sched)
                row["rate"] = args.rate
            m = row["median_ratio"]
            row["meets_goal"] = None if m is None else (
                m >= goal if better == "ge" else m <= goal)
            out.append(row)
    return out


def print_dnsperf(summary):
    rows = []
    for s in summary:
        unit = "q/s" if s["metric"] == "qps" else "us CPU/q"
        spec = ".0f" if s["metric"] == "qps" else ".3f"
        goal = (">= " if s["goal_is"] == "ge" else "<= ") + f"{s['goal']:.2f}"
        extra = ""
        if s["metric"] == "cpu":
            extra = (f"delta {fmt(s['delta_ns_per_query_median'], '+.0f')} ns/q; "
                     f"schedstat ratio {fmt(s['schedstat_median_ratio'], '.4f')}")
        rows.append([s["workload"], s["metric"], s["pairs"],
                     f"{fmt(s['plugin_median'], spec)} {unit}",
                     f"{fmt(s['base_median'], spec)} {unit}",
                     " ".join(fmt(r, ".3f") for r in s["ratios"]),
                     fmt(s["median_ratio"], ".4f"), goal,
                     {True: "yes", False: "NO", None: "-"}[s["meets_goal"]],
                     extra])
    print(benchlib.table(
        ["workload", "metric", "pairs", "with plugin (median)",
         "without (median)", "per-pair ratio A/B", "median ratio",
         "goal", "met", "notes"], rows))


# ---------------------------------------------------------------------------
# callgrind mode

def query_wires(kind, n):
    """n query messages (wire format) for a workload, with fixed ids:
    the same bytes every run, so named does the same work every run."""
    import dns.message
    lines = benchlib.workload_lines(kind)
    cache, out = {}, []
    for i in range(n):
        line = lines[i % len(lines)]
        if line not in cache:
            name, rdtype = line.split()
            cache[line] = dns.message.make_query(name, rdtype)
        q = cache[line]
        q.id = (i * 7919 + 1) & 0xFFFF
        out.append(q.to_wire())
    return out


def send_sequential(port, wires, timeout=5.0):
    """Each query sent after the previous one was answered; bounded by
    len(wires) and by 'timeout' per query.  Returns (answered, lost)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    answered = lost = 0
    try:
        for w in wires:
            s.sendto(w, ("127.0.0.1", port))
            deadline = time.monotonic() + timeout
            while True:
                try:
                    data = s.recv(65535)
                except socket.timeout:
                    lost += 1
                    break
                if data[:2] == w[:2]:
                    answered += 1
                    break
                if time.monotonic() > deadline:
                    lost += 1
                    break
            if lost > 10:
                raise RuntimeError("named under callgrind stopped answering")
    finally:
        s.close()
    return answered, lost


def callgrind_control(pid, *args):
    r = subprocess.run(["callgrind_control", *args, str(pid)],
                       capture_output=True, text=True, timeout=120)
    if r.returncode != 0 or "OK" not in r.stdout:
        raise RuntimeError(f"callgrind_control {' '.join(args)} {pid}: "
                           f"{r.stdout}{r.stderr}")


PLUGIN_OBJ = "anycast-health.so"
HOOK_CALLER_OBJ = "libns-"      # named's query code, which runs the hooks


def parse_dump(path):
    """One callgrind dump file (one thread): its trigger label, total
    instructions, whether it is the plugin's publisher thread, and the
    calls from libns (the hook dispatch in query.c) into the plugin
    with their inclusive instruction counts: what the plugin's hooks
    cost, callees included.  Calls into the plugin from elsewhere (the
    zone walk's callback, called from libdns inside a hook) are already
    inside a hook's inclusive cost and are not added again."""
    names = {"ob": {}, "fn": {}}
    label = total = None
    publisher = False
    cur_ob = call_ob = call_fn = ""
    ncalls = None
    hooks = {}

    def resolve(kind, text):
        text = text.strip()
        m = re.match(r"\((\d+)\)\s*(.*)", text)
        if not m:
            return text
        if m.group(2):
            names[kind][m.group(1)] = m.group(2)
            return m.group(2)
        return names[kind].get(m.group(1), "")

    with open(path, errors="replace") as f:
        for line in f:
            c = line[:1]
            if ncalls is not None and (c.isdigit() or c in "+-*"):
                fields = line.split()
                cost = int(fields[1]) if len(fields) > 1 else 0
                target_ob = call_ob or cur_ob
                if PLUGIN_OBJ in target_ob and HOOK_CALLER_OBJ in cur_ob:
                    h = hooks.setdefault(call_fn, [0, 0])
                    h[0] += ncalls
                    h[1] += cost
                ncalls, call_ob, call_fn = None, "", ""
            elif line.startswith("ob="):
                cur_ob = resolve("ob", line[3:])
            elif line.startswith("fn="):
                fn = resolve("fn", line[3:])
                if fn in ("publisher_main", "send_snapshot"):
                    publisher = True
            elif line.startswith("cob="):
                call_ob = resolve("ob", line[4:])
            elif line.startswith("cfn="):
                call_fn = resolve("fn", line[4:])
                if call_fn in ("publisher_main", "send_snapshot"):
                    publisher = True
            elif line.startswith("calls="):
                ncalls = int(line[6:].split()[0])
            elif line.startswith("desc: Trigger: "):
                label = line.split(":", 2)[2].strip()
                if label.startswith("dump "):
                    label = label[5:]
            elif line.startswith("totals:"):
                total = int(line.split()[1])
    return label, total, publisher, hooks


def parse_dumps(outdir, pid):
    """{label: [{thread, instructions, publisher, hooks}, ...]}."""
    dumps = {}
    for path in sorted(glob.glob(os.path.join(outdir, f"cg.{pid}.*"))):
        label, total, publisher, hooks = parse_dump(path)
        if label is None or total is None:
            continue
        dumps.setdefault(label, []).append({
            "thread": path.rsplit("-", 1)[-1], "instructions": total,
            "publisher": publisher,
            "hooks": {fn: {"calls": n, "inclusive": ir}
                      for fn, (n, ir) in hooks.items()}})
    return dumps


def callgrind_once(args, work, stack, named, variant, rep):
    outdir = os.path.join(work, f"cg-{variant}-{rep}")
    os.makedirs(outdir)
    argv = ["valgrind", "--tool=callgrind", "--separate-threads=yes",
            f"--callgrind-out-file={outdir}/cg.%p",
            lab.NAMED, "-g", "-c", str(named.conf), "-n", "1"]
    if os.path.exists(named.socket):
        os.unlink(named.socket)
    proc = stack.start(f"vg-{variant}-{rep}", argv)
    sub = None
    try:
        lab.wait_for(lambda: " running\n" in proc.text() or not proc.alive(),
                     300, interval=0.2, what=f"named under callgrind ({variant})")
        assert proc.alive(), proc.text()[-3000:]
        if variant == "plugin":
            sub = Subscriber(named.socket, wait=10).discard()
        res = {}
        for wl in args.workloads:
            send_sequential(named.port, query_wires(wl, args.warmup))
            wires = query_wires(wl, args.queries)
            callgrind_control(proc.pid, "--zero")
            t0 = time.monotonic()
            answered, lost = send_sequential(named.port, wires)
            wall = time.monotonic() - t0
            callgrind_control(proc.pid, f"--dump={wl}")
            res[wl] = {"answered": answered, "lost": lost, "wall_s": wall}
        pid = proc.pid
    finally:
        if sub:
            sub.stop()
        proc.stop()
        benchlib.forget_reaped(stack, proc)
    dumps = parse_dumps(outdir, pid)
    if args.keep_dumps:
        import shutil
        dest = os.path.join(args.keep_dumps, os.path.basename(outdir))
        shutil.copytree(outdir, dest, dirs_exist_ok=True)
    for wl, r in res.items():
        threads = dumps.get(wl)
        if not threads:
            raise RuntimeError(f"no callgrind dump '{wl}' in {outdir}")
        pub = sum(t["instructions"] for t in threads if t["publisher"])
        allt = sum(t["instructions"] for t in threads)
        hooks = {}
        for t in threads:
            for fn, h in t["hooks"].items():
                x = hooks.setdefault(fn, {"calls": 0, "inclusive": 0})
                x["calls"] += h["calls"]
                x["inclusive"] += h["inclusive"]
        n = r["answered"] or 1
        r.update({
            "threads": threads,
            "instructions_all": allt,
            "instructions_publisher": pub,
            "ir_per_query": (allt - pub) / n,
            "ir_per_query_all_threads": allt / n,
            "hooks": hooks,
            "hook_ir_per_query": sum(h["inclusive"] for h in hooks.values()) / n,
        })
    return res


def run_callgrind(args, work, stack):
    nameds = {
        "plugin": lab.Named(stack, name="named-plugin", plugin=True,
                            interval=args.interval),
        "base": lab.Named(stack, name="named-base", plugin=False),
    }
    runs = []
    for i in range(args.pairs):
        pair = {"pair": i}
        for v in order_for(i, args.order):
            t0 = time.monotonic()
            pair[v] = callgrind_once(args, work, stack, nameds[v], v, i)
            for wl in args.workloads:
                r = pair[v][wl]
                print(f"  pair {i} {v:6} {wl:8}: {r['ir_per_query']:10.0f} Ir/q, "
                      f"in the plugin's hooks {r['hook_ir_per_query']:.0f} Ir/q "
                      f"(publisher thread {r['instructions_publisher']} Ir "
                      f"in the window; lost {r['lost']}) "
                      f"[{time.monotonic() - t0:.0f} s]", flush=True)
        runs.append(pair)
    return runs


def summarize_callgrind(runs, args):
    out = []
    for wl in args.workloads:
        a = [p["plugin"][wl]["ir_per_query"] for p in runs]
        b = [p["base"][wl]["ir_per_query"] for p in runs]
        ratios = [x / y for x, y in zip(a, b)]
        allr = [p["plugin"][wl]["ir_per_query_all_threads"] /
                p["base"][wl]["ir_per_query_all_threads"] for p in runs]
        m = median(ratios)
        hook = [p["plugin"][wl]["hook_ir_per_query"] for p in runs]
        share = [h / y for h, y in zip(hook, b)]
        out.append({
            "workload": wl, "pairs": len(runs), "queries": args.queries,
            "plugin_median": median(a), "base_median": median(b),
            "hook_ir_per_query_median": median(hook),
            "hook_share": share, "hook_share_median": median(share),
            "delta_ir_per_query_median": median(x - y for x, y in zip(a, b)),
            "ratios": ratios, "median_ratio": m,
            "all_threads_ratios": allr,
            "all_threads_median_ratio": median(allr),
            "goal": COST_GOAL, "goal_is": "le",
            "meets_goal": None if m is None else m <= COST_GOAL,
            "hooks_meet_goal": (None if median(share) is None
                                else median(share) <= COST_GOAL - 1),
        })
    return out


def print_callgrind(summary):
    rows = []
    for s in summary:
        rows.append([s["workload"], s["pairs"], s["queries"],
                     fmt(s["plugin_median"], ".0f"), fmt(s["base_median"], ".0f"),
                     fmt(s["delta_ir_per_query_median"], "+.0f"),
                     " ".join(fmt(r, ".4f") for r in s["ratios"]),
                     fmt(s["median_ratio"], ".4f"),
                     f"<= {s['goal']:.2f}",
                     {True: "yes", False: "NO", None: "-"}[s["meets_goal"]],
                     fmt(s["hook_ir_per_query_median"], ".0f"),
                     fmt(100 * s["hook_share_median"], ".2f") + "%",
                     {True: "yes", False: "NO", None: "-"}[s["hooks_meet_goal"]],
                     fmt(s["all_threads_median_ratio"], ".4f")])
    print(benchlib.table(
        ["workload", "pairs", "queries", "Ir/q with plugin", "Ir/q without",
         "delta Ir/q", "per-pair ratio A/B", "median ratio", "goal", "met",
         "hooks Ir/q", "hooks/without", "<= 1%", "ratio incl. publisher"], rows))
    print("A/B counts all of named's threads but the plugin's publisher; they "
          "vary ~0.5% between named\nprocesses (libuv loop iterations, clock "
          "reads). 'hooks' is the inclusive cost of the\nplugin's hook "
          "functions called from libns, which hardly varies.")


# ---------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mode", choices=("dnsperf", "callgrind"), default="dnsperf")
    ap.add_argument("--pairs", type=int, default=10,
                    help="A/B pairs per measurement (callgrind: per workload; default 10)")
    ap.add_argument("--order", choices=("abab", "abba"), default="abab",
                    help="abab: plugin first in every pair; abba: alternate "
                         "which goes first, to cancel linear drift")
    ap.add_argument("--workloads", default=",".join(benchlib.WORKLOADS))
    ap.add_argument("--metrics", default="qps,cpu",
                    help="dnsperf mode: qps (saturation) and/or cpu (fixed rate)")
    ap.add_argument("--seconds", type=float, default=5,
                    help="dnsperf -l for a saturation run (default 5)")
    ap.add_argument("--cpu-seconds", type=float, default=5,
                    help="dnsperf -l for a fixed-rate run (default 5)")
    ap.add_argument("--rate", type=int, default=20000,
                    help="dnsperf -Q for the CPU-per-query runs (default 20000)")
    ap.add_argument("--clients", type=int, default=4, help="dnsperf -c at saturation")
    ap.add_argument("--threads", type=int, default=1, help="dnsperf -T at saturation")
    ap.add_argument("--outstanding", type=int, default=200, help="dnsperf -q")
    ap.add_argument("--queries", type=int, default=2000,
                    help="callgrind: queries measured per workload (default 2000)")
    ap.add_argument("--warmup", type=int, default=200,
                    help="callgrind: queries before zeroing the counters")
    ap.add_argument("--keep-dumps", metavar="DIR",
                    help="callgrind: copy the dump files here (for "
                         "callgrind_annotate); default: discarded")
    ap.add_argument("--interval", type=int, default=1000,
                    help="the plugin's snapshot interval, ms (default 1000, "
                         "as in conf/named.conf)")
    ap.add_argument("--json", help="result file (default bench/results/querycost-*.json)")
    args = ap.parse_args()
    args.workloads = [w for w in args.workloads.split(",") if w]
    args.metrics = [m for m in args.metrics.split(",") if m]
    for w in args.workloads:
        if w not in benchlib.WORKLOADS:
            ap.error(f"unknown workload {w}")
    for m in args.metrics:
        if m not in ("qps", "cpu"):
            ap.error(f"unknown metric {m}")
    if args.pairs < 1 or args.pairs > 1000:
        ap.error("--pairs must be 1..1000")
    check_build()
    benchlib.single_instance()

    env = benchlib.environment()
    with tempfile.TemporaryDirectory(prefix="ahbench-querycost-") as work:
        stack = lab.Stack(work)
        try:
            if args.mode == "dnsperf":
                runs = run_dnsperf(args, work, stack)
            else:
                runs = run_callgrind(args, work, stack)
        finally:
            stack.stop()
            left = benchlib.kill_leftovers(work)
            if left:
                print(f"killed leftover processes: {left}", file=sys.stderr)
    if args.mode == "dnsperf":
        summary = summarize_dnsperf(runs, args)
    else:
        summary = summarize_callgrind(runs, args)
    env["loadavg_after"] = os.getloadavg()
    data = {"benchmark": "querycost", "mode": args.mode,
            "params": vars(args), "environment": env,
            "summary": summary, "runs": runs}
    path = benchlib.save(f"querycost-{args.mode}", data, args.json)
    print()
    print(f"querycost ({args.mode}): A = named with the plugin, B = without; "
          f"{args.pairs} pairs, order {args.order}")
    if args.mode == "dnsperf":
        print_dnsperf(summary)
    else:
        print_callgrind(summary)
    print(f"\nresults: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
