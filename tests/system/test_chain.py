# SPDX-License-Identifier: MPL-2.0
"""The whole chain: named + plugin -> relay -> ExaBGP -> BIRD.

Presence and absence of the route are asserted in the real router.
"""

import json
import os
import signal
import statistics
import time

import lab

V4 = "192.0.2.53/32"
V6 = "2001:db8::53/128"


def test_announce_kill_restart(stack):
    # Five crashes in a row is a flap: let damping allow them here.
    named, bird, relay, exa = lab.chain(stack, [("max-changes: 4", "max-changes: 64")])

    times = []
    for _ in range(5):
        t0 = time.monotonic()
        named.kill()                              # SIGKILL: no goodbye
        lab.wait_for(lambda: not bird.has_route(V4), 1.0, interval=0.002,
                     what="withdrawal within 1 s of kill -9")
        times.append(time.monotonic() - t0)
        lab.wait_for(lambda: not bird.has_route(V6), 1.0, what="v6 withdrawal")
        assert exa.proc.alive(), "ExaBGP must survive named's death"

        named.start()
        lab.wait_for(lambda: bird.has_route(V4) and bird.has_route(V6), 10,
                     what="prefixes back after named restarts")

    med = statistics.median(times)
    print(f"\nkill -9 -> route gone at BIRD: median {med * 1000:.1f} ms, "
          f"max {max(times) * 1000:.1f} ms over {len(times)} runs "
          f"(includes ~1-2 ms of birdc polling)")
    relay_log = exa.proc.text()
    assert "named closed the socket" in relay_log
    assert "service dns DOWN, withdrawing" in relay_log


def test_status_agrees_with_router(stack):
    """Text and JSON status say what BIRD's table shows, and the BGP
    sessions are as ExaBGP reports them (neighbor-changes)."""
    import json
    named, bird, relay, exa = lab.chain(stack)

    r = relay.ctl("status")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "feed:     up since" in r.stdout
    assert (f"named:    pid {named.proc.pid}, BIND {lab.named_version()},"
            in r.stdout)
    assert "service dns (view _default): UP" in r.stdout
    for p in (V4, V6):
        line = next(l for l in r.stdout.splitlines() if p in l and "since" in l)
        assert "announced" in line and bird.has_route(p)
    st = json.loads(relay.ctl("-j", "status").stdout)
    assert {s["peer"]: s["state"] for s in st["sessions"]} == {
        "127.0.0.1": "up", "::1": "up"}
    assert "127.0.0.1 up since" in r.stdout
    for p in st["services"][0]["prefixes"]:
        assert p["state"] == "announced" and bird.has_route(p["prefix"])

    named.kill()
    lab.wait_for(lambda: not bird.has_route(V4) and not bird.has_route(V6),
                 2, what="withdrawal")
    r = relay.ctl("status")
    assert r.returncode == 2, "exit status 2 while anything is withdrawn"
    assert "named:    not connected" in r.stdout
    assert "service dns (view _default): DOWN" in r.stdout
    assert "reason                   no feed from named" in r.stdout
    for p in (V4, V6):
        line = next(l for l in r.stdout.splitlines() if p in l and "since" in l)
        assert "withdrawn" in line and not bird.has_route(p)
    st = json.loads(relay.ctl("-j", "status").stdout)
    for p in st["services"][0]["prefixes"]:
        assert p["state"] == "withdrawn" and p["sent"].split()[2] == "withdraw"
        assert not bird.has_route(p["prefix"])


def test_relay_exits_with_exabgp(stack):
    """ExaBGP shutting down (SIGTERM to ExaBGP alone) ends the relay too:
    ExaBGP signals its process, and the relay withdraws and exits.  The
    route leaves BIRD with the BGP session whatever the relay does, so
    what this proves is that the relay left, and by which path."""
    named, bird, relay, exa = lab.chain(stack)
    relay_pid = json.loads(relay.ctl("-j", "status").stdout)["relay"]["pid"]
    os.kill(exa.proc.pid, signal.SIGTERM)
    lab.wait_for(lambda: not bird.has_route(V4), 5, what="withdrawal")
    lab.wait_for(lambda: not lab.pid_alive(relay_pid), 5, what="relay exit")
    assert "signal 15: withdrawing and exiting" in exa.proc.text()
    assert relay.ctl("status").returncode == 3, "no relay: exit status 3"
    assert not os.path.exists(relay.control), "control socket removed"
