"""The plugin inside real named: counters, the socket, reconfig."""

import json
import os
import signal
import socket
import stat
import time

import dns.rcode

import ahtest


class Subscriber:
    """A raw reader of the plugin socket, decoding with the protocol's rules."""

    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.connect(path)
        self.s.settimeout(5)
        self.buf = b""

    def line(self):
        while b"\n" not in self.buf:
            data = self.s.recv(65536)
            if not data:
                return None
            self.buf += data
        raw, self.buf = self.buf.split(b"\n", 1)
        assert len(raw) < 1024
        return raw.decode("ascii")

    def record(self):
        raw = self.line()
        if raw is None:
            return None
        typ, *fields = raw.split(" ")
        kv = dict(f.split("=", 1) for f in fields)
        return typ, kv

    def snapshot(self):
        """The next complete snapshot: {view: counters}, tick fields."""
        views = {}
        while True:
            rec = self.record()
            assert rec is not None, "socket closed"
            typ, kv = rec
            if typ == "view":
                views[kv["name"]] = {k: int(v) for k, v in kv.items() if k != "name"}
            elif typ == "tick":
                assert int(kv["views"]) == len(views)
                return views, kv


def test_hello_and_counters(stack):
    named = ahtest.Named(stack).start()
    sub = Subscriber(named.socket)
    typ, hello = sub.record()
    assert typ == "hello"
    assert hello["proto"] == "1"
    assert int(hello["pid"]) == named.proc.pid
    assert hello["named"].startswith("9.18.")
    assert hello["interval"] == "200"
    assert hello["views"] == "_default"
    base, _ = sub.snapshot()
    base = base["_default"]

    # A known mix of outcomes, over UDP and TCP.
    sent = {"noerror": 0, "nxdomain": 0, "refused": 0}
    for i in range(30):
        r = named.query("www.example", tcp=(i % 3 == 0))
        assert r.rcode() == dns.rcode.NOERROR
        sent["noerror"] += 1
    for i in range(20):
        r = named.query(f"nope{i}.example", tcp=(i % 2 == 0))
        assert r.rcode() == dns.rcode.NXDOMAIN
        sent["nxdomain"] += 1
    for i in range(10):          # not our zone, recursion off
        r = named.query(f"host{i}.invalid")
        assert r.rcode() == dns.rcode.REFUSED
        sent["refused"] += 1
    total = sum(sent.values())

    def counted():
        views, _ = sub.snapshot()
        v = views["_default"]
        return v if v["queries"] - base["queries"] >= total else None
    v = ahtest.wait_for(counted, 5, what="counters to catch up")
    assert v["queries"] - base["queries"] == total
    for k, n in sent.items():
        assert v[k] - base[k] == n, (k, v, base)
    assert v["servfail"] == base["servfail"]
    assert v["dropped"] == base["dropped"]


def test_relay_sees_the_counters(stack):
    """The relay's view of the counters matches the queries sent."""
    named = ahtest.Named(stack).start()
    # No canary here: its queries would be counted too.
    relay = ahtest.Relay(stack, named, services=ahtest.plain_service())
    proc = ahtest.RelayUnderTest(stack, relay)
    assert proc.wait_command("announce route 192.0.2.53/32", 10)
    for i in range(25):
        named.query("www.example")
    for i in range(5):
        named.query(f"x{i}.example")

    def seen():
        out = json.loads(relay.ctl("-j", "show", "counters", "_default").stdout)
        kv = out["views"][0]["counters"]
        return kv if kv.get("queries") == 30 else None
    kv = ahtest.wait_for(seen, 5, what="relay to report 30 queries")
    assert kv["noerror"] == 25 and kv["nxdomain"] == 5, kv


def test_socket_is_read_only(stack):
    named = ahtest.Named(stack).start()
    st = os.stat(named.socket)
    assert stat.S_ISSOCK(st.st_mode)
    assert stat.S_IMODE(st.st_mode) == 0o660

    sub = Subscriber(named.socket)
    assert sub.record()[0] == "hello"
    sub.s.sendall(b"reload\n")
    # The plugin says why and hangs up; named is untouched.
    while True:
        rec = sub.record()
        assert rec is not None, "expected an error record before EOF"
        if rec[0] == "error":
            assert rec[1]["msg"] == "read-only-socket"
            break
    assert sub.record() is None
    assert named.query("www.example").rcode() == dns.rcode.NOERROR
    # Other subscribers are not affected.
    other = Subscriber(named.socket)
    assert other.record()[0] == "hello"


def test_many_subscribers_and_slow_ones(stack):
    named = ahtest.Named(stack).start()
    subs = [Subscriber(named.socket) for _ in range(40)]
    records = [s.record() for s in subs]
    hellos = sum(1 for r in records if r and r[0] == "hello")
    busy = sum(1 for r in records if r and r[0] == "error"
               and r[1]["msg"] == "too-many-subscribers")
    assert hellos == 32 and busy == 8
    for s in subs:
        s.s.close()
    # Slots are freed: a new subscriber is served.
    time.sleep(0.5)
    assert Subscriber(named.socket).record()[0] == "hello"


def test_reconfig_keeps_stream_and_counters(stack):
    named = ahtest.Named(stack).start()
    sub = Subscriber(named.socket)
    assert sub.record()[0] == "hello"
    for _ in range(10):
        named.query("www.example")
    before, tick0 = ahtest.wait_for(
        lambda: (lambda s: s if s[0]["_default"]["queries"] >= 10 else None)(sub.snapshot()),
        5, what="10 queries counted")
    for _ in range(3):
        r = named.rndc("reconfig")
        assert r.returncode == 0, r.stderr
    r = named.rndc("reload")
    assert r.returncode == 0, r.stderr
    named.query("www.example")
    after, tick1 = ahtest.wait_for(
        lambda: (lambda s: s if s[0]["_default"]["queries"] >= 11 else None)(sub.snapshot()),
        5, what="counting to continue across reconfig")
    assert after["_default"]["queries"] == before["_default"]["queries"] + 1
    assert int(tick1["seq"]) > int(tick0["seq"])
    # One publisher: the socket path was never taken over by a second one.
    assert named.proc.text().count("publishing on") == 5


def test_goodbye_on_shutdown(stack):
    named = ahtest.Named(stack).start()
    sub = Subscriber(named.socket)
    assert sub.record()[0] == "hello"
    named.kill(signal.SIGTERM)
    last = None
    while True:
        rec = sub.record()
        if rec is None:
            break
        last = rec
    assert last == ("bye", {"reason": "unload"})
    assert not os.path.exists(named.socket), "socket removed at exit"


def test_stale_socket_is_replaced_but_live_one_is_not(stack):
    first = ahtest.Named(stack, name="first").start()
    first.kill()                                  # leaves its socket file
    assert os.path.exists(first.socket)
    first.start()                                 # clears the stale one
    assert Subscriber(first.socket).record()[0] == "hello"

    # A second named configured with the same socket must not steal it.
    second = ahtest.Named(stack, name="second")
    text = second.conf.read_text().replace(second.socket, first.socket)
    second.conf.write_text(text)
    second.start(wait=False)
    ahtest.wait_for(lambda: not second.proc.alive(), 20, what="second named to refuse")
    assert "is in use by another process" in second.proc.text()
    assert Subscriber(first.socket).record()[1]["pid"] == str(first.proc.pid)


def test_two_views(stack):
    named = ahtest.Named(stack)
    body, plugin, zone = named.sections()
    body += f"""
view "inside" {{
    match-clients {{ 127.0.0.1; }};
    {plugin}
    {zone}
}};
view "outside" {{
    match-clients {{ any; }};
    {plugin}
}};
"""
    named.conf.write_text(body)
    named.start()
    sub = Subscriber(named.socket)
    typ, hello = sub.record()
    assert sorted(hello["views"].split(",")) == ["inside", "outside"]
    for _ in range(7):
        named.query("www.example")
    views, _ = ahtest.wait_for(
        lambda: (lambda s: s if s[0]["inside"]["queries"] >= 7 else None)(sub.snapshot()),
        5, what="queries counted in view inside")
    assert views["inside"]["queries"] == 7
    assert views["outside"]["queries"] == 0
