# SPDX-License-Identifier: MPL-2.0
"""Restarts of each process around the relay: the node converges to
the state named's health calls for, and no process is left behind.

Bounds are loose: these tests prove what brings the route back or takes
it away (a new relay, ExaBGP's own routing table, named's health), not
how fast.  Timings belong in bench/.
"""

import json
import os
import signal
import time

import lab

V4 = "192.0.2.53/32"
V6 = "2001:db8::53/128"


def parent(pid):
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[1])


def reap(pid):
    """A relay that outlived its ExaBGP is a failure, not debris to
    leave for the next test."""
    if pid is not None and lab.pid_alive(pid):
        os.kill(pid, signal.SIGKILL)


def test_exabgp_killed_and_restarted(stack):
    named, bird, relay, exa = lab.chain(stack)
    old = relay.pid()
    assert old is not None and parent(old) == exa.proc.pid
    try:
        exa.proc.send_signal(signal.SIGKILL)      # no shutdown message
        # The session dies with ExaBGP; the orphaned relay sees stdin
        # close and must go too, not hold the control socket forever.
        lab.wait_for(lambda: not bird.has_route(V4), 10,
                     what="route gone with the BGP session")
        lab.wait_for(lambda: not lab.pid_alive(old), 10, what="orphan relay exit")
        assert "ExaBGP is gone" in exa.proc.text()
        assert relay.ctl("status").returncode == 3, "no relay answers"

        # Restarted while named is down: nothing may be announced.
        named.kill()
        exa2 = lab.ExaBGP(stack, bird, relay, name="exabgp2").start()
        lab.wait_for(lambda: bird.established("ns1")
                     and relay.pid() is not None, 30,
                     what="new session and new relay")
        new = relay.pid()
        assert new != old and parent(new) == exa2.proc.pid
        time.sleep(2)                             # 10 plugin intervals
        assert not bird.has_route(V4) and not bird.has_route(V6)

        named.start()
        lab.wait_for(lambda: bird.has_route(V4) and bird.has_route(V6), 30,
                     what="prefixes announced once named is healthy")
    finally:
        reap(old)


def test_bird_restarted(stack):
    named, bird, relay, exa = lab.chain(stack)
    pid = relay.pid()

    bird.proc.stop(signal.SIGKILL)
    os.unlink(bird.ctl)
    bird.start()
    # ExaBGP reconnects by itself and re-sends what its table holds.
    lab.wait_for(lambda: bird.has_route(V4) and bird.has_route(V6), 60,
                 what="prefixes back after BIRD restarts")
    assert relay.pid() == pid, "the relay had nothing to redo"

    # A withdrawal decided while the router is away is what it gets on
    # its return: ExaBGP's table follows the relay, not the old session.
    bird.proc.stop(signal.SIGKILL)
    os.unlink(bird.ctl)
    named.kill()
    lab.wait_for(lambda: "DOWN, withdrawing" in exa.proc.text(), 10,
                 what="relay withdraws while BIRD is down")
    bird.start()
    lab.wait_for(lambda: bird.established("ns1"), 60,
                 what="session back")
    time.sleep(1)
    assert not bird.has_route(V4) and not bird.has_route(V6)

    named.start()
    lab.wait_for(lambda: bird.has_route(V4) and bird.has_route(V6), 30,
                 what="prefixes back once named is healthy")
    assert relay.pid() == pid
    assert exa.proc.alive()


def counts(bird):
    return {p: len(lab.bird_changes(bird, p)) for p in (V4, V6)}


def changes(bird, before):
    """What BIRD saw happen to each prefix since 'before' (counts)."""
    return {p: [w for _, w in lab.bird_changes(bird, p)[before[p]:]]
            for p in (V4, V6)}


def test_relay_killed_is_respawned(stack):
    """kill -9 (a crash, the OOM killer) of a healthy node's relay moves
    no route: ExaBGP keeps the dead relay's routes and respawns it, and
    the new relay takes them over from the note the dead one kept of
    them (relay/handover.c)."""
    named, bird, relay, exa = lab.chain(stack)
    old = relay.pid()
    before = counts(bird)

    os.kill(old, signal.SIGKILL)
    lab.wait_for(lambda: relay.pid() not in (None, old), 10,
                 what="a new relay on the control socket")
    new = relay.pid()
    assert parent(new) == exa.proc.pid, "respawned by ExaBGP"
    # Fifteen snapshots judged by the new relay: BIRD saw nothing.
    time.sleep(1.5)
    assert changes(bird, before) == {V4: [], V6: []}
    assert bird.has_route(V4) and bird.has_route(V6)
    log = exa.proc.text()
    assert log.count("starting: 1 service,") == 2
    assert (f"service dns taken over: relay {old} had it announced when "
            f"it died (ExaBGP respawned this relay)") in log
    assert f"replacing relay {old}, which died: 1 of 1 services" in log
    st = relay.ctl("status")
    assert st.returncode == 0, st.stdout
    assert f"routes taken over from relay {old}, which died" in st.stdout
    doc = json.loads(relay.ctl("-j", "status").stdout)
    assert doc["relay"]["taken_over_from"] == old
    assert doc["relay"]["taken_over_after"] == "crash"
    # The new relay keeps the note for its own successor.
    with open(relay.control + ".routes") as f:
        assert f.readline().startswith(f"handover version=1 from={new} "
                                       f"exabgp={exa.proc.pid} ")

    # Again, and again: each successor takes over from the last.
    for _ in range(2):
        old = relay.pid()
        os.kill(old, signal.SIGKILL)
        lab.wait_for(lambda: relay.pid() not in (None, old), 10,
                     what="a new relay on the control socket")
        time.sleep(0.5)
    assert changes(bird, before) == {V4: [], V6: []}

    # And it judges: named killed, the routes go at once (and if named
    # is gone before the relay dies: test_handover.py,
    # test_taken_over_routes_go_when_named_is_gone[relay]).
    named.kill()
    lab.wait_for(lambda: not bird.has_route(V4) and not bird.has_route(V6),
                 5, 0.02, "withdrawn when named dies")
