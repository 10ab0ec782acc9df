# SPDX-License-Identifier: MPL-2.0
"""A status that never overstates (issue 16, item 1): a prefix is
announced only when ExaBGP has accepted its command and a BGP session
that carries it is up.  Otherwise status, its exit status, the metrics
and the log say what it is (doc/cli.md sections 1.2, 2.2 and 2.5).

Where the router must agree, over the real chain (named -> relay ->
ExaBGP -> BIRD); where the order of ExaBGP's answers is the point,
with the test playing ExaBGP.
"""

import json
import os
import signal
import time

import lab
from lab.relay import parse_exposition, validate

V4 = "192.0.2.53/32"
V6 = "2001:db8::53/128"
# A neighbor exabgp.conf does not have (the example's is 127.0.0.1 here).
STRANGER = "192.0.2.99"


def status(relay):
    """(exit status, JSON status) with the JSON checked against the schema."""
    r = relay.ctl("-j", "status")
    return r.returncode, validate(json.loads(r.stdout))


def prefixes(doc):
    return {p["prefix"]: p for s in doc["services"] for p in s["prefixes"]}


def metric(relay, name, **labels):
    got = parse_exposition(relay.ctl("metrics").stdout)
    return got.get((name, tuple(sorted(labels.items()))))


def settled(relay, want):
    """Waits until every prefix's state is as 'want' says; the status."""
    def check():
        rc, doc = status(relay)
        got = {k: v["state"] for k, v in prefixes(doc).items()}
        return (rc, doc) if got == want else None
    return lab.wait_for(check, 30, interval=0.05, what=f"prefixes {want}")


def test_a_neighbor_exabgp_does_not_have_is_an_error_everywhere(stack):
    """ExaBGP answers 'error' to a command for a neighbor it does not
    have: the prefix is rejected in status, exit status, metrics and
    the log (at error level), while the other prefix is announced."""
    named, bird, relay, exa = lab.chain(
        stack, [("neighbor: 127.0.0.1", f"neighbor: {STRANGER}")], wait=False)
    lab.wait_for(lambda: bird.has_route(V6), 30, what=f"{V6} at BIRD")
    rc, doc = settled(relay, {V4: "rejected", V6: "announced"})
    assert rc == 2, "a rejected prefix is not announced"
    p = prefixes(doc)[V4]
    assert p["route"] == "announced" and p["exabgp"] == "rejected"
    assert p["why"] == (f"rejected by ExaBGP: it has no neighbor {STRANGER} "
                        "(its neighbors: 127.0.0.1, ::1)"), p
    assert p["sent"].startswith(f"neighbor {STRANGER} announce route {V4}")
    assert doc["exabgp"]["rejected"] >= 2       # the start's withdraw too
    assert not bird.has_route(V4)

    text = relay.ctl("status").stdout
    assert f"rejected by ExaBGP: it has no neighbor {STRANGER}" in text
    line = next(l for l in text.splitlines() if V4 in l and "since" in l)
    assert line.split()[1] == "rejected", line

    assert metric(relay, "anycast_health_prefix_announced",
                  service="dns", prefix=V4) == 0
    assert metric(relay, "anycast_health_prefix_rejected",
                  service="dns", prefix=V4) == 1
    assert metric(relay, "anycast_health_prefix_announced",
                  service="dns", prefix=V6) == 1
    assert metric(relay, "anycast_health_prefix_rejected",
                  service="dns", prefix=V6) == 0
    assert metric(relay, "anycast_health_exabgp_rejected_total") >= 2

    log = exa.proc.text()
    assert (f"error: ExaBGP rejected: neighbor {STRANGER} announce route "
            f"{V4}") in log, log[-3000:]
    assert "warning: ExaBGP rejected" not in log

    # A reload of the file running, or of another change to it, is not
    # refused for the neighbor it already had (the start took it, and a
    # reload refusing it blocked every other change): said, not counted.
    relay.path.write_text(relay.path.read_text().replace("med: 100",
                                                         "med: 110"))
    r = relay.ctl("reload")
    assert r.returncode == 0, r.stdout + r.stderr
    assert (f"warning: {relay.path}:") in r.stdout and (
        f"neighbor '{STRANGER}' is not one of ExaBGP's neighbors (127.0.0.1, "
        "::1): ExaBGP rejects its routes, as it did before this reload") \
        in r.stdout, r.stdout


def test_reload_refuses_a_neighbor_exabgp_does_not_have(stack):
    """ExaBGP has said which neighbors it has: a reload naming another
    is refused with the place in the file, and nothing changes."""
    named, bird, relay, exa = lab.chain(stack, wait=False)
    lab.wait_for(lambda: bird.has_route(V4) and bird.has_route(V6), 30,
                 what="both prefixes at BIRD")
    settled(relay, {V4: "announced", V6: "announced"})
    text = relay.path.read_text()
    relay.path.write_text(text.replace("neighbor: 127.0.0.1",
                                       f"neighbor: {STRANGER}"))
    lines = relay.path.read_text().splitlines()
    row = next(i for i, l in enumerate(lines) if STRANGER in l)
    col = lines[row].index(STRANGER)
    where = f"{relay.path}:{row + 1}:{col + 1}: "

    r = relay.ctl("reload")
    assert r.returncode == 1, r.stdout + r.stderr
    assert (f"{where}neighbor '{STRANGER}' is not one of ExaBGP's "
            "neighbors (127.0.0.1, ::1)") in r.stderr, r.stderr
    assert "configuration rejected; the running configuration is unchanged" \
        in r.stderr
    r = relay.ctl("-j", "reload")
    err = validate(json.loads(r.stdout))["error"]
    assert err["code"] == "config"
    assert any(d.startswith(where) for d in err["details"]), err

    # Announced as before; the file on disk is the rejected one: 6.
    rc, doc = status(relay)
    assert rc == 6 and all(p["sent"].startswith("neighbor 127.0.0.1 ") or
                           p["sent"].startswith("neighbor ::1 ")
                           for p in prefixes(doc).values())
    assert bird.has_route(V4)
    # The neighbor it has is accepted.
    relay.path.write_text(text.replace("med: 100", "med: 110"))
    r = relay.ctl("reload")
    assert r.returncode == 0, r.stderr
    settled(relay, {V4: "announced", V6: "announced"})


def test_a_session_down_is_not_announced_until_it_is_up_again(stack):
    """birdc disable: the prefix that session carries is 'sent, session
    down', exit status 2, metric 0; announced again after enable."""
    named, bird, relay, exa = lab.chain(stack, wait=False)
    lab.wait_for(lambda: bird.has_route(V4) and bird.has_route(V6), 30,
                 what="both prefixes at BIRD")
    rc, doc = settled(relay, {V4: "announced", V6: "announced"})
    assert rc == 0
    assert metric(relay, "anycast_health_prefix_announced",
                  service="dns", prefix=V4) == 1

    bird.birdc("disable", "ns1")
    rc, doc = settled(relay, {V4: "session-down", V6: "announced"})
    assert rc == 2
    p = prefixes(doc)[V4]
    assert p["route"] == "announced" and p["exabgp"] == "accepted"
    assert p["why"].startswith("sent, session down: 127.0.0.1 "), p
    assert not bird.has_route(V4)
    text = relay.ctl("status").stdout
    assert "sent, session down: 127.0.0.1" in text, text
    assert metric(relay, "anycast_health_prefix_announced",
                  service="dns", prefix=V4) == 0
    assert metric(relay, "anycast_health_prefix_announced",
                  service="dns", prefix=V6) == 1

    bird.birdc("enable", "ns1")
    rc, doc = settled(relay, {V4: "announced", V6: "announced"})
    assert rc == 0
    lab.wait_for(lambda: bird.has_route(V4), 10, what=f"{V4} at BIRD again")
    assert metric(relay, "anycast_health_prefix_announced",
                  service="dns", prefix=V4) == 1


def test_sessions_are_known_again_after_a_respawn(stack):
    """ExaBGP tells a process about a session only when it changes: the
    relay it respawns asks, and knows both sessions within a second,
    with the time they came up."""
    named, bird, relay, exa = lab.chain(stack, wait=False)
    lab.wait_for(lambda: bird.has_route(V4) and bird.has_route(V6), 30,
                 what="both prefixes at BIRD")
    time.sleep(1.5)                 # ExaBGP counts up-time in seconds
    rc, doc = status(relay)
    old = doc["relay"]["pid"]
    os.kill(old, signal.SIGKILL)

    def respawned():
        r = relay.ctl("-j", "status")
        if r.returncode == 3:
            return None
        d = validate(json.loads(r.stdout))
        # A request the killed relay had accepted but not answered.
        if "error" in d:
            return None
        return d if d["relay"]["pid"] != old else None
    doc = lab.wait_for(respawned, 10, interval=0.02, what="a new relay")

    def both_up():
        d = validate(json.loads(relay.ctl("-j", "status").stdout))
        s = {x["peer"]: x for x in d["sessions"]}
        return d if {k: v["state"] for k, v in s.items()} == {
            "127.0.0.1": "up", "::1": "up"} else None
    doc = lab.wait_for(both_up, 5, interval=0.02, what="sessions known")
    known = time.time() * 1000
    started = doc["relay"]["started"]
    assert known - started < 1000, f"known {known - started:.0f} ms after start"
    for s in doc["sessions"]:
        assert s["since"] < started, "up since before the respawn"
    assert "no session reported" not in relay.ctl("status").stdout
    for peer in ("127.0.0.1", "::1"):
        assert metric(relay, "anycast_health_bgp_session_up", peer=peer) == 1
    # And the prefixes come back as announced, truly.
    settled(relay, {V4: "announced", V6: "announced"})


def relay_only(stack):
    # A drain that outlives the test: it stays draining, not drained.
    return lab.relay_only(stack, replacements=[("hold: 2s", "hold: 30s")])


def test_answers_are_matched_to_commands_in_order(stack):
    """ExaBGP answers each command in turn, 'done' or 'error', with no
    name on it: the relay matches them in order, so the one rejected
    command is the one the status calls rejected, and a command not
    answered yet is 'sent, waiting for ExaBGP'."""
    named, relay, proc = relay_only(stack)
    proc.reject = (f"announce route {V6}",)
    assert proc.wait_command(f"announce route {V6}", 10)
    rc, doc = settled(relay, {V4: "announced", V6: "rejected"})
    assert rc == 2
    assert prefixes(doc)[V6]["why"] == ("rejected by ExaBGP: its log says "
                                       "why"), prefixes(doc)[V6]
    log = proc.proc.text()
    assert log.count("error: ExaBGP rejected: ") == 1, log
    assert (f"error: ExaBGP rejected: neighbor ::1 announce route {V6} "
            "next-hop self") in log

    proc.reject = ()
    proc.hold = True                    # answers wait for release()
    assert relay.ctl("drain", "dns").returncode == 0
    assert "65535:0" in proc.wait_command(f"announce route {V4}", 5)
    assert "65535:0" in proc.wait_command(f"announce route {V6}", 5)
    rc, doc = settled(relay, {V4: "waiting", V6: "waiting"})
    assert rc == 2
    assert prefixes(doc)[V4]["why"] == "sent, waiting for ExaBGP"
    assert prefixes(doc)[V4]["exabgp"] == "waiting"
    assert doc["exabgp"]["waiting"] >= 2
    assert "sent, waiting for ExaBGP" in relay.ctl("status").stdout
    proc.release()
    settled(relay, {V4: "draining", V6: "draining"})


def test_a_session_carries_only_the_families_exabgp_gives_it(stack):
    """A prefix without neighbor needs a session up of its family; one
    with a neighbor needs that session to have its family, as ExaBGP's
    answer to 'show neighbor extensive' lists them."""
    named = lab.Named(stack).start()
    relay = lab.Relay(stack, named, services=f"""
  - name: dns
    view: _default
    prefixes:
      - prefix: {V4}
      - prefix: {V6}
      - prefix: 2001:db8::54/128
        neighbor: 127.0.0.1
    liveness:
      port: {named.port}
""")
    proc = lab.RelayUnderTest(stack, relay, sessions={
        "127.0.0.1": ("ESTABLISHED", "ipv4 unicast"),
        "::1": ("IDLE", "ipv6 unicast")})
    assert proc.wait_command(f"announce route {V6}", 10)
    rc, doc = settled(relay, {V4: "announced", V6: "session-down",
                              "2001:db8::54/128": "session-down"})
    assert rc == 2
    p = prefixes(doc)
    assert p[V6]["why"] == ("sent, session down: no session up carries "
                            "ipv6 unicast"), p[V6]
    assert p["2001:db8::54/128"]["why"] == ("sent, but session 127.0.0.1 "
                                            "does not carry ipv6 unicast")
    # ExaBGP reports the session up; the relay asks, and believes it.
    proc.sessions = {"127.0.0.1": ("ESTABLISHED", "ipv4 unicast"),
                     "::1": ("ESTABLISHED", "ipv6 unicast")}
    proc.say("neighbor ::1 up\n\n")
    settled(relay, {V4: "announced", V6: "announced",
                    "2001:db8::54/128": "session-down"})


LOOP_PATH = ("as-path: [65053, 65053, 65053]", "as-path: [65053, 65000]")


def test_a_depref_path_the_router_drops_is_said_and_not_out_there(stack):
    """ExaBGP sends the depref as-path as the whole AS_PATH: one that
    holds the peer's own AS is a loop to the router, which drops the
    announcement, so a drain or a depref takes the prefix out where the
    operator chose to keep it depreferred.  The relay says so once
    ExaBGP has told it the sessions' AS numbers (show neighbor
    extensive), not again at each of ExaBGP's answers, again at a
    reload, and the status calls the prefix not out there rather than
    draining."""
    named, bird, relay, exa = lab.chain(
        stack, [LOOP_PATH, ("hold: 2s", "hold: 30s")])
    settled(relay, {V4: "announced", V6: "announced"})
    said = ("depref as-path [65053 65000] of service dns holds AS 65000, "
            "the AS of neighbor 127.0.0.1: it drops the depreferred "
            "announcements as a loop")
    lines = relay.path.read_text().splitlines()
    row = next(i for i, l in enumerate(lines) if "65000]" in l)
    where = f"{relay.path}:{row + 1}:{lines[row].index('[') + 1}: "
    lab.wait_for(lambda: where + said in exa.proc.text(), 10,
                 what="the warning once the AS numbers are known")
    assert ("depref as-path [65053 65000] of service dns holds AS 65000, "
            "the AS of neighbor ::1") in exa.proc.text()

    assert relay.ctl("drain", "dns").returncode == 0
    lab.wait_for(lambda: not bird.has_route(V4), 10,
                 what="BIRD dropping the looped announcement")
    rc, doc = settled(relay, {V4: "session-down", V6: "session-down"})
    assert rc == 2
    time.sleep(10)              # ExaBGP's next answer, with the AS numbers
    p = prefixes(doc)[V4]
    assert p["route"] == "draining" and p["exabgp"] == "accepted"
    assert p["why"] == ("sent, but neighbor 127.0.0.1 (AS 65000) drops it "
                        "as a loop: its as-path [65053 65000] holds AS "
                        "65000"), p
    assert "as-path [65053 65000]" in p["sent"]
    assert metric(relay, "anycast_health_prefix_announced",
                  service="dns", prefix=V4) == 0

    # A reload keeping the path says it again, with the place, and is
    # taken (refusing it would block every other change); one whose
    # path only a router checking the first AS drops is taken, said.
    text = relay.path.read_text()
    relay.path.write_text(text.replace("med: 100\n", "med: 110\n"))
    r = relay.ctl("reload")
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"warning: {where}{said}" in r.stdout, r.stdout
    # ExaBGP has answered again since (every 10 s): said once, besides
    # the reload's words.
    assert exa.proc.text().count(f"] warning: {where}{said}") == 1, \
        exa.proc.text()[-3000:]
    relay.path.write_text(text.replace(LOOP_PATH[1], "as-path: [65001]"))
    r = relay.ctl("reload")
    assert r.returncode == 0, r.stdout + r.stderr
    assert ("depref as-path [65001] of service dns starts with AS 65001, "
            "not 65053, ExaBGP's AS on neighbor 127.0.0.1: a router that "
            "checks the first AS (RFC 4271 section 6.3; FRR and Cisco IOS "
            "do by default) drops the depreferred announcements") \
        in r.stdout, r.stdout
    # BIRD does not check it by default: out there, draining.
    lab.wait_for(lambda: bird.has_route(V4), 10, what=f"{V4} back at BIRD")
    settled(relay, {V4: "draining", V6: "draining"})


def test_a_reload_refuses_a_new_depref_path_the_router_drops(stack):
    """A path that was fine made a loop by a reload is refused, with its
    place in the file: the prefixes stay as they are."""
    named, bird, relay, exa = lab.chain(stack)
    settled(relay, {V4: "announced", V6: "announced"})
    lab.wait_for(lambda: relay.ctl("-j", "status").returncode == 0 and
                 json.loads(relay.ctl("-j", "status").stdout)["exabgp"]
                 .get("neighbors_at"), 10, what="ExaBGP's neighbors")
    text = relay.path.read_text()
    relay.path.write_text(text.replace(*LOOP_PATH))
    lines = relay.path.read_text().splitlines()
    row = next(i for i, l in enumerate(lines) if "65000]" in l)
    col = lines[row].index("[") + 1
    r = relay.ctl("reload")
    assert r.returncode == 1, r.stdout + r.stderr
    assert (f"{relay.path}:{row + 1}:{col}: depref as-path [65053 65000] of "
            "service dns holds AS 65000, the AS of neighbor 127.0.0.1: it "
            "drops the depreferred announcements as a loop") in r.stderr, \
        r.stderr
    assert "configuration rejected; the running configuration is unchanged" \
        in r.stderr
    relay.path.write_text(text)
    assert relay.ctl("drain", "dns").returncode == 0
    settled(relay, {V4: "draining", V6: "draining"})
    assert bird.has_route(V4)
