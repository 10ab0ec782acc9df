# SPDX-License-Identifier: MPL-2.0
"""The plugin inside real named: counters, the socket, reconfig."""

import json
import os
import re
import signal
import stat
import time

import dns.rcode

import lab
from lab.feed import Subscriber


def test_hello_and_counters(stack):
    named = lab.Named(stack).start()
    sub = Subscriber(named.socket)
    typ, hello = sub.record()
    assert typ == "hello"
    assert hello["proto"] == "3"
    assert int(hello["pid"]) == named.proc.pid
    assert hello["named"] == lab.named_version()
    assert hello["interval"] == "200"
    assert hello["zone_interval"] == "1000"
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
    v = lab.wait_for(counted, 5, what="counters to catch up")
    assert v["queries"] - base["queries"] == total
    for k, n in sent.items():
        assert v[k] - base[k] == n, (k, v, base)
    assert v["servfail"] == base["servfail"]
    assert v["dropped"] == base["dropped"]


def test_relay_sees_the_counters(stack):
    """The relay's view of the counters matches the queries sent."""
    named = lab.Named(stack).start()
    # No canary here: its queries would be counted too.
    relay = lab.Relay(stack, named,
                      services=lab.plain_service(port=named.port))
    proc = lab.RelayUnderTest(stack, relay)
    assert proc.wait_command("announce route 192.0.2.53/32", 10)
    for i in range(25):
        named.query("www.example")
    for i in range(5):
        named.query(f"x{i}.example")

    def seen():
        out = json.loads(relay.ctl("-j", "show", "counters", "_default").stdout)
        kv = out["views"][0]["counters"]
        return kv if kv.get("queries") == 30 else None
    kv = lab.wait_for(seen, 5, what="relay to report 30 queries")
    assert kv["noerror"] == 25 and kv["nxdomain"] == 5, kv


def test_socket_is_read_only(stack):
    named = lab.Named(stack).start()
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


def test_subscribers_per_user(stack):
    """At most 8 subscribers per user; the others are told why.  (The
    32-slot limit and slow readers: tests/system/test_sockets.py.)"""
    named = lab.Named(stack).start()
    subs = [Subscriber(named.socket) for _ in range(40)]
    records = [s.record() for s in subs]
    hellos = sum(1 for r in records if r and r[0] == "hello")
    busy = sum(1 for r in records if r and r[0] == "error"
               and r[1]["msg"] == "too-many-subscribers-for-this-user")
    assert hellos == 8 and busy == 32
    for s in subs:
        s.s.close()
    # Slots are freed: a new subscriber is served.
    time.sleep(0.5)
    assert Subscriber(named.socket).record()[0] == "hello"


def test_reconfig_keeps_stream_and_counters(stack):
    named = lab.Named(stack).start()
    sub = Subscriber(named.socket)
    assert sub.record()[0] == "hello"
    for _ in range(10):
        named.query("www.example")
    before, tick0 = lab.wait_for(
        lambda: (lambda s: s if s[0]["_default"]["queries"] >= 10 else None)(sub.snapshot()),
        5, what="10 queries counted")
    for _ in range(3):
        r = named.rndc("reconfig")
        assert r.returncode == 0, r.stderr
    r = named.rndc("reload")
    assert r.returncode == 0, r.stderr
    named.query("www.example")
    after, tick1 = lab.wait_for(
        lambda: (lambda s: s if s[0]["_default"]["queries"] >= 11 else None)(sub.snapshot()),
        5, what="counting to continue across reconfig")
    assert after["_default"]["queries"] == before["_default"]["queries"] + 1
    assert int(tick1["seq"]) > int(tick0["seq"])
    # One publisher: the socket path was never taken over by a second one.
    assert named.proc.text().count("publishing on") == 5


def set_params(named, **changes):
    """named.conf with the plugin's parameters changed ('socket_mode'
    for socket-mode), and 'extra' appended to the file."""
    text = named.conf.read_text()
    for key, value in changes.items():
        if key == "extra":
            continue
        key = key.replace("_", "-")
        text, n = re.subn(rf"^(\s*){key} [^;]*;", rf"\g<1>{key} {value};",
                          text, count=1, flags=re.M)
        if n == 0:
            start = text.index("plugin query")
            brace = text.index("{", start) + 1
            text = text[:brace] + f"\n\t{key} {value};" + text[brace:]
    named.conf.write_text(text + changes.get("extra", ""))


def test_reconfig_applies_socket_mode(stack):
    """socket-mode or socket-group changed and 'rndc reconfig': the
    socket takes them, as at a start (it kept the old ones until named
    restarted, so a relay newly given access stayed out)."""
    named = lab.Named(stack).start()

    def mode():
        return stat.S_IMODE(os.stat(named.socket).st_mode)

    assert mode() == 0o660
    for want in (0o600, 0o666):
        set_params(named, socket_mode=f'"0{want:o}"')
        r = named.rndc("reconfig")
        assert r.returncode == 0, r.stderr
        # In force once named lets go of the old configuration's view,
        # when its tasks end: 0.8 s here.
        lab.wait_for(lambda: mode() == want, 15,
                     what=f"socket mode 0{want:o}")


def test_reconfig_changes_socket_group_only_as_named_may(stack):
    """named gives up root's capabilities (and with -u, root) before it
    reads its configuration: the socket's group can be one of named's
    own only, at a reload as at the start.  Another is not taken, and
    named's log says why, while the reload's other changes are (a plugin
    refusing a reload could crash named 9.18).  Before, every new group
    was silently never applied."""
    import grp
    daemon, adm = grp.getgrnam("daemon").gr_gid, grp.getgrnam("adm").gr_gid
    named = lab.Named(stack)
    set_params(named, socket_group='"daemon"')
    # named (root, without CAP_CHOWN) in groups daemon and root, not adm.
    named.start(wrapper=["setpriv", f"--groups=0,{daemon}"], through=True)

    def gid():
        return os.stat(named.socket).st_gid

    assert gid() == daemon
    set_params(named, socket_group='"root"')          # named's own group
    assert named.rndc("reconfig").returncode == 0
    lab.wait_for(lambda: gid() == 0, 15, what="group root")
    set_params(named, socket_group='"adm"', interval="300")
    assert named.rndc("reconfig").returncode == 0, "the rest is taken"
    assert (f"is not in group {adm}, which it cannot give {named.socket}: "
            "its socket-group stays 0 (add named's user to the group, or "
            "name one of its groups)") in named.proc.text()
    lab.wait_for(lambda: Subscriber(named.socket).record()[1]["interval"]
                 == "300", 15, what="the new interval")
    assert gid() == 0
    set_params(named, socket_group='"daemon"')
    assert named.rndc("reconfig").returncode == 0
    lab.wait_for(lambda: gid() == daemon, 15, what="group daemon")


def test_rejected_reconfig_changes_nothing(stack):
    """A reconfig named rejects after registering the plugin (here a
    second plugin that cannot be loaded) leaves named on its old
    configuration: the plugin's interval and socket mode stay the old
    ones too."""
    named = lab.Named(stack).start()
    sub = Subscriber(named.socket)
    kind, hello = sub.record()
    assert kind == "hello"
    interval = hello["interval"]
    good = named.conf.read_text()
    set_params(named, interval="700", socket_mode='"0600"',
               extra='plugin query "/nonexistent/anycast-nothing.so";\n')
    r = named.rndc("reconfig")
    assert r.returncode != 0, "named took the broken file"
    time.sleep(2)           # longer than a committed change takes
    assert stat.S_IMODE(os.stat(named.socket).st_mode) == 0o660
    kind, again = Subscriber(named.socket).record()
    assert kind == "hello" and again["interval"] == interval, again
    named.conf.write_text(good)
    assert named.rndc("reconfig").returncode == 0


def test_a_long_zone_name_is_published_by_its_start(stack):
    """all-zones: an unhealthy zone whose name, as named writes it, is
    longer than a published name may be (255 octets on the wire, four
    times that with escapes) is published by its start, marked '...',
    not as '<unknown>'."""
    named = lab.Named(stack)
    # An 'a' first, so that an escape straddles the 252nd byte.
    long_name = ".".join(["a" + "(" * 59] + ["(" * 60] * 3)
    named.conf.write_text(named.conf.read_text().replace(
        'zones { "example"; };', "all-zones yes;") +
        f'zone "{long_name}" {{ type primary; file '
        f'"{named.dir}/missing.db"; }};\n')
    named.start()
    sub = Subscriber(named.socket)
    t0 = time.monotonic()
    names = []
    while not names and time.monotonic() - t0 < 10:
        named.query("www.example")
        records = []
        sub.snapshot(records)
        names = [kv["name"] for typ, kv in records if typ == "zone"]
    assert names, "no zone record within 10 s"
    # 'a', 59 '\(', '.', 120 bytes, '.': 241 bytes, then 5 escapes in
    # the 11 bytes left to 252, and not the first byte of a sixth.
    written = ".".join(["a" + "\\(" * 59] + ["\\(" * 60] * 3)
    assert names == [written[:251] + "..."], names
    assert "<unknown>" not in str(names)


def test_goodbye_on_shutdown(stack):
    named = lab.Named(stack).start()
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
    first = lab.Named(stack, name="first").start()
    first.kill()                                  # leaves its socket file
    assert os.path.exists(first.socket)
    first.start()                                 # clears the stale one
    assert Subscriber(first.socket).record()[0] == "hello"

    # A second named configured with the same socket must not steal it.
    second = lab.Named(stack, name="second")
    text = second.conf.read_text().replace(second.socket, first.socket)
    second.conf.write_text(text)
    second.start(wait=False)
    lab.wait_for(lambda: not second.proc.alive(), 20, what="second named to refuse")
    assert "is in use by another process" in second.proc.text()
    assert Subscriber(first.socket).record()[1]["pid"] == str(first.proc.pid)


def test_two_views(stack):
    named = lab.Named(stack)
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
    assert sub.record()[0] == "hello"
    assert sorted(sub.snapshot()[0]) == ["inside", "outside"]
    for _ in range(7):
        named.query("www.example")
    views, _ = lab.wait_for(
        lambda: (lambda s: s if s[0]["inside"]["queries"] >= 7 else None)(sub.snapshot()),
        5, what="queries counted in view inside")
    assert views["inside"]["queries"] == 7
    assert views["outside"]["queries"] == 0


def probe(named, count=1):
    """The relay's liveness probe, as the relay sends it: RD=0, the
    private QTYPE, the fixed name.  Values from proto/ahproto.h."""
    import dns.message
    import dns.query
    q = dns.message.make_query("probe.anycast-health.invalid.", 65401)
    q.flags = 0                                   # RD=0
    for _ in range(count):
        dns.query.udp(q, "127.0.0.1", port=named.port, timeout=2)


def test_default_interval_is_100ms(stack):
    """Liveness needs a fast heartbeat by default (issue 8 item 2)."""
    named = lab.Named(stack)
    named.conf.write_text("".join(
        l for l in named.conf.read_text().splitlines(True)
        if not l.lstrip().startswith("interval ")))
    named.start()
    typ, hello = Subscriber(named.socket).record()
    assert typ == "hello" and hello["interval"] == "100", hello


def test_probes_counted_apart(stack):
    """Liveness probes advance 'probes' and no outcome counter, so they
    never dilute a SERVFAIL ratio."""
    named = lab.Named(stack).start()
    sub = Subscriber(named.socket)
    assert sub.record()[0] == "hello"
    base = sub.snapshot()[0]["_default"]
    probe(named, 12)
    named.query("www.example")
    v = lab.wait_for(
        lambda: (lambda s: s if s["queries"] > base["queries"] and
                 s["probes"] >= base.get("probes", 0) + 12 else None)(
                     sub.snapshot()[0]["_default"]), 5, what="probes counted")
    assert v["probes"] - base["probes"] == 12
    assert v["queries"] - base["queries"] == 1
    assert v["noerror"] - base["noerror"] == 1
    assert v["refused"] == base["refused"] and v["nxdomain"] == base["nxdomain"]


def test_views_without_a_parameter_block(stack):
    """'plugin query "anycast-health.so";' with no block, in two views:
    each registration finds its own view (issue 8 item 6; before, both
    were '_default' and their counters summed).  Without a block the
    socket is the default /run/named path: named runs in a private
    mount namespace with the test's directory mounted there."""
    named = lab.Named(stack)
    body, plugin, zone = named.sections()
    bare = f'plugin query "{lab.PLUGIN}";'
    named.conf.write_text(body + f"""
view "inside" {{
    match-clients {{ 127.0.0.1; }};
    {bare}
    {zone}
}};
view "outside" {{
    match-clients {{ any; }};
    {bare}
}};
""")
    run = named.dir / "run"
    run.mkdir()
    named.socket = str(run / "anycast-health.sock")
    proc = stack.start("named", [
        "unshare", "--mount", "sh", "-c",
        f'mount --bind "{run}" /run/named && exec {lab.NAMED} -g -c '
        f'"{named.conf}" -n 2'],
        env=lab.named_sanitizer_env() if lab.SANITIZE else None)
    lab.wait_for(lambda: " running\n" in proc.text() or not proc.alive(),
                 20, what="named to start")
    assert proc.alive(), proc.text()[-3000:]
    sub = Subscriber(named.socket)
    assert sub.record()[0] == "hello"
    for _ in range(5):
        named.query("www.example")
    views, _ = lab.wait_for(
        lambda: (lambda s: s if s[0]["inside"]["queries"] >= 5 else None)(
            sub.snapshot()), 5, what="queries counted in view inside")
    assert sorted(views) == ["inside", "outside"]
    assert views["outside"]["queries"] == 0
    assert "registering 'anycast-health' module for view 'inside'" in proc.text()


def test_many_view_names_over_reloads(stack):
    """A reload never fails because 64 distinct view names were seen
    in this named's life (issue 8 item 7): slots of views no longer
    attached are reused."""
    named = lab.Named(stack)
    body, plugin, zone = named.sections()

    def conf(name):
        return body + f"""
view "{name}" {{
    {plugin}
    {zone}
}};
"""
    named.conf.write_text(conf("v0"))
    named.start()
    for i in range(1, 71):
        named.conf.write_text(conf(f"v{i}"))
        r = named.rndc("reconfig")
        assert r.returncode == 0, (i, r.stderr, named.proc.text()[-2000:])
    sub = Subscriber(named.socket)
    assert sub.record()[0] == "hello"
    named.query("www.example")
    views, _ = lab.wait_for(
        lambda: (lambda s: s if s[0].get("v70", {}).get("queries") else None)(
            sub.snapshot()), 5, what="the last view counted")
    # Old views detach when named has destroyed them, in its own time.
    lab.wait_for(lambda: list(sub.snapshot()[0]) == ["v70"], 20,
                 what="only the current view attached")
    assert "more than 64 views" not in named.proc.text()


def thread_cpu(pid):
    """{thread name: CPU seconds} of a process; same names summed.  From
    schedstat (nanoseconds): the ticks in stat are 10 ms, as coarse as
    what is measured here."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            name = open(f"/proc/{pid}/task/{tid}/comm").read().strip()
            ns = int(open(f"/proc/{pid}/task/{tid}/schedstat").read().split()[0])
        except OSError:
            continue
        out[name] = out.get(name, 0) + ns / 1e9
    return out


def test_zone_walks_run_on_the_publisher_thread(stack):
    """Item 9: a query thread only hands the zone table over; the walk
    of every zone runs on the plugin's own thread.  With 20,000 zones
    walked every 50 ms, that thread does most of named's work: about
    0.13 s of 0.2 s in 4 s with BIND 9.20, 0.18 s of 0.23 s with 9.18.
    (With 5,000 zones, 9.20's walks cost no more than its other
    threads' housekeeping: too close to tell.)"""
    named = lab.Named(stack, interval=50)
    (named.dir / "db.gen").write_text(
        "$TTL 300\n@ SOA ns1 hostmaster 1 3600 600 86400 300\n NS ns1\n"
        "ns1 A 192.0.2.53\n")
    text = named.conf.read_text().replace('zones { "example"; };', "all-zones yes;")
    text = text.replace("zone-interval 1000;", "zone-interval 50;")
    text += "".join(f'zone "z{i}.walk" {{ type primary; file "{named.dir}/db.gen"; }};\n'
                    for i in range(20000))
    named.conf.write_text(text)
    named.start(start_timeout=60)
    sub = Subscriber(named.socket)
    assert sub.record()[0] == "hello"
    before = thread_cpu(named.proc.pid)
    end = time.monotonic() + 4
    while time.monotonic() < end:                 # queries start the walks
        probe(named)
        sub.snapshot()
    after = thread_cpu(named.proc.pid)
    spent = {k: after.get(k, 0) - before.get(k, 0) for k in after}
    publisher = spent.pop("ah-publisher")
    assert publisher >= 0.03, spent               # the walks happened...
    assert publisher > sum(spent.values()), (publisher, spent)   # ...there
