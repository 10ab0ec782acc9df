# SPDX-License-Identifier: MPL-2.0
"""The lab's own helpers, where a mistake of theirs shows up as a
failure of something else."""

import signal
import subprocess

import pytest

import lab


def test_free_port_never_hands_out_a_port_twice():
    """free_port() lets the port go before the server binds it, so two
    calls could name the same one: the kernel hands out a free port
    again, dozens of times in 1,000 calls.  A test that gave its relay
    a metrics port and then started named, whose rndc port came out the
    same, scraped named's control channel, which hangs up on HTTP
    ("Remote end closed connection without response"), and failed."""
    ports = [lab.free_port() for _ in range(1000)]
    assert len(set(ports)) == len(ports)


def test_container_leader_is_in_another_pid_namespace(tmp_path):
    """systemd-nspawn forks an outer child in the host's pid namespace,
    which forks the container's init in a new one and exits (about 8 ms
    here).  Taking nspawn's first child as the container's init caught
    the outer child once in a clean-clone CI run: every nsenter into it
    then failed, and the node "did not boot" in 90 s."""
    stack = lab.Stack(tmp_path)
    try:
        # The outer child's shape: a child in our own pid namespace.
        outer = stack.start("outer", ["sh", "-c", "sleep 30 & wait"])
        lab.wait_for(lambda: subprocess.run(
            ["pgrep", "-P", str(outer.pid)], capture_output=True).stdout,
            5, 0.01, "the same-namespace child")
        assert lab.container_leader(outer.pid) is None
        # The container's: a child in a pid namespace of its own.
        # unshare waits out SIGTERM; --kill-child ends sleep with it.
        inner = stack.start("inner", ["unshare", "--pid", "--fork",
                                      "--kill-child", "sleep", "30"])
        leader = lab.wait_for(lambda: lab.container_leader(inner.pid), 5,
                              0.01, "the new namespace's init")
        assert subprocess.run(["ps", "-o", "comm=", "-p", str(leader)],
                              capture_output=True, text=True
                              ).stdout.strip() == "sleep"
        inner.stop(signal.SIGKILL)
    finally:
        stack.stop()


def test_a_closed_upstream_refuses_yet_keeps_its_port():
    """The upstream's "closed" mode gave its port up, and reopening
    bound it again: a clean-clone CI run failed there with "Address
    already in use", the port taken in between by one of the sockets
    named (or the test's own queries) opens on a random port for each
    recursion.  Closed now refuses while the port stays the
    upstream's."""
    import socket

    import dns.message
    import dns.query

    up = lab.FakeUpstream()
    try:
        up.close()
        # Anyone else's socket: named's query source port, say.
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as other:
            try:
                other.bind(("127.0.0.1", up.port))
                taken = True
            except OSError:
                taken = False
        assert not taken, "the closed upstream's port was free to take"
        q = dns.message.make_query("www.example.", "A")
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as c:
            c.settimeout(2)
            c.connect(("127.0.0.1", up.port))
            c.send(q.to_wire())
            refused = False
            try:
                c.recv(512)
            except ConnectionRefusedError:
                refused = True
            assert refused, "a query to the closed upstream was not refused"
        up.reopen()
        r = dns.query.udp(q, "127.0.0.1", port=up.port, timeout=2)
        assert r.answer and r.answer[0][0].address == "203.0.113.1"
    finally:
        up.stop()


def test_trace_margins_are_the_closest_calls_with_load_apart():
    """The catalogue's trace (lab/catalogue/trace.py) reads how close
    each excuse came to moving its node from the relay's own texts
    (these are real ones, from the attack row's trials): the lowest
    ratios of the other names' resolution to the usual, under load and
    not, and the bad evaluations caught while the route was announced.
    A reader that took "64% of 271 ...; usually 80%" for anything but
    0.8, or counted the load's excuse with the rest, would hide the
    near miss the trace is for."""
    from lab.catalogue.trace import margins

    def rec(node, texts, bad=0, route="announced"):
        return {"t": 1.0, "node": node, "state": "up", "route": route,
                "bad": bad,
                "checks": [["servfail-ratio", "ok", "SERVFAIL 1%"]] +
                [["recursion-latency", "excused", t] for t in texts]}
    load = ("recursion failures 85% > 50% over 2.7s (12 failed, 0 timed "
            "out, 103 unanswered after 500ms, of 135), but 100% of "
            "failures are in 2 domain groups (e.g. kozumiba.com) while "
            "named starts 10.7x its usual recursions and other names "
            "resolve 53% of 130 over 10s; usually 65%: external fault and "
            "load, not this node")
    usual = ("recursion p95 <=2000ms > 1000ms over 4.3s (102 answers), but "
             "names resolve as usual (64% of 271 over 8.0s; usually 80%): "
             "this node's usual failures, no fault")
    world = ("recursion failures 59% > 50% over 6.3s, but 85% of failures "
             "are in 3 domain groups (e.g. rite.com) while other names "
             "resolve as usual (70% of 70 over 10s; usually 76%): external "
             "fault, not this node")
    servers = ("recursion failures 70% > 50% over 2.0s, but 90% of "
               "failures are in 1 public-suffix group (e.g. nl) while "
               "other names resolve as usual (91% of 140 over 2.0s, 230 "
               "more failed by their servers; usually 93%): external "
               "fault, not this node")
    fresh = ("recursion failures 60% > 50% over 1.0s, but 90% of failures "
             "are in 1 domain group (e.g. rite.com) while other names "
             "resolve as usual (50% of 40 over 1.0s; no usual rate yet, "
             "taken as 30%): external fault, not this node")
    m = margins([rec("ns1", [world]), rec("ns1", [world]),
                 rec("ns1", [servers, fresh]), rec("ns2", [load]),
                 rec("ns2", [usual], bad=1), rec("ns2", [world]),
                 rec("ns2", [], bad=1, route="depreferred")])
    assert m["ns1"]["excused"] == 3 and m["ns1"]["load"] == []
    assert m["ns1"]["fresh"] == 1
    # The same excuse polled twice counts once among the lowest.
    assert [e["ratio"] for e in m["ns1"]["no_load"]] == [0.921, 0.978]
    ns2 = m["ns2"]
    assert ns2["excused"] == 3
    assert ns2["bad_announced"] == 1
    assert [(e["ratio"], e["n"]) for e in ns2["no_load"]] == \
        [(0.8, 271), (0.921, 70)]
    assert [(e["ratio"], e["n"]) for e in ns2["load"]] == [(0.815, 130)]
    # A row's own: the records of its span only.
    assert margins([rec("ns2", [usual]) | {"t": 5.0},
                    rec("ns2", [world]) | {"t": 9.0}],
                   since=8, until=10)["ns2"]["no_load"][0]["ratio"] == 0.921


def test_damping_room_waits_until_the_row_cannot_be_held(tmp_path, monkeypatch):
    """This node's rows move the node twice; the catalogue first waits
    until the node's flap damping (its relay's YAML, the example's 4
    changes a minute) leaves room for both, reading its changes from the
    router's log.  Without the wait a row within a minute of the last
    (CI's uplink-down then zone-expired, 15 s after the relay's first
    announcement) ended held down every time, and its recovery was
    forced: damping doing its job, read as the row's failure."""
    import datetime
    import time
    from types import SimpleNamespace

    from lab.catalogue import runner
    from lab.relay import relay_yaml

    now = time.time()

    def bird(*ages):
        def line(age, node="ns1", fam=4):
            ts = datetime.datetime.fromtimestamp(now - age)
            pfx = "192.0.2.53/32" if fam == 4 else "2001:db8::53/128"
            return (f"{ts:%Y-%m-%d %H:%M:%S.%f} <TRACE> {node}.ipv{fam} > "
                    f"added [best] {pfx} 0L 5G unicast")
        # ns2's and IPv6's changes are not ns1's IPv4 ones.
        return "\n".join([line(a) for a in ages] + [line(a, fam=6) for a in ages]
                         + [line(1.0, node="ns2")] * 5) + "\n"

    slept = []
    monkeypatch.setattr(runner.time, "sleep", lambda s: slept.append(s))

    def cat_for(text, damping=True):
        node = SimpleNamespace(name="ns1", dir=tmp_path / f"n{len(slept)}")
        node.dir.mkdir(exist_ok=True)
        (node.dir / "relay.yaml").write_text(relay_yaml(
            "/run/p.sock", "/run/c.sock", "/var/lib/x.state",
            ("192.0.2.1", "2001:db8::1"), damping=damping))
        cat = object.__new__(runner.Catalogue)
        cat.lab = SimpleNamespace(bird=SimpleNamespace(text=lambda: text))
        cat.log = lambda *a: None
        return cat, node

    # The relay's first announcement 40 s ago, a row's two changes 20
    # and 10 s ago: 3 in the minute, room for 1.  The oldest must age
    # out: 20 s from now, and a second for the relay's own clock.
    cat, node = cat_for(bird(40.0, 20.0, 10.0))
    assert cat.damping(node) == (4, 60)
    cat.damping_room(node, 2)
    assert len(slept) == 1 and abs(slept[0] - 21.0) < 0.5, slept
    # Two changes in the minute (and older ones): room already.
    cat, node = cat_for(bird(90.0, 70.0, 30.0, 20.0))
    cat.damping_room(node, 2)
    assert len(slept) == 1, slept
    # Four: the second oldest must go too.
    cat, node = cat_for(bird(50.0, 45.0, 30.0, 5.0))
    cat.damping_room(node, 2)
    assert len(slept) == 2 and abs(slept[1] - 16.0) < 0.5, slept
    # Without damping, never a wait.
    cat, node = cat_for(bird(3.0, 2.0, 1.0, 0.5), damping=False)
    assert cat.damping(node) is None
    assert cat.damping_room(node, 2) == 0.0 and len(slept) == 2
    # 'when-down: keep' announces a node that is down as up: its changes
    # are not in the router's log, and the catalogue says so.
    cat, node = cat_for(bird(3.0))
    (node.dir / "relay.yaml").write_text(
        (node.dir / "relay.yaml").read_text().replace(
            "when-down: depref", "when-down: keep"))
    with pytest.raises(ValueError, match="when-down: keep"):
        cat.damping_room(node, 2)


def test_each_attempt_of_this_nodes_row_has_room_in_the_damping():
    """The catalogue asks for room in the node's flap damping before
    the row's set-up (which may move the node itself), after it, and
    before every attempt: a void attempt (a route moved before the
    fault) has moved the node down and back already, and its retry,
    given no room, ended held down.  The world's rows move no node on
    purpose and never wait."""
    from types import SimpleNamespace

    from lab.catalogue import runner

    calls = []
    cat = object.__new__(runner.Catalogue)
    cat.holds = {"this": 6.0, "world": 10.0, "load": 10.0}
    cat.attempts, cat._runs = 2, 0
    cat.lab = SimpleNamespace(node=lambda i: f"ns{i}")
    cat.log = lambda *a: None
    cat.settle = lambda row, res, when: calls.append(("settle", when))
    cat._stop_all = lambda: None
    cat.damping_room = lambda node, n: calls.append(("room", node, n)) or 1.5
    attempts = iter([{"before_fault_changes": 1}, {"before_fault_changes": 0}])

    def _run(row, hold):
        calls.append(("run",))
        return next(attempts)
    cat._run = _run
    row = SimpleNamespace(id="r", fault="f", where="ns1", expect="this",
                          cannot_tell=None, hold=None, teardown=None,
                          setup=lambda c: calls.append(("setup",)))
    res = cat.run(row)
    kinds = [c[0] for c in calls]
    # Room (and settling after each wait) before the set-up, and before
    # each of the two attempts, the first of them after the set-up.
    assert kinds.count("room") == 3, calls
    first_run = kinds.index("run")
    second_run = kinds.index("run", first_run + 1)
    assert "room" in kinds[:kinds.index("setup")], calls
    assert "room" in kinds[kinds.index("setup"):first_run], calls
    assert "room" in kinds[first_run:second_run], calls
    assert all(c[1:] == ("ns1", 2) for c in calls if c[0] == "room"), calls
    assert res["attempts"] == 2 and res["damping_wait_s"] == 4.5, res
    # The world's rows: never.
    calls.clear()
    attempts = iter([{"before_fault_changes": 0}])
    row.expect, row.setup = "world", None
    cat.run(row)
    assert "room" not in [c[0] for c in calls], calls
