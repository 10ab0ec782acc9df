# SPDX-License-Identifier: MPL-2.0
"""The plugin inside named under valgrind memcheck, through reloads,
views added and removed, and subscribers that come, go, misbehave and
stop reading.  The test fails on any memcheck error (or definite leak)
with a frame in anycast-health.so; named's own noise is suppressed in
valgrind-named.supp, and errors without our frames are only printed.

What memcheck can see: BIND's isc_mem allocates through jemalloc's
mallocx(), which valgrind does not intercept, so a heap overrun inside
an isc_mem block goes unseen here (ASan covers that: configure
--enable-sanitizers).  Uninitialised values, invalid frees, syscalls
given bad buffers and accesses outside mapped memory are seen.
"""

import select
import signal
import socket
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import lab
from lab.feed import Subscriber

SUPP = Path(__file__).with_name("valgrind-named.supp")
ZONES = 200            # ~150 bytes each per snapshot: slow readers fill up
ROUNDS = 5


def views_conf(body, plugin, zones, views):
    """named.conf with the given views, each with the plugin; no views
    at all when 'views' is empty."""
    if not views:
        return body + plugin + zones
    text = body
    for i, v in enumerate(views):
        text += f"""
view "{v}" {{
    match-clients {{ {"127.0.0.1" if i == 0 else "any"}; }};
    {plugin}
    {zones if i == 0 else ""}
}};
"""
    return text


def subscriber_with_views(named, want):
    """A new subscriber if its first snapshot has exactly the views
    'want' (protocol 2 names them in its 'view' records)."""
    sub = Subscriber(named.socket)
    sub.s.settimeout(60)
    typ, hello = sub.record()
    assert typ == "hello"
    names = []
    while (rec := sub.record()) is not None and rec[0] != "tick":
        if rec[0] == "view":
            names.append(rec[1]["name"])
    if sorted(names) == want:
        return sub
    sub.s.close()
    return None


def our_errors(xml_path, plugin_name):
    """(ours, others): memcheck errors with and without a frame in the
    plugin, each as text."""
    root = ET.parse(xml_path).getroot()
    ours, others = [], []
    for err in root.iter("error"):
        what = err.findtext("what") or err.findtext("xwhat/text") or ""
        frames = [(f.findtext("obj") or "", f.findtext("fn") or "?",
                   f.findtext("file") or "", f.findtext("line") or "")
                  for f in err.iter("frame")]
        text = err.findtext("kind") + ": " + what + "".join(
            f"\n    {fn} ({Path(obj).name}{' ' + file + ':' + line if file else ''})"
            for obj, fn, file, line in frames)
        (ours if any(obj.endswith(plugin_name) for obj, *_ in frames)
         else others).append(text)
    return ours, others


@pytest.mark.slow
@pytest.mark.timeout(600)
@pytest.mark.skipif(lab.SANITIZE, reason="an ASan-built plugin cannot run "
                    "under valgrind; the plain build runs this test")
def test_plugin_under_valgrind(stack):
    t0 = time.monotonic()
    named = lab.Named(stack, interval=100)
    body, plugin, zone = named.sections()
    names = ["example"] + [f"z{i}.example" for i in range(ZONES - 1)]
    zones = zone + "".join(zone.replace('"example"', f'"{z}"', 1)
                           for z in names[1:])
    plugin = plugin.replace('zones { "example"; };', "zones { " + " ".join(
        f'"{z}";' for z in names) + " };")
    layouts = [[], ["inside", "outside"], ["inside"],
               ["inside", "third", "outside"], []]
    named.conf.write_text(views_conf(body, plugin, zones, layouts[0]))

    xml = stack.dir / "valgrind.xml"
    named.start(wrapper=[
        "valgrind", "--tool=memcheck", "--num-callers=40",
        "--leak-check=full", "--show-leak-kinds=definite",
        "--errors-for-leak-kinds=definite", f"--suppressions={SUPP}",
        "--xml=yes", f"--xml-file={xml}",
        f"--log-file={stack.dir}/valgrind.log"], start_timeout=180)

    # Readers that never read: the plugin's buffer for each fills until
    # it drops them.  One stays for the whole test; the others churn.
    stuck = []
    for _ in range(3):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.connect(named.socket)
        stuck.append(s)
    for n in range(ROUNDS):
        layout = layouts[n % len(layouts)]
        named.conf.write_text(views_conf(body, plugin, zones, layout))
        r = named.rndc("reconfig")
        assert r.returncode == 0, r.stderr
        r = named.rndc("reload")
        assert r.returncode == 0, r.stderr
        for i in range(20):
            named.query("www.example" if i % 2 else f"nx{i}.z{i}.example",
                        timeout=10)
        # Churn: readers that read a little and go, one that goes
        # without reading, one that writes (read-only socket).
        for _ in range(6):
            sub = Subscriber(named.socket)
            sub.s.settimeout(60)
            typ, hello = sub.record()
            assert typ == "hello"
            sub.s.close()
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(named.socket)
        s.close()
        sub = Subscriber(named.socket)
        sub.s.settimeout(60)
        sub.s.sendall(b"hello plugin\n")
        sub.s.close()
        # The plugin serves the layout just loaded, once the old views'
        # last queries are done (BIND keeps a removed view, and so its
        # plugin instance, while a query of it is in flight).
        want = sorted(layout or ["_default"])
        sub = lab.wait_for(lambda: subscriber_with_views(named, want), 30,
                           interval=0.5, what=f"hello listing {want}")
        views, _ = sub.snapshot()
        assert sorted(views) == want
        sub.s.close()
        if len(stuck) > 1:
            stuck.pop().close()
    # The first never read a byte: the plugin must have cut it off once
    # its 4 MiB buffer was full (a hang-up, seen before its data is).
    p = select.poll()
    p.register(stuck[0], select.POLLRDHUP)
    lab.wait_for(lambda: p.poll(0), 120, interval=0.5,
                 what="the plugin to drop a reader that never reads")
    stuck[0].close()

    named.proc.stop(signal.SIGTERM, timeout=180)  # plugin_destroy runs
    elapsed = time.monotonic() - t0
    log = named.proc.text()
    assert log.count("publishing on") >= ROUNDS, "plugin registered each round"
    ours, others = our_errors(xml, lab.PLUGIN.name)
    print(f"\nvalgrind: {ROUNDS} reconfig+reload rounds, {ZONES} zones, "
          f"{elapsed:.0f} s wall; memcheck errors: {len(ours)} in the plugin, "
          f"{len(others)} elsewhere")
    for e in others:
        print("not ours:", e)
    assert "<state>FINISHED</state>" in xml.read_text(), "valgrind completed"
    assert not ours, "\n".join(ours)
