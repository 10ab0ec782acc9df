# SPDX-License-Identifier: MPL-2.0
"""anycast-relay: its YAML, rendered from conf/anycast-relay.yaml for a
relay on loopback or on a fleet node, anycastctl against it, and the
relay run directly with the test playing ExaBGP.
"""

import json
import os
import queue
import re
import subprocess
import threading
import time

from .examples import render
from .exabgp import show_neighbor
from .named import Named
from .paths import CTL, RELAY, SRCDIR
from .proc import wait_for

SCHEMA = SRCDIR / "doc" / "anycastctl.schema.json"
# anycastctl's error when the relay closed the connection unanswered.
GONE_BEFORE_ANSWERING = "relay closed the connection before answering"


def without_damping(text):
    """The relay's YAML without the example's flap damping block: tests
    and benchmarks that flap a node on purpose would be held down."""
    new = re.sub(r"\n    damping:\n(?:      .*\n)+", "\n", text)
    if new == text:
        raise AssertionError("relay YAML: no damping block found to remove")
    return new


def metrics_listen(port):
    """For Relay's replacements: the example's control block with the
    metrics endpoint on 127.0.0.1:port."""
    return ('mode: "0660"', f'mode: "0660"\n  metrics-listen: 127.0.0.1:{port}')


def with_services(text, services):
    """The relay's YAML with its services (YAML list items) replaced."""
    return text[:text.index("\nservices:\n")] + "\nservices:\n" + services


def relay_yaml(plugin_socket, control_socket, state_file, neighbors, *,
               reconnect=None, liveness_port=None, control_group=None,
               zones=None, replacements=(), damping=True, services=None):
    """conf/anycast-relay.yaml rendered for one relay.

    neighbors       (IPv4, IPv6) of the router, for every prefix
    reconnect       plugin.reconnect (None: the example's)
    liveness_port   the port the liveness probe asks named on (None: 53)
    control_group   the control socket's group
    zones           the zones the service checks (None: the example's)
    replacements    more (old, new) pairs
    damping         False: without the example's flap damping
    services        YAML list items in place of the example's services
    """
    repl = [("socket: /run/named/anycast-health.sock", f"socket: {plugin_socket}")]
    if reconnect is not None:
        repl.append(("reconnect: 200ms", f"reconnect: {reconnect}"))
    repl.append(("socket: /run/anycast-health/relay.sock", f"socket: {control_socket}"))
    if control_group is not None:
        repl.append(('mode: "0660"', f'mode: "0660"\n  group: {control_group}'))
    repl += [("state-file: /var/lib/anycast-health/relay.state",
              f"state-file: {state_file}"),
             ("neighbor: 192.0.2.1", f"neighbor: {neighbors[0]}"),
             ('neighbor: "2001:db8::1"', f'neighbor: "{neighbors[1]}"')]
    if liveness_port is not None:
        repl.append(("      port: 53\n", f"      port: {liveness_port}\n"))
    if zones is not None:
        repl.append(("zones: [example]", f"zones: [{', '.join(zones)}]"))
    text = render("anycast-relay.yaml", [*repl, *replacements])
    if not damping:
        text = without_damping(text)
    if services is not None:
        text = with_services(text, services)
    return text


# A service judged only on named being alive and serving its view, for
# tests about the feed and ExaBGP rather than about health checks.
# {liveness} sends the liveness probe to the test's named.
PLAIN_SERVICE = """
  - name: {name}
    view: {view}
    rise: {rise}
    prefixes:
      - prefix: {v4}
        next-hop: self
        med: 100
        communities: ["65000:53"]
        neighbor: 127.0.0.1
      - prefix: {v6}
        next-hop: self
        neighbor: "::1"
{liveness}"""


def plain_service(name="dns", view="_default", v4="192.0.2.53/32",
                  v6="2001:db8::53/128", rise=2, port=None, source=None):
    liveness = ""
    if port is not None:
        liveness = f"    liveness:\n      port: {port}\n"
        if source is not None:
            liveness += f'      source: "{source}"\n'
    return PLAIN_SERVICE.format(name=name, view=view, v4=v4, v6=v6, rise=rise,
                                liveness=liveness)


class Relay:
    """anycast-relay's YAML for a relay on loopback, beside the test's
    named (its socket, its port for the liveness probe), the router at
    127.0.0.1 and ::1.

    'services', when given, replaces the example's services (YAML list
    items); the plugin and control sections are always the example's.
    """

    def __init__(self, stack, named, name="relay", text=None, replacements=(),
                 services=None):
        self.stack = stack
        self.control = str(stack.dir / f"{name}.ctl")
        self.path = stack.dir / f"{name}.yaml"
        self.state = stack.dir / f"{name}.state"
        if text is None:
            text = relay_yaml(named.socket, self.control, self.state,
                              ("127.0.0.1", "::1"), reconnect="50ms",
                              liveness_port=named.port,
                              replacements=replacements, services=services)
        self.path.write_text(text)

    def ctl(self, *args):
        # Longer than anycastctl's own 10 s for a relay that does not
        # answer: its status 3, not a timeout here.
        return subprocess.run([str(CTL), "-c", str(self.path), *args],
                              capture_output=True, text=True, timeout=15)

    def pid(self):
        """The relay's pid as its control socket reports it, or None
        when no relay answers: none listens (exit 3), or the relay that
        took the connection died before it answered (a test that kills
        the relay asks again at once, and may ask the dying one)."""
        r = self.ctl("-j", "status")
        if r.returncode == 3:
            return None
        doc = json.loads(r.stdout)
        if "relay" in doc:
            return doc["relay"]["pid"]
        if doc.get("error", {}).get("message") == GONE_BEFORE_ANSWERING:
            return None
        raise AssertionError(f"anycastctl status: exit {r.returncode}: "
                             f"{r.stdout}{r.stderr}")


class RelayUnderTest:
    """anycast-relay run directly, the test playing ExaBGP.

    The relay's stdout (its commands) is collected by a thread; each
    command is answered on its stdin, in order, as ExaBGP does: 'done',
    or 'error' for one containing a string of 'reject'.  ExaBGP's
    neighbors are 'sessions' (for 'show neighbor', which is answered
    but not collected).  With 'hold' set, answers wait for release().
    """

    def __init__(self, stack, relay, name="relay-proc", ack=True,
                 sessions=None):
        self.relay = relay
        self.sessions = sessions or {
            "127.0.0.1": ("ESTABLISHED", "ipv4 unicast"),
            "::1": ("ESTABLISHED", "ipv6 unicast")}
        self.proc = stack.start(name, [str(RELAY), str(relay.path)],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.commands = []
        self.q = queue.Queue()
        self.ack = ack
        self.reject = ()
        self.hold = False
        self.held = []
        self.lock = threading.Lock()

        def reader():
            for raw in self.proc.p.stdout:
                line = raw.decode().rstrip("\n")
                if not line.startswith("show neighbor"):
                    self.commands.append(line)
                    self.q.put(line)
                with self.lock:
                    if self.hold:
                        self.held.append(line)
                    else:
                        self._answer(line)
        self.thread = threading.Thread(target=reader, daemon=True)
        self.thread.start()

    def _answer(self, line):
        if not self.ack:
            return
        if line.startswith("show neighbor"):
            text = show_neighbor(self.sessions)
        elif any(r in line for r in self.reject):
            text = "error\n"
        else:
            text = "done\n"
        try:
            self.proc.p.stdin.write(text.encode())
            self.proc.p.stdin.flush()
        except (BrokenPipeError, ValueError):
            # The relay is exiting: keep reading what it said.
            self.ack = False

    def say(self, text):
        """Write 'text' (lines ExaBGP would write: 'neighbor X up') to
        the relay, between answers."""
        with self.lock:
            self.proc.p.stdin.write(text.encode())
            self.proc.p.stdin.flush()

    def release(self):
        """Answer what 'hold' held, in order, and stop holding."""
        with self.lock:
            for line in self.held:
                self._answer(line)
            self.held = []
            self.hold = False

    def next_command(self, timeout):
        try:
            if timeout <= 0:
                return self.q.get_nowait()
            return self.q.get(timeout=timeout)
        except queue.Empty:
            return None

    def wait_command(self, pattern, timeout):
        """The first command containing 'pattern', within timeout; with
        a timeout of 0, among those already written."""
        deadline = time.monotonic() + timeout
        while True:
            c = self.next_command(deadline - time.monotonic())
            if c is None:
                return None
            if pattern in c:
                return c

    def close_stdin(self):
        self.proc.p.stdin.close()


def relay_only(stack, services=None, replacements=(), wait=False, **named_kw):
    """A relay that the test plays ExaBGP for, with a real named (Named's
    keywords: named_kw); with wait, once it has announced.  Returns
    (named, relay, RelayUnderTest)."""
    named = Named(stack, **named_kw).start()
    relay = Relay(stack, named, replacements=replacements, services=services)
    proc = RelayUnderTest(stack, relay)
    if wait:
        assert proc.wait_command("announce", 10)
        wait_announced(relay)
    return named, relay, proc


def wait_announced(relay, timeout=10):
    """Until anycastctl status says every prefix is announced: ExaBGP's
    answer to each command, not the first command written, is what
    makes a prefix announced (doc/cli.md)."""
    wait_for(lambda: relay.ctl("status").returncode == 0, timeout,
             what="every prefix announced")


def relay_on_public_socket(stack, mode):
    """A relay whose control socket 'nobody' can reach, if its mode
    lets it: the pytest tmp dir is 0700, so the socket lives in a
    directory of its own."""
    named = Named(stack).start()
    relay = Relay(stack, named)
    path = os.path.join(stack.public_dir("ah-ctl-"), "relay.sock")
    text = relay.path.read_text().replace(relay.control, path)
    relay.path.write_text(text.replace('mode: "0660"', f'mode: "{mode}"'))
    relay.control = path
    proc = RelayUnderTest(stack, relay)
    assert proc.wait_command("announce", 10)
    wait_announced(relay)
    relay.under_test = proc
    return relay


def as_nobody(*args):
    """anycastctl as user nobody, in no group."""
    return subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup",
                           "--clear-groups", str(CTL), *args],
                          capture_output=True, text=True, timeout=10)


def validate(doc):
    """doc, once checked against anycastctl's JSON schema
    (doc/anycastctl.schema.json)."""
    import jsonschema
    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft202012Validator(schema).validate(doc)
    return doc


def parse_exposition(text):
    """Prometheus text format 0.0.4, strictly enough to catch our
    mistakes: every sample belongs to the family declared just before
    it (or its _bucket/_count), TYPE is known, values are numbers."""
    sample = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
    label = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)')
    fam, typ, seen, out = None, None, set(), {}
    for line in text.splitlines():
        if line.startswith("# HELP "):
            fam = line.split()[2]
            assert fam not in seen, f"family {fam} declared twice"
            seen.add(fam)
            continue
        if line.startswith("# TYPE "):
            _, _, name, typ = line.split()
            assert name == fam and typ in ("counter", "gauge", "histogram", "untyped")
            assert (typ == "counter") == name.endswith("_total"), name
            continue
        m = sample.match(line)
        assert m, f"bad sample line {line!r}"
        name, labels, val = m.group(1), m.group(3) or "", m.group(4)
        ok = {fam} | ({fam + "_bucket", fam + "_count"} if typ == "histogram" else set())
        assert name in ok, f"{name} outside its family {fam}"
        lbl = {k: v for k, v, _ in label.findall(labels)}
        float(val.replace("+Inf", "inf"))
        out[(name, tuple(sorted(lbl.items())))] = float(val.replace("+Inf", "inf"))
    return out
