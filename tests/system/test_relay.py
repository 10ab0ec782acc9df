# SPDX-License-Identifier: MPL-2.0
"""anycast-relay on its own: the test plays ExaBGP (stdin/stdout) and,
where it needs to misbehave, the plugin (a fake socket server)."""

import json
import os
import signal
import socket
import stat
import subprocess
import time
from pathlib import Path

import lab

V4 = "192.0.2.53/32"
V6 = "2001:db8::53/128"

BROKEN = """\
plugin:
  socket: /tmp/x.sock
  stale-after: soon
services:
  - name: dns
    prefixes:
      - prefix: 192.0.2.53/24
"""


def test_check_accepts_the_example():
    r = subprocess.run([str(lab.RELAY), "--check", str(lab.CONF / "anycast-relay.yaml")],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 0, r.stderr
    assert "OK, 1 service, 2 prefixes" in r.stdout


def test_check_reports_every_error_with_position(tmp_path):
    conf = tmp_path / "relay.yaml"
    conf.write_text(BROKEN)
    r = subprocess.run([str(lab.RELAY), "--check", str(conf)],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 1
    assert f"{conf}:3:16: stale-after 'soon' is not a duration" in r.stderr
    assert f"{conf}:7:17: prefix '192.0.2.53/24' has host bits set" in r.stderr
    assert r.stdout == ""


def test_check_refuses_a_socket_it_could_not_create(tmp_path):
    """A control socket whose path fits an address but whose directory
    leaves no room for the private directory it is bound in first: the
    relay would start and fail to listen.  --check says so, with the
    position, as named-checkconf does for the plugin's socket."""
    long_dir = "/" + "d" * 96
    conf = tmp_path / "relay.yaml"
    example = (lab.CONF / "anycast-relay.yaml").read_text()
    old = "  socket: /run/anycast-health/relay.sock\n"
    assert old in example
    conf.write_text(example.replace(old, f"  socket: {long_dir}/r.sock\n"))
    text = conf.read_text()
    line = text[:text.index(f"  socket: {long_dir}")].count("\n") + 1
    r = subprocess.run([str(lab.RELAY), "--check", str(conf)],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 1, r.stdout + r.stderr
    assert (f"{conf}:{line}:11: control socket '{long_dir}/r.sock' is too "
            "long to create safely: its directory's path plus 12 bytes "
            "must fit in 107") in r.stderr, r.stderr


def test_usage_errors():
    r = subprocess.run([str(lab.RELAY)], capture_output=True, text=True, timeout=10)
    assert r.returncode == 2 and "usage:" in r.stderr
    r = subprocess.run([str(lab.RELAY), "--bogus", "x"], capture_output=True,
                       text=True, timeout=10)
    assert r.returncode == 2
    r = subprocess.run([str(lab.RELAY), "--check", "/nonexistent.yaml"],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 1
    assert "/nonexistent.yaml: No such file or directory" in r.stderr


def test_broken_yaml_under_exabgp_announces_nothing(stack):
    named = lab.Named(stack).start()
    bird = lab.Bird(stack).start()
    relay = lab.Relay(stack, named)
    # Where to answer anycastctl and look for a last good copy (there is
    # none): the broken file still says, before its errors.
    relay.path.write_text(f"control:\n  socket: {relay.control}\n"
                          f"  state-file: {relay.state}\n" + BROKEN)
    exa = lab.ExaBGP(stack, bird, relay).start()
    # The relay stays up on no configuration (test_badfile.py): ExaBGP
    # keeps it, and its sessions.
    lab.wait_for(lambda: "configuration rejected" in exa.proc.text(), 20,
                 what="relay to reject its config")
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        assert not bird.has_route(V4) and not bird.has_route(V6)
        time.sleep(0.1)
    assert "stale-after 'soon' is not a duration" in exa.proc.text()
    assert exa.proc.alive() and bird.established("ns1")


def test_starts_withdrawn_and_fails_closed_without_named(stack):
    named = lab.Named(stack)                   # configured, not started
    relay = lab.Relay(stack, named)
    proc = lab.RelayUnderTest(stack, relay)
    # First words to ExaBGP: withdraw everything (a respawn knows nothing).
    assert proc.next_command(5) == "neighbor 127.0.0.1 withdraw route 192.0.2.53/32 next-hop self"
    assert proc.next_command(5) == "neighbor ::1 withdraw route 2001:db8::53/128 next-hop self"
    assert proc.next_command(1.5) is None, "nothing announced without named"
    named.start()
    cmd = proc.wait_command("announce", 5)
    assert cmd == ("neighbor 127.0.0.1 announce route 192.0.2.53/32 next-hop self "
                   "med 100 community [65000:53]")


def test_one_command_per_change(stack):
    named = lab.Named(stack, interval=50).start()
    relay = lab.Relay(stack, named)
    proc = lab.RelayUnderTest(stack, relay)
    lab.wait_for(lambda: sum("announce" in c for c in proc.commands) == 2, 5,
                 what="both announced")
    time.sleep(1.0)                               # ~20 more snapshots
    assert sum("announce" in c for c in proc.commands) == 2
    assert len(proc.commands) == 4                # 2 withdraws at start + 2 announces


def test_sigterm_withdraws_then_exits(stack):
    named = lab.Named(stack).start()
    relay = lab.Relay(stack, named)
    proc = lab.RelayUnderTest(stack, relay)
    lab.wait_for(lambda: sum("announce" in c for c in proc.commands) == 2, 5,
                 what="both announced")
    proc.proc.send_signal(signal.SIGTERM)
    assert proc.proc.p.wait(5) == 0
    proc.thread.join(5)
    assert proc.commands[-2:] == [
        "neighbor 127.0.0.1 withdraw route 192.0.2.53/32 next-hop self",
        "neighbor ::1 withdraw route 2001:db8::53/128 next-hop self"]
    assert not os.path.exists(relay.control), "control socket removed"


def test_exits_when_exabgp_goes_away(stack):
    named = lab.Named(stack).start()
    relay = lab.Relay(stack, named)
    proc = lab.RelayUnderTest(stack, relay)
    assert proc.wait_command("announce", 5)
    proc.close_stdin()
    assert proc.proc.p.wait(5) == 0
    assert "ExaBGP is gone" in proc.proc.text()


def test_drains_acks_so_exabgp_never_blocks(stack):
    """ExaBGP writes acks with a blocking write: a relay that stopped
    reading would freeze it.  Push 4 MiB at the relay's stdin."""
    named = lab.Named(stack)
    relay = lab.Relay(stack, named)
    proc = lab.RelayUnderTest(stack, relay, ack=False)
    chunk = b"done\n" * 20000
    t0 = time.monotonic()
    for _ in range(40):
        proc.proc.p.stdin.write(chunk)
    proc.proc.p.stdin.flush()
    assert time.monotonic() - t0 < 10
    assert proc.proc.alive()


def fake_setup(stack, stale=None):
    named = lab.Named(stack)                   # only for its socket path
    # The liveness probes go to a port that reads and never answers.
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind(("127.0.0.1", 0))
    stack.procs.append(_Closer(sink))
    relay = lab.Relay(stack, named, services=lab.plain_service(
        port=sink.getsockname()[1]))
    if stale is not None:
        relay.path.write_text(relay.path.read_text().replace(
            "\nplugin:\n", f"\nplugin:\n  stale-after: {stale}\n", 1))
    fake = lab.FakePlugin(named.socket)
    proc = lab.RelayUnderTest(stack, relay)
    stack.procs.append(_Closer(fake))
    fake.accept()
    return fake, proc


class _Closer:
    """Lets the stack tear down a fake plugin or a socket like a process."""

    def __init__(self, thing):
        self.thing = thing

    def stop(self):
        if isinstance(self.thing, socket.socket):
            self.thing.close()
        else:
            self.thing.shutdown()


def announced(proc):
    return proc.wait_command("announce route 192.0.2.53/32", 5) is not None


def test_announces_on_a_good_snapshot(stack):
    fake, proc = fake_setup(stack)
    fake.hello()
    fake.snapshot(1)
    fake.snapshot(2)                              # rise: 2
    assert announced(proc)


def test_protocol_version_mismatch(stack):
    """A plugin newer than the relay: nothing is announced on a feed the
    relay cannot read, and it says why.  (The previous plugin's feed is
    read: test_health.py, test_shared_fault_rule_in_the_relay.)"""
    fake, proc = fake_setup(stack)
    fake.hello(proto=4, first=False)
    # The relay may close the connection as soon as it has read the
    # hello: what it is sent after that must not count either way.
    try:
        fake.snapshot(1)
        fake.snapshot(2)
    except (BrokenPipeError, ConnectionResetError):
        pass
    assert proc.wait_command("announce", 1.5) is None
    assert "plugin speaks protocol 4, this relay 2 to 3: upgrade the " \
        "older of the two" in proc.proc.text()
    assert proc.proc.alive()


def test_snapshot_without_the_view(stack):
    fake, proc = fake_setup(stack)
    fake.hello()
    fake.snapshot(1, views=("other",))
    # Well inside stale-after (300 ms), so the reason is the missing view.
    lab.wait_for(lambda: "named publishes no view '_default'"
                 in proc.relay.ctl("status").stdout, 0.25, what="reason")
    assert not any("announce" in c for c in proc.commands)


def test_incomplete_snapshot_is_not_evidence(stack):
    fake, proc = fake_setup(stack)
    fake.hello()
    fake.snapshot(1)
    fake.send("view seq=2 id=0 name=_default\n")
    fake.send("tick seq=2 views=2 time=0\n")      # claims 2 views, sent 1
    assert proc.wait_command("announce", 1.0) is None
    assert "announces 2 views, 1 arrived" in proc.proc.text()


def withdrawn_after(proc, send):
    """Announce, then send(); returns the seconds until the withdraw."""
    t0 = time.monotonic()
    send()
    cmd = proc.wait_command("withdraw route 192.0.2.53/32", 5)
    assert cmd is not None
    return time.monotonic() - t0


def test_malformed_lines_withdraw(stack):
    for bad in (b"view seq=1 id=0 name=_default name=x\n",
                b"tick seq=x views=0\n",
                b"\x00\xff garbage\n",
                b"view name=_default " + b"x" * 2000 + b"\n"):
        fake, proc = fake_setup(stack)
        fake.hello()
        fake.snapshot(1)
        fake.snapshot(2)
        assert announced(proc)
        assert withdrawn_after(proc, lambda: fake.send(bad)) < 0.5
        assert proc.proc.alive()
        stack.stop()


def test_stale_feed_withdraws(stack):
    fake, proc = fake_setup(stack, stale="1s")
    fake.hello()
    fake.snapshot(1)
    fake.snapshot(2)                              # rise: 2
    assert announced(proc)
    took = withdrawn_after(proc, lambda: None)    # named hangs: no more ticks
    assert 0.5 < took < 1.6, took
    assert "more than stale-after 1000 ms" in proc.proc.text()
    # Snapshots resume: announced again after 'rise' of them.
    fake.snapshot(3)
    fake.snapshot(4)
    assert announced(proc)


def test_goodbye_withdraws(stack):
    fake, proc = fake_setup(stack)
    fake.hello()
    fake.snapshot(1)
    fake.snapshot(2)                              # rise: 2
    assert announced(proc)
    assert withdrawn_after(proc, lambda: fake.send("bye reason=unload\n")) < 0.5
    assert "named said goodbye (unload)" in proc.proc.text()


def test_control_socket(stack):
    named = lab.Named(stack).start()
    relay = lab.Relay(stack, named)
    proc = lab.RelayUnderTest(stack, relay)
    assert proc.wait_command("announce", 5)
    st = os.stat(relay.control)
    assert stat.S_IMODE(st.st_mode) == 0o660

    def ask(req):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(relay.control)
        s.sendall(req)
        s.settimeout(5)
        out = b""
        while True:
            d = s.recv(65536)
            if not d:
                return out.decode()
            out += d

    assert ask(b"status proto=2\n").endswith("done status=ok\n")
    assert ask(b"frobnicate proto=2\n") == ("done status=error code=usage "
                                           "msg=unknown%20command%20'frobnicate'\n")
    assert "protocol%20version%20mismatch" in ask(b"status proto=9\n")
    assert "takes%20no%20arguments" in ask(b"status proto=2 force=1\n")
    assert "malformed%20request" in ask(b"STATUS\n")
    assert "too%20long" in ask(b"x" * 2000 + b"\n")
    # None of that disturbed the relay.
    r = relay.ctl("status")
    assert r.returncode == 0 and "UP" in r.stdout


def test_anycastctl_usage(stack, tmp_path):
    ctl = str(lab.CTL)
    r = subprocess.run([ctl], capture_output=True, text=True, timeout=10)
    assert r.returncode == 1 and "usage:" in r.stderr
    r = subprocess.run([ctl, "frobnicate"], capture_output=True, text=True, timeout=10)
    assert r.returncode == 1 and "unknown command 'frobnicate'" in r.stderr
    r = subprocess.run([ctl, "status", "extra"], capture_output=True, text=True, timeout=10)
    assert r.returncode == 1 and "too many arguments: 'extra'" in r.stderr
    r = subprocess.run([ctl, "-s", str(tmp_path / "none.sock"), "status"],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 3 and "is anycast-relay running?" in r.stderr
    # A broken file: its errors, and the socket as far as it reads.
    bad = tmp_path / "bad.yaml"
    sock = tmp_path / "none.sock"
    bad.write_text(f"control:\n  socket: {sock}\n" + BROKEN)
    r = subprocess.run([ctl, "-c", str(bad), "status"], capture_output=True,
                       text=True, timeout=10)
    assert r.returncode == 3 and f"{bad}:5:16:" in r.stderr
    assert f"configuration rejected; asking the relay on {sock}" in r.stderr
    r = subprocess.run([ctl, "-c", str(tmp_path / "none.yaml"), "status"],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 1 and "none.yaml: No such file" in r.stderr


def test_stale_after_is_at_least_two_intervals(stack):
    """stale-after below two plugin intervals would withdraw a healthy
    node on jitter: the relay raises it and says so."""
    fake, proc = fake_setup(stack, stale="1s")
    fake.hello(interval=1000)
    fake.snapshot(1)
    fake.snapshot(2)
    assert announced(proc)
    # 1.5 s without a snapshot: past stale-after, within two intervals.
    assert proc.wait_command("withdraw", 1.5) is None
    assert "stale-after 1000 ms is less than two plugin intervals" in proc.proc.text()
    assert proc.wait_command("withdraw route 192.0.2.53/32", 2) is not None


def test_frozen_counters_withdraw(stack):
    """Snapshots keep coming but no query moves a counter: the
    publisher thread ticks while named's query threads are hung, or
    named is shutting down.  Hard trouble: withdrawn without 'fall'."""
    fake, proc = fake_setup(stack)
    fake.hello()
    fake.snapshot(1)
    fake.snapshot(2)
    assert announced(proc)
    seq = [3]

    def frozen():
        # Ticks every 100 ms with nothing counted, until the withdraw.
        for _ in range(30):
            fake.snapshot(seq[0], probed=False)
            seq[0] += 1
            if proc.wait_command("withdraw route 192.0.2.53/32", 0.1):
                return
    t0 = time.monotonic()
    frozen()
    took = time.monotonic() - t0
    assert took < 2.5, took                       # 30 ticks: never withdrawn
    assert "no query seen in view _default" in proc.proc.text()
    assert "snapshots still arriving" in proc.proc.text()


def test_buffered_snapshots_are_read_before_judging(stack):
    """A relay that was itself not scheduled reads what the plugin sent
    meanwhile before it calls the feed stale."""
    fake, proc = fake_setup(stack)
    fake.hello()
    fake.snapshot(1)
    fake.snapshot(2)
    assert announced(proc)
    proc.proc.send_signal(signal.SIGSTOP)
    try:
        for seq in range(3, 13):                  # 1 s of healthy ticks
            fake.snapshot(seq)
            time.sleep(0.1)
    finally:
        proc.proc.send_signal(signal.SIGCONT)
    for seq in range(13, 17):
        fake.snapshot(seq)
        assert proc.wait_command("withdraw", 0.1) is None
    assert "DOWN" not in proc.proc.text()


def test_repeated_hello_updates_the_interval(stack):
    """A reload that slows the plugin down (issue 8 item 3): the plugin
    repeats its hello, and the relay's stale-after follows at once."""
    fake, proc = fake_setup(stack)
    fake.hello(interval=100)
    fake.snapshot(1)
    fake.snapshot(2)
    assert announced(proc)
    fake.hello(interval=1000, first=False)
    for seq in range(3, 7):                       # one snapshot a second
        fake.snapshot(seq)
        assert proc.wait_command("withdraw", 1.0) is None
    assert "plugin parameters changed: snapshot every 1000ms" in proc.proc.text()
    # And three of those intervals is the new default stale-after.
    assert proc.wait_command("withdraw route 192.0.2.53/32", 4.5) is not None


def test_plugin_that_never_says_hello(stack):
    """A plugin that accepts and stays silent is given up on, with the
    reason, and tried again (issue 8 item 13)."""
    fake, proc = fake_setup(stack)
    lab.wait_for(lambda: "no hello from the plugin within 2000 ms"
                 in proc.proc.text(), 4, what="the hello timeout")
    fake.accept()                                 # it reconnects
    fake.hello()
    fake.snapshot(1)
    fake.snapshot(2)
    assert announced(proc)


def test_full_listen_queue_does_not_block_the_relay(stack):
    """named not accepting, its listen queue full: the relay's connect
    must not block it (it answers its control socket meanwhile)."""
    named = lab.Named(stack)                   # only for its socket path
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(named.socket)
    srv.listen(0)
    stack.procs.append(_Closer(srv))
    fillers = []
    for _ in range(3):                            # fill the queue
        c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        c.setblocking(False)
        try:
            c.connect(named.socket)
        except BlockingIOError:
            pass
        fillers.append(c)
        stack.procs.append(_Closer(c))
    relay = lab.Relay(stack, named, services=lab.plain_service())
    proc = lab.RelayUnderTest(stack, relay)
    lab.wait_for(lambda: "listen queue is full" in relay.ctl("status").stdout,
                 5, interval=0.1, what="status naming the full queue")
    assert proc.proc.alive()


# A plugin's side spoken by whoever runs it: hello, then 60 snapshots
# of a live _default view, 100 ms apart.
IMPOSTOR = r"""
import os, socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1])
s.listen(4)
while True:
    c, _ = s.accept()
    try:
        c.sendall(b"hello proto=2 named=9.18.test pid=%d interval=100 "
                  b"zone_interval=1000 started=0\n" % os.getpid())
        for seq in range(1, 60):
            c.sendall(f"view seq={seq} id=0 name=_default\n"
                      f"outcomes seq={seq} view=0 queries=0 probes={seq}\n"
                      f"tick seq={seq} views=1 records=2 time=0\n".encode())
            time.sleep(0.1)
    except OSError:
        pass
    c.close()
"""


def test_plugin_socket_served_by_another_user_is_not_named(stack):
    """Issue 13 item 9b: anyone who can bind the plugin socket's path
    could feed the relay "healthy".  Only a socket served (SO_PEERCRED)
    by named's user (plugin.user, default bind) or root is named: one
    served by 'nobody' is refused and says so; told that named runs as
    nobody, the relay takes it."""
    d = stack.public_dir("ah-plugin-")
    os.chmod(d, 0o777)                            # nobody binds there
    sock = os.path.join(d, "ah.sock")
    fake = stack.start("impostor", ["setpriv", "--reuid=nobody",
                                    "--regid=nogroup", "--clear-groups",
                                    "/usr/bin/python3", "-c", IMPOSTOR, sock])
    lab.wait_for(lambda: os.path.exists(sock) or not fake.alive(), 5,
                 what="the impostor's socket")
    named = lab.Named(stack)                      # only for its paths
    relay = lab.Relay(stack, named, services=lab.plain_service())
    text = relay.path.read_text().replace(named.socket, sock)
    relay.path.write_text(text)
    proc = lab.RelayUnderTest(stack, relay)
    assert proc.wait_command("announce", 2) is None
    status = relay.ctl("status").stdout
    assert (f"{sock} is served by uid 65534 (nobody), pid {fake.pid}, not "
            "by named's user bind or root (plugin.user)") in status, status
    proc.proc.stop()

    relay.path.write_text(text.replace(f"socket: {sock}\n",
                                       f"socket: {sock}\n  user: nobody\n"))
    proc = lab.RelayUnderTest(stack, relay, name="relay-told")
    assert proc.wait_command("announce route " + V4, 5), proc.proc.text()
    # A reload that says otherwise applies to the connection at once.
    relay.path.write_text(text)
    assert relay.ctl("reload").returncode == 0
    assert proc.wait_command("withdraw route " + V4, 2), proc.proc.text()
    assert "is served by uid 65534 (nobody)" in relay.ctl("status").stdout


def test_plugin_user_must_exist(tmp_path):
    conf = tmp_path / "r.yaml"
    conf.write_text(BROKEN.replace("  stale-after: soon\n",
                                   "  user: no-such-user-here\n"))
    r = subprocess.run([str(lab.RELAY), "--check", str(conf)],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 1
    assert f"{conf}:3:9: user 'no-such-user-here' does not exist" in r.stderr
    for ok in ("nobody", "65534", "0"):
        conf.write_text(f"plugin:\n  user: {ok}\nservices:\n  - name: dns\n"
                        "    prefixes:\n      - prefix: 192.0.2.53/32\n")
        r = subprocess.run([str(lab.RELAY), "--check", str(conf)],
                           capture_output=True, text=True, timeout=10)
        assert r.returncode == 0, r.stderr



def laughs(n=300):
    """A service of n aliases of one prefix, in a list of n aliases of
    the service: 2 KB that, walked alias by alias, is 90,000 prefixes
    compared pair by pair (a 'billion laughs')."""
    return ("services: [&s {name: dns, prefixes: [&p {prefix: "
            "192.0.2.53/32}" + ",*p" * (n - 1) + "]}" + ",*s" * (n - 1)
            + "]\n")


def repeated(n):
    """One prefix listed n times."""
    return ("services:\n  - name: dns\n    prefixes:\n" +
            "      - prefix: 192.0.2.53/32\n" * n)


def check(path, timeout=10):
    t0 = time.monotonic()
    r = subprocess.run([str(lab.RELAY), "--check", str(path)],
                       capture_output=True, text=True, timeout=timeout)
    return r, time.monotonic() - t0


def test_check_refuses_what_no_configuration_is_in_bounded_time(tmp_path):
    """Aliases of aliases, an alias within itself, nesting 100,000 deep,
    5,000 services, a FIFO, a canary name too long for DNS: each refused
    within a second or two with one error that says why.  A prefix
    listed 3 times is 2 errors, and 500 times 499, of which 100 shown."""
    conf = tmp_path / "relay.yaml"
    conf.write_text(laughs())
    r, took = check(conf)
    assert r.returncode == 1 and took < 5, (took, r.stderr[-300:])
    assert f"{conf}:1:" in r.stderr and "YAML aliases standing for more " \
        "than 100000 values in all (*s): not a configuration" in r.stderr, \
        r.stderr[:500]
    assert len(r.stderr.splitlines()) == 2, r.stderr[:500]

    conf.write_text("services: &s [{name: dns, prefixes: *s}]\n")
    r, took = check(conf)
    assert r.returncode == 1 and took < 5, took
    assert "YAML alias *s within its own anchor: not a configuration" \
        in r.stderr, r.stderr

    conf.write_text("services: " + "[" * 100000 + "]" * 100000 + "\n")
    r, took = check(conf)
    assert r.returncode == 1 and took < 5, took
    assert "nested more than 32 deep: not a configuration" in r.stderr

    conf.write_text("services:\n" + "  - {}\n" * 5000)
    r, took = check(conf)
    assert r.returncode == 1 and took < 5, took
    assert "services: 5000, more than any configuration has (1024 at " \
        "most)" in r.stderr, r.stderr[:300]

    conf.write_text(repeated(3))
    r, took = check(conf)
    assert r.returncode == 1
    assert [x for x in r.stderr.splitlines() if "listed twice" in x] == [
        f"{conf}:5:9: prefix 192.0.2.53/32 is listed twice",
        f"{conf}:6:9: prefix 192.0.2.53/32 is listed twice"], r.stderr

    conf.write_text(repeated(500))
    r, took = check(conf)
    assert r.returncode == 1
    lines = r.stderr.splitlines()
    assert len(lines) == 102, (len(lines), lines[-3:])
    assert lines[-2] == \
        f"{conf}:1:1: 499 errors in all, the first 100 shown"

    label = "a" * 63
    conf.write_text("services:\n  - name: dns\n    prefixes:\n"
                    "      - prefix: 192.0.2.53/32\n    canary:\n"
                    f"      name: {label}.{label}.{label}.{label}\n")
    r, took = check(conf)
    assert r.returncode == 1, r.stdout
    assert "257 octets on the wire, more than a domain name's 255" \
        in r.stderr, r.stderr

    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)
    r, took = check(fifo)
    assert r.returncode == 1 and took < 5, took
    assert f"{fifo}: a FIFO or a socket: not a configuration file" \
        in r.stderr, r.stderr


def test_aliases_within_bounds_are_read(tmp_path):
    """An anchored block shared by services, as operators write it, reads
    as if written out at each alias."""
    conf = tmp_path / "relay.yaml"
    conf.write_text("""\
services:
  - name: dns
    prefixes: [{prefix: 192.0.2.53/32}]
    checks: &checks
      servfail-ratio: 30%
  - name: dns2
    prefixes: [{prefix: 198.51.100.53/32}]
    checks: *checks
""")
    r, took = check(conf)
    assert r.returncode == 0, r.stderr
    assert "OK, 2 services, 2 prefixes" in r.stdout


def test_a_reload_of_a_file_of_aliases_is_refused_at_once(stack):
    """The file replaced by 2 KB of aliases and reloaded: refused within
    the reply's time, the relay still judging, not stuck walking
    gigabytes of aliases while ExaBGP waits.  Then a file of 499 errors:
    status counts 499, though 100 are shown."""
    relay, fake, proc = lab.fake_relay(stack, lab.plain_service(rise=1))
    fake.snapshot(1)
    assert proc.wait_command(f"announce route {V4}", 5)
    good = relay.path.read_text()
    head = good.split("services:")[0]
    relay.path.write_text(head + laughs())
    t0 = time.monotonic()
    r = relay.ctl("reload")
    assert r.returncode == 1, r.stdout + r.stderr
    assert time.monotonic() - t0 < 5
    assert "YAML aliases standing for more than 100000" in r.stdout + r.stderr
    assert relay.ctl("status").returncode == 6
    assert proc.proc.alive()

    relay.path.write_text(head + repeated(500))
    assert relay.ctl("reload").returncode == 1
    doc = json.loads(relay.ctl("-j", "status").stdout)
    assert doc["relay"]["config_errors"] == 499, doc["relay"]


def test_a_missing_file_and_stray_signals_leave_the_relay_running(tmp_path):
    """Started on a file that is not there, the relay runs on nothing
    (ExaBGP gives up on a process that keeps dying, and drops every
    session); SIGUSR1 and SIGUSR2, whose default would kill it, are
    logged and ignored; SIGTERM still ends it.  Without a file it takes
    the default paths (/run/anycast-health, /var/lib/anycast-health):
    they are empty directories of its own, in a mount namespace."""
    import shutil
    import pytest
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("needs root and unshare(1) for a mount namespace")
    missing = tmp_path / "gone.yaml"
    script = ("mount -t tmpfs none /run && mount -t tmpfs none /var/lib "
              f"&& exec {lab.RELAY} {missing}")
    p = subprocess.Popen(["unshare", "--mount", "--propagation", "private",
                          "sh", "-c", script],
                         stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True)
    err = []
    try:
        # Its handlers are set once it says it is starting.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            line = p.stderr.readline()
            err.append(line)
            if not line or "starting:" in line:
                break
        assert p.poll() is None, "".join(err)
        for sig in (signal.SIGUSR1, signal.SIGUSR2):
            p.send_signal(sig)
            time.sleep(0.3)
            assert p.poll() is None, f"killed by {sig}"
        p.send_signal(signal.SIGTERM)
        assert p.wait(10) == 0
        err.append(p.stderr.read())
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    err = "".join(err)
    assert f"{missing}: No such file or directory" in err
    assert "configuration rejected, and no good configuration" in err
    assert "SIGUSR1 ignored: SIGHUP reloads, SIGTERM withdraws and " \
        "exits" in err
    assert "SIGUSR2 ignored" in err


def many_prefixes(n, per=500):
    """Services of 'per' distinct IPv6 documentation /48s, n in all."""
    out = []
    for i in range(0, n, per):
        out.append(f"  - name: s{i // per}\n    prefixes:\n")
        out += [f"      - prefix: 2001:db8:{j:x}::/48\n"
                for j in range(i, min(n, i + per))]
    return "".join(out)


def test_a_file_of_many_prefixes_is_checked_and_reloaded_at_once(stack,
                                                                 tmp_path):
    """A file near the 1 MiB limit lists some 30,000 prefixes.  Each was
    compared with each to find one listed twice (5.7 s for --check), and
    again at a reload, twice over (8 s for 20,000, 23 s for a file of
    aliases refused): the relay read nothing all the while, and named's
    plugin drops a reader that takes nothing for 5 s, which withdraws
    every service.  Now they are sorted: a duplicate is still found."""
    conf = tmp_path / "relay.yaml"
    body = many_prefixes(30000)
    conf.write_text("services:\n" + body)
    assert len(conf.read_bytes()) < 1024 * 1024
    r, took = check(conf)
    assert r.returncode == 0 and "OK, 60 services, 30000 prefixes" \
        in r.stdout, r.stdout + r.stderr
    assert took < 2, took

    conf.write_text("services:\n" + body +
                    "  - name: again\n    prefixes:\n"
                    "      - prefix: 2001:db8:1f::/48\n")
    r, took = check(conf)
    assert r.returncode == 1 and took < 2, took
    assert f"{conf}:{len(body.splitlines()) + 4}:9: prefix 2001:db8:1f::/48 " \
        "is listed twice" in r.stderr, r.stderr

    relay, fake, proc = lab.fake_relay(stack, lab.plain_service(rise=1))
    fake.snapshot(1)
    assert proc.wait_command(f"announce route {V4}", 5)
    head = relay.path.read_text().split("services:")[0]
    relay.path.write_text(head + "services:\n" + lab.plain_service(rise=1)
                          + many_prefixes(20000))
    t0 = time.monotonic()
    r = relay.ctl("reload")
    took = time.monotonic() - t0
    assert r.returncode == 0, r.stdout + r.stderr
    assert "s39: added" in r.stdout, r.stdout[-500:]
    assert took < 2, took
    t0 = time.monotonic()
    r = relay.ctl("reload")
    assert r.returncode == 0 and time.monotonic() - t0 < 2, r.stdout[-300:]
    assert proc.proc.alive()


def test_signals_while_the_file_is_read_leave_the_relay_running(stack,
                                                                tmp_path):
    """SIGHUP or SIGUSR1 while the relay reads its file (a large one, and
    its copy kept with fsync, takes a while): before, their default
    killed it (exit 129), and ExaBGP counts a death towards dropping
    every session.  Now they wait for the relay's loop: the SIGHUP
    reloads, the SIGUSR1 is ignored.  strace holds the file's open for
    1 s, the signal lands meanwhile."""
    import shutil
    import pytest
    from lab.sanitizers import under_strace_env
    if shutil.which("strace") is None:
        pytest.skip("strace is not installed (.ci/deps installs it)")
    named = lab.Named(stack)                  # only for its socket path
    relay = lab.Relay(stack, named, services=lab.plain_service())
    for sig in (signal.SIGHUP, signal.SIGUSR1):
        err = tmp_path / f"relay-{sig}.err"
        with open(err, "wb") as errf:
            p = subprocess.Popen(
                ["strace", "-o", os.devnull, "-P", str(relay.path),
                 "-e", "inject=openat:delay_enter=1000000:when=1",
                 str(lab.RELAY), str(relay.path)],
                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                stderr=errf, env=under_strace_env())
        try:
            time.sleep(0.6)
            assert p.poll() is None and err.read_text() == "", \
                err.read_text()
            kids = Path(f"/proc/{p.pid}/task/{p.pid}/children")
            pid = int(kids.read_text().split()[0])
            os.kill(pid, sig)                 # strace passes it on
            time.sleep(1.5)
            assert p.poll() is None, (sig, p.returncode,
                                      err.read_text()[-500:])
            os.kill(pid, signal.SIGTERM)
            assert p.wait(10) == 0
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        text = err.read_text()
        if sig == signal.SIGHUP:
            assert "SIGHUP: reloading" in text, text[-500:]
        else:
            assert "SIGUSR1 ignored" in text, text[-500:]


def test_check_refuses_what_it_would_read_otherwise_than_written(tmp_path):
    """A "\\0" in a double-quoted value ended it there: "192.0.2.1/32\\0
    junk" was taken for 192.0.2.1/32, a community and a view cut short
    alike.  A second YAML document (after ---) went unread, and a syntax
    error after the first unseen: its services were silently dropped.
    Each is refused now, at its line."""
    conf = tmp_path / "relay.yaml"
    good = ("services:\n  - name: dns\n    prefixes:\n"
            "      - prefix: 192.0.2.53/32\n")
    conf.write_text('services:\n  - name: dns\n    prefixes:\n'
                    '      - prefix: "192.0.2.1/32\\0junk"\n'
                    '        communities: ["65000:1\\0 no-export"]\n'
                    '    view: "a\\0b"\n')
    r, _ = check(conf)
    assert r.returncode == 1
    assert r.stderr.splitlines()[:3] == [
        f"{conf}:4:17: prefix holds a NUL character (\\0)",
        f"{conf}:5:23: a community holds a NUL character (\\0)",
        f"{conf}:6:11: view holds a NUL character (\\0)"], r.stderr

    conf.write_text(good + "---\nservices:\n  - name: dns2\n")
    r, _ = check(conf)
    assert r.returncode == 1
    assert f"{conf}:5:1: a second YAML document (after ---): one " \
        "configuration per file" in r.stderr, r.stderr

    conf.write_text(good + "...\nservices: [\n")
    r, _ = check(conf)
    assert r.returncode == 1
    assert f"{conf}:6:1: did not find expected <document start> after " \
        "the first YAML document" in r.stderr, r.stderr

    conf.write_text("---\n" + good + "...\n")
    r, _ = check(conf)
    assert r.returncode == 0, r.stderr


def test_check_refuses_a_depref_that_would_not_depreference(tmp_path):
    """A depref MED below the prefix's draws traffic to a failing node
    (RFC 4271 prefers the lower), and one no higher, with no as-path and
    no community the prefix lacks, leaves it the same: both passed, the
    second only refused when depref had nothing at all.  A missing MED is
    taken as 0; a depref adding a community or a higher MED passes."""
    conf = tmp_path / "relay.yaml"
    conf.write_text("""\
services:
  - name: dns
    prefixes:
      - prefix: 192.0.2.53/32
        med: 1000
      - prefix: 192.0.2.54/32
        med: 100
        communities: ["65000:1"]
      - prefix: 192.0.2.55/32
    depref:
      med: 100
      communities: ["65000:1"]
      graceful-shutdown: no
""")
    r, _ = check(conf)
    assert r.returncode == 1
    assert r.stderr.splitlines()[:2] == [
        f"{conf}:4:9: service 'dns': prefix 192.0.2.53/32: depref med 100 "
        "is below the prefix's 1000: depreferred, the node would draw more "
        "traffic, not less",
        f"{conf}:6:9: service 'dns': prefix 192.0.2.54/32: its depreferred "
        "announcement would be the same as its own (no higher med, no "
        "as-path, no community it lacks)"], r.stderr
    conf.write_text(conf.read_text().replace("med: 1000", "med: 10")
                    .replace('communities: ["65000:1"]',
                             'communities: ["65000:2"]', 1))
    r, _ = check(conf)
    assert r.returncode == 0, r.stderr
