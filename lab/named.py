# SPDX-License-Identifier: MPL-2.0
"""named with the plugin: its configuration, rendered from
conf/named.conf for a named on loopback (tests, benchmarks) or for a
node of the fleet, and starting it.
"""

import os
import signal
import subprocess

from .examples import example, render
from .paths import NAMED, PLUGIN, RNDC
from .proc import free_port, wait_for
from .sanitizers import SANITIZE, named_sanitizer_env

# A test-only key for named's control channel on loopback.
RNDC_SECRET = "YW55Y2FzdC1oZWFsdGgtdGVzdC1vbmx5LWtleS0wMQ=="


def sec_zone(serial=7, refresh=2, retry=1, expire=5):
    """sec.example's zone file, with these SOA serial and timers."""
    return (f"$TTL 1\n@ SOA ns1.sec.example. h.sec.example. {serial} {refresh} "
            f"{retry} {expire} 1\n"
            "  NS ns1.sec.example.\nns1 A 192.0.2.53\nwww A 198.51.100.81\n")


# A secondary zone that expires within seconds of losing its primary:
# sec.example with SOA refresh 2, retry 1, expire 5, and the options that
# let a secondary honour such short timers (named clamps them otherwise).
SEC_ZONE = sec_zone()
FAST_REFRESH_OPTIONS = """min-refresh-time 1; min-retry-time 1;
	max-refresh-time 2; max-retry-time 1;"""


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


def forwarding(port, allow=("127.0.0.1",), extra="max-cache-ttl 1;\n\tmax-ncache-ttl 1;"):
    """Options that make named a forwarding resolver to 127.0.0.1#port
    for the clients in 'allow' (for named_conf's recursion)."""
    return f"""recursion yes;
	allow-recursion {{ {' '.join(a + ';' for a in allow)} }};
	forward only;
	forwarders {{ 127.0.0.1 port {port}; }};
	dnssec-validation no;
	{extra}"""


def rndc_controls(port=None):
    """The test key and a control channel on 127.0.0.1 (port: rndc's
    default when None), for named.conf."""
    at = f" port {port}" if port is not None else ""
    return f"""
key "rndc-key" {{ algorithm hmac-sha256; secret "{RNDC_SECRET}"; }};
controls {{ inet 127.0.0.1{at} allow {{ 127.0.0.1; }} keys {{ "rndc-key"; }}; }};
"""


def rndc_conf(port=None):
    """rndc.conf for the test key (rndc_controls()), against 127.0.0.1
    (port: rndc's default when None)."""
    at = f" default-port {port};" if port is not None else ""
    return (f'key "rndc-key" {{ algorithm hmac-sha256; secret "{RNDC_SECRET}"; }};\n'
            f'options {{ default-key "rndc-key"; default-server 127.0.0.1;{at} }};\n')


def named_conf(workdir, socket, *, port=None, run_dir=None, server_id=None,
               plugin=PLUGIN, interval=None, recursion=None, socket_group=None,
               zones=None, rndc_port=None):
    """conf/named.conf rendered for one named: its zone file (db.example)
    and working files in workdir, the plugin publishing on socket.

    port          listen on 127.0.0.1 port PORT alone (on loopback);
                  None: the example's addresses on port 53 (a fleet node)
    run_dir       pid-file, lock-file and session key there (nameds side
                  by side collide on the defaults); None: pid-file in
                  workdir
    server_id     for NSID
    plugin        the plugin's path; None: no plugin statement (the same
                  named without the plugin)
    interval      the plugin's interval, ms (None: the example's)
    recursion     options in place of 'recursion no;' (forwarding())
    socket_group  the plugin socket's group
    zones         the zones the plugin watches (None: the example's)
    rndc_port     the port of the control channel (rndc_controls())
    """
    directory = f'directory "{workdir}";'
    if run_dir is not None:
        directory += (f'\n\t{lock_file_statement(run_dir / "named.lock")}'
                      f'\n\tsession-keyfile "{run_dir}/session.key";')
    if server_id is not None:
        directory += f'\n\tserver-id "{server_id}";'
    repl = [
        ('directory "/var/cache/bind";', directory),
        ('pid-file "/run/named/named.pid";',
         f'pid-file "{run_dir or workdir}/named.pid";'),
    ]
    if port is not None:
        repl += [("listen-on { 127.0.0.1; 192.0.2.53; };",
                  f"listen-on port {port} {{ 127.0.0.1; }};"),
                 ("listen-on-v6 { ::1; 2001:db8::53; };", "listen-on-v6 { none; };")]
    if recursion is not None:
        repl.append(("recursion no;", recursion))
    repl += [('"anycast-health.so"', f'"{plugin}"'),
             ('"/run/named/anycast-health.sock"', f'"{socket}"')]
    if interval is not None:
        repl.append(("interval 100;", f"interval {interval};"))
    if socket_group is not None:
        repl.append(('socket-mode "0660";',
                     f'socket-group "{socket_group}";\n\tsocket-mode "0660";'))
    if zones is not None:
        repl.append(('zones { "example"; };',
                     "zones { " + " ".join(f'"{z}";' for z in zones) + " };"))
    repl.append(('"/etc/bind/db.example"', f'"{workdir}/db.example"'))
    text = render("named.conf", repl) + rndc_controls(rndc_port)
    if plugin is None:
        start = text.index('plugin query')
        end = text.index("\n};", start) + 3
        text = text[:start] + text[end:]
    return text


def start_named(stack, name, conf, *, prefix=(), user=None, wrapper=(),
                wait=True, timeout=20, through=False):
    """named -g with conf, as Proc 'name' of stack.  prefix: argv put
    before it (ip netns exec); user: named -u; wrapper: argv between
    prefix and named (valgrind: then named gets no sanitizer runtimes,
    unless 'through': a wrapper that execs named, as setpriv does).
    With wait, returns once named says it is running."""
    log = stack.dir / f"{name}.log"
    offset = log.stat().st_size if log.exists() else 0
    argv = [*prefix, *wrapper, NAMED, "-g", "-c", str(conf), "-n", "2"]
    if user is not None:
        argv += ["-u", user]
    env = named_sanitizer_env() if SANITIZE and (through or not wrapper) \
        else None
    proc = stack.start(name, [str(a) for a in argv], env=env)
    if wait:
        # "running" alone on a line, in this start's part of the log.
        wait_for(lambda: " running\n" in proc.text()[offset:] or not proc.alive(),
                 timeout, what=f"{name} to start")
        assert proc.alive(), proc.text()[offset:][-3000:]
    return proc


class Named:
    """named with the plugin on 127.0.0.1, from conf/named.conf and
    conf/db.example, on ports of its own."""

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
            conf_text = named_conf(self.dir, self.socket, port=self.port,
                                   plugin=PLUGIN if plugin else None,
                                   interval=interval,
                                   rndc_port=self.rndc_port) + extra_conf
        self.conf.write_text(conf_text)
        (self.dir / "db.example").write_text(example("db.example"))
        self.proc = None

    def start(self, wait=True, wrapper=(), start_timeout=20, through=False):
        """wrapper: argv put before named's (valgrind, for one; see
        start_named() for 'through')."""
        if os.path.exists(self.socket) and not self.proc:
            os.unlink(self.socket)
        self.proc = start_named(self.stack, self.name, self.conf, wrapper=wrapper,
                                wait=wait, timeout=start_timeout,
                                through=through)
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
        conf.write_text(rndc_conf(self.rndc_port))
        return subprocess.run([RNDC, "-c", str(conf), *args],
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
    named.conf.write_text(named.conf.read_text().replace(
        "recursion no;", forwarding(upstream_port)))
    return named


def primary_of_sec(stack):
    """A plain named, primary for sec.example (SEC_ZONE: SOA refresh 2,
    retry 1, expire 5): a secondary's copy expires 5 s after it goes
    away."""
    primary = Named(stack, name="primary", plugin=False)
    (primary.dir / "db.sec").write_text(SEC_ZONE)
    primary.conf.write_text(primary.conf.read_text() + f"""
zone "sec.example" {{ type primary; file "{primary.dir}/db.sec"; allow-transfer {{ any; }}; }};
""")
    return primary.start()


def secondary_of_sec(named, primary):
    """named.conf's statement for sec.example as a secondary of
    'primary' (primary_of_sec()), its copy kept in named's directory."""
    return f"""
zone "sec.example" {{ type secondary; file "{named.dir}/sec.bk";
	primaries {{ 127.0.0.1 port {primary.port}; }}; }};
"""
