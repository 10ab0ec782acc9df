# SPDX-License-Identifier: MPL-2.0
"""named-checkconf runs the plugin's own check: mistakes in the
parameter block are reported with file and line, and exit status 1."""

import re
import signal
import subprocess
import time

import pytest

import lab
from lab.feed import Subscriber

CASES = [
    ("bogus 1;", r"unknown parameter 'bogus'"),
    # an unquoted zone name is a value, not a keyword
    ("zones { a; b; }; bogus 1;", r"unknown parameter 'bogus'"),
    ("interval ;", r"interval is not a number of milliseconds"),
    ('interval 100;\n\tinterval 200;', r"'interval' given twice"),
    ("interval 10;", r"interval 10 out of range 50\.\.60000"),
    ("interval 600000;", r"interval 600000 out of range"),
    ("interval fast;", r"interval is not a number of milliseconds"),
    ('interval "500";', r"interval is not a number of milliseconds"),
    ("all-zones maybe;", r"all-zones must be yes or no"),
    ("socket /tmp/x.sock;", r"socket must be a path in double quotes"),
    ('socket "relative.sock";', r"socket 'relative\.sock' must be an absolute path"),
    ('socket "/' + "x" * 120 + '";', r"is longer than 107 bytes"),
    # Short enough for an address, but not the private directory beside
    # it that the socket is bound in first: named would fail to start.
    ('socket "/' + "d" * 96 + '/s";',
     r"is too long to create safely: its directory's path plus 12 bytes "
     r"must fit in 107"),
    ('socket-mode "0999";', r"socket-mode '0999' is not an octal mode"),
    ('socket-mode "0066";', r"socket-mode '0066' is not an octal mode"),
    ('socket-group "no-such-group-here";', r"socket-group 'no-such-group-here' does not exist"),
    # One zone twice, as written or not: it would be counted twice.
    ('zones { "example"; "Example."; };', r"zone 'Example\.' is listed twice"),
    # 245 octets on the wire, but named writes each '(' as '\(': too
    # long to publish, where it became '<unknown>' and was never found.
    ('zones { "' + ".".join(["(" * 60] * 4) + '"; };',
     r"zone '\(+\.\(+\.\(+\.\(+' is longer than 255 bytes as named writes "
     r"it"),
]


def conf_with(stack, params):
    """The test named.conf with 'params' in place of the same keyword's
    statement (or added); returns the file and the line of the last
    statement of 'params'."""
    named = lab.Named(stack)
    lines = named.conf.read_text().splitlines()
    key = params.split()[0]
    start = next(i for i, l in enumerate(lines) if "plugin query" in l)
    end = next(i for i in range(start, len(lines)) if lines[i].startswith("};"))
    at = next((i for i in range(start, end) if lines[i].split()[:1] == [key]), None)
    if at is None:
        lines.insert(end, "\t" + params)
        at = end
    else:
        lines[at] = "\t" + params
    text = "\n".join(lines) + "\n"
    named.conf.write_text(text)
    return named.conf, at + 1 + params.count("\n")


@pytest.mark.parametrize("params,message", CASES)
def test_bad_parameter(stack, params, message):
    conf, line = conf_with(stack, params)
    r = subprocess.run(["named-checkconf", str(conf)], capture_output=True,
                       text=True, timeout=30)
    out = r.stdout + r.stderr
    assert r.returncode == 1, out
    assert re.search(message, out), out
    # The complaint names the file and the line of the mistake.
    assert f"{conf}:{line}:" in out, out


def test_good_config_passes(stack):
    named = lab.Named(stack)
    r = subprocess.run(["named-checkconf", str(named.conf)], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 0, r.stdout + r.stderr


def test_named_refuses_to_start_with_bad_parameter(stack):
    conf, line = conf_with(stack, "interval 1;")
    named = lab.Named(stack, conf_text=conf.read_text())
    named.start(wait=False)
    lab.wait_for(lambda: not named.proc.alive(), 20, what="named to give up")
    assert "interval 1 out of range" in named.proc.text()


def test_view_name_that_cannot_be_published(stack):
    """A view name over 255 bytes could not be carried by every record
    (doc/protocol.md, section 5): named-checkconf says so, with the
    file and line of the plugin statement."""
    named = lab.Named(stack)
    body, plugin, zone = named.sections()
    long_name = "v" * 300
    named.conf.write_text(body + f'view "{long_name}" {{\n{plugin}\n{zone}\n}};\n')
    r = subprocess.run(["named-checkconf", str(named.conf)], capture_output=True,
                       text=True, timeout=30)
    out = r.stdout + r.stderr
    assert r.returncode == 1, out
    assert "is longer than 255 bytes and cannot be published" in out, out
    assert re.search(re.escape(str(named.conf)) + r":\d+: anycast-health:", out), out


def second_statement(plugin):
    """'plugin' again, as a file included twice has it."""
    return plugin


def test_two_statements_in_one_view_are_refused(stack):
    """Two anycast-health statements in one view (a file included twice,
    a copy left behind) would count each of its queries twice, and the
    second's zones would never be walked: named-checkconf refuses the
    second, naming where the first is.  One statement in each of two
    views is what views need, and passes."""
    named = lab.Named(stack)
    body, plugin, zone = named.sections()
    again = second_statement(plugin)
    for text in (body + plugin + "\n" + again + "\n" + zone + "\n",
                 body + 'view "v" {\n' + plugin + "\n" + zone + "\n" +
                 again + "\n};\n"):
        named.conf.write_text(text)
        r = subprocess.run(["named-checkconf", str(named.conf)],
                           capture_output=True, text=True, timeout=30)
        out = r.stdout + r.stderr
        assert r.returncode == 1, out
        first = text[:text.index("plugin query")].count("\n") + 1
        second = text[:text.rindex("plugin query")].count("\n") + 1
        assert re.search(
            re.escape(f"{named.conf}:") + r"\d+: anycast-health: a second "
            r"statement for view '(_default|v)' \(the first is at " +
            re.escape(f"{named.conf}:{first})"), out), out
        assert out.count("a second statement") == 1, out
        assert second > first
    named.conf.write_text(
        body + 'view "a" {\n match-clients { 127.0.0.1; };\n' + plugin +
        "\n" + zone + '\n};\nview "b" {\n' + plugin + "\n};\n")
    r = subprocess.run(["named-checkconf", str(named.conf)],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stdout + r.stderr


def test_named_ignores_a_second_statement_in_one_view(stack):
    """named itself does not run the plugin's check, and a reload that
    fails in a plugin's registration can crash named 9.18: the second
    statement is registered without an instance, logged as ignored, and
    the view's queries are counted once, through a reload too."""
    named = lab.Named(stack)
    body, plugin, zone = named.sections()
    named.conf.write_text(body + plugin + "\n" + second_statement(plugin) +
                          "\n" + zone + "\n")
    named.start()
    log = named.proc.text()
    assert "a second statement for view '_default'" in log, log
    assert "is ignored" in log, log
    sub = Subscriber(named.socket)
    assert sub.record()[0] == "hello"
    for _ in range(2):
        before = sub.snapshot()[0]["_default"]["queries"]
        for _ in range(10):
            named.query("www.example")
        after = lab.wait_for(
            lambda: (lambda q: q if q >= before + 10 else None)(
                sub.snapshot()[0]["_default"]["queries"]),
            5, what="10 queries counted")
        time.sleep(0.5)
        assert sub.snapshot()[0]["_default"]["queries"] == before + 10
        assert named.rndc("reconfig").returncode == 0
    named.kill(signal.SIGTERM)
    lab.wait_for(lambda: not named.proc.alive(), 20, what="named to stop")
    assert "assertion" not in named.proc.text()


def refused_in_view_b(named, other):
    """named.conf with the test's plugin statement in view "a" and
    'other' in view "b": named-checkconf's output, which must be a
    refusal, and the line of the first statement."""
    body, plugin, zone = named.sections()
    text = (body + 'view "a" {\n match-clients { 127.0.0.1; };\n' + plugin +
            "\n" + zone + '\n};\nview "b" {\n' + other + "\n};\n")
    named.conf.write_text(text)
    r = subprocess.run(["named-checkconf", str(named.conf)],
                       capture_output=True, text=True, timeout=30)
    out = r.stdout + r.stderr
    assert r.returncode == 1, out
    return out, text[:text.index("plugin query")].count("\n") + 1


@pytest.mark.parametrize("param,old,new,shown", [
    ("interval", "200", "500", "interval 500 differs from 200"),
    ("zone-interval", "1000", "2000", "zone-interval 2000 differs from 1000"),
    ("socket-mode", '"0660"', '"0600"',
     'socket-mode "0600" differs from "0660"'),
])
def test_views_with_different_publisher_settings_are_refused(
        stack, param, old, new, shown):
    """One named has one publisher: its intervals, mode and group are
    the first statement's, and another view's other value would be
    ignored.  named-checkconf says so, at the statement that differs."""
    named = lab.Named(stack)
    plugin = named.sections()[1]
    assert f"{param} {old};" in plugin, plugin
    other = plugin.replace(f"{param} {old};", f"{param} {new};", 1)
    out, first = refused_in_view_b(named, other)
    assert (f"anycast-health: {shown} of the statement at "
            f"{named.conf}:{first}: one named publishes on one socket, as "
            "the first statement sets it") in out, out


def test_views_with_different_sockets_are_refused(stack):
    """One named publishes on one socket: a view whose statement names
    another made named fail at its start ('all views must use one
    socket') although named-checkconf passed it.  Now named-checkconf
    says so, at the statement that differs from the first."""
    named = lab.Named(stack)
    plugin = named.sections()[1]
    other = re.sub(r'socket "[^"]*"', f'socket "{named.dir}/other.sock"',
                   plugin, count=1)
    assert other != plugin
    out, first = refused_in_view_b(named, other)
    assert (f"anycast-health: socket '{named.dir}/other.sock' differs from "
            f"'{named.socket}' of the statement at {named.conf}:{first}: "
            "one named publishes on one socket") in out, out


def test_named_takes_a_zone_listed_twice_with_a_warning(stack):
    """named-checkconf refuses a zone listed twice, and one too long to
    publish; named, which took both before they were checked, takes them
    with a warning (a reload refused in a plugin's registration can crash
    named 9.18), watching the first once and not the second."""
    long_name = ".".join(["(" * 60] * 4)
    named = lab.Named(stack)
    text = named.conf.read_text()
    assert 'zones { "example"; };' in text
    named.conf.write_text(text.replace(
        'zones { "example"; };',
        f'zones {{ "example"; "Example."; "{long_name}"; }};'))
    named.start()
    log = named.proc.text()
    assert "zone 'Example.' is listed twice: watched once" in log, log
    assert "cannot be published: not watched" in log, log
    sub = Subscriber(named.socket)
    records = []
    t0 = time.monotonic()
    zones = []
    while not zones and time.monotonic() - t0 < 10:
        named.query("www.example")
        sub.snapshot(records)
        zones = [kv["name"] for typ, kv in records if typ == "zone"]
    assert zones == ["example"], zones
