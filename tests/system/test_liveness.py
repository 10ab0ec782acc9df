# SPDX-License-Identifier: MPL-2.0
"""Liveness from named's query path, with the default configuration
(issue 8 items 1-3): the relay probes named once per plugin interval
and a view is live only while its counters move."""

import os
import signal
import socket
import time

import pytest

import lab

V4 = "192.0.2.53/32"


def live_setup(stack, interval=100, **kw):
    """named with the default interval, and a relay with no canary and
    no stale-after: only the liveness probe keeps the view live."""
    named = lab.Named(stack, interval=interval).start()
    relay = lab.Relay(stack, named,
                      services=lab.plain_service(port=named.port, **kw))
    assert "\n  stale-after" not in relay.path.read_text()
    proc = lab.RelayUnderTest(stack, relay)
    assert proc.wait_command("announce route " + V4, 10), proc.proc.text()
    return named, relay, proc


def test_idle_named_stays_announced(stack):
    named, relay, proc = live_setup(stack)
    # No client asks anything for 3 s: the probes alone prove named works.
    assert proc.wait_command("withdraw", 3.0) is None
    assert "UP" in relay.ctl("status").stdout


def test_sigstop_withdraws_within_the_hang_bound(stack):
    named, relay, proc = live_setup(stack)
    t0 = time.monotonic()
    named.proc.send_signal(signal.SIGSTOP)
    try:
        # Three 100 ms intervals by default; 1 s is the goal, 1.5 s loose.
        assert proc.wait_command("withdraw route " + V4, 1.5) is not None
        took = time.monotonic() - t0
    finally:
        named.proc.send_signal(signal.SIGCONT)
    assert "more than stale-after 300 ms" in proc.proc.text()
    print(f"\nSIGSTOP -> withdraw command in {took * 1000:.0f} ms")
    assert proc.wait_command("announce route " + V4, 5) is not None


def test_query_path_gone_while_snapshots_continue(stack):
    """named stops listening where the probes go (here: a reconfig that
    moves it to another port) while the plugin keeps publishing: the
    counters freeze and the node is withdrawn, with the reason."""
    named, relay, proc = live_setup(stack)
    other = lab.free_port()
    text = named.conf.read_text()
    named.conf.write_text(text.replace(f"listen-on port {named.port} ",
                                       f"listen-on port {other} "))
    assert named.rndc("reconfig").returncode == 0
    assert proc.wait_command("withdraw route " + V4, 3) is not None
    assert "no query seen in view _default" in proc.proc.text()
    # The probe's ICMP refusals tell why.
    lab.wait_for(lambda: f"liveness probes to 127.0.0.1#{named.port} are "
                 "refused" in relay.ctl("status").stdout, 3, interval=0.1,
                 what="the refusal in the reason")


def test_reload_that_slows_the_plugin_keeps_the_route(stack):
    """interval 100 -> 1000 ms by rndc reconfig: the plugin repeats its
    hello, so the relay's stale-after becomes 3 s at once."""
    named, relay, proc = live_setup(stack)
    text = named.conf.read_text()
    named.conf.write_text(text.replace("interval 100;", "interval 1000;"))
    assert named.rndc("reconfig").returncode == 0
    assert proc.wait_command("withdraw", 4.0) is None
    assert "snapshot every 1000ms" in proc.proc.text()


def two_views(stack):
    """View 'a' matches clients from 127.0.0.2 only; view 'b' the rest."""
    named = lab.Named(stack, interval=100)
    body, plugin, zone = named.sections()
    named.conf.write_text(body + f"""
view "a" {{
    match-clients {{ 127.0.0.2; }};
    {plugin}
    {zone}
}};
view "b" {{
    match-clients {{ any; }};
    {plugin}
    {zone}
}};
""")
    return named.start()


def test_probes_landing_in_another_view_are_named(stack):
    """A service on view 'a' whose probes come from 127.0.0.1 (view
    'b'): never announced, and the reason says where they land."""
    named = two_views(stack)
    relay = lab.Relay(stack, named, services=lab.plain_service(
        view="a", port=named.port))
    proc = lab.RelayUnderTest(stack, relay)
    lab.wait_for(lambda: "land in view b, not a" in relay.ctl("status").stdout,
                 5, interval=0.1, what="the reason naming view b")
    assert proc.wait_command("announce", 0.5) is None


def test_probe_source_picks_the_view(stack):
    named = two_views(stack)
    relay = lab.Relay(stack, named, services=lab.plain_service(
        view="a", port=named.port, source="127.0.0.2"))
    proc = lab.RelayUnderTest(stack, relay)
    assert proc.wait_command("announce route " + V4, 10), proc.proc.text()
    assert proc.wait_command("withdraw", 2.0) is None


def cpu_seconds(pid):
    """User + system CPU time of a process so far (/proc/PID/stat)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_over(pid, seconds):
    before = cpu_seconds(pid)
    time.sleep(seconds)
    return cpu_seconds(pid) - before


def test_hard_trouble_does_not_spin(stack):
    """Issue 13 defect 5: while a service is withdrawn for hard trouble
    the relay waits for news, not in a loop.  A hung named (SIGSTOP:
    snapshots stale) and a named whose query path is silent (snapshots
    arrive, no query is counted) each cost the relay no more CPU than
    judging a healthy named does; before the fix each took a core."""
    named, relay, proc = live_setup(stack)
    pid = proc.proc.pid
    healthy = cpu_over(pid, 2.0)
    named.proc.send_signal(signal.SIGSTOP)
    try:
        assert proc.wait_command("withdraw route " + V4, 1.5) is not None
        hung = cpu_over(pid, 2.0)
    finally:
        named.proc.send_signal(signal.SIGCONT)
    assert proc.wait_command("announce route " + V4, 5) is not None
    # The probes go to a port where nothing answers: snapshots, no query.
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind(("127.0.0.1", 0))
    try:
        text = relay.path.read_text()
        relay.path.write_text(text.replace(f"port: {named.port}\n",
                                           f"port: {sink.getsockname()[1]}\n"))
        assert relay.ctl("reload").returncode == 0
        assert proc.wait_command("withdraw route " + V4, 3) is not None
        silent = cpu_over(pid, 2.0)
        assert "no query seen in view _default" in relay.ctl("status").stdout
    finally:
        sink.close()
    print(f"\nrelay CPU over 2 s: healthy {healthy:.3f} s, named hung "
          f"{hung:.3f} s, view silent {silent:.3f} s")
    # Relative to the same relay at work, with room for one clock tick.
    bound = 3 * healthy + 0.05
    assert hung <= bound and silent <= bound, (healthy, hung, silent)


ZONE = ("$TTL 300\n@ SOA ns h 1 3600 600 86400 300\n  NS ns\n"
        "ns A 192.0.2.1\nwww A 192.0.2.2\n")


@pytest.mark.timeout(240)
def test_reconfig_of_10000_zones_moves_no_route(stack):
    """Issue 13 item 9a: 'rndc reconfig' of 10,000 zones pauses named's
    worker threads for longer than stale-after (0.4 to 1.1 s here,
    against 300 ms): no query is answered, the probes included, while
    the plugin's thread goes on publishing.  The plugin says when the
    reconfig began (named opened named.conf), and for up to
    reconfig-pause the relay judges nothing: no route moves, with the
    defaults and the example's canary (1 s, timeout 500 ms, fall 2).
    Before, the node was withdrawn and announced again."""
    named = lab.Named(stack, interval=100)
    (named.dir / "db.gen").write_text(ZONE)
    named.conf.write_text(named.conf.read_text() + "".join(
        f'zone "z{i}.bench" {{ type primary; file "{named.dir}/db.gen"; }};\n'
        for i in range(10000)))
    named.start(start_timeout=120)
    svc = lab.plain_service(port=named.port) + f"""    fall: 2
    canary:
      server: 127.0.0.1
      port: {named.port}
      name: example
      type: SOA
      interval: 1s
      timeout: 500ms
"""
    relay = lab.Relay(stack, named, services=svc)
    proc = lab.RelayUnderTest(stack, relay)
    assert proc.wait_command("announce route " + V4, 20), proc.proc.text()
    lab.wait_for(lambda: relay.ctl("status").returncode == 0, 10,
                 what="status 0")
    before = len(proc.commands)
    for _ in range(3):
        t0 = time.monotonic()
        assert named.rndc("reconfig").returncode == 0
        print(f"\nrndc reconfig of 10,000 zones: {time.monotonic() - t0:.2f} s")
        time.sleep(2)
    assert proc.commands[before:] == [], proc.commands[before:]
    log = proc.proc.text()
    # When a pause outlasted stale-after (most runs here, not all: the
    # machine is shared), it was excused, and its end seen.
    if "service dns: named is reconfiguring" in log:
        assert "named answers again after its reconfig" in log, log[-3000:]
    else:
        print("no reconfig paused named past stale-after this run")
    assert relay.ctl("status").returncode == 0


def paused_relay(stack):
    """The relay, with reconfig-pause 1s, on a FakePlugin's socket that
    the test feeds by hand; its probes go where nothing answers, as to
    a paused named (one refused would say that named does not listen
    there).  Returns (relay, fake, RelayUnderTest)."""
    named = lab.Named(stack)                   # only for its socket path
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind(("127.0.0.1", 0))
    stack.defer(sink.close)
    relay = lab.Relay(stack, named, services=lab.plain_service(
     rise=1, port=sink.getsockname()[1]))
    relay.path.write_text(relay.path.read_text().replace(
        "\nplugin:\n", "\nplugin:\n  reconfig-pause: 1s\n", 1))
    fake = lab.FakePlugin(named.socket)
    stack.procs.append(fake)
    proc = lab.RelayUnderTest(stack, relay)
    fake.accept()
    fake.hello(interval=100, first=False)
    return relay, fake, proc


def test_reconfig_that_never_ends_is_withdrawn(stack):
    """A named whose reconfig began but whose view never answers again
    is withdrawn at reconfig-pause, and the reason says so; a view never
    seen live is not excused (fail closed at start)."""
    relay, fake, proc = paused_relay(stack)
    seq = 1

    def snapshots(seconds, probed, reconfig=None):
        nonlocal seq
        t0 = time.monotonic()
        while time.monotonic() - t0 < seconds:
            fake.probes += probed
            r = "" if reconfig is None else \
                f" reconfig={int((time.monotonic() - reconfig) * 1000)}"
            fake.send(f"view seq={seq} id=0 name=_default\n"
                      f"outcomes seq={seq} view=0 queries=0 "
                      f"probes={fake.probes}\n"
                      f"tick seq={seq} views=1 records=2 time=0{r}\n")
            seq += 1
            time.sleep(0.1)

    began = time.monotonic()
    snapshots(1.0, False, began)                  # never live: not excused
    assert proc.wait_command("announce", 0) is None
    snapshots(0.5, True)
    assert proc.wait_command("announce route " + V4, 1)
    began = time.monotonic()
    snapshots(0.8, False, began)                  # paused, excused
    assert proc.wait_command("withdraw", 0) is None
    assert "named is reconfiguring" in relay.ctl("status").stdout
    snapshots(0.8, False, began)                  # past reconfig-pause
    took = time.monotonic() - began
    cmd = proc.wait_command("withdraw route " + V4, 0.5)
    assert cmd is not None and took < 2.5, took
    assert ("named is reconfiguring for longer than reconfig-pause 1000 "
            "ms: no query seen in view _default for ") in proc.proc.text()


def test_named_conf_opened_again_and_again_excuses_one_pause(stack):
    """The plugin takes any open of named.conf's file for a reconfig's
    start (a config-management agent, a named-checkconf cron, an editor
    opening it every few seconds), so a reconfig can seem to begin anew
    while named is hung.  The excuse covers one pause: a view silent for
    longer than stale-after and reconfig-pause together is withdrawn,
    however recently the file was opened.  Before, each open renewed the
    excuse and a hung named stayed announced for as long as they went
    on."""
    relay, fake, proc = paused_relay(stack)
    seq = 1

    def snapshot(probed, reconfig=None):
        nonlocal seq
        if probed:
            fake.probes += 1
        r = "" if reconfig is None else \
            f" reconfig={int((time.monotonic() - reconfig) * 1000)}"
        fake.send(f"view seq={seq} id=0 name=_default\n"
                  f"outcomes seq={seq} view=0 queries=0 "
                  f"probes={fake.probes}\n"
                  f"tick seq={seq} views=1 records=2 time=0{r}\n")
        seq += 1
        time.sleep(0.1)

    t0 = time.monotonic()
    while time.monotonic() - t0 < 0.5:
        snapshot(True)
    assert proc.wait_command("announce route " + V4, 1)
    hung = time.monotonic()
    opened = hung
    # named.conf opened every 0.5 s, for 4 s: four times reconfig-pause.
    withdrawn = None
    while withdrawn is None and time.monotonic() - hung < 4.0:
        if time.monotonic() - opened >= 0.5:
            opened = time.monotonic()
        snapshot(False, opened)
        withdrawn = proc.wait_command("withdraw route " + V4, 0)
    took = time.monotonic() - hung
    assert withdrawn is not None, proc.proc.text()[-2000:]
    # stale-after 300 ms + reconfig-pause 1 s, and a snapshot's slack.
    assert took < 2.0, took
    assert "longer than stale-after 300 ms and reconfig-pause 1000 ms " \
        "together, though named.conf was opened" in proc.proc.text()

