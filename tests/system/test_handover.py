# SPDX-License-Identifier: MPL-2.0
"""anycastctl restart: the relay replaced by the installed binary while
named and ExaBGP keep running, its routes taken over by the new relay
rather than withdrawn (relay/handover.c, doc/cli.md).  The package runs
it after an upgrade; test_debian.py upgrades a real node.

BIRD's route log says whether the router saw a withdrawal.
"""

import json
import os
import re
import signal
import time

import pytest

import lab
import lab.relay

V4 = "192.0.2.53/32"
V6 = "2001:db8::53/128"


def parent(pid):
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[1])


def changes(bird, before):
    """What BIRD saw happen to each prefix since 'before' (counts)."""
    return {p: [w for _, w in lab.bird_changes(bird, p)[before[p]:]]
            for p in (V4, V6)}


def counts(bird):
    return {p: len(lab.bird_changes(bird, p)) for p in (V4, V6)}


def note(relay, exabgp, at_ms, route="announced", version=1):
    """A handover note as anycastctl writes it, for relay 'relay' of
    ExaBGP 'exabgp' (doc/cli.md, 2.8)."""
    return (f"handover version={version} from={relay} exabgp={exabgp} "
            f"at={at_ms} by=uid%200\n"
            f"relay pid={relay} version=0.1.0 proto=2\n"
            f"service name=dns view=_default state=up route={route} "
            f"since={at_ms}\n")


def test_restart_prints_settled_status_and_never_a_sixth_start(stack):
    """restart returns the new relay's status once ExaBGP has answered
    it: a relay a millisecond old has not heard the sessions yet, and
    its 'waiting' or 'session-down' would be no news (exit 2 for a node
    that never left service).  And ExaBGP 4.2 stops, dropping every BGP
    session, when it starts a process a sixth time within 64 s: the
    relays count their starts through the notes, and the restart that
    would make the sixth is refused, with nothing touched."""
    named, bird, relay, exa = lab.chain(stack)
    before = counts(bird)
    for _ in range(4):
        r = relay.ctl("restart")
        assert r.returncode == 0, r.stdout + r.stderr
        assert "waiting" not in r.stdout and \
            "session-down" not in r.stdout, r.stdout
    pid = relay.pid()
    r = relay.ctl("restart")
    assert r.returncode == 1, r.stdout + r.stderr
    assert "ExaBGP has started the relay 5 times within 64 s" in r.stderr
    assert "nothing restarted; try again in" in r.stderr
    assert relay.pid() == pid and exa.proc.alive()
    assert bird.has_route(V4) and bird.has_route(V6)
    assert "removed" not in str(changes(bird, before)), changes(bird, before)
    assert relay.ctl("status").returncode == 0


def test_restart_keeps_the_routes(stack):
    named, bird, relay, exa = lab.chain(stack)
    old = relay.pid()
    before = counts(bird)

    r = relay.ctl("restart")
    assert r.returncode == 0, r.stdout + r.stderr
    new = relay.pid()
    assert new not in (None, old) and parent(new) == exa.proc.pid
    assert r.stdout.startswith(f"relay {old} (anycast-relay ")
    assert f" replaced by {new} (anycast-relay " in r.stdout
    assert "192.0.2.53/32" in r.stdout, "the new relay's status follows"
    # Ten snapshots judged by the new relay: the routes stayed, and
    # BIRD never saw them go.
    time.sleep(1)
    assert bird.has_route(V4) and bird.has_route(V6)
    assert "removed" not in str(changes(bird, before)), changes(bird, before)
    log = exa.proc.text()
    assert f"service dns taken over: relay {old} had it announced" in log
    assert f"replacing relay {old}: 1 of 1 services taken over" in log
    assert not os.path.exists(relay.control + ".handover"), "read once"
    # The new relay's own verdict, and ExaBGP's answers to its commands.
    st = relay.ctl("status")
    assert st.returncode == 0, st.stdout
    assert "taken over" not in st.stdout.split("service dns")[1].split("\n")[0]

    # Again, for a script: the new relay's status, as JSON.
    r = relay.ctl("-j", "restart")
    assert r.returncode == 0, r.stdout + r.stderr
    doc = lab.relay.validate(json.loads(r.stdout))
    assert doc["command"] == "restart"
    newer = relay.pid()
    assert doc["relay"]["pid"] == newer and newer not in (old, new)
    assert "removed" not in str(changes(bird, before)), changes(bird, before)

    # And it judges: named killed, the route goes at once.
    named.kill()
    lab.wait_for(lambda: not bird.has_route(V4), 5, 0.02,
                 "withdrawn when named dies")


@pytest.mark.parametrize("writer", ["anycastctl", "relay"])
def test_taken_over_routes_go_when_named_is_gone(stack, writer):
    """The predecessor announced, but named is gone by the time its
    successor starts: withdrawn at once, not kept for a grace; whether
    anycastctl's note said so or the dead relay's own."""
    named, bird, relay, exa = lab.chain(stack)
    old = relay.pid()
    # Frozen, the old relay cannot react to named's death.
    os.kill(old, signal.SIGSTOP)
    named.kill()
    before = counts(bird)
    if writer == "anycastctl":
        with open(relay.control + ".handover", "w") as f:
            f.write(note(old, exa.proc.pid, int(time.time() * 1000)))
    os.kill(old, signal.SIGKILL)
    lab.wait_for(lambda: f"service dns taken over: relay {old} had it "
                 f"announced" in exa.proc.text(), 10, 0.02,
                 "the new relay to take the routes over")
    t0 = time.monotonic()
    lab.wait_for(lambda: not bird.has_route(V4) and not bird.has_route(V6),
                 5, 0.02, "withdrawn: no named to judge by")
    took = time.monotonic() - t0
    # Not kept for FEED_HELLO_MS: connecting failed, which is news.
    assert took < 1.0, took
    assert changes(bird, before) == {V4: ["removed"], V6: ["removed"]}
    assert "DOWN, withdrawing: no feed from named" in exa.proc.text()


def not_believed(bird, relay, exa, suffix, cases):
    """Each case a note (text, owner, why) at SOCKET+suffix, then the
    relay killed: its successor withdraws, then announces on fresh
    evidence, and says why it did not believe the note.  ExaBGP gives
    up on the sixth death within 64 s: at most four cases a test."""
    path = relay.control + suffix
    name = "handover" if suffix == ".handover" else "routes"
    for text, owner, why in cases:
        old = relay.pid()
        # Frozen, the old relay cannot write its own note over ours.
        os.kill(old, signal.SIGSTOP)
        before = counts(bird)
        with open(path, "w") as f:
            f.write(text(old))
        os.chown(path, owner, -1)
        os.kill(old, signal.SIGKILL)
        lab.wait_for(lambda: relay.pid() not in (None, old), 10,
                     what="a new relay on the control socket")
        lab.wait_for(lambda: changes(bird, before) == {
            V4: ["removed", "added"], V6: ["removed", "added"]}, 10, 0.05,
            "withdrawn, then announced again on fresh evidence")
        assert re.search(rf"{name} note \S+: " + why + r".*: nothing "
                         r"taken over", exa.proc.text()), why


def test_a_note_not_for_this_exabgp_is_not_believed(stack):
    """A note left for another ExaBGP, an old one, or one of another
    version changes nothing: the new relay withdraws first."""
    named, bird, relay, exa = lab.chain(stack)
    now, pid = int(time.time() * 1000), exa.proc.pid
    not_believed(bird, relay, exa, ".handover", (
        (lambda old: note(old, 1, now), 0,
         r"written for the relay of ExaBGP pid 1, not of this relay's "
         r"parent"),
        (lambda old: note(old, pid, now - 60000), 0,
         r"written 6\d{4} ms ago, not within 10000 ms"),
        (lambda old: note(old, pid, now, version=2), 0,
         r"not 'handover version=1' with from, exabgp and at"),
        # Anyone else's word, where the socket's directory lets them.
        (lambda old: note(old, pid, now), 65534,
         r"not a file of root or of uid 0")))
    assert not os.path.exists(relay.control + ".handover"), \
        "removed, believed or not"


def started(pid):
    """The start time of process 'pid', in clock ticks since boot."""
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[19])


def crash_note(relay, exabgp, started, at_ms, by="relay"):
    """The note a relay keeps of its routes for the relay ExaBGP
    respawns after it dies (doc/cli.md, 2.7)."""
    return (f"handover version=1 from={relay} exabgp={exabgp} "
            f"exabgp_started={started} at={at_ms} by={by}\n"
            f"service name=dns view=_default route=announced "
            f"since={at_ms}\n")


def test_a_crash_note_not_for_this_exabgp_is_not_believed(stack):
    """The routes a dead relay's note lists are taken over only from a
    relay that is gone, of this very ExaBGP: restarted, ExaBGP has lost
    its routes and reset its sessions, even under the same pid."""
    named, bird, relay, exa = lab.chain(stack)
    assert os.path.exists(relay.control + ".routes"), "kept by the relay"
    now, pid = int(time.time() * 1000), exa.proc.pid
    ours = started(pid)
    not_believed(bird, relay, exa, ".routes", (
        (lambda old: crash_note(old, 1, ours, now), 0,
         r"written for the relay of ExaBGP pid 1, not of this relay's "
         r"parent"),
        (lambda old: crash_note(old, pid, ours - 1, now), 0,
         rf"written for ExaBGP pid {pid} started at tick {ours - 1}, not "
         rf"this one \(tick {ours}\): it was restarted"),
        (lambda old: crash_note(os.getpid(), pid, ours, now), 0,
         rf"relay {os.getpid()}, which wrote it, is still running")))


def test_a_crash_note_is_believed_whatever_its_age(stack):
    """...but only the relay's own, of root or the relay's user, and
    then however old: ExaBGP still holds what it was last told."""
    named, bird, relay, exa = lab.chain(stack)
    now, pid = int(time.time() * 1000), exa.proc.pid
    ours = started(pid)
    not_believed(bird, relay, exa, ".routes", (
        (lambda old: crash_note(old, pid, ours, now, by="uid%200"), 0,
         r"not written by a relay \(by=relay, with exabgp_started\)"),
        (lambda old: crash_note(old, pid, ours, now), 65534,
         r"not a file of root or of uid 0")))
    old = relay.pid()
    os.kill(old, signal.SIGSTOP)
    before = counts(bird)
    with open(relay.control + ".routes", "w") as f:
        f.write(crash_note(old, pid, ours, now - 86400000))
    os.kill(old, signal.SIGKILL)
    lab.wait_for(lambda: f"replacing relay {old}, which died: 1 of 1"
                 in exa.proc.text(), 10, 0.02, "the routes taken over")
    time.sleep(1)
    assert changes(bird, before) == {V4: [], V6: []}


def test_restart_note_outranks_the_crash_note(stack):
    """Both notes there: anycastctl's decides, even one not believed
    (the relay it stopped may be of a version that keeps no note of
    its own, and the crash note be older than its routes)."""
    named, bird, relay, exa = lab.chain(stack)
    old = relay.pid()
    os.kill(old, signal.SIGSTOP)
    before = counts(bird)
    with open(relay.control + ".handover", "w") as f:
        f.write(note(old, 1, int(time.time() * 1000)))
    os.kill(old, signal.SIGKILL)
    lab.wait_for(lambda: changes(bird, before) == {
        V4: ["removed", "added"], V6: ["removed", "added"]}, 10, 0.05,
        "withdrawn, then announced again on fresh evidence")
    assert "routes note" not in exa.proc.text()


def test_restart_refuses_a_relay_exabgp_does_not_run(stack):
    named = lab.Named(stack).start()
    relay = lab.Relay(stack, named)
    proc = lab.RelayUnderTest(stack, relay)
    lab.wait_for(lambda: relay.pid() is not None, 10, what="the relay")
    r = relay.ctl("restart")
    assert r.returncode == 1, r.stdout + r.stderr
    assert "is not ExaBGP's process" in r.stderr
    assert "nothing would start a new one" in r.stderr
    assert lab.pid_alive(relay.pid()) and proc is not None
    assert not os.path.exists(relay.control + ".handover")
