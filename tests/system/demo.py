#!/usr/bin/python3
"""The live demo: one anycast node on loopback.

named (a resolver, with the anycast-health plugin) -> anycast-relay ->
ExaBGP -> BIRD as the router.  Real client traffic flows throughout.
Act 1: the upstream goes silent.  The seed's outside probe (TCP connect
plus a SOA lookup) still passes, but clients get nothing: the relay
sees it inside named and withdraws.  Act 2: named is killed with
SIGKILL and the route goes within milliseconds.  Everything listens on
127.0.0.1/::1 on free high ports and is stopped at the end.
"""

import signal
import sys
import tempfile
import time

import dns.query
import dns.message

import ahtest

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


def say(msg):
    print(f"\n\033[1m== {msg}\033[0m", flush=True)


def show(text):
    for line in text.rstrip().splitlines():
        print("   " + line)


def bird_route(bird):
    out = bird.birdc("show", "route", V4)
    return "\n".join(l for l in out.splitlines() if l and not l.startswith("BIRD"))


def soa_probe(named):
    """What the classic watchdog does: TCP connect, one SOA lookup."""
    q = dns.message.make_query("example", "SOA")
    r = dns.query.tcp(q, "127.0.0.1", port=named.port, timeout=2)
    return dns.rcode.to_text(r.rcode())


def main():
    with tempfile.TemporaryDirectory(prefix="anycast-demo-") as work:
        stack = ahtest.Stack(work)
        try:
            run(stack)
        finally:
            say("cleaning up: stopping every process the demo started")
            stack.stop()
    print("done.")


def wait_route(bird, present, timeout):
    t0 = time.monotonic()
    ahtest.wait_for(lambda: bird.has_route(V4) == present, timeout,
                    interval=0.002, what="route change at BIRD")
    return time.monotonic() - t0


def run(stack):
    upstream = ahtest.FakeUpstream()
    stack.procs.append(upstream)
    named = ahtest.resolver(stack, upstream.port, interval=200)
    say(f"starting named (a resolver, upstream 127.0.0.1#{upstream.port}) "
        f"on 127.0.0.1 port {named.port}, with the anycast-health plugin")
    named.start()

    bird = ahtest.Bird(stack)
    say(f"starting BIRD 2 as the router (BGP on port {bird.port}, no kernel table)")
    bird.start()

    relay = ahtest.Relay(stack, named, services=SERVICE.format(port=named.port))
    exa = ahtest.ExaBGP(stack, bird, relay)
    say("starting ExaBGP, which runs anycast-relay as its API process")
    exa.start()

    say("clients: 40 recursive queries a second (bounded to 90 s)")
    load = ahtest.Load(named.port, lambda i: f"c{i}-{time.monotonic_ns()}.test.",
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


if __name__ == "__main__":
    sys.exit(main())
