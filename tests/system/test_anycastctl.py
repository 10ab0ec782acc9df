# SPDX-License-Identifier: MPL-2.0
"""anycastctl's manners (doc/cli.md section 2): its help, replies that
say plainly what has happened and what will, ending a flap-damping
hold, names from named shown escaped, plurals, bash completion, and
one version everywhere.

Most tests put the relay on a FakePlugin, so that the snapshots (and
the names in them) are exactly what the test says; the test plays
ExaBGP.
"""

import json
import os
import re
import subprocess
import time

import lab
from lab.relay import validate
from lab.sanitizers import under_strace_env

V4 = "192.0.2.53/32"
COMPLETION = lab.SRCDIR / "ctl" / "bash-completion" / "anycastctl"

DAMPED = """    damping:
      max-changes: 2
      period: 60s
      hold: 40s
      max-hold: 10m
"""


def fake_relay(stack, services=None, interval=1000, hello=True):
    """The relay on a FakePlugin's socket, the test playing ExaBGP.  An
    interval of 1 s keeps stale-after (3 intervals) out of the way of
    a test that sends snapshots by hand."""
    named = lab.Named(stack)                   # only for its socket path
    relay = lab.Relay(stack, named, services=services or
                         lab.plain_service(rise=1))
    fake = lab.FakePlugin(named.socket)
    stack.procs.append(fake)
    proc = lab.RelayUnderTest(stack, relay)
    fake.accept()
    if hello:
        fake.hello(interval=interval)
    return relay, fake, proc


def ctl(relay, *args):
    return subprocess.run([str(lab.CTL), "-s", relay.control, *args],
                          capture_output=True, text=True, timeout=10)


def version():
    text = (lab.SRCDIR / "configure.ac").read_text()
    return re.search(r"^AC_INIT\(\[anycast-health\], \[([^]]+)\]", text,
                     re.M).group(1)


def test_help_explains_every_option():
    r = subprocess.run([str(lab.CTL), "--help"], capture_output=True,
                       text=True, timeout=10)
    assert r.returncode == 0 and r.stderr == ""
    # Each option on a line of its own, with what it does beside it.
    for opt in (r"-j, --json", r"-c, --config CONFIG", r"-s, --socket SOCKET",
                r"-V, --version", r"-h, --help", r"--wait", r"--timeout D"):
        assert re.search(rf"^ +{opt} +\w", r.stdout, re.M), (opt, r.stdout)
    for cmd in ("status", "show counters", "show zones", "show checks",
                "show history", "metrics", "drain", "undrain", "release",
                "reload"):
        assert re.search(rf"^  {cmd}\b", r.stdout, re.M), (cmd, r.stdout)
    assert "exit status" in r.stdout
    # Usage errors point to it, on stderr.
    r = subprocess.run([str(lab.CTL), "-x"], capture_output=True,
                       text=True, timeout=10)
    assert r.returncode == 1 and r.stdout == ""
    assert "anycastctl --help" in r.stderr


def test_one_version_everywhere(stack):
    """configure.ac's version is the one the programs, the plugin's
    hello, NEWS and debian/changelog give."""
    v = version()
    for prog in (lab.CTL, lab.RELAY):
        r = subprocess.run([str(prog), "-V"], capture_output=True, text=True,
                           timeout=10)
        assert r.stdout == f"{prog.name} {v} (protocol 2)\n", r.stdout
    changelog = (lab.SRCDIR / "debian" / "changelog").read_text()
    assert changelog.startswith(f"anycast-health ({v}) "), changelog[:80]
    news = (lab.SRCDIR / "NEWS").read_text()
    assert re.search(rf"^anycast-health {re.escape(v)}\b", news, re.M)

    # The plugin says it in its hello; the relay shows it.
    named = lab.Named(stack).start()
    import socket
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(named.socket)
    hello = s.makefile("rb").readline().decode()
    s.close()
    assert hello.startswith("hello ") and f" version={v} " in hello, hello
    relay = lab.Relay(stack, named)
    proc = lab.RelayUnderTest(stack, relay)
    assert proc.wait_command("announce", 10)
    st = relay.ctl("status").stdout
    assert re.search(rf"^named: +pid \d+, BIND \S+, anycast-health {v}, 1 "
                     r"view: _default$", st, re.M), st
    doc = validate(json.loads(relay.ctl("-j", "status").stdout))
    assert doc["feed"]["plugin_version"] == v


def test_a_hello_without_version_is_read(stack):
    """A plugin older than 0.2.0 sends no version: the relay judges its
    feed all the same and says what it does not know."""
    relay, fake, proc = fake_relay(stack)
    fake.snapshot(1)
    assert proc.wait_command(f"announce route {V4}", 5)
    st = ctl(relay, "status").stdout
    assert re.search(r"^named: +pid 4242, BIND 9\.18\.test, anycast-health "
                     r"older than 0\.2\.0, 1 view: _default$", st, re.M), st
    doc = validate(json.loads(ctl(relay, "-j", "status").stdout))
    assert "plugin_version" not in doc["feed"]


def test_plain_undrain_says_what_will_happen(stack):
    relay, fake, proc = fake_relay(stack, lab.plain_service(rise=3))
    for seq in range(1, 4):
        fake.snapshot(seq)
    assert proc.wait_command(f"announce route {V4}", 5)
    assert ctl(relay, "drain", "dns", "--timeout", "0s").returncode == 0
    r = ctl(relay, "undrain", "dns")
    assert r.returncode == 0, r.stderr
    assert r.stdout == ("dns: undrained: will be announced after 3 good "
                        "evaluations in a row (rise)\n"), r.stdout
    r = ctl(relay, "undrain", "dns")
    assert r.stdout.startswith("dns: not drained: nothing to undo; "), r.stdout
    doc = validate(json.loads(ctl(relay, "-j", "undrain").stdout))
    assert doc["services"][0]["result"] == "not-drained"


def held(stack):
    """A service held down by flap damping: up, down (a snapshot
    without its view), then healthy again past its one change a
    minute."""
    relay, fake, proc = fake_relay(stack, lab.plain_service(rise=1) +
                                   DAMPED)
    fake.snapshot(1)
    assert proc.wait_command(f"announce route {V4}", 5)
    fake.snapshot(2, views=("other",))
    assert proc.wait_command(f"withdraw route {V4}", 5)
    for seq in range(3, 6):                 # live again, and healthy
        fake.snapshot(seq)
        time.sleep(0.05)
    lab.wait_for(lambda: "HELD by flap damping" in ctl(relay, "status"
                                                          ).stdout,
                    5, what="held")
    return relay, fake, proc


def test_undrain_of_a_held_service_says_the_hold_goes_on(stack):
    relay, fake, proc = held(stack)
    assert ctl(relay, "drain", "dns").returncode == 0
    r = ctl(relay, "undrain", "dns")
    assert r.returncode == 0, r.stderr
    m = re.fullmatch(r"dns: undrained: held down by flap damping until "
                     r"\d\d:\d\d:\d\d \((\d+)s more\), then announced after "
                     r"1 good evaluation in a row \(rise\); 'anycastctl "
                     r"release dns' ends the hold now\n", r.stdout)
    assert m and 30 <= int(m.group(1)) <= 40, r.stdout
    fake.snapshot(6)
    time.sleep(0.3)
    assert not [c for c in proc.commands if "announce" in c][2:], \
        "still held: nothing announced"


def test_release_ends_a_damping_hold(stack):
    relay, fake, proc = held(stack)
    n = len(proc.commands)
    r = ctl(relay, "release", "dns")
    assert r.returncode == 0, r.stderr
    assert re.fullmatch(r"dns: released from flap damping \([34]\ds of the hold "
                        r"were left\): announced at its next good "
                        r"evaluation\n", r.stdout), r.stdout
    log = proc.proc.text()
    assert "control: release dns by uid 0 (root)" in log
    assert re.search(r"service dns released from flap damping by uid 0 "
                     r"\(root\) with [34]\ds of the hold left", log), log
    fake.snapshot(6)
    assert proc.wait_command(f"announce route {V4}", 5), proc.commands[n:]

    # Nothing held now: said so, and nothing changes.
    r = ctl(relay, "release")
    assert r.returncode == 0
    assert r.stdout == "dns: not held by flap damping: nothing to release " \
        "(UP)\n", r.stdout
    doc = validate(json.loads(ctl(relay, "-j", "release", "dns").stdout))
    assert doc["command"] == "release" and doc["service"] == "dns"
    assert doc["services"][0]["result"] == "not-held"
    r = ctl(relay, "release", "nosuch")
    assert r.returncode == 1
    assert "release: no service 'nosuch' in the configuration" in r.stderr


def test_release_in_json_says_what_was_left(stack):
    relay, fake, proc = held(stack)
    r = ctl(relay, "-j", "release")
    assert r.returncode == 0, r.stderr
    (svc,) = validate(json.loads(r.stdout))["services"]
    assert svc["result"] == "released" and 30000 < svc["released_ms"] <= 40000
    assert "held_ms" not in svc


def test_checks_without_data_say_no_data(stack):
    """Too little traffic is no data: not 'ok', and the words follow the
    traffic instead of keeping the first evaluation's."""
    svc = lab.plain_service(rise=1) + """    min-queries: 100
    window: 10s
    checks:
      servfail-ratio: 20%
"""
    relay, fake, proc = fake_relay(stack, svc, interval=200)
    for seq in range(1, 11):
        fake.snapshot(seq, queries=3 * seq)
        time.sleep(0.1)
    st = ctl(relay, "status").stdout
    line = next(l for l in st.splitlines() if "servfail-ratio" in l)
    m = re.match(r"^  servfail-ratio +no data +queries: (\d+) in \d", line)
    assert m and int(m.group(1)) >= 20, st
    r = ctl(relay, "show", "checks")
    assert "too little traffic" not in r.stdout, r.stdout
    assert re.search(r"^  servfail-ratio +no data +queries: \d\d in \d+\.\ds, "
                     r"below min-queries 100$", r.stdout, re.M), r.stdout
    doc = validate(json.loads(ctl(relay, "-j", "status").stdout))
    (chk,) = doc["services"][0]["checks"]
    assert chk["state"] == "no-data", chk


def test_show_zones_gives_named_load_time(stack):
    """BIND's zone load time is the zone file's mtime: 'loaded' is when
    named loaded it, as the plugin saw; the file's time is beside it."""
    named = lab.Named(stack)
    old = time.time() - 2 * 86400 - 3600
    os.utime(named.dir / "db.example", (old, old))
    named.start()
    relay = lab.Relay(stack, named)
    proc = lab.RelayUnderTest(stack, relay)
    assert proc.wait_command("announce", 10)
    r = relay.ctl("show", "zones")
    assert re.search(r"^    loaded  \S+ \S+ \((\d+)s ago\)$", r.stdout, re.M), \
        r.stdout
    assert re.search(r"^    dated   \S+ \S+ \(2d 1h ago\): BIND's load time "
                     r"\(for a zone read from a file, the file's "
                     r"modification time\)$", r.stdout, re.M), r.stdout
    doc = validate(json.loads(relay.ctl("-j", "show", "zones").stdout))
    (z,) = doc["views"][0]["zones"]
    assert time.time() - 60 < z["loaded_seen"] <= time.time()
    assert z["loaded_at"] == int(old)


def test_stale_feed_is_not_shown_up(stack):
    relay, fake, proc = fake_relay(stack, interval=100)
    fake.snapshot(1)
    assert proc.wait_command(f"announce route {V4}", 5)
    assert proc.wait_command(f"withdraw route {V4}", 5)    # no more ticks
    r = ctl(relay, "status")
    assert r.returncode == 2
    assert re.search(r"^feed: +STALE: up since .*, a snapshot every 100 ms, "
                     r"but the last \d+ ms ago \(seq 1\), more than "
                     r"stale-after 300 ms$", r.stdout, re.M), r.stdout
    assert not re.search(r"^feed: +up", r.stdout, re.M)


def test_plurals(tmp_path):
    conf = tmp_path / "one.yaml"
    conf.write_text("services:\n  - name: dns\n    prefixes:\n"
                    "      - prefix: 192.0.2.53/32\n")
    r = subprocess.run([str(lab.RELAY), "--check", str(conf)],
                       capture_output=True, text=True, timeout=10)
    assert r.stdout == f"{conf}: OK, 1 service, 1 prefix\n", r.stdout


def test_history_says_one_route_change(stack):
    relay, fake, proc = fake_relay(stack)
    fake.snapshot(1)
    assert proc.wait_command(f"announce route {V4}", 5)
    r = ctl(relay, "show", "history")
    assert "  1 route change since the relay started\n" in r.stdout, r.stdout


EVIL_VIEW = "v%1B[2J%0Afeed:%20forged"
EVIL_ZONE = "z%1B]0;title%07.example"


def test_names_from_named_are_escaped_for_people(stack):
    """A view or zone name with control bytes reaches the terminal as
    the relay's log shows it; JSON carries it as it is."""
    relay, fake, proc = fake_relay(stack, hello=False)
    fake.send("hello proto=2 named=9.18%1B[31mtest pid=4242 interval=1000 "
              "zone_interval=1000 started=0\n")
    for seq in (0, 1):                  # the probes count: a live view
        lines = [f"view seq={seq} id=0 name=_default",
                 f"outcomes seq={seq} view=0 queries=0 probes={seq} "
                 "noerror=0",
                 f"view seq={seq} id=1 name={EVIL_VIEW}",
                 f"outcomes seq={seq} view=1 queries=0 probes={seq} "
                 "noerror=0",
                 f"zones seq={seq} view=1 watched=1 healthy=1 expired=0 "
                 "unloaded=0 missing=0 checked=1796107209000",
                 f"zone seq={seq} view=1 name={EVIL_ZONE} found=1 "
                 "type=primary loaded=1 expired=0 serial=7 "
                 "loaded_at=1796107209 refresh=0 expire=0 "
                 "checked=1796107209000"]
        fake.send("".join(l + "\n" for l in lines) +
                  f"tick seq={seq} views=2 records={len(lines)} time=0\n")
    lab.wait_for(lambda: ctl(relay, "status").returncode == 0, 5,
                 what="both prefixes announced")
    shown = "v\\x1b[2J\\nfeed: forged"
    for args in (["status"], ["show", "counters"], ["show", "zones"]):
        r = ctl(relay, *args)
        assert r.returncode == 0, r.stderr
        assert "\x1b" not in r.stdout and "\x07" not in r.stdout, args
        assert shown in r.stdout, (args, r.stdout)
        assert not re.search(r"^feed: forged", r.stdout, re.M)
    assert "BIND 9.18\\x1b[31mtest" in ctl(relay, "status").stdout
    z = ctl(relay, "show", "zones", "v\x1b[2J\nfeed: forged").stdout
    assert "  z\\x1b]0;title\\x07.example: primary, loaded, serial 7\n" in z, z
    # An error that repeats what was asked for is escaped too.
    r = ctl(relay, "show", "zones", "x\x1by")
    assert r.returncode == 1 and "no view 'x\\x1by'" in r.stderr, r.stderr
    # JSON escapes on its own: the names as named gave them.
    doc = validate(json.loads(ctl(relay, "-j", "status").stdout))
    assert doc["feed"]["views"] == ["_default", "v\x1b[2J\nfeed: forged"]
    doc = validate(json.loads(ctl(relay, "-j", "show", "zones").stdout))
    assert doc["views"][1]["zones"][0]["name"] == "z\x1b]0;title\x07.example"


def complete(*words, env=None):
    """What the bash completion offers for the last of 'words'."""
    script = (f"source {COMPLETION}\n"
              "COMP_WORDS=(\"$@\"); COMP_CWORD=$(($# - 1))\n"
              "COMP_LINE=\"$*\"; COMP_POINT=${#COMP_LINE}\n"
              "_anycastctl anycastctl \"${COMP_WORDS[COMP_CWORD]}\" "
              "\"${COMP_WORDS[COMP_CWORD-1]}\"\n"
              "printf '%s\\n' \"${COMPREPLY[@]}\"\n")
    r = subprocess.run(["bash", "--norc", "-c", script, "bash", *words],
                       capture_output=True, text=True, timeout=20, env=env)
    assert r.returncode == 0, r.stderr
    return sorted(w for w in r.stdout.split("\n") if w)


def test_bash_completion(stack):
    ctl_ = str(lab.CTL)
    assert complete(ctl_, "") == sorted([
        "status", "show", "metrics", "drain", "undrain", "release",
        "reload", "restart"])
    assert complete(ctl_, "re") == ["release", "reload", "restart"]
    assert complete(ctl_, "restart", "") == []
    assert complete(ctl_, "show", "") == ["checks", "counters", "history",
                                          "zones"]
    assert set(complete(ctl_, "--")) == {"--json", "--config", "--socket",
                                         "--version", "--help"}
    assert complete(ctl_, "-j", "st") == ["status"]
    # Services and views, from the relay the command line names.
    named = lab.Named(stack).start()
    relay = lab.Relay(stack, named, services=lab.plain_service() +
                         lab.plain_service(name="dns2",
                                              v4="198.51.100.53/32",
                                              v6="2001:db8:1::53/128"))
    lab.RelayUnderTest(stack, relay)
    lab.wait_for(lambda: ctl(relay, "show", "counters").stdout, 10,
                    what="the relay with named's views")
    assert complete(ctl_, "-s", relay.control, "drain", "") == [
        "--timeout", "--wait", "dns", "dns2"]
    assert complete(ctl_, "-c", str(relay.path), "release", "dns") == [
        "dns", "dns2"]
    assert complete(ctl_, "-s", relay.control, "show", "checks", "") == [
        "dns", "dns2"]
    assert complete(ctl_, "-s", relay.control, "show", "zones", "") == [
        "_default"]
    assert complete(ctl_, "-s", relay.control, "status", "") == []
    assert complete(ctl_, "-s", relay.control, "drain", "--timeout", "") == []
    # No relay: no names, no noise.
    assert complete(ctl_, "-s", "/nonexistent", "drain", "d") == []


def test_bash_completion_does_not_wait_for_a_wedged_relay(tmp_path):
    silent = FakeRelaySocket(tmp_path / "silent.sock", "silent")
    try:
        t0 = time.monotonic()
        assert complete(str(lab.CTL), "-s", silent.path, "drain", "") == [
            "--timeout", "--wait"]
        assert time.monotonic() - t0 < 5
    finally:
        silent.close()


def test_a_relay_gone_between_connect_and_request_is_an_error(tmp_path):
    """A relay killed just as anycastctl connects (ExaBGP respawning it,
    say) closes a connection anycastctl has not yet written to.  That is
    an error that says so, on stderr and as the JSON reply, not a death
    by SIGPIPE with nothing printed.  strace holds connect()'s return
    for 0.3 s, so the relay is surely gone by the write."""
    import shutil
    import socket
    import threading
    import pytest
    if shutil.which("strace") is None:
        pytest.skip("strace is not installed (.ci/deps installs it)")
    path = str(tmp_path / "relay.sock")
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(4)
    srv.settimeout(10)

    def hang_up():
        for _ in range(2):
            try:
                c, _ = srv.accept()
            except OSError:
                return
            c.close()
    t = threading.Thread(target=hang_up, daemon=True)
    t.start()
    try:
        for args, out in ((("-j", "status"), "stdout"), (("status",), "")):
            r = subprocess.run(
                ["strace", "-o", os.devnull,
                 "-e", "inject=connect:delay_exit=300000",
                 str(lab.CTL), "-s", path, *args],
                capture_output=True, text=True, timeout=20,
                env=under_strace_env())
            assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
            assert "relay closed the connection" in r.stderr, r.stderr
            if out:
                doc = json.loads(r.stdout)
                assert doc["error"]["code"] == "internal", doc
                assert "closed the connection" in doc["error"]["message"]
            else:
                assert r.stdout == ""
    finally:
        srv.close()
        t.join(5)


class FakeRelaySocket:
    """A Unix socket standing in for a relay that misbehaves: 'silent'
    accepts and never answers, 'full' never accepts and has its one
    queue slot taken, 'status' answers any request with a minimal
    status (the peer's pid is this process's: SO_PEERCRED)."""

    def __init__(self, path, mode):
        import socket
        import threading
        self.path, self.mode, self.held = str(path), mode, []
        self.srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.srv.bind(self.path)
        self.srv.listen(0 if mode == "full" else 4)
        self.srv.settimeout(30)
        if mode == "full":
            c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            c.connect(self.path)
            self.held.append(c)
            return
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while True:
            try:
                c, _ = self.srv.accept()
            except OSError:
                return
            self.held.append(c)
            if self.mode == "status":
                c.recv(4096)
                c.sendall(b"relay pid=1 version=9.9 protocol=2 now=1000 "
                          b"spawns=\ndone status=ok\n")

    def close(self):
        self.srv.close()
        for c in self.held:
            c.close()


def run_ctl(*args, timeout=30):
    return subprocess.run([os.fsencode(str(lab.CTL)), *[
        a if isinstance(a, bytes) else str(a).encode() for a in args]],
        capture_output=True, timeout=timeout)


def test_a_relay_that_does_not_answer_is_given_up(tmp_path):
    """A relay stopped (SIGSTOP) or wedged: its socket takes connections
    it never answers, or, its queue full, takes none.  anycastctl gives
    up after 10 s, as not reachable, rather than hang a monitoring
    script or a shell's completion for ever."""
    silent = FakeRelaySocket(tmp_path / "silent.sock", "silent")
    full = FakeRelaySocket(tmp_path / "full.sock", "full")
    try:
        t0 = time.monotonic()
        procs = [subprocess.Popen([str(lab.CTL), "-s", s.path, "status"],
                                  stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
                 for s in (silent, full)]
        try:
            outs = [p.communicate(timeout=30) for p in procs]
        finally:
            for p in procs:
                if p.poll() is None:
                    p.kill()
                    p.wait()
        took = time.monotonic() - t0
        for p, (out, err), s in zip(procs, outs, (silent, full)):
            assert p.returncode == 3, (s.mode, p.returncode, err)
            assert f"the relay at {s.path} did not answer within 10 s" \
                in err, (s.mode, err)
        assert 9 < took < 20, took
    finally:
        silent.close()
        full.close()


def test_with_json_every_error_is_json(tmp_path):
    """-j: an error found before any relay is asked (the command line,
    -c's file) is also the JSON error on stdout (doc/cli.md section 2.4),
    and a value that is not UTF-8 is shown escaped, not lost to an
    'out of memory'."""
    no_socket = tmp_path / "no-socket.yaml"
    no_socket.write_text("services:\n  - name: dns\n")
    cases = [
        (["frobs"], 1, "usage", "unknown command 'frobs'"),
        (["-x", "status"], 1, "usage", "an unknown option"),
        (["drain", "--timeout", "2d"], 1, "usage", "unknown argument"),
        (["-c", tmp_path / "x.yaml", "-s", tmp_path / "y", "status"], 1,
         "usage", "-c and -s are exclusive"),
        (["-c", tmp_path / "nonexistent.yaml", "status"], 1, "config",
         "No such file or directory"),
        (["-s", b"/nonexistent/r\xffelay.sock", "status"], 3, "norelay",
         "r\\xffelay.sock"),
        (["-s", "/nonexistent/relay.sock", "show", "checks", b"d\xffns"],
         3, "norelay", "cannot reach the relay"),
        # No socket at all: a mistake, not a relay that is down (exit 3
        # told monitoring the relay was down).
        (["-s", tmp_path, "status"], 1, "usage",
         f"{tmp_path} is not a relay's control socket: a directory"),
        (["-s", "/etc/passwd", "status"], 1, "usage",
         "/etc/passwd is not a relay's control socket: not a socket"),
        # A rejected file whose control.socket cannot be read: the
        # default socket may be another relay's, not one to drain.
        (["-c", "/dev/null", "drain"], 1, "config",
         "/dev/null: configuration rejected, and its control.socket "
         "cannot be read: not sending 'drain' to the default socket "
         "/run/anycast-health/relay.sock, which may be another relay's"),
        # ... but one that reads whole, with no control.socket, says the
        # default: asked (no relay there).
        (["-c", no_socket, "drain"], 3, "norelay",
         "cannot reach the relay at /run/anycast-health/relay.sock"),
    ]
    for args, rc, code, text in cases:
        r = run_ctl("-j", *args)
        assert r.returncode == rc, (args, r.returncode, r.stderr)
        doc = json.loads(r.stdout)
        assert doc["error"]["code"] == code, (args, doc)
        assert text in doc["error"]["message"], (args, doc)
        assert b"out of memory" not in r.stderr


def test_json_shows_a_rejected_file_whose_path_is_not_utf8(tmp_path):
    """-c with a rejected file whose path is not UTF-8, the relay of its
    control socket answering: -j status gives the file's errors as JSON
    (each line starts with the path, escaped as for people), not an
    'out of memory' and no JSON at all."""
    sock = tmp_path / "r.sock"
    fake = FakeRelaySocket(sock, "status")
    path = os.path.join(os.fsencode(str(tmp_path)), b"r\xffelay.yaml")
    with open(path, "wb") as f:
        f.write(f"control:\n  socket: {sock}\nservices: [\n".encode())
    try:
        r = run_ctl("-j", "-c", path, "status")
    finally:
        fake.close()
    assert r.returncode == 6, (r.returncode, r.stderr)
    assert b"out of memory" not in r.stderr, r.stderr
    doc = json.loads(r.stdout)
    errors = doc["config_file"]["errors"]
    assert errors and all("r\\xffelay.yaml:" in e for e in errors), errors
    assert doc["config_file"]["path"].endswith("r\\xffelay.yaml")


def test_an_empty_socket_path_is_a_usage_error():
    """-s '' would ask the abstract socket named by no bytes at all,
    which any local user can bind: no relay of ours is ever there."""
    r = run_ctl("-s", "", "status")
    assert r.returncode == 1, (r.returncode, r.stderr)
    assert b"-s: an empty socket path" in r.stderr, r.stderr


def test_a_config_that_cannot_be_read_whole_is_an_error(tmp_path):
    """-c with a directory or an endless file: not a rejected file whose
    socket is the default, but one that cannot be read at all (status 1,
    doc/cli.md), in bounded time and memory; the relay's --check says
    the same."""
    for path, why in ((tmp_path, b"Is a directory"),
                      ("/dev/zero", b"longer than 1 MiB")):
        r = run_ctl("-c", path, "status")
        assert r.returncode == 1, (path, r.returncode, r.stderr)
        assert why in r.stderr, (path, r.stderr)
        assert b"asking the relay" not in r.stderr, r.stderr
        c = subprocess.run([str(lab.RELAY), "--check", str(path)],
                           capture_output=True, timeout=30)
        assert c.returncode != 0 and why in c.stderr, (path, c.stderr)


def test_restart_says_when_the_relay_cannot_be_seen(tmp_path):
    """/proc/PID/stat of the relay unreadable (it has just exited, or
    runs in another PID namespace): restart says so, without bytes it
    never read."""
    import shutil
    import pytest
    if shutil.which("strace") is None:
        pytest.skip("strace is not installed (.ci/deps installs it)")
    fake = FakeRelaySocket(tmp_path / "r.sock", "status")
    try:
        r = subprocess.run(
            ["strace", "-o", os.devnull, "-P", f"/proc/{os.getpid()}/stat",
             "-e", "trace=openat", "-e", "inject=openat:error=ENOENT",
             str(lab.CTL), "-s", fake.path, "restart"],
            capture_output=True, timeout=30, env=under_strace_env())
    finally:
        fake.close()
    assert r.returncode == 1, (r.returncode, r.stderr)
    err = r.stderr.decode("ascii")              # nothing but what it read
    assert f"cannot see the relay (pid {os.getpid()})" in err, err
    assert "nothing restarted" in err, err


def test_version_and_help_to_a_full_disk_fail():
    for opt in ("-V", "-h"):
        with open("/dev/full", "w") as full:
            r = subprocess.run([str(lab.CTL), opt], stdout=full,
                               stderr=subprocess.PIPE, text=True, timeout=10)
        assert r.returncode == 1, (opt, r.returncode)
        assert "stdout" in r.stderr, (opt, r.stderr)


def services_of(n, prefixes):
    """n services of 'prefixes' distinct IPv6 documentation /64s each."""
    out = []
    for i in range(n):
        out.append(f"  - name: s{i}\n    prefixes:\n")
        out += [f"      - prefix: 2001:db8:{i:x}:{j:x}::/64\n"
                for j in range(prefixes)]
    return "".join(out)


def test_metrics_of_64_services_and_an_overflow_that_says_so(stack):
    """64 services (the most a relay judges) of 3 prefixes make 320 KB of
    metrics: over the 256 KiB a reply held, and the reply ended without
    its 'done' (records kept filling in after one that did not fit, into
    the room kept for it): 'relay closed the connection in the middle of
    its reply'.  Now a reply holds 1 MiB; a larger one (64 services of
    32 prefixes) ends in an overflow error that says what to do, after
    the records that fitted and none after."""
    relay, fake, proc = fake_relay(stack, services_of(64, 3))
    r = relay.ctl("metrics")
    assert r.returncode == 0, r.stderr[-300:]
    assert len(r.stdout) > 256 * 1024, len(r.stdout)
    assert 'anycast_health_prefix_state{service="s63",prefix="2001:db8:3f:2::/64"' \
        in r.stdout

    head = relay.path.read_text().split("services:")[0]
    relay.path.write_text(head + "services:\n" + services_of(64, 32))
    assert relay.ctl("reload").returncode == 0
    r = relay.ctl("metrics")
    assert r.returncode == 1, r.returncode
    assert "the reply is larger than 1024 KiB; serve the metrics over " \
        "HTTP instead (control.metrics-listen)" in r.stderr, r.stderr[-300:]
    r = relay.ctl("-j", "metrics")
    doc = json.loads(r.stdout)
    assert doc["error"]["code"] == "overflow", doc["error"]
    assert proc.proc.alive()


def test_clients_that_ask_and_never_read_do_not_lock_anycastctl_out(stack):
    """16 connections (every slot) ask for metrics larger than a socket's
    buffer and never read them.  Only clients that had not asked gave way
    to a new one, so for 10 s (and again, as often as they asked again)
    anycastctl got 'relay closed the connection before answering'.  Now
    a reply unread for a second gives way too."""
    import socket
    relay, fake, proc = fake_relay(stack, services_of(64, 3))
    hogs = []
    try:
        for _ in range(16):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(relay.control)
            s.sendall(b"metrics proto=2\n")
            hogs.append(s)
        time.sleep(1.5)
        r = relay.ctl("status")
        assert r.returncode in (0, 2), (r.returncode, r.stderr)
        assert "its reply unread for" in proc.proc.text()
    finally:
        for s in hogs:
            s.close()
    assert proc.proc.alive()
