# SPDX-License-Identifier: MPL-2.0
"""A bad file cannot take a node down (issue 16, item 2; doc/config.md,
section 1.11; doc/cli.md, section 2.1).

The relay keeps a copy of the last configuration it accepted beside its
state file.  Started on a file it rejects (ExaBGP restarted, or the
relay respawned, after someone broke the file), it runs on that copy
instead of exiting, which would make ExaBGP give up and drop every BGP
session of the node; with no good configuration at all it stays up and
announces nothing.  Either way it says so: anycastctl status (exit 6),
the metrics and the log, each with the file's first error.
"""

import json
import os
import re
import signal
import stat
import subprocess
import time

import lab
from lab.relay import validate

V4 = "192.0.2.53/32"
V6 = "2001:db8::53/128"
EXIT_CONFIG = 6


def last_good(relay):
    """Where the relay keeps its copy: beside relay.state."""
    return relay.state.parent / "relay.last-good.yaml"


def break_file(relay, old, new):
    """Replaces 'old' with 'new' in the relay's file; the position of
    'new' as an error names it (line:column of its value)."""
    text = relay.path.read_text()
    assert old in text
    text = text.replace(old, new, 1)
    relay.path.write_text(text)
    before = text[:text.index(new)]
    line = before.count("\n") + 1
    column = len(before) - (before.rfind("\n") + 1) + new.index(":") + 3
    return f"{relay.path}:{line}:{column}:"


def metric(relay, name):
    out = relay.ctl("metrics").stdout
    m = re.search(rf"^anycast_health_{name} (\S+)$", out, re.M)
    return m.group(1) if m else None


def status_json(relay):
    """anycastctl -j status by the file, checked against the schema."""
    r = relay.ctl("-j", "status")
    return r.returncode, validate(json.loads(r.stdout))


def test_exabgp_restarted_five_times_on_a_broken_file(stack):
    named, bird, relay, exa = lab.chain(stack)
    good = relay.path.read_text()
    copy = last_good(relay)
    assert copy.read_text() == good, "the accepted bytes, as they were"
    assert stat.S_IMODE(copy.stat().st_mode) == 0o640
    at = break_file(relay, "rise: 2", "rise: two")

    for i in range(5):
        exa.proc.stop()
        lab.wait_for(lambda: not bird.has_route(V4), 10,
                     what="the route gone with ExaBGP")
        exa = lab.ExaBGP(stack, bird, relay, name=f"exabgp{i}").start()
        lab.wait_for(lambda: bird.has_route(V4) and bird.has_route(V6),
                     30, what=f"both prefixes back after restart {i + 1}")
    assert exa.proc.alive()
    assert "Too many death" not in exa.proc.text()
    log = exa.proc.text()
    assert f"{at} rise 'two' must be a whole number 1..100" in log
    assert "running on the last good configuration" in log

    r = relay.ctl("status")
    assert r.returncode == EXIT_CONFIG, r.stdout + r.stderr
    assert f"{at} rise 'two'" in r.stdout
    assert "last good configuration" in r.stdout
    assert metric(relay, "config_last_load_ok") == "0"
    assert copy.read_text() == good, "a rejected file is never the copy"

    # Fixed and reloaded: nothing to say any more.
    relay.path.write_text(good)
    assert relay.ctl("reload").returncode == 0
    r = relay.ctl("status")
    assert r.returncode == 0, r.stdout
    assert "REJECTED" not in r.stdout
    assert metric(relay, "config_last_load_ok") == "1"


def test_relay_respawned_on_a_broken_file_keeps_the_node(stack):
    named, bird, relay, exa = lab.chain(stack)
    at = break_file(relay, "interval: 1s", "interval: soon")
    old = relay.pid()
    os.kill(old, signal.SIGKILL)
    lab.wait_for(lambda: relay.pid() not in (None, old), 10,
                 what="a relay respawned by ExaBGP")
    lab.wait_for(lambda: bird.has_route(V4) and bird.has_route(V6), 30,
                 what="both prefixes announced by the new relay")
    assert exa.proc.alive(), "ExaBGP did not give up"
    rc, doc = status_json(relay)
    assert rc == EXIT_CONFIG
    st = doc["relay"]
    assert st["config_ok"] is False
    assert st["config_source"] == "last-good"
    assert st["config_error"].startswith(at)
    assert st["last_good"] == str(last_good(relay))


def test_first_start_on_a_broken_file_stays_up_announces_nothing(stack):
    named = lab.Named(stack).start()
    bird = lab.Bird(stack).start()
    relay = lab.Relay(stack, named)
    good = relay.path.read_text()
    # A syntax error after the control block: anycastctl and the relay
    # still find the control socket.
    relay.path.write_text(good + "  - name: [\n")
    assert not last_good(relay).exists()
    check = subprocess.run([str(lab.RELAY), "--check", str(relay.path)],
                           capture_output=True, text=True, timeout=10)
    assert check.returncode == 1, "--check is unchanged"
    assert "configuration rejected, nothing announced" in check.stderr

    exa = lab.ExaBGP(stack, bird, relay).start()
    lab.wait_for(lambda: bird.established("ns1"), 30, what="BGP session")
    lab.wait_for(lambda: relay.ctl("status").returncode == EXIT_CONFIG, 10,
                 what="the relay answering on the file's control socket")
    r = relay.ctl("status")
    assert f"{relay.path}:" in r.stdout and "REJECTED" in r.stdout
    assert "no good configuration" in r.stdout
    assert f"{relay.path}:" in r.stderr, "anycastctl's own reading of it"
    assert metric(relay, "config_last_load_ok") == "0"
    rc, doc = status_json(relay)
    assert rc == EXIT_CONFIG and doc["relay"]["config_source"] == "none"
    assert doc["config_file"]["errors"][0].startswith(f"{relay.path}:")
    assert doc["services"] == []
    time.sleep(2)
    assert exa.proc.alive() and bird.established("ns1")
    assert not bird.has_route(V4) and not bird.has_route(V6)
    assert "nothing is announced" in exa.proc.text()

    relay.path.write_text(good)
    r = relay.ctl("reload")
    assert r.returncode == 0, r.stdout + r.stderr
    lab.wait_for(lambda: bird.has_route(V4) and bird.has_route(V6), 30,
                 what="both prefixes once the file is fixed")
    assert relay.ctl("status").returncode == 0
    assert last_good(relay).read_text() == good


def test_a_copy_that_cannot_be_written_is_said(stack):
    """Without its copy a node would have nothing to run on at a start on
    a broken file: the relay says so, and status shows it."""
    named = lab.Named(stack).start()
    relay = lab.Relay(stack, named, replacements=[
        (f"state-file: {stack.dir / 'relay.state'}",
         "state-file: /nonexistent/ah.state")])
    proc = lab.RelayUnderTest(stack, relay)
    assert proc.wait_command(f"announce route {V4}", 10)
    want = ("last good configuration /nonexistent/ah.last-good.yaml.tmp: "
            "No such file or directory: a restart on a broken file will "
            "find nothing to run on")
    assert f"warning: {want}" in proc.proc.text()
    r = relay.ctl("status")
    assert f"warning: {want}" in r.stdout
    st = status_json(relay)[1]["relay"]
    assert st["last_good"] == "/nonexistent/ah.last-good.yaml"
    assert st["last_good_warning"] == want
    assert st["config_ok"] is True and st["config_source"] == "file"
