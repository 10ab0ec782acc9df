# SPDX-License-Identifier: MPL-2.0
"""Operating a node: drain, undrain and reload (doc/cli.md section 2,
doc/config.md sections 1.3 and 1.4).

Where the router must see it, over the real chain (named -> relay ->
ExaBGP -> BIRD); where the commands themselves are the point, with the
test playing ExaBGP.  Bounds are loose: these tests prove mechanisms,
timings belong in bench/.
"""

import json
import os
import re
import signal
import subprocess
import time

import pytest

import lab
from lab.relay import as_nobody, relay_on_public_socket, validate

V4 = "192.0.2.53/32"
V6 = "2001:db8::53/128"
GSHUT = ("65535", "0")


def communities(bird, prefix):
    """The standard communities BIRD has on the route, as (asn, value)."""
    out = bird.birdc("show", "route", "all", prefix)
    return set(re.findall(r"\((\d+),(\d+)\)", "".join(
        l for l in out.splitlines() if "BGP.community" in l)))


def sent(text):
    """The commands the relay logged sending to ExaBGP, in order."""
    return [l.split("to exabgp: ", 1)[1] for l in text.splitlines()
            if "to exabgp: " in l]


def ctl_socket(relay, *args):
    """anycastctl by socket, not by the file the test broke on purpose
    (-c would print its own reading of it too)."""
    return subprocess.run([str(lab.CTL), "-s", relay.control, *args],
                          capture_output=True, text=True, timeout=30)


def service(relay, name="dns"):
    st = validate(json.loads(relay.ctl("-j", "status").stdout))
    return next(s for s in st["services"] if s["name"] == name)


def test_drain_waits_for_the_load_to_move_then_withdraws(stack):
    """drain --wait: GRACEFUL_SHUTDOWN on the route at BIRD at once, the
    route kept while named still sees the load, withdrawn once the load
    stops; anycastctl prints the rate as it goes."""
    named, bird, relay, exa = lab.chain(stack, [("hold: 2s", "hold: 500ms")])
    load = lab.Load(named.port, lambda i: "example", qps=200, seconds=5,
                    rdtype="SOA")
    time.sleep(1.5)                        # a rate before the drain
    ctl = subprocess.Popen([str(lab.CTL), "-c", str(relay.path), "drain",
                            "dns", "--wait", "--timeout", "60s"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True)
    try:
        lab.wait_for(lambda: GSHUT in communities(bird, V4)
                     and GSHUT in communities(bird, V6), 5,
                     what="GRACEFUL_SHUTDOWN on both routes at BIRD")
        # The depref attributes come with it.
        assert "as-path [65053 65053 65053]" in sent(exa.proc.text())[-1]
        sending = load.sent < load.qps * load.seconds
        assert sending, "the load ended before the drain could be seen"
        time.sleep(0.5)
        assert bird.has_route(V4) and ctl.poll() is None, \
            "withdrawn while named still saw 200 queries a second"
        lab.wait_for(lambda: load.sent >= load.qps * load.seconds, 10,
                     what="the load to end")
        ended = time.monotonic()
        assert bird.has_route(V4), "withdrawn before the load ended"
        lab.wait_for(lambda: not bird.has_route(V4), 20, interval=0.02,
                     what="withdrawn once the load has stopped")
        gone = time.monotonic() - ended
        out, err = ctl.communicate(timeout=20)
        load.wait()
    finally:
        if ctl.poll() is None:
            ctl.kill()
            ctl.communicate()
    assert ctl.returncode == 0, out + err
    rates = [float(m) for m in re.findall(r"draining for \S+: ([\d.]+) qps now",
                                         out)]
    assert rates and max(rates) > 50, out     # it watched the load
    assert re.search(r"^dns: DRAINED: drained: [\d.]+ qps over the last",
                     out, re.M), out
    assert not bird.has_route(V4) and not bird.has_route(V6)
    answered = load.rcodes.get(0, 0)
    print(f"\ndrain: {load.sent} queries sent at {load.qps} qps, {answered} "
          f"answered NOERROR; withdrawn at BIRD {gone:.2f} s after the load "
          "stopped")
    assert answered >= load.sent * 0.99, "queries lost while draining"

    r = relay.ctl("status")
    assert r.returncode == 2 and "service dns (view _default): DRAINED" in r.stdout
    assert re.search(r"drain +drained .*by uid 0 \(root\)|drained: ", r.stdout)
    h = relay.ctl("show", "history", "dns").stdout
    assert "announced -> draining: drain requested by uid 0 (root)" in h, h
    assert "draining -> withdrawn: drained: " in h, h
    m = relay.ctl("metrics").stdout
    assert 'anycast_health_service_state{service="dns",state="drained"} 1' in m
    assert ('anycast_health_prefix_announced{service="dns",'
            f'prefix="{V4}"}} 0') in m


def test_drain_timeout_withdraws_anyway_and_says_so(stack):
    named, relay, proc = lab.relay_only(stack)
    assert proc.wait_command(f"announce route {V4}", 10)
    load = lab.Load(named.port, lambda i: "example", qps=100, seconds=8,
                    rdtype="SOA")
    try:
        time.sleep(1)
        t0 = time.monotonic()
        r = relay.ctl("-j", "drain", "--wait", "--timeout", "1s")
        took = time.monotonic() - t0
    finally:
        load.stop()
    assert r.returncode == 5, r.stdout + r.stderr
    doc = validate(json.loads(r.stdout))
    (svc,) = doc["services"]
    assert doc["timeout_ms"] == 1000 and doc["wait"] is True
    assert svc["state"] == "drained" and svc["drain"]["end"] == "timeout"
    assert "withdrawn anyway" in svc["drain"]["text"]
    assert svc["drain"]["rate"] > svc["drain"]["limit"]
    assert 1 <= took < 10
    cmds = proc.commands
    drain = next(i for i, c in enumerate(cmds) if "65535:0" in c)
    assert all("withdraw" in c for c in cmds[drain + 2:]), cmds
    assert "drain timeout 1s" in proc.proc.text()


def test_drained_survives_kill_restart_and_named(stack):
    """Drained state is in the state file: neither ExaBGP respawning a
    killed relay, nor a new ExaBGP and relay, nor named restarting puts
    the route back.  undrain does, after 'rise' good evaluations."""
    named, bird, relay, exa = lab.chain(stack, [("rise: 2", "rise: 5")])
    r = relay.ctl("drain", "dns")
    assert r.returncode == 0 and "dns: DRAINING: drain requested by" in r.stdout
    lab.wait_for(lambda: not bird.has_route(V4) and not bird.has_route(V6),
                 10, what="drained (no traffic: the hold alone)")
    assert "drained service=dns" in relay.state.read_text()

    old = relay.pid()
    os.kill(old, signal.SIGKILL)
    lab.wait_for(lambda: relay.pid() not in (None, old), 10,
                 what="ExaBGP respawns the relay")
    start = exa.proc.text().rindex("starting: 1 service,")
    time.sleep(2)                                   # 10 plugin intervals
    assert not bird.has_route(V4) and not bird.has_route(V6)
    assert not [c for c in sent(exa.proc.text()[start:]) if "announce" in c]
    s = service(relay)
    assert s["state"] == "drained" and s["drain"]["end"] == "restored"
    assert s["drain"]["by"] == "uid 0 (root)"

    exa.proc.stop()                                 # a restart of it all
    exa = lab.ExaBGP(stack, bird, relay, name="exabgp2").start()
    lab.wait_for(lambda: bird.established("ns1") and relay.pid(), 30,
                 what="new session and relay")
    named.kill()                                    # hard trouble, drained
    named.start()
    time.sleep(2)
    assert not bird.has_route(V4) and not bird.has_route(V6)
    assert not [c for c in sent(exa.proc.text()) if "announce" in c]

    r = relay.ctl("-j", "undrain", "dns")
    t0 = time.monotonic()
    assert r.returncode == 0, r.stderr
    (s,) = validate(json.loads(r.stdout))["services"]
    assert "drain" not in s and s["route"] == "withdrawn"
    # Not at once: five good evaluations, 200 ms apart, first.
    time.sleep(0.3)
    if time.monotonic() - t0 < 0.7:
        assert not bird.has_route(V4), "announced before 'rise'"
    lab.wait_for(lambda: bird.has_route(V4) and bird.has_route(V6), 10,
                 what="announced again after rise")
    assert GSHUT not in communities(bird, V4)
    assert "drained service=" not in relay.state.read_text()


def test_undrain_while_draining_keeps_the_route(stack):
    """Undone before it ends, a drain leaves the route announced with the
    drain attributes until 'rise' announces it normally: no withdrawal."""
    named, relay, proc = lab.relay_only(stack, replacements=[("hold: 2s", "hold: 30s")])
    assert proc.wait_command(f"announce route {V4}", 10)
    assert relay.ctl("drain", "dns").returncode == 0
    assert "65535:0" in proc.wait_command(f"announce route {V4}", 5)
    assert relay.ctl("undrain").returncode == 0
    again = proc.wait_command(f"route {V4}", 5)
    assert again.startswith(f"neighbor 127.0.0.1 announce route {V4}") and \
        "65535:0" not in again, proc.commands
    assert len([c for c in proc.commands if "withdraw route" in c]) == 2, \
        proc.commands                           # the start-up's only


def test_named_gone_while_draining_stays_drained(stack):
    named, relay, proc = lab.relay_only(stack, replacements=[("hold: 2s", "hold: 30s")])
    assert proc.wait_command(f"announce route {V4}", 10)
    assert relay.ctl("drain").returncode == 0
    assert "65535:0" in proc.wait_command(f"announce route {V4}", 5)
    named.kill()
    assert proc.wait_command(f"withdraw route {V4}", 5)
    s = service(relay)
    assert s["state"] == "drained" and s["drain"]["end"] == "hard"
    assert "named went away while draining" in s["drain"]["text"]
    gone = len(proc.commands)
    named.start()
    time.sleep(2)                             # 10 snapshots of a live named
    assert not [c for c in proc.commands[gone:] if "announce" in c], \
        proc.commands
    assert service(relay)["state"] == "drained"


def test_drain_says_when_it_cannot_be_remembered(stack):
    named = lab.Named(stack).start()
    relay = lab.Relay(stack, named, replacements=[
        ("hold: 2s", "hold: 30s"),
        (f"state-file: {stack.dir / 'relay.state'}",
         "state-file: /nonexistent/ah.state")])
    proc = lab.RelayUnderTest(stack, relay)
    assert proc.wait_command(f"announce route {V4}", 10)
    r = relay.ctl("drain", "dns")
    assert r.returncode == 0
    assert ("dns: warning: state file /nonexistent/ah.state.tmp: No such file "
            "or directory: a restarted relay will not know which services "
            "are drained") in r.stdout, r.stdout
    assert "65535:0" in proc.wait_command(f"announce route {V4}", 5)
    assert "warning" in service(relay)["drain"]


def test_corrupt_state_file_fails_closed(stack):
    named = lab.Named(stack).start()
    relay = lab.Relay(stack, named)
    relay.state.write_text("state version=1\ndrained service=dns since=x\n")
    proc = lab.RelayUnderTest(stack, relay)
    time.sleep(2)                             # 10 snapshots of a live named
    assert not [c for c in proc.commands if "announce" in c], proc.commands
    log = proc.proc.text()
    assert (f"state file {relay.state}:2: not a 'drained' record with service "
            "and since: 'drained': every service is taken as drained") in log
    s = service(relay)
    assert s["state"] == "drained" and "cannot say" in s["drain"]["text"]
    assert relay.ctl("undrain").returncode == 0
    assert proc.wait_command(f"announce route {V4}", 10)
    assert relay.state.read_text().splitlines()[1:] == ["state version=1"]


def test_only_admins_may_drain_undrain_release_reload(stack):
    relay = relay_on_public_socket(stack, "0666")
    for args in (["drain"], ["drain", "dns", "--wait"], ["undrain", "dns"],
                 ["release", "dns"], ["reload"]):
        r = as_nobody("-s", relay.control, *args)
        assert r.returncode == 4, (args, r.stdout, r.stderr)
        assert (f"anycastctl: relay: {args[0]}: permission denied: uid 65534 "
                "(nobody) is not root (set control.admin-group to allow "
                "others)") in r.stderr, r.stderr
    assert as_nobody("-s", relay.control, "status").returncode == 0
    st = json.loads(as_nobody("-j", "-s", relay.control, "status").stdout)
    assert "drain" not in st["services"][0], "nobody's drain did nothing"


def bird_events(bird, prefix):
    return [l for l in bird.proc.text().splitlines() if f" {prefix} " in l]


def test_reload_unchanged_sends_nothing(stack):
    named, bird, relay, exa = lab.chain(stack)
    relay.ctl("drain", "--timeout", "0s")         # state to keep: drained
    lab.wait_for(lambda: not bird.has_route(V4), 5, what="drained")
    relay.ctl("undrain")
    lab.wait_for(lambda: bird.has_route(V4), 10, what="back")
    before = service(relay)
    history = json.loads(relay.ctl("-j", "show", "history").stdout)[
        "services"][0]["history"]
    n_sent = len(sent(exa.proc.text()))
    events = len(bird_events(bird, V4))

    r = relay.ctl("reload")
    assert r.returncode == 0, r.stderr
    assert "dns: unchanged" in r.stdout
    assert "0 added, 0 removed, 0 changed, 1 unchanged; 0 commands" in r.stdout
    os.kill(relay.pid(), signal.SIGHUP)
    lab.wait_for(lambda: exa.proc.text().count("0 commands to ExaBGP") == 2,
                 5, what="the SIGHUP's reload")
    time.sleep(1)
    assert len(sent(exa.proc.text())) == n_sent
    assert len(bird_events(bird, V4)) == events
    after = service(relay)
    assert after["since"] == before["since"] and after["state"] == "up"
    assert json.loads(relay.ctl("-j", "show", "history").stdout)[
        "services"][0]["history"] == history


def test_reload_bad_file_keeps_the_old_one(stack):
    named, relay, proc = lab.relay_only(stack)
    assert proc.wait_command(f"announce route {V4}", 10)
    good = relay.path.read_text()
    relay.path.write_text(good.replace("rise: 2", "rise: 0").replace(
        "med: 100", "med: -5"))
    r = ctl_socket(relay, "-j", "reload")
    assert r.returncode == 1
    err = validate(json.loads(r.stdout))["error"]
    assert err["code"] == "config"
    assert "configuration rejected; the running configuration is unchanged" \
        in err["message"]
    path = str(relay.path)
    assert any(d.startswith(f"{path}:") and "med '-5' must be a whole number" in d
               for d in err["details"]), err
    assert any("rise '0' must be a whole number" in d for d in err["details"])
    assert re.search(rf"warning: reload: {re.escape(path)}:\d+:\d+: med '-5'",
                     proc.proc.text())
    # Still running the old one, and saying the file is bad: exit 6.
    r = ctl_socket(relay, "status")
    assert r.returncode == 6 and "UP" in r.stdout
    assert f"{path}:" in r.stdout and "REJECTED" in r.stdout
    assert "running on the configuration accepted" in r.stdout
    n = len(proc.commands)
    time.sleep(0.5)
    assert len(proc.commands) == n
    relay.path.write_text(good)
    assert relay.ctl("reload").returncode == 0
    assert ctl_socket(relay, "status").returncode == 0


SECOND = """      - prefix: 192.0.2.54/32
        next-hop: self
        neighbor: 127.0.0.1
"""


def test_reload_added_prefix_announces_only_it(stack):
    named, bird, relay, exa = lab.chain(stack)
    n_sent = len(sent(exa.proc.text()))
    events = {p: len(bird_events(bird, p)) for p in (V4, V6)}
    text = relay.path.read_text()
    anchor = "      - prefix: 2001:db8::53/128\n"
    relay.path.write_text(text.replace(anchor, SECOND + anchor))
    r = relay.ctl("reload")
    assert r.returncode == 0, r.stderr
    assert "dns: changed: prefixes +1 -0" in r.stdout
    assert "1 command to ExaBGP" in r.stdout
    lab.wait_for(lambda: bird.has_route("192.0.2.54/32"), 10,
                 what="the added prefix at BIRD")
    assert sent(exa.proc.text())[n_sent:] == [
        "neighbor 127.0.0.1 announce route 192.0.2.54/32 next-hop self"]
    time.sleep(0.5)
    assert {p: len(bird_events(bird, p)) for p in (V4, V6)} == events


def test_reload_removed_prefix_and_service(stack):
    """A removed prefix is withdrawn, alone; so is a removed service's,
    and an added service starts withdrawn, announced on evidence."""
    named = lab.Named(stack).start()
    two = (lab.plain_service(port=named.port) +
           lab.plain_service(name="other", v4="198.51.100.53/32",
                             v6="2001:db8:1::53/128", port=named.port))
    relay = lab.Relay(stack, named, services=two)
    proc = lab.RelayUnderTest(stack, relay)
    lab.wait_for(lambda: len([c for c in proc.commands if "announce" in c])
                 == 4, 10, what="both services announced")
    time.sleep(0.5)
    n = len(proc.commands)

    text = relay.path.read_text()
    head = text[:text.index("\nservices:\n")] + "\nservices:\n"
    relay.path.write_text(head + lab.plain_service(port=named.port).replace(
        '      - prefix: 2001:db8::53/128\n        next-hop: self\n'
        '        neighbor: "::1"\n', "") + lab.plain_service(
        name="new", v4="203.0.113.53/32", v6="2001:db8:2::53/128",
        port=named.port))
    r = relay.ctl("reload")
    assert r.returncode == 0, r.stderr
    assert "dns: changed: prefixes +0 -1" in r.stdout
    assert "other: removed: its routes are withdrawn" in r.stdout
    assert "new: added: starts withdrawn" in r.stdout
    lab.wait_for(lambda: len(proc.commands) >= n + 7, 10,
                 what="withdrawals, then the new service announced")
    new = proc.commands[n:]
    assert sorted(new[:5]) == sorted([
        "neighbor ::1 withdraw route 2001:db8::53/128 next-hop self",
        "neighbor 127.0.0.1 withdraw route 198.51.100.53/32 next-hop self",
        "neighbor ::1 withdraw route 2001:db8:1::53/128 next-hop self",
        "neighbor 127.0.0.1 withdraw route 203.0.113.53/32 next-hop self",
        "neighbor ::1 withdraw route 2001:db8:2::53/128 next-hop self"]), new
    assert sorted(new[5:7]) == sorted([
        "neighbor 127.0.0.1 announce route 203.0.113.53/32 next-hop self "
        "med 100 community [65000:53]",
        "neighbor ::1 announce route 2001:db8:2::53/128 next-hop self"]), new
    assert not [c for c in new if f" {V4} " in c]


def test_sighup_reloads(stack):
    named, relay, proc = lab.relay_only(stack)
    assert proc.wait_command(f"announce route {V6}", 10)
    text = relay.path.read_text()
    anchor = "      - prefix: 2001:db8::53/128\n"
    relay.path.write_text(text.replace(anchor, SECOND + anchor))
    proc.proc.send_signal(signal.SIGHUP)
    assert proc.wait_command("192.0.2.54/32", 5) == \
        "neighbor 127.0.0.1 announce route 192.0.2.54/32 next-hop self"
    lab.wait_for(lambda: "reload: dns: changed: prefixes +1 -0"
                 in proc.proc.text(), 5, what="the reload logged")
    assert f"SIGHUP: reloading {relay.path}" in proc.proc.text()
    # A bad file by SIGHUP: logged with its position, nothing changes.
    relay.path.write_text(text.replace("rise: 2", "rise: [2]"))
    proc.proc.send_signal(signal.SIGHUP)
    lab.wait_for(lambda: "configuration rejected; the running "
                 "configuration is unchanged" in proc.proc.text(), 5,
                 what="the rejection logged")
    assert re.search(r"warning: reload: \S+:\d+:\d+: rise must be a single "
                     "value", proc.proc.text())
    assert proc.proc.alive()
    assert "192.0.2.54/32" in ctl_socket(relay, "status").stdout


def test_reload_of_the_relay_wide_keys(stack):
    """A new plugin socket is subscribed to (the services go down with
    the old feed and come back on evidence), a new metrics address is
    served, and a new control socket waits for a restart."""
    import urllib.request
    named, relay, proc = lab.relay_only(stack)
    assert proc.wait_command(f"announce route {V4}", 10)
    text = relay.path.read_text()
    port = lab.free_port()
    moved = text.replace(f"socket: {named.socket}",
                         f"socket: {named.socket}.elsewhere").replace(
        f"socket: {relay.control}", f"socket: {relay.control}.new").replace(
        'mode: "0660"', f'mode: "0660"\n  metrics-listen: 127.0.0.1:{port}')
    relay.path.write_text(moved)
    r = ctl_socket(relay, "reload")
    assert r.returncode == 0, r.stderr
    assert f"plugin: socket now {named.socket}.elsewhere; subscribing there" \
        in r.stdout
    assert f"control: metrics now on 127.0.0.1:{port}" in r.stdout
    assert ("control: socket, mode and group take a restart; still listening "
            f"on {relay.control}") in r.stdout
    assert proc.wait_command(f"withdraw route {V4}", 5)
    st = json.loads(ctl_socket(relay, "-j", "status").stdout)
    assert st["feed"]["socket"] == f"{named.socket}.elsewhere"
    assert st["feed"]["state"] == "down"
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics",
                                timeout=5) as resp:
        assert b"anycast_health_feed_up 0" in resp.read()

    # An address the relay cannot listen on (not this host's): the
    # endpoint that works stays; it was stopped, and none served.
    relay.path.write_text(moved.replace(f"metrics-listen: 127.0.0.1:{port}",
                                        f"metrics-listen: 192.0.2.77:{port}"))
    r = ctl_socket(relay, "reload")
    assert r.returncode == 0, r.stderr
    assert (f"control: cannot serve metrics on 192.0.2.77:{port}; still on "
            f"127.0.0.1:{port}") in r.stdout, r.stdout
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics",
                                timeout=5) as resp:
        assert b"anycast_health_feed_up 0" in resp.read()

    relay.path.write_text(text)                   # back to named's socket
    r = ctl_socket(relay, "reload")
    assert r.returncode == 0 and "control: metrics endpoint off" in r.stdout
    assert proc.wait_command(f"announce route {V4}", 10)


class SlowDNS:
    """A DNS server on loopback that answers NOERROR (no records) to any
    name after delay[name] seconds (0 if not listed), or never when the
    delay is None."""

    def __init__(self):
        import socket
        import threading
        self.delay = {}
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.running = True
        threading.Thread(target=self._serve, daemon=True).start()

    @staticmethod
    def qname(q):
        labels, i = [], 12
        while i < len(q) and q[i] != 0:
            labels.append(q[i + 1:i + 1 + q[i]].decode(errors="replace"))
            i += 1 + q[i]
        return ".".join(labels).lower()

    def _serve(self):
        import socket
        import threading
        while self.running:
            try:
                q, peer = self.sock.recvfrom(512)
            except socket.timeout:
                continue
            except OSError:
                return
            if len(q) < 12:
                continue
            d = self.delay.get(self.qname(q), 0)
            if d is None:
                continue
            r = q[:2] + bytes([0x80 | (q[2] & 0x01), 0x80]) + q[4:]
            threading.Timer(d, self._answer, (r, peer)).start()

    def _answer(self, r, peer):
        try:
            self.sock.sendto(r, peer)
        except OSError:
            pass

    def stop(self):
        self.running = False
        self.sock.close()


def canary_block(port, name):
    return f"""    canary:
      server: 127.0.0.1
      port: {port}
      name: {name}
      type: A
      interval: 1s
      timeout: 900ms
"""


def test_reload_of_the_canary_moves_no_route(stack):
    """Issue 13 defect 8: a reload re-creates a changed canary, whose
    first answer takes time (here 0.6 s).  Until it comes the canary
    keeps the result it had, and a canary added by a reload votes for
    the route as it is: a reload moves no route by itself.  At start
    the canary still fails closed ('no answer yet'), and a reloaded
    canary that then fails still moves the route."""
    dns = SlowDNS()
    stack.procs.append(dns)
    dns.delay = {"www.example": 0.6, "new.example": 0.6}
    base = lab.plain_service(rise=1) + "    fall: 1\n"
    relay, fake, proc = lab.fake_relay(stack, base + canary_block(dns.port,
                                                              "www.example"))
    seq = 1

    def snapshots(seconds):
        nonlocal seq
        t0 = time.monotonic()
        while time.monotonic() - t0 < seconds:
            fake.snapshot(seq)
            seq += 1
            time.sleep(0.05)

    snapshots(0.4)
    assert proc.wait_command("announce", 0) is None, "announced before " \
        "the canary's first answer"
    assert "canary: no answer yet" in relay.ctl("status").stdout
    snapshots(0.6)
    assert proc.wait_command("announce route 192.0.2.53/32", 1)
    lab.wait_for(lambda: relay.ctl("status").returncode == 0, 5,
                 what="status 0")
    before = len(proc.commands)
    steps = (("new.example", "changed by a reload, no answer yet; until "
              "then the last canary's: NOERROR", "canary new.example: NOERROR"),
             (None, None, "named serves the view"),
             ("www.example", "added by a reload, no answer yet",
              "canary www.example: NOERROR"))
    for name, meanwhile, says in steps:
        text = base + (canary_block(dns.port, name) if name else "")
        relay.path.write_text(relay.path.read_text().split("\nservices:\n")[0]
                              + "\nservices:\n" + text)
        r = relay.ctl("reload")
        assert r.returncode == 0, r.stdout + r.stderr
        snapshots(0.3)                            # the answer takes 0.6 s
        if meanwhile:
            assert meanwhile in relay.ctl("status").stdout
        snapshots(1.2)
        status = relay.ctl("status")
        assert says in status.stdout and status.returncode == 0, status.stdout
        assert proc.commands[before:] == [], (name, proc.commands[before:])
    # The reloaded canary is judged all the same: silent, it fails.
    dns.delay["www.example"] = None
    snapshots(2.5)
    assert any("65535:0" in c for c in proc.commands[before:]), proc.commands
    assert "no answer within 900 ms" in relay.ctl("status").stdout


def test_drain_of_a_service_sharing_its_view(stack):
    """Issue 13 item 9c: the plugin counts queries per view, so while
    another announced service shares the view, its traffic keeps the
    view's rate up and a drain of one service cannot see its own leave.
    The drain says so at once and ends at its timeout, saying why;
    draining every service of the view together ends on the rate."""
    drain = "    drain:\n      timeout: 3s\n      hold: 500ms\n"
    svc = (lab.plain_service(rise=1) + drain +
           lab.plain_service(name="dns2", v4="192.0.2.54/32",
                                v6="2001:db8::54/128", rise=1) + drain)
    relay, fake, proc = lab.fake_relay(stack, svc)
    seq, queries = 1, 0

    def traffic(seconds, qps):
        nonlocal seq, queries
        t0 = time.monotonic()
        while time.monotonic() - t0 < seconds:
            queries += qps // 10
            fake.snapshot(seq, queries=queries)
            seq += 1
            time.sleep(0.1)

    traffic(1.5, 100)
    assert relay.ctl("status").returncode == 0
    r = relay.ctl("drain", "dns")
    assert r.returncode == 0, r.stderr
    assert ("view _default is shared with dns2, still announced: its query "
            "rate cannot show this service's traffic leaving; withdrawn at "
            "the timeout (3s), or on the rate once they drain too") in r.stdout
    traffic(4, 100)                               # dns2's clients stay
    s = service(relay)
    assert s["state"] == "drained" and s["drain"]["end"] == "timeout"
    assert "view _default is shared with dns2" in s["drain"]["text"], s
    assert service(relay, "dns2")["state"] == "up"

    assert relay.ctl("undrain", "dns").returncode == 0
    traffic(1, 100)
    assert relay.ctl("status").returncode == 0
    r = relay.ctl("drain")                        # both: the rate tells
    assert r.returncode == 0 and "shared" not in r.stdout, r.stdout
    t0 = time.monotonic()
    traffic(0.3, 100)
    traffic(1.5, 0)                               # the traffic has moved
    for name in ("dns", "dns2"):
        s = service(relay, name)
        assert s["state"] == "drained" and s["drain"]["end"] == "quiet", s
    assert time.monotonic() - t0 < 3


def many_prefixes(n, port):
    """One service of n IPv6 /48s (with the example's depref attributes),
    its liveness probe on named's port."""
    prefixes = "".join(f"""      - prefix: "2001:db8:{i:x}::/48"
        next-hop: self
        neighbor: "::1"
""" for i in range(n))
    return f"""  - name: dns
    view: _default
    rise: 1
    liveness:
      port: {port}
    drain:
      hold: 30s
    prefixes:
{prefixes}"""


def bird_count(bird, query=()):
    """How many IPv6 routes BIRD has (matching 'query', birdc words)."""
    out = bird.birdc("show", "route", *query, "count")
    m = re.search(r"(\d+) of \d+ routes for \d+ networks in table master6",
                  out)
    return int(m.group(1)) if m else 0


@pytest.mark.timeout(240)
def test_depref_of_5000_prefixes_keeps_the_relay(stack):
    """Issue 13 defect 6: a service with thousands of prefixes changes
    them all at once.  The relay used to queue every command before
    writing and give up (exit 1, nothing withdrawn) past 256 KiB, so
    5,000 prefixes killed it on each start, as ExaBGP respawned it.  Now
    it hands ExaBGP as much as it reads: the same relay announces all
    5,000, drains them (each depreferred with GRACEFUL_SHUTDOWN) and
    undrains them, each step seen whole at BIRD."""
    n = 5000
    named = lab.Named(stack).start()
    bird = lab.Bird(stack).start()
    relay = lab.Relay(stack, named, services=many_prefixes(n, named.port))
    exa = lab.ExaBGP(stack, bird, relay).start()
    t0 = time.monotonic()
    lab.wait_for(lambda: bird_count(bird) == n or "giving up" in
                 exa.proc.text(), 120, interval=0.5,
                 what=f"{n} routes at BIRD")
    up = time.monotonic() - t0
    # One relay all along (status with 5,000 prefixes is over the reply
    # limit: its pid is in the log).
    pids = set(re.findall(r"anycast-relay\[(\d+)\] info: starting",
                          exa.proc.text()))
    assert len(pids) == 1 and "giving up" not in exa.proc.text(), pids

    gshut = ("where", "(65535,0) ~ bgp_community")
    r = relay.ctl("drain", "dns")
    assert r.returncode == 0, r.stdout + r.stderr
    t0 = time.monotonic()
    lab.wait_for(lambda: bird_count(bird, gshut) == n, 120, interval=0.5,
                 what=f"{n} routes with GRACEFUL_SHUTDOWN at BIRD")
    depref = time.monotonic() - t0
    r = relay.ctl("undrain", "dns")
    assert r.returncode == 0, r.stdout + r.stderr
    t0 = time.monotonic()
    lab.wait_for(lambda: bird_count(bird, gshut) == 0
                 and bird_count(bird) == n, 120, interval=0.5,
                 what=f"{n} routes back without GRACEFUL_SHUTDOWN")
    back = time.monotonic() - t0
    log = exa.proc.text()
    assert set(re.findall(r"anycast-relay\[(\d+)\] info: starting",
                          log)) == pids and "giving up" not in log
    print(f"\n{n} prefixes: all at BIRD {up:.1f} s after start; drain: all "
          f"depreferred in {depref:.1f} s; undrain: all back in {back:.1f} s")
