"""The metrics the dashboard and the alerting rules rest on (issue 16
items 4 and 5; doc/monitoring.md)."""

import json

import lab


# --- the metrics added for them ---------------------------------------

def metrics(relay):
    from lab.relay import parse_exposition
    return parse_exposition(relay.ctl("metrics").stdout)


def current(got, family, label, **match):
    """The value of 'label' on the family's sample that is 1, among
    those whose labels include 'match'; None if there is none."""
    ones = [dict(k[1])[label] for k, v in got.items()
            if k[0] == family and v == 1
            and all(dict(k[1]).get(a) == b for a, b in match.items())]
    assert len(ones) <= 1, (family, match, ones)
    return ones[0] if ones else None


def last_change(got):
    (lab,) = [dict(k[1]) for k in got if k[0] == "anycast_health_service_last_change_info"]
    return lab["from"], lab["to"], lab["reason"]


def test_metrics_say_where_a_service_is_and_why(stack):
    """Route, cause, each prefix's state and the last change with its
    reason, as a node goes up, loses named and is drained."""
    import time
    named = lab.Named(stack).start()
    relay = lab.Relay(stack, named)
    proc = lab.RelayUnderTest(stack, relay)
    assert proc.wait_command("announce route 2001:db8::53/128", 10)
    got = lab.wait_for(lambda: (lambda g: g if current(
        g, "anycast_health_prefix_state", "state", prefix="2001:db8::53/128") ==
        "announced" else None)(metrics(relay)), 5, what="both prefixes announced")
    assert current(got, "anycast_health_service_route", "route") == "announced"
    assert current(got, "anycast_health_service_cause", "cause") == "none"
    assert current(got, "anycast_health_prefix_state", "state",
                   prefix="192.0.2.53/32") == "announced"
    frm, to, why = last_change(got)
    assert (frm, to) == ("withdrawn", "announced") and "zone loaded" in why, why
    st = json.loads(relay.ctl("-j", "status").stdout)
    assert got[("anycast_health_feed_stale_after_seconds", ())] == \
        st["feed"]["stale_after_ms"] / 1000

    named.kill()
    assert proc.wait_command("withdraw route 192.0.2.53/32", 5)
    got = metrics(relay)
    assert current(got, "anycast_health_service_route", "route") == "withdrawn"
    assert current(got, "anycast_health_service_cause", "cause") == "feed"
    assert current(got, "anycast_health_prefix_state", "state",
                   prefix="192.0.2.53/32") == "withdrawn"
    frm, to, why = last_change(got)
    assert (frm, to) == ("announced", "withdrawn")
    assert why.startswith("no feed from named: named closed the socket"), why
    assert not [k for k in got if k[0] == "anycast_health_drain_start_timestamp_seconds"]

    named.start()
    assert proc.wait_command("announce route 192.0.2.53/32", 10)
    t0 = time.time()
    assert relay.ctl("drain", "dns").returncode == 0
    got = metrics(relay)
    assert current(got, "anycast_health_service_cause", "cause") == "drain"
    assert current(got, "anycast_health_service_route", "route") in ("draining", "withdrawn")
    since = got[("anycast_health_drain_start_timestamp_seconds", (("service", "dns"),))]
    assert t0 - 1 <= since <= time.time(), (t0, since)


def test_a_failing_check_is_the_cause(stack):
    """A zone the plugin does not report fails the zones check: cause
    'checks'."""
    named = lab.Named(stack).start()
    relay = lab.Relay(stack, named, replacements=[
        ("zones: [example]", "zones: [example, nosuch.example]")])
    lab.RelayUnderTest(stack, relay)
    got = lab.wait_for(lambda: (lambda g: g if current(
        g, "anycast_health_service_cause", "cause") == "checks" else None)(
            metrics(relay)), 10, what="cause checks")
    assert got[("anycast_health_check_failing",
                (("check", "zones"), ("service", "dns")))] == 1
    assert current(got, "anycast_health_service_route", "route") == "withdrawn"


def test_a_missing_view_is_the_cause_and_names_stay_utf8(stack):
    """A named that publishes another view: cause 'view'.  Its view's
    name is not UTF-8 (a Latin-1 e-acute), which Prometheus would refuse
    the whole scrape for: the label shows U+FFFD instead."""
    relay, fake, proc = lab.fake_relay(stack, lab.plain_service())
    fake.snapshot(1, views=("caf%E9", "caf%C3%A9"))
    got = lab.wait_for(lambda: (lambda g: g if current(
        g, "anycast_health_service_cause", "cause") == "view" else None)(
            metrics(relay)), 5, what="cause view")
    views = {dict(k[1])["view"] for k in got if k[0] == "anycast_health_queries_total"}
    assert views == {"caf\ufffd", "caf\u00e9"}, views
    exposition = json.loads(relay.ctl("-j", "metrics").stdout)["exposition"]
    assert 'view="caf\ufffd"' in exposition
