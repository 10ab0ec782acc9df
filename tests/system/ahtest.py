"""Harness for anycast-health's system tests and demo.

Starts real named, anycast-relay, ExaBGP and BIRD on loopback, each on
its own port, from the examples in conf/ (rendered with the paths and
ports of the run), and stops every process it started, by PID.

Written for /usr/bin/python3 (Debian's), which has dnspython.
"""

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

SRCDIR = Path(os.environ.get("AH_SRCDIR", Path(__file__).resolve().parents[2]))
BUILDDIR = Path(os.environ.get("AH_BUILDDIR", SRCDIR))
CONF = SRCDIR / "conf"

PLUGIN = BUILDDIR / ".libs" / "anycast-health.so"
RELAY = BUILDDIR / "anycast-relay"
CTL = BUILDDIR / "anycastctl"

NAMED = "/usr/sbin/named"
BIRD = "/usr/sbin/bird"
BIRDC = "/usr/sbin/birdc"
EXABGP = "/usr/sbin/exabgp"
# Set by 'make check' in a build configured with --enable-sanitizers:
# our programs carry ASan and UBSan; Debian's named does not, so the
# runtimes are preloaded into it for our plugin.
SANITIZE = os.environ.get("AH_SANITIZE") == "1"
SANITIZER_PRELOAD = os.environ.get("AH_SANITIZER_PRELOAD", "")
SANITIZER_LOGS = "AH_SANITIZER_LOGS"

# A test-only key for named's control channel on loopback.
RNDC_SECRET = "YW55Y2FzdC1oZWFsdGgtdGVzdC1vbmx5LWtleS0wMQ=="


# A secondary zone that expires within seconds of losing its primary:
# sec.example with SOA refresh 2, retry 1, expire 5, and the options that
# let a secondary honour such short timers (named clamps them otherwise).
SEC_ZONE = ("$TTL 1\n@ SOA ns1.sec.example. h.sec.example. 7 2 1 5 1\n"
            "  NS ns1.sec.example.\nns1 A 192.0.2.53\nwww A 198.51.100.81\n")
FAST_REFRESH_OPTIONS = """min-refresh-time 1; min-retry-time 1;
	max-refresh-time 2; max-retry-time 1;"""


def without_damping(text):
    """The relay's YAML without the example's flap damping block: tests
    and benchmarks that flap a node on purpose would be held down."""
    import re
    new = re.sub(r"\n    damping:\n(?:      .*\n)+", "\n", text)
    if new == text:
        raise AssertionError("relay YAML: no damping block found to remove")
    return new


def named_version():
    """named's version as named_g_version has it (and so the plugin's
    hello): '9.18.49-1~deb12u3-Debian' or '9.20.30-1~deb13u1-Debian'.
    Tests run against either BIND."""
    out = subprocess.run([NAMED, "-v"], capture_output=True, text=True,
                         check=True, timeout=10).stdout
    return out.split()[1]


def bind_minor():
    """(9, 18) or (9, 20): which BIND the tests run against."""
    major, minor = named_version().split(".")[:2]
    return int(major), int(minor)


def lock_file_statement(path):
    """named.conf's lock-file statement for PATH, for options { }; or
    nothing on BIND 9.20, which removed the option: named there takes no
    lock file, so nameds side by side cannot collide on one."""
    if bind_minor() >= (9, 20):
        return ""
    return f'lock-file "{path}";'


def free_port():
    """A port free for both TCP and UDP on 127.0.0.1 and ::1."""
    for _ in range(200):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
            t.bind(("127.0.0.1", 0))
            port = t.getsockname()[1]
            try:
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
                    u.bind(("127.0.0.1", port))
                with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as t6:
                    t6.bind(("::1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port")


def sanitizer_env(report_dir):
    """Environment for a test's sanitized programs: reports go to files
    in report_dir (the harness fails the test if any appear), not to a
    stderr nobody reads.  Children (ExaBGP's relay) inherit it."""
    logs = f"log_path={report_dir}/"
    return {
        SANITIZER_LOGS: str(report_dir),
        "ASAN_OPTIONS": f"halt_on_error=1:detect_leaks=1:{logs}asan",
        "UBSAN_OPTIONS": f"halt_on_error=1:print_stacktrace=1:{logs}ubsan",
    }


def named_sanitizer_env():
    """named itself is not instrumented: preload the runtimes for the
    plugin, and report only what concerns instrumented code.  Leak
    checking is off: named's own allocations at exit are not ours."""
    env = dict(os.environ)
    logs = f"log_path={os.environ[SANITIZER_LOGS]}/named-"
    env.update({
        "LD_PRELOAD": SANITIZER_PRELOAD,
        "ASAN_OPTIONS": f"halt_on_error=1:detect_leaks=0:{logs}asan",
        "UBSAN_OPTIONS": f"halt_on_error=1:print_stacktrace=1:{logs}ubsan",
    })
    return env


def sanitizer_shims(bin_dir):
    """Programs other than named that load the plugin (named-checkconf,
    for plugin_check) need the runtimes preloaded too: a shim of the
    same name in bin_dir, which the caller puts first in PATH."""
    real = shutil.which("named-checkconf")
    env = named_sanitizer_env()
    shim = Path(bin_dir) / "named-checkconf"
    shim.write_text("#!/bin/sh\n"
                    "# The plugin under test is built with ASan: preload it.\n"
                    + "".join(f"{k}='{env[k]}' " for k in
                              ("LD_PRELOAD", "ASAN_OPTIONS", "UBSAN_OPTIONS"))
                    + f'exec {real} "$@"\n')
    shim.chmod(0o755)


def render(example, replacements):
    """The example file with each replacement applied.

    Every 'old' must occur: if an example changes so that a test would
    silently run something else, the test fails here instead.
    """
    return render_text((CONF / example).read_text(), replacements, f"conf/{example}")


def render_text(text, replacements, what):
    """render() for a text from elsewhere (what: where it came from)."""
    for old, new in replacements:
        if old not in text:
            raise AssertionError(f"{what} no longer contains {old!r}")
        text = text.replace(old, new)
    return text


def wait_for(pred, timeout, interval=0.01, what="condition"):
    """Poll pred() until true; bounded by timeout."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


class Proc:
    """A child process with its own process group and a log file."""

    def __init__(self, name, argv, workdir, env=None, stdin=None, stdout=None):
        self.name = name
        self.log = Path(workdir) / f"{name}.log"
        self.logf = open(self.log, "ab")
        self.p = subprocess.Popen(
            argv,
            cwd=workdir,
            env=env,
            stdin=stdin if stdin is not None else subprocess.DEVNULL,
            stdout=stdout if stdout is not None else self.logf,
            stderr=self.logf,
            start_new_session=True,
        )

    @property
    def pid(self):
        return self.p.pid

    def alive(self):
        return self.p.poll() is None

    def text(self):
        return self.log.read_text(errors="replace")

    def send_signal(self, sig):
        if self.alive():
            os.kill(self.p.pid, sig)

    def stop(self, sig=signal.SIGTERM, timeout=10):
        """Stop the process and everything in its process group."""
        if self.p.returncode is not None:
            # Reaped already: its group id may belong to someone else now.
            self._close()
            return
        if self.alive():
            try:
                os.killpg(self.p.pid, sig)
            except ProcessLookupError:
                pass
            try:
                self.p.wait(timeout)
            except subprocess.TimeoutExpired:
                pass
        # Children ExaBGP spawned share its group; make sure none survive.
        try:
            os.killpg(self.p.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.p.wait(5)
        except subprocess.TimeoutExpired:
            pass
        self._close()

    def _close(self):
        # Input still buffered for a process that is gone would raise
        # when the pipe is collected, as a warning in some later test.
        if self.p.stdin is not None:
            try:
                self.p.stdin.close()
            except BrokenPipeError:
                pass
        self.logf.close()


class Stack:
    """Everything one test starts; stop() ends it all, in reverse order."""

    def __init__(self, workdir):
        self.dir = Path(workdir)
        self.procs = []

    def start(self, *args, **kw):
        p = Proc(*args, workdir=self.dir, **kw)
        self.procs.append(p)
        return p

    def stop(self):
        for p in reversed(self.procs):
            p.stop()
        self.procs.clear()


class Named:
    """named with the plugin, from conf/named.conf and conf/db.example."""

    def __init__(self, stack, name="named", plugin=True, interval=200,
                 extra_conf="", conf_text=None):
        self.stack = stack
        self.name = name
        self.dir = stack.dir / name
        self.dir.mkdir(exist_ok=True)
        self.port = free_port()
        self.rndc_port = free_port()
        self.socket = str(self.dir / "ah.sock")
        self.conf = self.dir / "named.conf"
        if conf_text is None:
            conf_text = self.default_conf(plugin, interval, extra_conf)
        self.conf.write_text(conf_text)
        (self.dir / "db.example").write_text((CONF / "db.example").read_text())
        self.proc = None

    def default_conf(self, plugin, interval, extra_conf):
        text = render("named.conf", [
            ('directory "/var/cache/bind";', f'directory "{self.dir}";'),
            ('pid-file "/run/named/named.pid";', f'pid-file "{self.dir}/named.pid";'),
            ("listen-on { 127.0.0.1; 192.0.2.53; };",
             f"listen-on port {self.port} {{ 127.0.0.1; }};"),
            ("listen-on-v6 { ::1; 2001:db8::53; };", "listen-on-v6 { none; };"),
            ('"anycast-health.so"', f'"{PLUGIN}"'),
            ('"/run/named/anycast-health.sock"', f'"{self.socket}"'),
            ("interval 100;", f"interval {interval};"),
            ('"/etc/bind/db.example"', f'"{self.dir}/db.example"'),
        ])
        # Our own control channel, so rndc works and nameds don't collide.
        text += f"""
key "rndc-key" {{ algorithm hmac-sha256; secret "{RNDC_SECRET}"; }};
controls {{ inet 127.0.0.1 port {self.rndc_port} allow {{ 127.0.0.1; }} keys {{ "rndc-key"; }}; }};
"""
        if not plugin:
            start = text.index('plugin query')
            end = text.index("\n};", start) + 3
            text = text[:start] + text[end:]
        return text + extra_conf

    def start(self, wait=True, wrapper=(), start_timeout=20):
        """wrapper: argv put before named's (valgrind, for one)."""
        if os.path.exists(self.socket) and not self.proc:
            os.unlink(self.socket)
        log = self.stack.dir / f"{self.name}.log"
        offset = log.stat().st_size if log.exists() else 0
        env = named_sanitizer_env() if SANITIZE and not wrapper else None
        self.proc = self.stack.start(
            self.name, [*wrapper, NAMED, "-g", "-c", str(self.conf), "-n", "2"],
            env=env)
        if wait:
            # "running" alone on a line, in this run's part of the log.
            wait_for(lambda: " running\n" in self.proc.text()[offset:]
                     or not self.proc.alive(), start_timeout,
                     what=f"{self.name} to start")
            assert self.proc.alive(), self.proc.text()[-3000:]
        return self

    def sections(self):
        """The rendered named.conf cut into (rest, plugin statement, zone
        statement), to rebuild it with views."""
        text = self.conf.read_text()
        p0 = text.index("plugin query")
        p1 = text.index("\n};", p0) + 3
        z0 = text.index('zone "example"')
        z1 = text.index("\n};", z0) + 3
        return text[:p0] + text[p1:z0] + text[z1:], text[p0:p1], text[z0:z1]

    def rndc(self, *args):
        conf = self.dir / "rndc.conf"
        conf.write_text(f"""key "rndc-key" {{ algorithm hmac-sha256; secret "{RNDC_SECRET}"; }};
options {{ default-key "rndc-key"; default-server 127.0.0.1; default-port {self.rndc_port}; }};
""")
        return subprocess.run(["/usr/sbin/rndc", "-c", str(conf), *args],
                              capture_output=True, text=True, timeout=30)

    def kill(self, sig=signal.SIGKILL):
        self.proc.send_signal(sig)
        if sig in (signal.SIGKILL, signal.SIGTERM):
            self.proc.p.wait(10)

    def query(self, qname, rdtype="A", tcp=False, timeout=2.0):
        import dns.message
        import dns.query
        q = dns.message.make_query(qname, rdtype)
        f = dns.query.tcp if tcp else dns.query.udp
        return f(q, "127.0.0.1", port=self.port, timeout=timeout)


def resolver(stack, upstream_port, name="named", interval=200):
    """named as a forwarding resolver to 127.0.0.1#upstream_port, still
    authoritative for the example zone (which the canary asks)."""
    named = Named(stack, name=name, interval=interval)
    text = named.conf.read_text().replace("recursion no;", f"""recursion yes;
	allow-recursion {{ 127.0.0.1; }};
	forward only;
	forwarders {{ 127.0.0.1 port {upstream_port}; }};
	dnssec-validation no;
	max-cache-ttl 1;
	max-ncache-ttl 1;""")
    named.conf.write_text(text)
    return named


class Bird:
    """BIRD 2 as the router, from conf/bird.conf, on loopback."""

    def __init__(self, stack, name="bird"):
        self.stack = stack
        self.name = name
        self.port = free_port()
        self.ctl = str(stack.dir / f"{name}.ctl")
        self.conf = stack.dir / f"{name}.conf"
        self.conf.write_text(render("bird.conf", [
            ("router id 192.0.2.1;", "router id 192.0.2.1;\n"),
            ("log stderr all;", "log stderr all;\ndebug protocols { states, routes, events };"),
            ("local 192.0.2.1 as 65000;", f"local 127.0.0.1 port {self.port} as 65000;\n\tstrict bind on;"),
            ("neighbor 192.0.2.10 as 65053;", "neighbor 127.0.0.1 as 65053;"),
            ("local 2001:db8::1 as 65000;", f"local ::1 port {self.port} as 65000;\n\tstrict bind on;"),
            ("neighbor 2001:db8::10 as 65053;", "neighbor ::1 as 65053;"),
        ]))
        self.proc = None

    def start(self):
        self.proc = self.stack.start(
            self.name, [BIRD, "-f", "-c", str(self.conf), "-s", self.ctl])
        wait_for(lambda: os.path.exists(self.ctl) or not self.proc.alive(), 10,
                 what="bird control socket")
        assert self.proc.alive(), self.proc.text()
        return self

    def birdc(self, *args):
        r = subprocess.run([BIRDC, "-s", self.ctl, *args], capture_output=True,
                           text=True, timeout=10)
        return r.stdout

    def has_route(self, prefix):
        out = self.birdc("show", "route", prefix)
        return prefix in out and "Network not found" not in out

    def established(self, proto):
        return "Established" in self.birdc("show", "protocols", proto)


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
    """anycast-relay's YAML, rendered from conf/anycast-relay.yaml.

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
            text = render("anycast-relay.yaml", [
                ("socket: /run/named/anycast-health.sock", f"socket: {named.socket}"),
                ("reconnect: 200ms", "reconnect: 50ms"),
                ("socket: /run/anycast-health/relay.sock", f"socket: {self.control}"),
                ("state-file: /var/lib/anycast-health/relay.state",
                 f"state-file: {stack.dir / (name + '.state')}"),
                ("neighbor: 192.0.2.1", "neighbor: 127.0.0.1"),
                ('neighbor: "2001:db8::1"', 'neighbor: "::1"'),
                ("      port: 53\n", f"      port: {named.port}\n"),
                *replacements,
            ])
            if services is not None:
                text = text[:text.index("\nservices:\n")] + "\nservices:\n" + services
        self.path.write_text(text)

    def ctl(self, *args):
        return subprocess.run([str(CTL), "-c", str(self.path), *args],
                              capture_output=True, text=True, timeout=10)

    def pid(self):
        """The relay's pid as its control socket reports it in a status,
        or None while no relay gives one: none listens (exit 3), or one
        being killed or respawned closed the connection or answered
        with an error (exit 1)."""
        import json
        r = self.ctl("-j", "status")
        if r.returncode not in (0, 2):                # 2: not all announced
            return None
        try:
            return json.loads(r.stdout)["relay"]["pid"]
        except (ValueError, KeyError, TypeError):
            return None

    def wait_pid(self, other_than=None, timeout=10):
        """The pid of a relay that answers status, waiting for one (and
        for one other than 'other_than', a relay that was killed)."""
        return wait_for(lambda: (lambda p: p if p not in (None, other_than)
                                 else None)(self.pid()), timeout,
                        what="a relay answering status")


class ExaBGP:
    """ExaBGP from conf/exabgp.conf, running the relay as its process."""

    def __init__(self, stack, bird, relay, name="exabgp"):
        self.stack = stack
        self.name = name
        self.conf = stack.dir / f"{name}.conf"
        self.conf.write_text(render("exabgp.conf", [
            ("run /usr/sbin/anycast-relay /etc/anycast-health/anycast-relay.yaml;",
             f"run {RELAY} {relay.path};"),
            ("neighbor 192.0.2.1 {", f"neighbor 127.0.0.1 {{\n\tconnect {bird.port};"),
            ("local-address 192.0.2.10;", "local-address 127.0.0.1;"),
            ("neighbor 2001:db8::1 {", f"neighbor ::1 {{\n\tconnect {bird.port};"),
            ("local-address 2001:db8::10;", "local-address ::1;"),
        ]))
        self.proc = None

    def start(self):
        env = dict(os.environ)
        env.update({
            "exabgp_daemon_user": "root",
            "exabgp_daemon_daemonize": "false",
            "exabgp_log_destination": "stdout",
            "exabgp_api_cli": "false",
            "exabgp_daemon_pid": "",
        })
        self.proc = self.stack.start(self.name, [EXABGP, str(self.conf)], env=env)
        return self


def show_neighbor(sessions):
    """What ExaBGP 4.2 answers 'show neighbor extensive' with, 'done'
    included, for sessions {peer: (FSM state, "ipv4 unicast")}: the
    format of its reactor/api/command/neighbor.py, abridged (a real
    answer is in tests/fuzz/corpus/fuzz_exabgp/show-neighbor-extensive)."""
    def kv(*cols):
        return "   %-20s %15s %15s %15s\n" % (cols + ("", "", ""))[:4]
    out = []
    for peer, (state, family) in sessions.items():
        up = state == "ESTABLISHED"
        out += [f"Neighbor {peer}\n", "\n",
                "  Session                         Local\n",
                kv("local", peer), kv("state", state),
                kv("up for" if up else "down for", "0:01:00"), "\n",
                "  Families                        Local          Remote"
                "        Add-Path\n",
                kv(family + ":", "enabled", "enabled" if up else "n/a",
                   "disabled"), "\n"]
    return "".join(out) + "done\n"


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
        import queue
        import threading
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
        import queue
        try:
            return self.q.get(timeout=timeout)
        except queue.Empty:
            return None

    def wait_command(self, pattern, timeout):
        """The first command containing 'pattern', within timeout."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            c = self.next_command(left)
            if c is not None and pattern in c:
                return c

    def close_stdin(self):
        self.proc.p.stdin.close()


class FakePlugin:
    """A Unix socket server speaking (or mis-speaking) the plugin's side.

    The test decides every byte, to see what the relay does with it.
    """

    def __init__(self, path):
        self.path = str(path)
        self.srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.srv.bind(self.path)
        self.srv.listen(4)
        self.srv.settimeout(10)
        self.conn = None

    def accept(self, timeout=10):
        self.srv.settimeout(timeout)
        self.conn, _ = self.srv.accept()
        return self

    def send(self, data):
        self.conn.sendall(data if isinstance(data, bytes) else data.encode())

    def hello(self, proto=2, pid=4242, interval=100, first=True):
        """hello and, as the plugin does, a first snapshot at once."""
        self.send(f"hello proto={proto} named=9.18.test pid={pid} "
                  f"interval={interval} zone_interval=1000 started=0\n")
        if first:
            self.snapshot(0)

    probes = 0

    def snapshot(self, seq, views=("_default",), queries=0, probed=True):
        """One snapshot.  Unless probed is False, each view's 'probes'
        goes up, as when named answers the relay's liveness probes."""
        self.probes += probed
        for i, v in enumerate(views):
            self.send(f"view seq={seq} id={i} name={v}\n"
                      f"outcomes seq={seq} view={i} queries={queries} "
                      f"probes={self.probes} noerror={queries}\n")
        self.send(f"tick seq={seq} views={len(views)} records={2 * len(views)} "
                  f"time=0\n")

    def counters(self, seq, fields, rec, view="_default", domains=None):
        """One snapshot of one view: 'fields' for its outcomes record,
        'rec' for its recursion record (keys as the plugin sends them).
        The fleet sensor's counters may be given among 'fields' under
        the relay's keys (dom_fail_N, dom_rstart_N, dom_rdone_N): they
        go out as the three 'domains' records; 'domains' maps a bucket
        to its sample name ('domain' records)."""
        def kv(d):
            return "".join(f" {k}={v}" for k, v in d.items())
        outcomes = {k: v for k, v in fields.items() if not k.startswith("dom_")}
        outcomes.setdefault("probes", self.probes)
        self.probes += 1
        lines = [f"view seq={seq} id=0 name={view}",
                 f"outcomes seq={seq} view=0{kv(outcomes)}",
                 f"recursion seq={seq} view=0{kv(rec)}"]
        for kind in ("fail", "rstart", "rdone"):
            b = {f"b{n}": fields.get(f"dom_{kind}_{n}", 0) for n in range(16)}
            lines.append(f"domains seq={seq} view=0 kind={kind}{kv(b)}")
        for bucket, name in (domains or {}).items():
            lines.append(f"domain seq={seq} view=0 bucket={bucket} name={name}")
        self.send("".join(l + "\n" for l in lines) +
                  f"tick seq={seq} views=1 records={len(lines)} time=0\n")

    def close(self):
        if self.conn:
            self.conn.close()
            self.conn = None

    def stop(self):
        """As a Stack member: torn down with the test's processes."""
        self.shutdown()

    def shutdown(self):
        self.close()
        self.srv.close()
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass


class FakeUpstream:
    """A recursive server's upstream on loopback that the test controls.

    mode "answer": answers every A/AAAA query with 203.0.113.1, TTL 0;
    "silent": reads and drops (the resolver times out);
    close(): the port is closed (the resolver gets "connection refused").
    broken: per domain, overrides mode for names at or under it:
    {"broken.example": "servfail"} answers those SERVFAIL, "silent"
    drops them, the rest is answered as 'mode' says.
    """

    def __init__(self, port=None):
        import threading
        self.port = port or free_port()
        self.mode = "answer"
        self.broken = {}
        self.answered = 0
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", self.port))
        self.sock.settimeout(0.2)
        self.running = True
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        import dns.message
        import dns.name
        import dns.rcode
        import dns.rrset
        while self.running:
            try:
                data, peer = self.sock.recvfrom(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            try:
                q = dns.message.from_wire(data)
                r = dns.message.make_response(q)
                qn = q.question[0]
                mode = self.mode
                for domain, how in list(self.broken.items()):
                    if qn.name.is_subdomain(dns.name.from_text(domain)):
                        mode = how
                if mode == "servfail":
                    r.set_rcode(dns.rcode.SERVFAIL)
                    self.sock.sendto(r.to_wire(), peer)
                    continue
                if mode != "answer":
                    continue
                if qn.rdtype == 1:
                    r.answer.append(dns.rrset.from_text(qn.name, 0, "IN", "A", "203.0.113.1"))
                self.sock.sendto(r.to_wire(), peer)
                self.answered += 1
            except Exception:
                continue

    def close(self):
        self.running = False
        self.sock.close()
        self.thread.join(2)

    def stop(self):
        if self.running:
            self.close()


class Load:
    """Bounded client traffic: 'qps' queries a second for 'seconds', each
    for names(i), over UDP from one socket; replies are read and their
    rcodes counted.  Runs in a thread; stops by itself."""

    def __init__(self, port, names, qps, seconds, rdtype="A"):
        import threading
        self.port, self.names, self.qps, self.seconds = port, names, qps, seconds
        self.rdtype = rdtype
        self.sent = 0
        self.rcodes = {}
        self.stopping = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        import dns.message
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setblocking(False)
        start = time.monotonic()
        total = int(self.qps * self.seconds)
        while self.sent < total and not self.stopping:
            due = start + self.sent / self.qps
            now = time.monotonic()
            if now < due:
                self._drain(s)
                time.sleep(min(due - now, 0.005))
                continue
            q = dns.message.make_query(self.names(self.sent), self.rdtype)
            try:
                s.sendto(q.to_wire(), ("127.0.0.1", self.port))
            except OSError:
                pass
            self.sent += 1
        end = time.monotonic() + 2
        while time.monotonic() < end and not self.stopping:
            self._drain(s)
            time.sleep(0.01)
        s.close()

    def _drain(self, s):
        while True:
            try:
                data = s.recv(4096)
            except (BlockingIOError, OSError):
                return
            if len(data) >= 4:
                rc = data[3] & 0x0F
                self.rcodes[rc] = self.rcodes.get(rc, 0) + 1

    def wait(self, timeout=None):
        self.thread.join(timeout if timeout is not None else self.seconds + 10)

    def stop(self):
        self.stopping = True
        self.thread.join(5)


def bird_changes(bird, prefix):
    """Route changes BIRD logged for 'prefix': (time, 'added'|'removed')."""
    out = []
    for line in bird.proc.text().splitlines():
        if f" {prefix} " not in line or "ipv" not in line:
            continue
        for what in ("added", "removed"):
            if f"> {what} " in line:
                out.append((line[:26], what))
    return out
