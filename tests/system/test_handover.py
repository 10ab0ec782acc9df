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


def test_taken_over_routes_go_when_named_is_gone(stack):
    """The predecessor announced, but named is gone by the time its
    successor starts: withdrawn at once, not kept for a grace."""
    named, bird, relay, exa = lab.chain(stack)
    old = relay.pid()
    # Frozen, the old relay cannot react to named's death.
    os.kill(old, signal.SIGSTOP)
    named.kill()
    before = counts(bird)
    path = relay.control + ".handover"
    with open(path, "w") as f:
        f.write(note(old, exa.proc.pid, int(time.time() * 1000)))
    os.kill(old, signal.SIGKILL)
    lab.wait_for(lambda: "taken over" in exa.proc.text(), 10, 0.02,
                 "the new relay to take the routes over")
    t0 = time.monotonic()
    lab.wait_for(lambda: not bird.has_route(V4) and not bird.has_route(V6),
                 5, 0.02, "withdrawn: no named to judge by")
    took = time.monotonic() - t0
    # Not kept for FEED_HELLO_MS: connecting failed, which is news.
    assert took < 1.0, took
    assert changes(bird, before) == {V4: ["removed"], V6: ["removed"]}
    assert "DOWN, withdrawing: no feed from named" in exa.proc.text()


def test_a_note_not_for_this_exabgp_is_not_believed(stack):
    """A respawn after a crash withdraws first, as it always did: a
    note left for another ExaBGP, an old one, or one of another
    version changes nothing."""
    named, bird, relay, exa = lab.chain(stack)
    path = relay.control + ".handover"
    for why, exabgp, age, version, owner in (
            (r"written for the relay of ExaBGP pid 1, not of this relay's "
             r"parent", 1, 0, 1, 0),
            (r"written 6\d{4} ms ago, not within 10000 ms", None, 60000, 1,
             0),
            (r"not 'handover version=1' with from, exabgp and at", None, 0,
             2, 0),
            # Anyone else's word, where the socket's directory lets them.
            (r"not a file of root or of uid 0", None, 0, 1, 65534)):
        old = relay.pid()
        before = counts(bird)
        with open(path, "w") as f:
            f.write(note(old, exabgp or exa.proc.pid,
                         int(time.time() * 1000) - age, version=version))
        os.chown(path, owner, -1)
        os.kill(old, signal.SIGKILL)
        lab.wait_for(lambda: relay.pid() not in (None, old), 10,
                     what="a new relay on the control socket")
        lab.wait_for(lambda: changes(bird, before) == {
            V4: ["removed", "added"], V6: ["removed", "added"]}, 10, 0.05,
            "withdrawn, then announced again on fresh evidence")
        assert re.search(r"handover note \S+: " + why + r".*: nothing "
                         r"taken over", exa.proc.text()), why
        assert not os.path.exists(path), "removed, believed or not"


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
    """The routes a dead relay's note lists are taken over whatever its
    age, but only from a relay that is gone, of this very ExaBGP
    (restarted, ExaBGP has lost its routes and sessions, even under the
    same pid), and of root or the relay's user."""
    named, bird, relay, exa = lab.chain(stack)
    path = relay.control + ".routes"
    assert os.path.exists(path), "kept by the running relay"
    ours = started(exa.proc.pid)
    for why, exabgp, start, writer, owner, by in (
            (r"written for the relay of ExaBGP pid 1, not of this relay's "
             r"parent", 1, ours, None, 0, "relay"),
            (rf"written for ExaBGP pid {exa.proc.pid} started at tick "
             rf"{ours - 1}, not this one \(tick {ours}\): it was "
             rf"restarted", exa.proc.pid, ours - 1, None, 0, "relay"),
            (rf"relay {os.getpid()}, which wrote it, is still running",
             exa.proc.pid, ours, os.getpid(), 0, "relay"),
            (r"not written by a relay \(by=relay, with exabgp_started\)",
             exa.proc.pid, ours, None, 0,
             "uid%200"),
            (r"not a file of root or of uid 0", exa.proc.pid, ours, None,
             65534, "relay")):
        old = relay.pid()
        # Frozen, the old relay cannot write its own note over ours.
        os.kill(old, signal.SIGSTOP)
        before = counts(bird)
        with open(path, "w") as f:
            f.write(crash_note(writer or old, exabgp, start,
                               int(time.time() * 1000), by=by))
        os.chown(path, owner, -1)
        os.kill(old, signal.SIGKILL)
        lab.wait_for(lambda: relay.pid() not in (None, old), 10,
                     what="a new relay on the control socket")
        lab.wait_for(lambda: changes(bird, before) == {
            V4: ["removed", "added"], V6: ["removed", "added"]}, 10, 0.05,
            "withdrawn, then announced again on fresh evidence")
        assert re.search(r"routes note \S+: " + why + r": nothing taken "
                         r"over", exa.proc.text()), why

    # Believed however old: ExaBGP still holds what it was last told.
    old = relay.pid()
    os.kill(old, signal.SIGSTOP)
    before = counts(bird)
    with open(path, "w") as f:
        f.write(crash_note(old, exa.proc.pid, ours,
                           int(time.time() * 1000) - 86400000))
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
