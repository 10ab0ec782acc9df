"""Health from inside named: the failures an outside SOA probe misses
take the node out of anycast, judged by the relay's YAML policy, seen
at a real router.  Faults are injected on loopback only."""

import signal
import time

import dns.rcode

import ahtest

V4 = "192.0.2.53/32"
V6 = "2001:db8::53/128"


resolver = ahtest.resolver


def service(checks, name="dns", view="_default", v4=V4, v6=V6, extra="",
            canary_port=None, canary_server="127.0.0.1", min_queries=20):
    canary = ""
    if canary_port:
        canary = f"""
    canary:
      server: "{canary_server}"
      port: {canary_port}
      name: example
      type: SOA
      interval: 200ms
      timeout: 150ms"""
    return ahtest.plain_service(name=name, view=view, v4=v4, v6=v6) + f"""
    window: 2s
    min-queries: {min_queries}
    fall: 2
    checks:
{checks}{canary}{extra}
"""


def up(stack, named, services):
    bird = ahtest.Bird(stack).start()
    relay = ahtest.Relay(stack, named, services=services)
    exa = ahtest.ExaBGP(stack, bird, relay).start()
    return bird, relay, exa


def gone_after(bird, prefix, t0, timeout):
    ahtest.wait_for(lambda: not bird.has_route(prefix), timeout, interval=0.005,
                    what=f"{prefix} withdrawn at BIRD")
    return time.monotonic() - t0


def unique_names(tag):
    return lambda i: f"q{i}-{tag}-{time.monotonic_ns()}.test."


def run_resolver_failure(stack, how):
    upstream = ahtest.FakeUpstream()
    stack.procs.append(upstream)
    named = resolver(stack, upstream.port).start()
    checks = "      recursion-failure-ratio: 50%\n      servfail-ratio: 50%"
    bird, relay, exa = up(stack, named, service(checks, canary_port=named.port))
    load = ahtest.Load(named.port, unique_names(how), qps=50, seconds=30)
    stack.procs.append(load)
    ahtest.wait_for(lambda: bird.has_route(V4), 20, what="announced while upstream answers")
    time.sleep(2.5)                               # a full window of good answers
    assert bird.has_route(V4)

    # The outside probe of the seed still passes: named answers its SOA.
    assert named.query("example", "SOA").rcode() == dns.rcode.NOERROR

    t0 = time.monotonic()
    if how == "refused":
        upstream.close()                          # port closed: fast failure
    else:
        upstream.mode = "silent"                  # packets vanish: timeouts
    took = gone_after(bird, V4, t0, 15)
    assert not bird.has_route(V6)
    assert named.query("example", "SOA").rcode() == dns.rcode.NOERROR
    status = relay.ctl("status").stdout
    assert "recursion failures" in status, status
    log = exa.proc.text()
    down = next(l for l in log.splitlines() if "service dns DOWN, withdrawing" in l)
    assert "recursion failures" in down, down

    # Recovery: the upstream answers again; announced after rise.
    if how == "refused":
        stack.procs.append(ahtest.FakeUpstream(upstream.port))
    else:
        upstream.mode = "answer"
    t1 = time.monotonic()
    ahtest.wait_for(lambda: bird.has_route(V4), 15, what="announced after recovery")
    back = time.monotonic() - t1
    load.stop()
    print(f"\n[{how}] upstream fault -> withdrawn at BIRD in {took:.2f} s "
          f"(window 2 s, fall 2, snapshots every 200 ms); "
          f"recovery -> announced in {back:.2f} s")
    return took


def test_resolver_upstream_refused(stack):
    took = run_resolver_failure(stack, "refused")
    assert took < 2 + 1 + 1, "within window + fall + slack"


def test_resolver_upstream_timeout(stack):
    took = run_resolver_failure(stack, "silent")
    # named itself gives up on each query only after 10 s; recursions
    # started and never finished tell sooner.
    assert took < 2 + 1 + 1


# Secondaries that refresh every 2 s, so an expiry comes within seconds.
FAST_REFRESH = """recursion no;
	min-refresh-time 1; min-retry-time 1;
	max-refresh-time 2; max-retry-time 1;"""


def primary_of_sec(stack):
    """A plain named, primary for sec.example with SOA refresh 2, retry
    1, expire 5: a secondary's copy expires 5 s after it goes away."""
    primary = ahtest.Named(stack, name="primary", plugin=False)
    (primary.dir / "db.sec").write_text(
        "$TTL 1\n@ SOA ns1.sec.example. h.sec.example. 7 2 1 5 1\n"
        "  NS ns1.sec.example.\nns1 A 192.0.2.53\nwww A 198.51.100.81\n")
    primary.conf.write_text(primary.conf.read_text() + f"""
zone "sec.example" {{ type primary; file "{primary.dir}/db.sec"; allow-transfer {{ any; }}; }};
""")
    return primary.start()


def secondary_pair(stack, watch):
    """A primary for sec.example and a secondary (with the plugin) whose
    copy expires 5 s after the primary goes away."""
    primary = primary_of_sec(stack)

    named = ahtest.Named(stack, name="secondary")
    text = named.conf.read_text()
    text = text.replace("recursion no;", FAST_REFRESH)
    text = text.replace('zones { "example"; };', watch)
    text += f"""
zone "sec.example" {{ type secondary; file "{named.dir}/sec.bk";
	primaries {{ 127.0.0.1 port {primary.port}; }}; }};
"""
    named.conf.write_text(text)
    named.start()
    ahtest.wait_for(lambda: named.query("www.sec.example").rcode() == dns.rcode.NOERROR,
                    10, interval=0.1, what="secondary to transfer the zone")
    return primary, named


def test_secondary_zone_expires(stack):
    primary, named = secondary_pair(stack, 'zones { "example"; "sec.example"; };')
    checks = "      zones: [example, sec.example]"
    bird, relay, exa = up(stack, named, service(checks, canary_port=named.port))
    ahtest.wait_for(lambda: bird.has_route(V4), 20, what="announced")

    t0 = time.monotonic()
    primary.kill()
    took = gone_after(bird, V4, t0, 20)
    # What the seed's probe does, at the moment of withdrawal: TCP
    # connect + SOA lookup.  It still passes, for the zone it asks about.
    assert named.query("example", "SOA", tcp=True).rcode() == dns.rcode.NOERROR
    assert "zone sec.example: expired" in relay.ctl("status").stdout
    # The relay acts on the expire time itself; named's own timer that
    # unloads the zone follows within moments.
    ahtest.wait_for(lambda: named.query("www.sec.example").rcode() == dns.rcode.SERVFAIL,
                    5, interval=0.1, what="named to expire the zone")
    assert "expired" in named.proc.text()
    assert named.query("example", "SOA", tcp=True).rcode() == dns.rcode.NOERROR
    print(f"\nprimary killed -> secondary zone expired -> withdrawn at BIRD in "
          f"{took:.2f} s (SOA expire 5 s, checked every 200 ms)")
    # Expiry counts from the last good refresh (every 2 s), not the kill.
    assert 2 < took < 9


def test_zone_that_fails_to_load_never_announces(stack):
    named = ahtest.Named(stack)
    (named.dir / "broken.db").write_text("$TTL 300\n@ SOA this is not a zone\n")
    text = named.conf.read_text().replace('zones { "example"; };',
                                          'zones { "example"; "broken"; };')
    named.conf.write_text(text + f'zone "broken" {{ type primary; file "{named.dir}/broken.db"; }};\n')
    named.start()
    checks = "      zones: [example, broken]"
    bird, relay, exa = up(stack, named, service(checks, canary_port=named.port))
    ahtest.wait_for(lambda: bird.established("ns1"), 20, what="BGP session up")
    deadline = time.monotonic() + 4
    while time.monotonic() < deadline:
        assert not bird.has_route(V4)
        time.sleep(0.1)
    status = relay.ctl("status")
    assert status.returncode == 2
    assert "zone broken: not loaded" in status.stdout
    sent = [l for l in exa.proc.text().splitlines() if "to exabgp:" in l]
    assert sent and not any(" announce " in l for l in sent), sent


def test_servfail_storm_trips_trickle_does_not(stack):
    # Upstream closed: every recursive query is a quick SERVFAIL.
    dead = ahtest.free_port()
    named = resolver(stack, dead).start()
    checks = "      servfail-ratio: 20%"
    # The canary's 5 queries a second count as traffic too.
    bird, relay, exa = up(stack, named, service(checks, canary_port=named.port,
                                                min_queries=50))
    ahtest.wait_for(lambda: bird.has_route(V4), 20, what="announced")

    # A trickle: 10 SERVFAILs over 2 s, below min-queries 50 per window.
    trickle = ahtest.Load(named.port, unique_names("trickle"), qps=5, seconds=2)
    trickle.wait()
    assert trickle.rcodes.get(2, 0) >= 8, trickle.rcodes
    time.sleep(1.0)
    assert bird.has_route(V4), "a trickle below min-queries must not withdraw"
    assert "DOWN" not in exa.proc.text()
    assert "below min-queries 50" in relay.ctl("status").stdout

    # A storm: 400 queries a second of SERVFAIL, bounded to 5 s.
    t0 = time.monotonic()
    storm = ahtest.Load(named.port, unique_names("storm"), qps=400, seconds=5)
    stack.procs.append(storm)
    took = gone_after(bird, V4, t0, 10)
    storm.wait()
    assert storm.rcodes.get(2, 0) > 100, storm.rcodes
    assert "service dns DOWN, withdrawing: SERVFAIL" in exa.proc.text()
    # The plugin saw them as SERVFAIL answers after (failed) recursion.
    assert "recursion_servfail" in relay.ctl("show", "counters").stdout
    print(f"\nSERVFAIL storm -> withdrawn at BIRD in {took:.2f} s")


def test_two_views_only_the_broken_one_goes(stack):
    primary = primary_of_sec(stack)

    named = ahtest.Named(stack)
    rest, plugin_a, zone = named.sections()
    plugin_b = plugin_a.replace('zones { "example"; };', 'zones { "example"; "sec.example"; };')
    body = rest.replace(
        "listen-on-v6 { none; };", f"listen-on-v6 port {named.port} {{ ::1; }};")
    body = body.replace("recursion no;", FAST_REFRESH)
    body += f"""
view "a" {{
	match-destinations {{ 127.0.0.1; }};
	{plugin_a}
	{zone}
}};
view "b" {{
	match-destinations {{ ::1; }};
	{plugin_b}
	{zone}
	zone "sec.example" {{ type secondary; file "{named.dir}/sec.bk";
		primaries {{ 127.0.0.1 port {primary.port}; }}; }};
}};
"""
    named.conf.write_text(body)
    named.start()
    services = (service("      zones: [example]", name="a", view="a",
                        v4="192.0.2.53/32", v6="2001:db8::53/128",
                        canary_port=named.port) +
                service("      zones: [example, sec.example]", name="b", view="b",
                        v4="198.51.100.53/32", v6="2001:db8:b::53/128",
                        canary_port=named.port, canary_server="::1"))
    bird, relay, exa = up(stack, named, services)
    ahtest.wait_for(lambda: bird.has_route("192.0.2.53/32") and
                    bird.has_route("198.51.100.53/32"), 20, what="both services announced")

    primary.kill()
    gone_after(bird, "198.51.100.53/32", time.monotonic(), 20)
    assert not bird.has_route("2001:db8:b::53/128")
    # Service a, on the healthy view, stays.
    time.sleep(1)
    assert bird.has_route("192.0.2.53/32") and bird.has_route("2001:db8::53/128")
    assert "service b DOWN" in exa.proc.text()
    assert "service a DOWN" not in exa.proc.text()


def test_flap_damping_bounds_bgp_changes(stack):
    named = ahtest.Named(stack)
    named.start()
    damping = """
    damping:
      max-changes: 4
      period: 60s
      hold: 30s"""
    bird, relay, exa = up(stack, named, service("      zones: [example]",
                                                canary_port=named.port, extra=damping))
    ahtest.wait_for(lambda: bird.has_route(V4), 20, what="announced")
    # named crashes and comes back, again and again: ~8 flips in ~10 s.
    for _ in range(8):
        named.kill(signal.SIGKILL)
        time.sleep(0.3)
        named.start()
        time.sleep(0.9)
    time.sleep(1)
    changes = ahtest.bird_changes(bird, V4)
    assert 1 <= len(changes) <= 4, changes      # the first announce counts too
    assert "HELD by flap damping" in relay.ctl("status").stdout
    assert not bird.has_route(V4), "held down after the budget is spent"


def test_depref_instead_of_withdraw(stack):
    """when-down: depref keeps a degraded node announced as a last resort,
    with RFC 8326 GRACEFUL_SHUTDOWN and a worse MED; a dead named is
    still withdrawn outright."""
    dead = ahtest.free_port()
    named = resolver(stack, dead).start()
    depref = """
    when-down: depref
    depref:
      med: 1000
      as-path: [65053, 65053]
      communities: ["65535:0"]"""
    bird, relay, exa = up(stack, named, service("      servfail-ratio: 20%",
                                                canary_port=named.port,
                                                min_queries=50, extra=depref))
    ahtest.wait_for(lambda: bird.has_route(V4), 20, what="announced")
    route = bird.birdc("show", "route", "all", V4)
    assert "BGP.med: 100" in route and "(65535,0)" not in route

    storm = ahtest.Load(named.port, unique_names("depref"), qps=400, seconds=4)
    stack.procs.append(storm)
    ahtest.wait_for(lambda: "(65535,0)" in bird.birdc("show", "route", "all", V4), 10,
                    interval=0.05, what="route depreferred at BIRD")
    route = bird.birdc("show", "route", "all", V4)
    assert "BGP.med: 1000" in route
    # ExaBGP sends the path as given: own AS plus one prepend.
    assert "BGP.as_path: 65053 65053\n" in route
    assert "(65000,53)" in route                 # its own communities kept
    assert "DEPREFERRED" in relay.ctl("status").stdout
    storm.wait()

    named.kill()                                 # dead: withdrawn, not depreferred
    ahtest.wait_for(lambda: not bird.has_route(V4), 2, interval=0.005,
                    what="withdrawal when named dies")


def test_all_zones_summary(stack):
    """all-zones: the plugin summarises every zone; one that fails to
    load keeps a 'zones: all' service down and is named in the reason."""
    named = ahtest.Named(stack)
    (named.dir / "broken.db").write_text("$TTL 300\n@ SOA this is not a zone\n")
    (named.dir / "good.db").write_text((ahtest.CONF / "db.example").read_text())
    text = named.conf.read_text().replace('zones { "example"; };', "all-zones yes;")
    named.conf.write_text(text + f"""
zone "broken.test" {{ type primary; file "{named.dir}/broken.db"; }};
zone "good.test" {{ type primary; file "{named.dir}/good.db"; }};
""")
    named.start()
    bird, relay, exa = up(stack, named, service("      zones: all",
                                                canary_port=named.port))
    ahtest.wait_for(lambda: "1 of 3 zones unhealthy: broken.test"
                    in relay.ctl("status").stdout, 10, interval=0.1,
                    what="the broken zone named in the reason")
    assert not bird.has_route(V4)
    # Fix the zone and reload it: the service comes up.
    (named.dir / "broken.db").write_text((ahtest.CONF / "db.example").read_text())
    assert named.rndc("reload", "broken.test").returncode == 0
    ahtest.wait_for(lambda: bird.has_route(V4), 10, what="announced once all zones load")
    assert "all 3 zones loaded" in relay.ctl("status").stdout
