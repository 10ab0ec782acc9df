# SPDX-License-Identifier: MPL-2.0
"""The relay's control socket as operators and scripts meet it:
who may connect and for how long, the commands, their JSON and exit
codes (doc/protocol.md section 3, doc/cli.md section 2)."""

import json
import re
import shutil
import socket
import subprocess
import time

import lab
from lab.relay import as_nobody, parse_exposition, relay_on_public_socket, validate


def test_silent_clients_do_not_lock_out_anycastctl(stack):
    """16 connections that never speak (the relay serves 16 at a time)
    must neither block anycastctl nor be kept forever."""
    named, relay, proc = lab.relay_only(stack, wait=True)
    silent = []
    for _ in range(16):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(relay.control)
        silent.append(s)
    time.sleep(0.2)                     # let the relay accept them all
    r = relay.ctl("status")
    assert r.returncode == 0, r.stdout + r.stderr
    # Each silent client is dropped within a bounded time.
    for s in silent:
        s.settimeout(15)
        assert s.recv(1) == b"", "connection closed by the relay"
        s.close()
    assert proc.proc.alive()


def ctl_json(relay, *args):
    r = relay.ctl("-j", *args)
    return r.returncode, validate(json.loads(r.stdout))


def test_json_of_every_command_follows_the_schema(stack):
    named, relay, proc = lab.relay_only(stack, wait=True)
    # Wait for a canary result and a second snapshot's worth of checks.
    lab.wait_for(lambda: "canary example: NOERROR"
                 in relay.ctl("status").stdout, 5, what="canary result")

    rc, st = ctl_json(relay, "status")
    assert rc == 0
    assert st["relay"]["protocol"] >= 1
    assert st["feed"]["state"] == "up" and st["feed"]["named_pid"] == named.proc.pid
    assert st["feed"]["views"] == ["_default"]
    (svc,) = st["services"]
    assert svc["name"] == "dns" and svc["state"] == "up" and svc["route"] == "announced"
    assert {c["name"] for c in svc["checks"]} == {
        "servfail-ratio", "recursion-failure-ratio", "recursion-latency",
        "zones", "canary"}
    assert [p["prefix"] for p in svc["prefixes"]] == ["192.0.2.53/32", "2001:db8::53/128"]
    assert svc["prefixes"][0]["sent"] == ("neighbor 127.0.0.1 announce route "
                                          "192.0.2.53/32 next-hop self med 100 "
                                          "community [65000:53]")

    rc, c = ctl_json(relay, "show", "counters")
    assert rc == 0 and c["views"][0]["name"] == "_default"
    assert c["views"][0]["counters"]["queries"] >= 1

    rc, z = ctl_json(relay, "show", "zones", "_default")
    assert rc == 0 and z["view"] == "_default"
    (zone,) = z["views"][0]["zones"]
    assert zone["name"] == "example" and zone["loaded"] and zone["serial"] == 1

    rc, k = ctl_json(relay, "show", "checks", "dns")
    canary = next(x for x in k["services"][0]["checks"] if x["name"] == "canary")
    assert canary["unit"] == "ms" and canary["limit"] == 500
    assert 0 <= canary["value"] <= 500 and canary["state"] == "ok"

    rc, h = ctl_json(relay, "show", "history")
    (t,) = h["services"][0]["history"]
    assert (t["from"], t["to"]) == ("withdrawn", "announced")
    assert "canary" in t["reason"] or "zone" in t["reason"]

    rc, m = ctl_json(relay, "metrics")
    assert rc == 0 and "anycast_health_feed_up 1\n" in m["exposition"]

    # Errors are JSON too, and keep their exit status.
    rc, e = ctl_json(relay, "show", "checks", "nosuch")
    assert rc == 1 and e["error"]["code"] == "usage"
    assert "no service 'nosuch'" in e["error"]["message"]


def test_history_records_each_change_with_its_reason(stack):
    named, relay, proc = lab.relay_only(stack, wait=True)
    named.kill()
    assert proc.wait_command("withdraw route 192.0.2.53/32", 5)
    named.start()
    assert proc.wait_command("announce route 192.0.2.53/32", 10)
    r = relay.ctl("show", "history", "dns")
    assert r.returncode == 0, r.stderr
    lines = [l for l in r.stdout.splitlines() if "->" in l]
    assert len(lines) == 3, r.stdout
    assert "withdrawn -> announced" in lines[0]
    assert "announced -> withdrawn: no feed from named" in lines[1]
    assert "withdrawn -> announced" in lines[2]
    assert "3 route changes since the relay started" in r.stdout


def test_exit_codes(stack, tmp_path):
    named, relay, proc = lab.relay_only(stack, wait=True)
    # All announced, once ExaBGP (the test) has answered both commands.
    lab.wait_for(lambda: relay.ctl("status").returncode == 0, 5,
                 what="status 0")
    assert relay.ctl("show", "zones", "nosuch").returncode == 1
    assert relay.ctl("show", "frobs").returncode == 1
    named.kill()
    assert proc.wait_command("withdraw route 192.0.2.53/32", 5)
    r = relay.ctl("status")
    assert r.returncode == 2 and "withdrawn" in r.stdout   # something withdrawn
    assert relay.ctl("show", "counters").returncode == 0   # show is not judged
    r = subprocess.run([str(lab.CTL), "-s", str(tmp_path / "none"), "status"],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 3                              # no relay


def test_socket_mode_decides_who_may_read(stack):
    relay = relay_on_public_socket(stack, "0660")
    r = as_nobody("-s", relay.control, "status")
    assert r.returncode == 4 and "permission denied" in r.stderr, r.stderr
    r = as_nobody("-j", "-s", relay.control, "status")
    assert r.returncode == 4
    assert validate(json.loads(r.stdout))["error"]["code"] == "denied"


def test_anyone_who_can_connect_may_read(stack):
    relay = relay_on_public_socket(stack, "0666")
    for args in (["status"], ["show", "counters"], ["show", "checks"], ["metrics"]):
        r = as_nobody("-s", relay.control, *args)
        assert r.returncode == 0, (args, r.stderr)


def test_a_loop_of_refused_requests_does_not_flood_the_log(stack):
    """Anyone who may connect can be refused in a loop: 5,121 'drain
    refused' warnings a second buried the route changes and met
    journald's own limit.  At most 5 a second now; the rest are counted,
    and the count is said with the next line."""
    relay = relay_on_public_socket(stack, "0666")
    script = ("import socket\n"
              "for _ in range(300):\n"
              "    s = socket.socket(socket.AF_UNIX)\n"
              f"    s.connect({relay.control!r})\n"
              "    s.sendall(b'drain proto=2\\n')\n"
              "    while s.recv(4096):\n"
              "        pass\n"
              "    s.close()\n")
    nobody = ["setpriv", "--reuid=nobody", "--regid=nogroup",
              "--clear-groups", "/usr/bin/python3", "-c"]
    t0 = time.monotonic()
    r = subprocess.run(nobody + [script], capture_output=True, text=True,
                       timeout=60)
    took = time.monotonic() - t0
    assert r.returncode == 0, r.stderr
    time.sleep(1.1)
    assert as_nobody("-s", relay.control, "drain").returncode == 4
    log = relay.under_test.proc.text()
    refused = log.count("control: drain refused to pid")
    assert refused <= 5 * (int(took) + 3), (refused, took)
    assert re.search(r"control: refused: \d+ more like the last not logged "
                     r"\(at most 5 a second\)", log), log[-1000:]
    assert relay.ctl("status").returncode == 0


RCODES = ("noerror", "nxdomain", "servfail", "refused", "other")


def test_metrics_parse_and_match_show_counters(stack):
    port = lab.free_port()
    named = lab.Named(stack).start()
    relay = lab.Relay(stack, named, replacements=[
        ('mode: "0660"', f'mode: "0660"\n  metrics-listen: 127.0.0.1:{port}')])
    proc = lab.RelayUnderTest(stack, relay)
    assert proc.wait_command("announce", 10)
    for i in range(20):
        named.query(f"x{i}.example", "A")           # some NXDOMAIN too

    # One snapshot for both: retry until they were taken at the same seq.
    def same_snapshot():
        c = json.loads(relay.ctl("-j", "show", "counters").stdout)["views"][0]
        m = relay.ctl("metrics").stdout
        got = parse_exposition(m)
        if (got.get(("anycast_health_feed_snapshot_seq", ())) == c["seq"]
                and c["counters"]["queries"] >= 20):
            return c, m, got
        return None
    c, text, got = lab.wait_for(same_snapshot, 10, what="one snapshot for both")
    v = (("view", "_default"),)
    counters = c["counters"]
    assert got[("anycast_health_queries_total", v)] == counters["queries"] > 0
    for rc in RCODES:
        key = ("anycast_health_responses_total", tuple(sorted(v + (("rcode", rc),))))
        assert got[key] == counters[rc], rc
    assert got[("anycast_health_recursion_duration_seconds_count", v)] == counters["rec_le_inf"]
    assert got[("anycast_health_zones", (("state", "healthy"), ("view", "_default")))] == 1
    assert got[("anycast_health_prefix_announced",
                (("prefix", "192.0.2.53/32"), ("service", "dns")))] == 1
    assert got[("anycast_health_service_state", (("service", "dns"), ("state", "up")))] == 1
    assert got[("anycast_health_service_transitions_total", (("service", "dns"),))] == 1

    if shutil.which("promtool"):
        p = subprocess.run(["promtool", "check", "metrics"], input=text,
                           capture_output=True, text=True, timeout=30)
        assert p.returncode == 0, p.stdout + p.stderr

    # The same exposition over HTTP, from the relay's own loop.
    import urllib.request
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
        assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        body = r.read().decode()
    assert set(k[0] for k in parse_exposition(body)) == set(k[0] for k in got)
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/other", timeout=5)
        raise AssertionError("404 expected")
    except urllib.error.HTTPError as e:
        assert e.code == 404
    assert proc.proc.alive()


CONTROL_ONLY = """\
control:
  metrics-listen: "{listen}"
services:
  - name: dns
    prefixes:
      - prefix: 192.0.2.53/32
"""


def test_control_keys_are_checked(tmp_path):
    conf = tmp_path / "relay.yaml"
    conf.write_text("""\
control:
  admin-group: no-such-group-here
  metrics-listen: 127.0.0.1
services:
  - name: dns
    prefixes:
      - prefix: 192.0.2.53/32
""")
    r = subprocess.run([str(lab.RELAY), "--check", str(conf)],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 1
    assert f"{conf}:2:16: admin-group 'no-such-group-here' does not exist" in r.stderr
    assert (f"{conf}:3:19: metrics-listen '127.0.0.1' is not ADDRESS:PORT "
            "(like 127.0.0.1:9153 or [::1]:9153)") in r.stderr
    for listen, good in (("[::1]9153", False), ("::1:9153", False),
                         ("127.0.0.1:0", False), ("127.0.0.1:65536", False),
                         ("localhost:9153", False), ("127.0.0.1:+80", False),
                         ("[::1]:9153", True), ("127.0.0.1:9153", True)):
        conf.write_text(CONTROL_ONLY.format(listen=listen))
        r = subprocess.run([str(lab.RELAY), "--check", str(conf)],
                           capture_output=True, text=True, timeout=10)
        if good:
            assert r.returncode == 0, (listen, r.stderr)
        else:
            assert r.returncode == 1 and f"metrics-listen '{listen}' is not ADDRESS:PORT" in r.stderr, listen


def test_metrics_describe_the_v3_counters(stack):
    """Every counter protocol 3 defines has a typed family: none is left
    as an untyped anycast_health_plugin_* stand-in, the fleet sensor is
    one labelled family (level, kind, group), and each service state is
    a label value."""
    named, relay, proc = lab.relay_only(stack, wait=True)

    def snapshot():
        c = json.loads(relay.ctl("-j", "show", "counters").stdout)["views"][0]
        text = relay.ctl("metrics").stdout
        got = parse_exposition(text)
        if got.get(("anycast_health_feed_snapshot_seq", ())) == c["seq"]:
            return c["counters"], text, got
        return None
    counters, text, got = lab.wait_for(snapshot, 10, what="one snapshot for both")
    assert "anycast_health_plugin_" not in text, [
        l for l in text.splitlines() if "anycast_health_plugin_" in l]
    v = (("view", "_default"),)
    assert got[("anycast_health_liveness_probes_total", v)] == counters["probes"] > 0
    assert got[("anycast_health_recursions_total",
                (("result", "canceled"), ("view", "_default")))] == counters["rec_canceled"]
    assert got[("anycast_health_recursion_quota_exceeded_total", v)] == counters["rec_quota"]
    groups = {k: val for k, val in got.items()
              if k[0] == "anycast_health_domain_group_total"}
    kinds = ("fail", "rstart", "rdone", "rok", "rbad", "rtmo", "rval")
    assert len(groups) == 2 * len(kinds) * 16, sorted(groups)[:5]
    for level, prefix in (("domain", "dom"), ("suffix", "sfx")):
        for kind in kinds:
            for g in range(16):
                key = ("anycast_health_domain_group_total",
                       (("group", str(g)), ("kind", kind), ("level", level),
                        ("view", "_default")))
                assert groups[key] == counters[f"{prefix}_{kind}_{g}"]
    states = {dict(k[1])["state"] for k in got
              if k[0] == "anycast_health_service_state"}
    assert states == {"up", "falling", "depreferred", "kept", "rising", "held",
                      "down", "draining", "drained"}, states
    p = subprocess.run(["promtool", "check", "metrics"], input=text,
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stdout + p.stderr
