"""Liveness from named's query path, with the default configuration
(issue 8 items 1-3): the relay probes named once per plugin interval
and a view is live only while its counters move."""

import signal
import time

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
