# SPDX-License-Identifier: MPL-2.0
"""Reaction time, measured at the router.

One stack from the lab package (lab/) on loopback: named with the
plugin, BIRD 2 as the router, and one ExaBGP (conf/exabgp.conf rendered
as the lab renders it) running three API processes side by side, each
announcing its own /32 over the same BGP session:

  anycast-health   anycast-relay fed by the plugin     192.0.2.53/32
  hc-default       ExaBGP's healthcheck, its defaults  192.0.2.54/32
  hc-tuned         ExaBGP's healthcheck, tuned         192.0.2.55/32

Both healthchecks run the same check: dig for the example zone's SOA at
the test named's port (+time=1 +tries=1), healthy only when the answer
holds the SOA.  Both use --withdraw-on-down (without it the healthcheck
never withdraws: it re-announces with --down-metric) and --no-ip-setup
(it must not add addresses to lo).

Each trial, for each fault, in one run:

  sigkill  t0 = time.time(); kill -KILL named        -> each route removed
           t1 = time.time(); named started again     -> each route added
  sigstop  t0 = time.time(); kill -STOP named        -> each route removed
           t1 = time.time(); kill -CONT named        -> each route added
  upstream (named is then a resolver, with 50 client queries a second)
           t0 = time.time(); its upstream goes silent -> each route removed
           t1 = time.time(); the upstream answers    -> each route added
           The healthchecks' SOA check still passes here: they are
           expected never to withdraw (reported as timeouts).

The times of "removed"/"added" come from BIRD's own log, which the lab
configures with microsecond timestamps (timeformat log "%F %T.%6f" and
debug protocols { routes }): reaction = BIRD's timestamp - t0, both
wall clock (CLOCK_REALTIME) on this machine.  Between faults the run
waits until every route is back, then a random pause (--settle), so
faults land at random phases of the plugin's interval and of the
healthchecks' check intervals.

Goals (anycast-health only): SIGKILL median <= 10 ms and p99 <= 50 ms;
SIGSTOP p99 <= 1 s with the default configuration (SIGSTOP is detected
by the relay's stale-after, by default three plugin intervals: 300 ms
with the plugin's default 100 ms), aiming at 300 ms.

Run as `/usr/bin/python3 -m bench.reaction` from the top of the source
tree; needs the build (AH_BUILDDIR).
"""

import argparse
import datetime
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time

import lab
from lab.paths import check_build

from . import benchlib
from .benchlib import fmt, median, percentile

OURS = "anycast-health"
OURS_PREFIX = "192.0.2.53/32"          # the example service's IPv4 prefix
HC_DEFAULT_PREFIX = "192.0.2.54/32"
HC_TUNED_PREFIX = "192.0.2.55/32"

GOALS = {  # (fault, statistic) -> ms, for anycast-health's withdrawal
    ("sigkill", "median"): 10.0,
    ("sigkill", "p99"): 50.0,
    ("sigstop", "p99"): 1000.0,         # issue 8: <= 1 s with defaults
    # The upstream fault's goal depends on the client rate: checks judge
    # the last min-queries (100) recursions, so at 50 a second the
    # evidence takes 2 s to gather.  Issue 7's goal, "out within 1 s at
    # 1,000 qps", is set in main() for --qps 1000 and above.
}
FAULTS = ("sigkill", "sigstop", "upstream")

HEALTHCHECK = ["/usr/bin/python3", "-m", "exabgp", "healthcheck"]


# ---------------------------------------------------------------------------
# BIRD's log

BIRD_LINE = re.compile(
    r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}) <TRACE> (\S+) > "
    r"(added|removed)(?: \[[^\]]*\])* ([0-9A-Fa-f.:]+/\d+)(?:\s|$)")


class BirdLog:
    """Route changes from BIRD's log, read incrementally.

    lab.bird_changes() re-reads the whole log and keeps the
    timestamp as text; a benchmark polls the log many times over a long
    run, so this reads only what was appended and parses the time."""

    def __init__(self, bird):
        self.path = bird.proc.log
        self.offset = 0
        self.partial = b""
        self.events = []            # (unix time, prefix, 'added'|'removed')
        self.state = {}             # prefix -> last kind

    def poll(self):
        with open(self.path, "rb") as f:
            f.seek(self.offset)
            data = f.read()
        self.offset += len(data)
        data = self.partial + data
        lines = data.split(b"\n")
        self.partial = lines.pop()
        for raw in lines:
            m = BIRD_LINE.match(raw.decode(errors="replace"))
            if not m:
                continue
            ts = datetime.datetime.strptime(
                m.group(1), "%Y-%m-%d %H:%M:%S.%f").timestamp()
            ev = (ts, m.group(4), m.group(3))
            self.events.append(ev)
            self.state[ev[1]] = ev[2]

    def present(self, prefix):
        return self.state.get(prefix) == "added"

    def first(self, prefix, kind, after):
        for ts, p, k in self.events:
            if p == prefix and k == kind and ts >= after:
                return ts
        return None

    def wait_present(self, prefixes, timeout, interval=0.05):
        deadline = time.monotonic() + timeout
        while True:
            self.poll()
            if all(self.present(p) for p in prefixes):
                return True
            if time.monotonic() > deadline:
                return False
            time.sleep(interval)

    def wait(self, prefixes, kind, after, timeout, interval=0.005):
        """{prefix: unix time of its first 'kind' event at or after
        'after', or None if none came within 'timeout' seconds}."""
        deadline = time.monotonic() + timeout
        found = {}
        while True:
            self.poll()
            for p in prefixes:
                if p not in found:
                    t = self.first(p, kind, after)
                    if t is not None:
                        found[p] = t
            if len(found) == len(prefixes) or time.monotonic() > deadline:
                return {p: found.get(p) for p in prefixes}
            time.sleep(interval)


# ---------------------------------------------------------------------------
# the stack

class BenchExaBGP(lab.ExaBGP):
    """The lab's ExaBGP, rendered from conf/exabgp.conf as the lab renders
    it, plus more API processes bound to the same neighbors."""

    def __init__(self, stack, bird, relay, processes, name="exabgp"):
        super().__init__(stack, bird, relay, name)
        text = self.conf.read_text()
        anchor = "process anycast-relay {"
        bind = "processes [ anycast-relay ];"
        if anchor not in text or bind not in text:
            raise AssertionError("conf/exabgp.conf no longer has the "
                                 "anycast-relay process block or binding")
        blocks = "".join(f"process {n} {{\n\trun {' '.join(argv)};\n"
                         f"\tencoder text;\n}}\n\n" for n, argv in processes)
        names = " ".join(n for n, _ in processes)
        text = text.replace(anchor, blocks + anchor, 1)
        text = text.replace(bind, f"processes [ anycast-relay {names} ];")
        self.conf.write_text(text)


def healthcheck_conf(path, name, prefix, port, settings):
    """A config file for ExaBGP's healthcheck (its --config format:
    'long-option = value' lines), so ExaBGP's 'run' line needs no
    quoting."""
    check = (f"dig @127.0.0.1 -p {port} +norecurse +time=1 +tries=1 +short "
             f"example SOA 2>/dev/null | grep -q '^ns1[.]example[.] '")
    lines = [f"name = {name}", "no-syslog", "withdraw-on-down", "no-ip-setup",
             f"ip = {prefix}", "neighbor = 127.0.0.1", f"command = {check}"]
    lines += [f"{k} = {v}" for k, v in settings.items()]
    path.write_text("\n".join(lines) + "\n")
    return check


def relay_for(stack, named, args):
    repl = []
    if args.stale_after:
        repl.append(("\nplugin:\n", f"\nplugin:\n  stale-after: {args.stale_after}\n"))
    if args.policy == "plain":
        relay = lab.Relay(stack, named, replacements=repl,
                          services=lab.plain_service(rise=args.rise,
                                                     port=named.port))
    else:
        relay = lab.Relay(stack, named, replacements=repl)
        # The example's flap damping (4 changes a minute) would hold the
        # node down after the second trial: a benchmark that flaps the
        # node on purpose measures reaction without it.
        new = lab.without_damping(relay.path.read_text())
        # The healthchecks withdraw (--withdraw-on-down) and this
        # benchmark times withdrawals at BIRD: like with like, not the
        # example's graded response, which keeps a soft-trouble node
        # announced (depreferred).
        withdraw = new.replace("    when-down: depref\n",
                               "    when-down: withdraw\n")
        if withdraw == new:
            raise AssertionError("conf/anycast-relay.yaml: no 'when-down: "
                                 "depref' to replace; check reaction.py")
        relay.path.write_text(withdraw)
    r = subprocess.run([str(lab.RELAY), "--check", str(relay.path)],
                       capture_output=True, text=True, timeout=10)
    if r.returncode != 0:
        raise RuntimeError(f"relay config rejected:\n{r.stderr}")
    return relay


def parse_settings(text):
    out = {}
    for item in filter(None, (x.strip() for x in text.split(","))):
        k, _, v = item.partition("=")
        out[k.strip()] = v.strip()
    return out


# ---------------------------------------------------------------------------
# trials

def run(args, work, stack, log):
    upstream = None
    if "upstream" in args.faults:
        upstream = lab.FakeUpstream()
        stack.procs.append(upstream)
        named = lab.resolver(stack, upstream.port, interval=args.interval).start()
        # Clients, bounded by the run's own limit.
        stack.procs.append(lab.Load(
            named.port, lambda i: f"r{i}-{time.monotonic_ns()}.test.",
            qps=args.qps, seconds=args.max_minutes * 60))
    else:
        named = lab.Named(stack, interval=args.interval).start()
    bird = lab.Bird(stack).start()
    relay = relay_for(stack, named, args)

    watched = {OURS: OURS_PREFIX}
    processes, hcinfo = [], {}
    if not args.no_healthcheck:
        for name, prefix, settings in (
                ("hc-default", HC_DEFAULT_PREFIX, {}),
                ("hc-tuned", HC_TUNED_PREFIX, parse_settings(args.tuned))):
            path = stack.dir / f"{name}.conf"
            check = healthcheck_conf(path, name, prefix, named.port, settings)
            processes.append((name, HEALTHCHECK + ["--config", str(path)]))
            watched[name] = prefix
            hcinfo[name] = {"prefix": prefix, "settings": settings,
                            "check": check, "config": path.read_text()}
    exa = BenchExaBGP(stack, bird, relay, processes)
    log["exabgp_conf"] = exa.conf.read_text()
    log["relay_yaml"] = relay.path.read_text()
    log["healthchecks"] = hcinfo
    exa.start()

    blog = BirdLog(bird)
    prefixes = list(watched.values())
    t_start = time.time()
    up = blog.wait(prefixes, "added", t_start - 60, args.start_timeout)
    missing = [n for n, p in watched.items() if up[p] is None]
    if missing:
        raise RuntimeError(f"never announced at BIRD: {missing}\n"
                           f"exabgp log tail:\n{exa.proc.text()[-3000:]}\n"
                           f"bird log tail:\n{bird.proc.text()[-3000:]}")
    print(f"all routes at BIRD {time.time() - t_start:.1f} s after ExaBGP "
          f"started: {', '.join(f'{n} {p}' for n, p in watched.items())}",
          flush=True)

    rng = random.Random(args.seed)
    trials = []
    deadline = time.monotonic() + args.max_minutes * 60
    for i in range(args.trials):
        if time.monotonic() > deadline:
            print(f"stopping after {i} trials: --max-minutes reached")
            break
        for fault in args.faults:
            # Steady state: everything announced, then a random pause.
            if not blog.wait_present(prefixes, args.timeout):
                raise RuntimeError("routes not back at BIRD after "
                                   f"{args.timeout} s: {blog.state}")
            time.sleep(rng.uniform(args.settle_min, args.settle_max))
            if not named.proc.alive():
                raise RuntimeError(f"named died:\n{named.proc.text()[-2000:]}")

            pid = named.proc.pid
            stopped = False
            t0 = time.time()
            if fault == "upstream":
                upstream.mode = "silent"
            else:
                os.kill(pid, signal.SIGKILL if fault == "sigkill"
                        else signal.SIGSTOP)
                stopped = fault == "sigstop"
            if fault == "sigkill":
                named.proc.p.wait(10)
                benchlib.forget_reaped(stack, named.proc)
            down = blog.wait(prefixes, "removed", t0, args.timeout)

            t1 = time.time()
            if fault == "sigkill":
                named.start()
            elif fault == "upstream":
                upstream.mode = "answer"
            else:
                os.kill(pid, signal.SIGCONT)
                stopped = False
            want = [p for p in prefixes if down[p] is not None]
            back = blog.wait(want, "added", t1, args.timeout)

            tr = {"trial": i, "fault": fault, "t_fault": t0, "t_recover": t1,
                  "down_ms": {}, "up_ms": {}}
            for n, p in watched.items():
                tr["down_ms"][n] = (None if down[p] is None
                                    else 1000 * (down[p] - t0))
                tr["up_ms"][n] = (None if back.get(p) is None
                                  else 1000 * (back[p] - t1))
            trials.append(tr)
            print(f"  trial {i:3} {fault}: withdrawn after "
                  + ", ".join(f"{n} {fmt(v, '.1f', 'TIMEOUT')} ms"
                              for n, v in tr["down_ms"].items())
                  + "; back after "
                  + ", ".join(f"{n} {fmt(v, '.0f', 'TIMEOUT')} ms"
                              for n, v in tr["up_ms"].items()), flush=True)
            if stopped:
                os.kill(pid, signal.SIGCONT)
    log["exabgp_log_tail"] = exa.proc.text()[-5000:]
    return list(watched), trials


def summarize(names, trials, faults):
    out = []
    for fault in faults:
        ts = [t for t in trials if t["fault"] == fault]
        if not ts:
            continue
        for n in names:
            row = {"fault": fault, "mechanism": n, "trials": len(ts)}
            for phase in ("down_ms", "up_ms"):
                raw = [t[phase][n] for t in ts]
                # A timeout counts as infinitely slow: it can only push
                # the median and p99 up, never hide.
                xs = [float("inf") if x is None else x for x in raw]
                row[phase] = {
                    "median": median(xs), "p99": percentile(xs, 99),
                    "min": min(xs), "max": max(xs),
                    "timeouts": sum(1 for x in raw if x is None),
                    "values": raw,
                }
            if n == OURS:
                checks = {}
                for stat in ("median", "p99"):
                    goal = GOALS.get((fault, stat))
                    if goal is not None:
                        checks[f"{stat} <= {goal:g} ms"] = \
                            row["down_ms"][stat] <= goal
                row["goals"] = checks
            out.append(row)
    return out


def print_summary(summary):
    rows = []
    for s in summary:
        d, u = s["down_ms"], s["up_ms"]
        goals = s.get("goals", {})
        # In a result file a timed-out statistic is null: show it so.
        rows.append([
            s["fault"], s["mechanism"], s["trials"],
            fmt(d["median"], ".1f", "timeout"), fmt(d["p99"], ".1f", "timeout"),
            fmt(d["max"], ".1f", "timeout"), d["timeouts"],
            fmt(u["median"], ".0f", "timeout"), fmt(u["p99"], ".0f", "timeout"),
            u["timeouts"],
            "; ".join(f"{k}: {'yes' if v else 'NO'}" for k, v in goals.items()),
        ])
    print(benchlib.table(
        ["fault", "mechanism", "trials", "withdrawn median ms", "p99 ms",
         "max ms", "timeouts", "back median ms", "p99 ms", "timeouts",
         "goal (anycast-health)"], rows))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--trials", type=int, default=30,
                    help="trials per fault (default 30)")
    ap.add_argument("--faults", default="sigkill,sigstop",
                    help="which faults, interleaved in each trial")
    ap.add_argument("--policy", choices=("example", "plain"), default="example",
                    help="relay service: 'example' = conf/anycast-relay.yaml "
                         "as the lab renders it, minus flap damping (default); "
                         "'plain' = lab.plain_service()")
    ap.add_argument("--rise", type=int, default=2, help="rise for --policy plain")
    ap.add_argument("--interval", type=int, default=100,
                    help="plugin snapshot interval, ms (default 100, the plugin's)")
    ap.add_argument("--stale-after", default="",
                    help="relay stale-after (default: the relay's, three "
                         "plugin intervals)")
    ap.add_argument("--qps", type=int, default=50,
                    help="client queries a second for the upstream fault "
                         "(default 50)")
    ap.add_argument("--no-healthcheck", action="store_true",
                    help="measure anycast-health alone")
    # Like for like: the plugin's own default interval is 100 ms, the
    # tuned healthcheck checks every 200 ms (its --interval takes
    # fractions), with rise and fall 1.
    ap.add_argument("--tuned", default="interval=0.2,fast-interval=0.2,rise=1,fall=1",
                    help="settings of the tuned healthcheck (default %(default)s)")
    ap.add_argument("--settle-min", type=float, default=0.5)
    ap.add_argument("--settle-max", type=float, default=None,
                    help="random pause before each fault, uniform in "
                         "[settle-min, settle-max] s (default: 0.5 + 5 s, "
                         "the default healthcheck interval; 1.5 without "
                         "healthchecks)")
    ap.add_argument("--timeout", type=float, default=30,
                    help="longest wait for a route change, s (default 30)")
    ap.add_argument("--start-timeout", type=float, default=60)
    ap.add_argument("--max-minutes", type=float, default=90,
                    help="stop starting trials after this long")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", help="result file (default bench/results/reaction-*.json)")
    args = ap.parse_args()
    args.faults = [f for f in args.faults.split(",") if f]
    for f in args.faults:
        if f not in FAULTS:
            ap.error(f"unknown fault {f} (known: {', '.join(FAULTS)})")
    if not 1 <= args.trials <= 1000:
        ap.error("--trials must be 1..1000")
    if args.settle_max is None:
        args.settle_max = args.settle_min + (1.0 if args.no_healthcheck else 5.0)
    if args.qps >= 1000:
        GOALS[("upstream", "p99")] = 1000.0
    check_build()
    benchlib.single_instance()

    env = benchlib.environment()
    log = {}
    with tempfile.TemporaryDirectory(prefix="ahbench-reaction-") as work:
        stack = lab.Stack(work)
        try:
            names, trials = run(args, work, stack, log)
        finally:
            # A named left stopped would take SIGTERM only after SIGCONT.
            for p in stack.procs:
                if isinstance(p, lab.Proc) and p.alive():
                    try:
                        os.kill(p.pid, signal.SIGCONT)
                    except ProcessLookupError:
                        pass
            stack.stop()
            left = benchlib.kill_leftovers(work)
            if left:
                print(f"killed leftover processes: {left}", file=sys.stderr)
    summary = summarize(names, trials, args.faults)
    env["loadavg_after"] = os.getloadavg()
    data = {"benchmark": "reaction", "params": vars(args), "environment": env,
            "summary": summary, "trials": trials, "setup": log}
    path = benchlib.save("reaction", data, args.json)
    print()
    print(f"reaction at the router (BIRD's log timestamps - time of the "
          f"signal); {len(trials)} faults; plugin interval {args.interval} ms, "
          f"relay stale-after {args.stale_after or 'default'}, "
          f"policy {args.policy}")
    print_summary(summary)
    print(f"\nresults: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
