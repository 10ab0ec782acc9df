# SPDX-License-Identifier: MPL-2.0
"""The demos: anycast-health doing its job, narrated.

`python3 -m lab.demo` (what ./demo.sh runs) is the fleet demo: the
seed's anycast network for real.  A client, a router with ECMP (BIRD 2,
or FRR with --router frr) and --nodes nameservers (named + the plugin,
ExaBGP + anycast-relay), each in its own network namespace
(lab/fleet.py).  The client's queries are really forwarded by the
router to the nodes, and every answer says which node gave it (NSID).
Then ns1 is broken in several ways while the client keeps asking; for
each, what the client lost and when the router's kernel table changed.
Then a fault every node shares, which must move no route; then ns1
drained and restored.

`python3 -m lab.demo --single` (./demo.sh --single) is one anycast node
on loopback: named (a resolver, with the plugin) -> anycast-relay ->
ExaBGP -> BIRD as the router, real client traffic throughout.  Act 1:
the upstream goes silent.  The seed's outside probe (TCP connect plus
a SOA lookup) still passes, but clients get nothing: the relay sees it
inside named and withdraws.  Act 2: named is killed with SIGKILL and
the route goes within milliseconds.  Everything listens on
127.0.0.1/::1 on free high ports.

Bounded: every load is a fixed number of queries at a fixed rate,
every wait has a limit.  Documentation addresses only, nothing
attached to the host's namespace.  Everything is removed at the end,
also on Ctrl-C or an error.  Run as root: `sudo ./demo.sh` (which
installs the Debian packages and builds first) or, with the build
done, `sudo /usr/bin/python3 -m lab.demo` from the source tree.
"""

import argparse
import collections
import json
import os
import signal
import sys
import tempfile
import time

import dns.message
import dns.query
import dns.rcode

from . import figures
from .exabgp import ExaBGP
from .fleet import ANYCAST4, ANYCAST6, Lab, describe
from .load import Load
from .named import resolver
from .proc import Stack, run, wait_for
from .relay import Relay
from .router import ROUTERS, Bird
from .upstream import FakeUpstream

BOLD, OFF = ("\033[1m", "\033[0m") if sys.stdout.isatty() else ("", "")
NODE = "ns1"


def say(msg):
    print(f"\n{BOLD}== {msg}{OFF}", flush=True)


def show(text):
    for line in text.rstrip().splitlines():
        print("   " + line, flush=True)


# -- the fleet demo -------------------------------------------------------------

class FleetDemo:
    def __init__(self, lab, args):
        self.lab, self.args = lab, args
        self.n1 = lab.node(1)
        self.names = [n.name for n in lab.nodes]
        self.others = [x for x in self.names if x != NODE]
        self.summary = []
        self.t_start = time.monotonic()

    # -- what to show ------------------------------------------------------

    def table(self):
        """The router's kernel routes for the anycast addresses."""
        out = []
        for family in (4, 6):
            r = run("ip", "-n", self.lab.router, f"-{family}", "route", "show",
                    "exact", ANYCAST4 if family == 4 else ANYCAST6)
            out.append(" ".join(r.stdout.split()) or
                       f"(no route for {ANYCAST4 if family == 4 else ANYCAST6})")
        show("router's table (ip -n router route):\n" + "\n".join(
            "  " + line.replace(" nexthop", "\n    nexthop") for line in out))

    def shares(self, qs):
        answered = collections.Counter(q.node for q in qs if q.node)
        total = sum(answered.values())
        return ", ".join(f"{n} {100 * answered[n] / total:.0f} %" for n in self.names) \
            if total else "no answers"

    def status_lines(self, node, pred):
        """Check texts of the node's services for which pred(check) holds."""
        r = node.ctl("-j", "status")
        try:
            st = json.loads(r.stdout)
        except ValueError:
            return [f"(anycastctl status: exit {r.returncode})"]
        out = []
        for s in st.get("services", []):
            for c in s.get("checks", []):
                if pred(s, c):
                    out.append(f"{s['name']} {s['state']}: {c['name']}: {c['text']}")
        return out

    # -- the client ----------------------------------------------------------

    def load(self, seconds, mix="auth=50,recursive=50"):
        """Start a bounded load; returns (Load, time the first query goes)."""
        start_at = time.time() + 0.3
        load = self.lab.load(qps=self.args.qps, count=int(self.args.qps * seconds),
                             mix=mix, start_at=start_at, timeout=1.5)
        return load, start_at

    def finish(self, load):
        load.wait(60)
        qs = figures.read_queries(load.csv)
        os.unlink(load.csv)
        return qs

    # -- the acts --------------------------------------------------------------

    def act_spread(self):
        say(f"ACT 1: a client sends {self.args.qps:.0f} queries/s to "
            f"{ANYCAST4} and {ANYCAST6} (half in the nodes' zones, "
            "half recursive)")
        self.table()
        load, _ = self.load(self.args.spread)
        qs = self.finish(load)
        lost = sum(1 for q in qs if figures.lost(q, 1.0))
        say(f"{len(qs)} queries, {lost} lost; answered by: {self.shares(qs)}")
        for family in (4, 6):
            show(f"IPv{family}: " + self.shares([q for q in qs if q.family == family]))
        show("the router's hash puts each client flow (source port) on one node")

    def fault(self, name, title, inject, recover=None, hold=0.0,
              mix="auth=50,recursive=50", during=None, back_timeout=20.0,
              not_back="not expected"):
        """Break ns1 while the client runs; report what the client and the
        router saw; put it right and wait for ns1 to be back."""
        pre, post = 1.0, self.args.after
        say(f"{title}")
        load, start_at = self.load(pre + hold + post, mix)
        time.sleep(max(0.0, start_at + pre - time.time()))
        t0 = time.time()
        inject()
        if during is not None:
            time.sleep(min(post, 2.5))
            during()
        if hold:
            time.sleep(max(0.0, t0 + hold - time.time()))
            if recover is not None:
                recover()
                recover = None
        qs = self.finish(load)
        ch = figures.route_changes(self.lab.monitor.text())
        after = [q for q in qs if q.sent >= t0]
        lost = [q for q in after if figures.lost(q, 1.0)]
        eps = figures.episodes(after, 1.0, 0.1)
        gap = max((e[-1].sent - e[0].sent + 1 / self.args.qps for e in eps), default=0)
        out = figures.first_change(ch, 4, t0, lambda s: NODE not in s)
        own = figures.owners(qs, t0)
        others_lost = sum(1 for q in lost if own.get((q.family, q.sock), NODE) != NODE)
        steady = figures.others_throughout(qs, NODE, t0, qs[-1].sent) if qs else 0
        line = (f"{len(lost)} of {len(after)} queries lost"
                + (f" (longest gap {1000 * gap:.0f} ms)" if lost else "")
                + "; the router " + (f"took {NODE} out {1000 * (out - t0):.0f} ms after "
                                     "the fault" if out else f"kept {NODE}")
                + f"; {'/'.join(self.others)} answered throughout: "
                + ("yes" if steady and steady > 0 else "NO")
                + f", {'their' if len(self.others) > 1 else 'its'} own clients "
                f"lost {others_lost}")
        show(line)
        show(f"answers after the fault: {self.shares(after)}")
        self.table()
        self.summary.append((name, line))
        if recover is not None:
            recover()
        if self.lab.nexthops(4) == self.lab.nexthops(6) == set(self.names):
            return ch
        t1 = time.monotonic()
        try:
            self.lab.wait_nexthops(set(self.names), timeout=back_timeout)
            show(f"{NODE} back in the router's table {time.monotonic() - t1:.1f} s "
                 "after it was put right")
        except TimeoutError:
            # Say so, and restart named, which clears the relay's
            # judgement (hard trouble), so that the demo goes on.
            show(f"{NODE} not back within {back_timeout:.0f} s ({not_back}); "
                 "restarting its named")
            self.n1.restart_named(wait=True)
            t1 = time.monotonic()
            self.lab.wait_nexthops(set(self.names), timeout=30)
            show(f"{NODE} back {time.monotonic() - t1:.1f} s after named was restarted")
        return ch

    def act_kill9(self):
        self.fault("kill -9", f"ACT 2a: kill -9 {NODE}'s named (the plugin's socket closes, "
                   "the relay withdraws at once)",
                   lambda: self.n1.signal_named(signal.SIGKILL),
                   recover=lambda: (say(f"starting {NODE}'s named again"),
                                    self.n1.start_named(wait=False)))

    def act_sigstop(self):
        self.fault("SIGSTOP", f"ACT 2b: SIGSTOP {NODE}'s named (hung: its socket stays open, "
                   "it stops answering and publishing)",
                   lambda: self.n1.signal_named(signal.SIGSTOP), hold=self.args.after + 1,
                   recover=lambda: (say(f"{self.args.after + 1:.1f} s later: SIGCONT "
                                        f"{NODE}'s named"),
                                    self.n1.signal_named(signal.SIGCONT)))

    def act_upstream(self):
        def during():
            show(f"{NODE}'s relay now says:")
            for line in self.status_lines(self.n1, lambda s, c: c["state"] == "failing"):
                show("  " + line)
            show("depreferred, not withdrawn: announced with GRACEFUL_SHUTDOWN, "
                 "which the router's import policy turns into local preference 0; "
                 "the router's BGP table:")
            keep = ("via", " from ", "local_pref", "community", "localpref", "Community",
                    "multipath", "best")
            show("\n".join("  " + line.strip()
                           for line in self.lab.router_routes(4).splitlines()
                           if any(k in line for k in keep)))
        self.fault("upstream dead", f"ACT 2c: {NODE}'s upstream goes silent (its recursions get "
                   "no answer; its own zones still answer)",
                   lambda: self.n1.upstream_cmd("mode silent"),
                   mix="auth=30,recursive=70", during=during,
                   recover=lambda: (say(f"{NODE}'s upstream answers again"),
                                    self.n1.upstream_cmd("mode answer")),
                   back_timeout=8,
                   not_back="a depreferred node gets no client queries, so its relay "
                            "has no evidence yet that it recovered")

    def settle(self, node, quiet=2.0, timeout=20.0):
        """Until no check of node's relay has failed or been excused
        for `quiet` seconds (at most `timeout`): an act starts from a healthy node,
        not from the last act's after-effects (BIND 9.20 answers its
        recursions slowly for seconds after its upstream comes back,
        and the relay rightly says so).  Seconds waited."""
        t0 = since = time.monotonic()
        while time.monotonic() - t0 < timeout:
            if self.status_lines(node, lambda s, c: c["state"] in
                                 ("failing", "excused")):
                since = time.monotonic()
            elif time.monotonic() - since >= quiet:
                break
            time.sleep(0.2)
        return time.monotonic() - t0

    def act_shared(self):
        excused = []
        waited = self.settle(self.n1)
        if waited > 2.5:
            show(f"(waited {waited:.0f} s for {NODE}'s checks to pass after "
                 f"the act before)")

        def during():
            excused.extend(self.status_lines(
                self.n1, lambda s, c: c["state"] == "excused"))
        t0 = time.time()
        self.lab.upstreams("fail broken.test")
        try:
            ch = self.fault("shared fault", "ACT 3: a shared fault: broken.test answers SERVFAIL at "
                            "every node's upstream, and 30 % of the queries ask for it",
                            lambda: None, mix="auth=35,recursive=35,broken=30",
                            during=during)
        finally:
            self.lab.upstreams("fail -")
        moved = figures.changes_between(ch, t0, time.time())
        show(f"route changes at the router during the fault: {len(moved)}")
        show(f"{NODE}'s relay (the other nodes say the same):")
        for line in excused or ["(no excused check seen)"]:
            show("  " + line)
        self.summary[-1] = (self.summary[-1][0],
                            self.summary[-1][1] + f"; {len(moved)} route changes")

    def act_drain(self):
        ctl = f"anycastctl -c {self.n1.dir / 'relay.yaml'}"
        self.fault("drain", f"ACT 4: {ctl} drain --wait ({NODE} leaves the multipath set with "
                   "GRACEFUL_SHUTDOWN, then is withdrawn once its clients are gone)",
                   lambda: show(self.n1.drain(wait=True).stdout),
                   recover=lambda: (say(f"{ctl} undrain"),
                                    show(self.n1.undrain().stdout)))

    def run(self):
        say(f"the lab: client, router ({self.lab.router_kind}, ECMP), "
            f"{len(self.names)} nameservers; each node announces "
            f"{ANYCAST4}/32 and {ANYCAST6}/128 from its lo "
            "(the example configuration, without flap damping, which would "
            f"hold {NODE} down after its second fault in a minute)")
        show(describe(self.lab))
        self.act_spread()
        for act in self.args.acts:
            getattr(self, f"act_{act}")()
        say(f"summary ({time.monotonic() - self.t_start:.0f} s since the lab was up)")
        for name, line in self.summary:
            show(f"{name + ':':<14} {line}")


ACTS = ("kill9", "sigstop", "upstream", "shared", "drain")


def fleet(args):
    say(f"bringing up the lab: {args.nodes} nameservers, a router, a client")
    # Without the example's flap damping: it would rightly hold ns1
    # down after its second fault within a minute.
    with Lab(nodes=args.nodes, router=args.router, damping=False,
             log=lambda m: print("   " + m, flush=True)) as lab:
        try:
            FleetDemo(lab, args).run()
        finally:
            say("cleaning up: every process and namespace the demo started")


# -- the single-node demo -------------------------------------------------------

V4 = "192.0.2.53/32"

SERVICE = """
  - name: resolver
    view: _default
    prefixes:
      - prefix: 192.0.2.53/32
        next-hop: self
        med: 100
        communities: ["65000:53"]
        neighbor: 127.0.0.1
      - prefix: 2001:db8::53/128
        next-hop: self
        neighbor: "::1"
    window: 3s
    min-queries: 20
    rise: 2
    fall: 2
    checks:
      recursion-failure-ratio: 50%
      servfail-ratio: 50%
      zones: [example]
    canary:
      server: 127.0.0.1
      port: {port}
      name: example
      type: SOA
      interval: 500ms
      timeout: 300ms
    # One node alone: withdrawing shows the route leave BIRD.  A fleet
    # keeps the default, depref (doc/fleet.md).
    when-down: withdraw
"""


def bird_route(bird):
    out = bird.birdc("show", "route", V4)
    return "\n".join(l for l in out.splitlines() if l and not l.startswith("BIRD"))


def soa_probe(named):
    """What the classic watchdog does: TCP connect, one SOA lookup."""
    q = dns.message.make_query("example", "SOA")
    r = dns.query.tcp(q, "127.0.0.1", port=named.port, timeout=2)
    return dns.rcode.to_text(r.rcode())


def wait_route(bird, present, timeout):
    t0 = time.monotonic()
    wait_for(lambda: bird.has_route(V4) == present, timeout,
             interval=0.002, what="route change at BIRD")
    return time.monotonic() - t0


def run_single(stack):
    upstream = FakeUpstream()
    stack.procs.append(upstream)
    named = resolver(stack, upstream.port, interval=200)
    say(f"starting named (a resolver, upstream 127.0.0.1#{upstream.port}) "
        f"on 127.0.0.1 port {named.port}, with the anycast-health plugin")
    named.start()

    bird = Bird(stack)
    say(f"starting BIRD 2 as the router (BGP on port {bird.port}, no kernel table)")
    bird.start()

    relay = Relay(stack, named, services=SERVICE.format(port=named.port))
    exa = ExaBGP(stack, bird, relay)
    say("starting ExaBGP, which runs anycast-relay as its API process")
    exa.start()

    say("clients: 40 recursive queries a second (bounded to 90 s)")
    load = Load(named.port, lambda i: f"c{i}-{time.monotonic_ns()}.test.",
                qps=40, seconds=90)
    stack.procs.append(load)
    took = wait_route(bird, True, 30)
    say(f"BIRD learned {V4} {took * 1000:.0f} ms after ExaBGP started")
    show(bird_route(bird))
    time.sleep(3)
    say("anycastctl status")
    show(relay.ctl("status").stdout)

    say("ACT 1: the upstream goes silent (packets dropped)")
    t0 = time.monotonic()
    upstream.mode = "silent"
    say(f"the seed's outside probe, TCP connect + SOA: {soa_probe(named)}  "
        "(it would keep the route)")
    wait_route(bird, False, 15)
    say(f"route withdrawn at BIRD {time.monotonic() - t0:.2f} s after the fault; "
        f"the outside probe still says {soa_probe(named)}")
    show(bird.birdc("show", "route", V4))
    st = relay.ctl("status")
    say(f"anycastctl status (exit status {st.returncode}: something is withdrawn)")
    show(st.stdout)

    say("the upstream answers again")
    t0 = time.monotonic()
    upstream.mode = "answer"
    wait_route(bird, True, 15)
    say(f"route back at BIRD {time.monotonic() - t0:.2f} s later (window, then rise)")
    time.sleep(4)

    say(f"ACT 2: named dies: kill -9 {named.proc.pid}")
    t0 = time.monotonic()
    named.kill(signal.SIGKILL)
    wait_route(bird, False, 5)
    say(f"route withdrawn at BIRD {1000 * (time.monotonic() - t0):.1f} ms after the kill")
    show(bird.birdc("show", "route", V4))

    say("restarting named")
    t0 = time.monotonic()
    named.start()
    wait_route(bird, True, 30)
    say(f"route back at BIRD {time.monotonic() - t0:.2f} s after named was started")
    load.stop()

    say("what the relay decided, and why (from ExaBGP's log)")
    show("\n".join(l.split("] ", 1)[-1] for l in exa.proc.text().splitlines()
                   if "anycast-relay[" in l and "service " in l))


def single(args):
    with tempfile.TemporaryDirectory(prefix="anycast-demo-") as work:
        stack = Stack(work)
        try:
            run_single(stack)
        finally:
            say("cleaning up: stopping every process the demo started")
            stack.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--single", action="store_true",
                    help="one node on loopback instead of the fleet")
    ap.add_argument("--nodes", type=int)
    ap.add_argument("--router", choices=ROUTERS)
    ap.add_argument("--qps", type=float)
    ap.add_argument("--acts", help="comma-separated, from: " + ", ".join(ACTS))
    ap.add_argument("--short", action="store_true",
                    help="2 nodes and shorter loads (the smoke test's)")
    args = ap.parse_args()
    fleet_only = [f"--{k}" for k in ("nodes", "router", "qps", "acts", "short")
                  if getattr(args, k) not in (None, False)]
    if args.single and fleet_only:
        ap.error(f"{', '.join(fleet_only)}: the fleet demo's, not --single's")
    if not args.single:
        args.nodes = 2 if args.short else args.nodes or 3
        args.router = args.router or "bird"
        args.qps = args.qps or 500.0
        args.acts = [a.strip() for a in (args.acts or ",".join(ACTS)).split(",")
                     if a.strip()]
        bad = [a for a in args.acts if a not in ACTS]
        if bad:
            ap.error(f"unknown act(s): {', '.join(bad)}")
        args.spread, args.after = (1.5, 1.5) if args.short else (3.0, 2.5)
        if os.geteuid() != 0:
            sys.exit("lab.demo: must run as root (the lab creates network namespaces)")
    # Ctrl-C tears down even when started in the background.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    t0 = time.monotonic()
    try:
        (single if args.single else fleet)(args)
    except KeyboardInterrupt:
        print("interrupted; everything removed.", flush=True)
        return 130
    print(f"done, {time.monotonic() - t0:.0f} s in all.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
