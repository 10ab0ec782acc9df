#!/usr/bin/python3
"""The live demo: one anycast node on loopback.

named + anycast-health plugin -> anycast-relay -> ExaBGP -> BIRD.
Shows the route appear at the router, breaks named (kill -9), shows the
withdrawal, restarts named, shows the route return, and cleans up.
Everything listens on 127.0.0.1/::1 on free high ports.
"""

import signal
import sys
import tempfile
import time

import ahtest

V4 = "192.0.2.53/32"


def say(msg):
    print(f"\n\033[1m== {msg}\033[0m", flush=True)


def show(text):
    for line in text.rstrip().splitlines():
        print("   " + line)


def bird_route(bird):
    out = bird.birdc("show", "route", "all", V4)
    return "\n".join(l for l in out.splitlines() if l and not l.startswith("BIRD"))


def main():
    with tempfile.TemporaryDirectory(prefix="anycast-demo-") as work:
        stack = ahtest.Stack(work)
        try:
            run(stack)
        finally:
            say("cleaning up: stopping every process the demo started")
            stack.stop()
    print("done.")


def run(stack):
    named = ahtest.Named(stack, interval=1000)
    say(f"starting named on 127.0.0.1 port {named.port} with the anycast-health plugin")
    named.start()
    show(f"plugin socket: {named.socket}")

    bird = ahtest.Bird(stack)
    say(f"starting BIRD 2 as the router (BGP on 127.0.0.1/::1 port {bird.port}, "
        "no kernel table)")
    bird.start()

    relay = ahtest.Relay(stack, named)
    exa = ahtest.ExaBGP(stack, bird, relay)
    say("starting ExaBGP, which runs anycast-relay as its API process")
    t0 = time.monotonic()
    exa.start()
    ahtest.wait_for(lambda: bird.has_route(V4), 30, what="route at BIRD")
    say(f"BIRD learned {V4} {1000 * (time.monotonic() - t0):.0f} ms after ExaBGP started")
    show(bird_route(bird))

    r = named.query("www.example")
    say(f"query www.example @127.0.0.1 -p {named.port}: {r.answer[0]}")
    time.sleep(1.1)                  # one snapshot interval, to count it

    say("anycastctl status")
    show(relay.ctl("status").stdout)

    say(f"breaking named: kill -9 {named.proc.pid}")
    t0 = time.monotonic()
    named.kill(signal.SIGKILL)
    ahtest.wait_for(lambda: not bird.has_route(V4), 5, interval=0.001,
                    what="withdrawal")
    say(f"route withdrawn at BIRD {1000 * (time.monotonic() - t0):.1f} ms after the kill")
    show(bird.birdc("show", "route", V4))
    st = relay.ctl("status")
    say(f"anycastctl status (exit status {st.returncode}: something is withdrawn)")
    show(st.stdout)

    say("restarting named")
    t0 = time.monotonic()
    named.start()
    ahtest.wait_for(lambda: bird.has_route(V4), 30, what="route back")
    say(f"route back at BIRD {1000 * (time.monotonic() - t0):.0f} ms after named was started")
    show(bird_route(bird))

    say("what the relay logged (ExaBGP's log)")
    show("\n".join(l for l in exa.proc.text().splitlines() if "anycast-relay[" in l))


if __name__ == "__main__":
    sys.exit(main())
