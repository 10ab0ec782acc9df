# SPDX-License-Identifier: MPL-2.0
"""The seed's topology for real, in network namespaces.

    client ---- router ----+---- ns1 (named + plugin, ExaBGP + anycast-relay)
                (BIRD 2,   +---- ns2
                 ECMP)     +---- ...

Every nameserver announces the same anycast addresses (on its lo) over
eBGP to the router, which installs all of them as one multipath route
in its own namespace's kernel table; the client's queries really are
forwarded to the nodes.  The address plan is in lab/README.md.

Daemons run as Debian runs them: `named -u bind`, ExaBGP as user
`exabgp` (as Debian's exabgp.service starts it), BIRD with `-u bird -g
bird`.  The plugin's socket gets the group `anycast-health`, of which
bind and exabgp are members: the lab creates the group and the
memberships when they are missing (doc/guide.md says why and what an
operator sets).

Use it as a context manager (tests, benchmarks):

    with Lab(nodes=2) as lab:
        lab.wait_nexthops({"ns1", "ns2"})
        load = lab.load(qps=1000, count=5000)
        lab.node(1).signal_named(signal.SIGKILL)
        rows = load.wait()

On the lab internet (lab/internet/) instead of the single upstream, the
nodes resolve for real, from the lab root, validating, and the client
sends resolver-like traffic:

    with Lab(nodes=2, internet=True) as lab:
        run = lab.traffic(qps=1000, seconds=30)   # lab/internet/traffic.py
        lab.internet.uplink_down(1)               # the internet's faults
        summary = run.wait()

or from the shell: `python3 -m lab up --nodes 3` (in the foreground
until Ctrl-C), `python3 -m lab up --detach`, `python3 -m lab down`,
`python3 -m lab list` (lab/__main__.py).

Everything is created under a unique run id: namespaces
`ahlab-<id>-client`, `-router`, `-ns1`...; a work directory; a record
in /run/ahlab/<id>.json naming the process that owns it (lab/netns.py).
Teardown runs on exit, exceptions, Ctrl-C and SIGTERM; a lab whose
owner died (SIGKILL, a crash) is removed by `down` or by the next
`up`.  Nothing is attached to the host's namespace, and only
documentation addresses are used.

Every daemon's configuration is the conf/ example's, rendered by the
same code as on loopback (named.py, relay.py, exabgp.py), with what a
node changes.
"""

import grp
import json
import os
import pwd
import secrets
import shutil
import signal
from pathlib import Path

from . import netns
from .examples import example
from .exabgp import exabgp_conf, start_exabgp
from .load import Client
from .named import FAST_REFRESH_OPTIONS, forwarding, lock_file_statement, named_conf, \
    rndc_conf, sec_zone, start_named
from .netns import PREFIX, ip_batch, netns_pids, sysctl
from .paths import BIRDC, CTL, PLUGIN, RELAY, RNDC, module_argv, module_env
from .proc import Stack, run, start_daemon, wait_for
from .relay import relay_yaml
from .run import Run, threading_main
from .router import BFD_TIMERS, ROUTER_SYSCTLS, ROUTERS, router_conf, start_bird, \
    start_frr
from .upstream import command as upstream_command

GROUP = "anycast-health"            # the plugin's socket-group
GROUP_MEMBERS = ("bind", "exabgp")
# sec.example's SOA timers (refresh, retry, expire).  A real zone's:
# hours, and an expiry of two weeks (RFC 1912 suggests 2 to 4; named
# takes at most 14 days), so that reloads and reconfigs, which hold off
# named's refreshes while they last, cannot expire it.  With an expiry
# of seconds a storm of them did (named: "zone sec.example/IN:
# expired", the relay rightly depreferred the node).  The zone-expired
# fault serves the short ones first (Node.sec_timers()).
SEC_REAL = (3600, 900, 1209600)
SEC_SHORT = (2, 1, 5)               # expired 5 s after the last refresh

ANYCAST4, ANYCAST6 = "192.0.2.53", "2001:db8::53"
CLIENT4 = ("203.0.113.1", "203.0.113.2", 24)           # router, client
CLIENT6 = ("2001:db8:113::1", "2001:db8:113::2", 64)
CLIENT_NETS = ("203.0.113.0/24", "2001:db8:113::/64")
UPSTREAM_PORT, PRIMARY_PORT = 5300, 5301
MAX_NODES = 62                      # 198.51.100.0/24 in /30s


def node_link4(i):
    """Node i's link: 198.51.100.4i/30, router .4i+1, node .4i+2."""
    return f"198.51.100.{4 * i + 1}", f"198.51.100.{4 * i + 2}", 30


def node_link6(i):
    return f"2001:db8:100:{i:x}::1", f"2001:db8:100:{i:x}::2", 64


def ensure_group():
    """The group of the plugin's socket, with bind and exabgp in it.

    named takes its supplementary groups when it starts (initgroups, as
    root, before it drops to 'bind'), so the membership must exist
    before named starts; ExaBGP gets them from its service manager
    (here: setpriv --init-groups, as systemd's User= does).
    """
    try:
        members = grp.getgrnam(GROUP).gr_mem
    except KeyError:
        run("groupadd", "--system", GROUP)
        members = []
    for user in GROUP_MEMBERS:
        if user not in members:
            run("usermod", "-a", "-G", GROUP, user)


class Node:
    """One nameserver: its namespace, named (+ plugin), the primary of
    its secondary zone, its upstream (or its uplink into the lab
    internet), and ExaBGP running the relay."""

    def __init__(self, lab, i):
        self.lab, self.i = lab, i
        self.name = f"ns{i}"
        self.netns = lab.netns_name(self.name)
        self.dir = lab.dir / self.name
        self.router4, self.addr4, _ = node_link4(i)
        self.router6, self.addr6, _ = node_link6(i)
        self.router_id = f"192.0.2.{10 + i}"
        # Like Debian: named's working directory (/var/cache/bind) owned
        # by bind; its run directory (/run/named) root:bind 0775; the
        # relay's control socket directory for exabgp and the group.
        self.named_dir = self.dir / "named"
        self.run_dir = self.dir / "run-named"
        self.relay_dir = self.dir / "run-relay"
        self.primary_dir = self.dir / "primary"
        self.socket = self.run_dir / "anycast-health.sock"
        self.rndc_conf = self.dir / "rndc.conf"
        self.upstream_ctl = self.dir / "upstream.ctl"
        self.named = self.primary = self.exabgp = self.upstream = self.bfd = None
        self.sec_serial = 7
        # On the lab internet: what attach() gave (ResolverConfig).
        self.resolver = None
        # argv put between `ip netns exec` and named (libfaketime's env).
        self.named_wrapper = ()

    # -- configuration ---------------------------------------------------

    def write_configs(self):
        bind, exa = pwd.getpwnam("bind"), pwd.getpwnam("exabgp")
        gid = grp.getgrnam(GROUP).gr_gid
        for d, uid, g, mode in ((self.dir, 0, 0, 0o755),
                                (self.named_dir, bind.pw_uid, bind.pw_gid, 0o755),
                                (self.primary_dir, bind.pw_uid, bind.pw_gid, 0o755),
                                (self.run_dir, 0, bind.pw_gid, 0o775),
                                (self.relay_dir, exa.pw_uid, gid, 0o750)):
            d.mkdir(exist_ok=True)
            os.chown(d, uid, g)
            os.chmod(d, mode)
        (self.named_dir / "named.conf").write_text(self.named_conf())
        (self.named_dir / "db.example").write_text(example("db.example"))
        (self.primary_dir / "named.conf").write_text(self.primary_conf())
        (self.primary_dir / "db.sec").write_text(sec_zone(self.sec_serial, *SEC_REAL))
        self.rndc_conf.write_text(rndc_conf())
        (self.dir / "relay.yaml").write_text(self.relay_yaml())
        (self.dir / "exabgp.conf").write_text(self.exabgp_conf())
        r = run(RELAY, "--check", self.dir / "relay.yaml", check=False)
        if r.returncode != 0:
            raise RuntimeError(f"{self.name}: relay configuration rejected:\n{r.stderr}")

    def named_conf(self, resolver=None):
        """conf/named.conf for this node: recursive (forwarding to its
        upstream, or from the lab internet's root with its trust anchor:
        `resolver`, default what attach() gave), secondary for
        sec.example, the plugin's socket in named's run directory, for
        the group."""
        lab = self.lab
        resolver = resolver or self.resolver
        clients = ("127.0.0.1", "::1", *CLIENT_NETS)
        if resolver is None:
            recursion = forwarding(UPSTREAM_PORT, clients, FAST_REFRESH_OPTIONS)
        else:
            recursion = (resolver.options.strip() + "\n\tallow-recursion { " +
                         " ".join(a + ";" for a in clients) + " };\n\t" +
                         FAST_REFRESH_OPTIONS)
        text = named_conf(
            self.named_dir, self.socket, run_dir=self.run_dir, server_id=self.name,
            plugin=lab.plugin, interval=lab.interval, recursion=recursion,
            socket_group=GROUP, zones=("example", "sec.example"))
        if resolver is not None:
            text += f'\ninclude "{resolver.include}";\n'
        return text + f"""
zone "sec.example" {{
	type secondary;
	file "sec.bk";
	primaries {{ 127.0.0.1 port {PRIMARY_PORT}; }};
}};
"""

    def primary_conf(self):
        d = self.primary_dir
        return f"""// The primary of sec.example for this node's named (a real zone's
// SOA timers; with Node.sec_timers(short=True), refresh 2, retry 1,
// expire 5: the secondary's copy expires 5 s after this dies).
// It NOTIFYs the secondary when it starts, as a real primary does:
// named keeps a primary that refused a refresh in its "unreachable"
// cache for minutes, and only a NOTIFY from it makes named ask again.
options {{
	directory "{d}";
	pid-file "{d}/named.pid";
	{lock_file_statement(d / "named.lock")}
	session-keyfile "{d}/session.key";
	listen-on port {PRIMARY_PORT} {{ 127.0.0.1; }};
	listen-on-v6 {{ none; }};
	recursion no;
	notify explicit;
	also-notify {{ 127.0.0.1 port 53; }};
}};
controls {{ }};
zone "sec.example" {{
	type primary;
	file "{d}/db.sec";
	allow-transfer {{ 127.0.0.1; }};
}};
"""

    def relay_yaml(self):
        lab = self.lab
        services = lab.services
        if services is not None:
            services = services.format(router4=self.router4, router6=self.router6)
        # Drained services are remembered in control.state-file: each
        # node its own, where exabgp writes.
        return relay_yaml(self.socket, self.relay_dir / "relay.sock",
                          self.relay_dir / "relay.state",
                          (self.router4, self.router6), control_group=GROUP,
                          zones=("example", "sec.example"),
                          replacements=lab.relay_replacements, damping=lab.damping,
                          services=services)

    def exabgp_conf(self):
        lab = self.lab
        return exabgp_conf((lab.relay, self.dir / "relay.yaml"),
                           (self.router4, self.router6), (self.addr4, self.addr6),
                           router_id=self.router_id, hold_time=lab.hold_time,
                           template=lab.exabgp_template)

    # -- processes -------------------------------------------------------

    def exec(self, *argv):
        return ["ip", "netns", "exec", self.netns, *map(str, argv)]

    def start_upstream(self):
        self.upstream = start_daemon(
            self.lab.stack, f"{self.name}-upstream",
            self.exec(*module_argv("upstream", "--port", UPSTREAM_PORT,
                                   "--control", self.upstream_ctl,
                                   "--max-seconds", self.lab.max_seconds)),
            self.upstream_ctl, f"{self.name} upstream", env=module_env())

    def upstream_cmd(self, line):
        """A command to this node's upstream (lab/upstream.py); its reply."""
        return upstream_command(self.upstream_ctl, line, f"{self.name} upstream")

    def _start_named(self, attr, conf, name, wait, wrapper=()):
        p = start_named(self.lab.stack, name, conf, prefix=self.exec(), user="bind",
                        wrapper=wrapper, wait=wait, timeout=30)
        setattr(self, attr, p)
        return p

    def start_primary(self, wait=True):
        return self._start_named("primary", self.primary_dir / "named.conf",
                                 f"{self.name}-primary", wait)

    def sec_timers(self, short):
        """sec.example served by this node's primary with the short SOA
        timers (its copy here expires 5 s after the primary goes: the
        zone-expired fault) or, short=False, a real zone's (SEC_REAL);
        returns when this node's named has transferred it."""
        self.sec_serial += 1
        db = self.primary_dir / "db.sec"
        db.write_text(sec_zone(self.sec_serial, *(SEC_SHORT if short else SEC_REAL)))
        self.primary.send_signal(signal.SIGHUP)     # reload; it NOTIFYs
        want = f"serial: {self.sec_serial}"
        wait_for(lambda: want in self.rndc("zonestatus", "sec.example").stdout, 30,
                 interval=0.1, what=f"{self.name}: sec.example serial {self.sec_serial}")

    def start_named(self, wait=True):
        return self._start_named("named", self.named_dir / "named.conf",
                                 f"{self.name}-named", wait, self.named_wrapper)

    def start_exabgp(self):
        conf = self.dir / "exabgp.conf"
        if self.lab.exabgp_mode == "systemd":
            # Debian's exabgp.service: User=exabgp, Group=exabgp, which
            # also sets exabgp's supplementary groups (anycast-health).
            prefix = ["setpriv", "--reuid=exabgp", "--regid=exabgp", "--init-groups"]
            user = None
        else:
            # Started as root, ExaBGP drops to exabgp.daemon.user with
            # setgid()+setuid() only: supplementary groups are the
            # starter's, so they are given here as a unit's
            # SupplementaryGroups= would.
            prefix, user = ["setpriv", f"--groups={GROUP}"], "exabgp"
        self.exabgp = start_exabgp(self.lab.stack, f"{self.name}-exabgp", conf,
                                   prefix=self.exec(*prefix), user=user)
        return self.exabgp

    def bfd_conf(self):
        return f"""# BFD only, beside ExaBGP (which has none): keeps a BFD session with
# the router on each address family of this node's link.
router id {self.router_id};
log stderr all;

protocol device {{
}}

protocol bfd {{
{BFD_TIMERS}	neighbor {self.router4};
	neighbor {self.router6};
}}
"""

    def start_bfd(self):
        conf = self.dir / "bfd-bird.conf"
        conf.write_text(self.bfd_conf())
        self.bfd_ctl = self.dir / "bfd-bird.ctl"
        self.bfd = start_bird(self.lab.stack, f"{self.name}-bfd", self.exec(), conf,
                              self.bfd_ctl, f"{self.name} BFD's control socket")

    def start(self):
        if self.resolver is None:
            self.start_upstream()
        self.start_primary()
        self.start_named()
        if self.lab.bfd:
            self.start_bfd()
        self.start_exabgp()

    def freeze(self, sig=signal.SIGSTOP):
        """Every process of the node stopped (SIGCONT: going again), as
        a hung host: the kernel still holds the BGP session open, but
        nothing sends a keepalive or a BFD packet."""
        for pid in netns_pids(self.netns):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass

    # -- faults ----------------------------------------------------------

    def signal_named(self, sig):
        self.named.send_signal(sig)

    def restart_named(self, wait=True):
        """SIGTERM, wait for named to exit, start it again."""
        self.named.send_signal(signal.SIGTERM)
        self.named.p.wait(30)
        return self.start_named(wait=wait)

    def rndc(self, *args, timeout=30):
        """rndc against this node's named (its control channel on
        127.0.0.1, the lab's test key); the CompletedProcess."""
        return run(*self.exec(RNDC, "-c", self.rndc_conf, *args), check=False,
                   timeout=timeout)

    def relay_pid(self):
        """The anycast-relay ExaBGP runs for this node, or None."""
        marker = f"{self.lab.relay} {self.dir / 'relay.yaml'}"
        for pid in netns_pids(self.netns):
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if cmd.startswith(marker):
                return pid
        return None

    def signal_relay(self, sig):
        pid = self.relay_pid()
        if pid is None:
            raise RuntimeError(f"{self.name}: no anycast-relay running")
        os.kill(pid, sig)
        return pid

    def drain(self, wait=True, timeout=30):
        """Take the node out on purpose, without losing a query:
        `anycastctl drain` announces with GRACEFUL_SHUTDOWN first and
        withdraws once named sees its clients gone (doc/config.md 1.5.8);
        `--wait` returns when drained.  It stays out, also across relay
        restarts, until undrain().  anycastctl's exit status 5 (withdrawn
        at the timeout, traffic or not) is a drain too."""
        args = ["drain", "--timeout", f"{timeout}s"] + (["--wait"] if wait else [])
        return self._admin(args, timeout + 10, ok=(0, 5))

    def undrain(self):
        """Back into service after drain() (the relay's checks, then
        'rise')."""
        return self._admin(["undrain"], 10)

    def _admin(self, args, timeout, ok=(0,)):
        r = run(CTL, "-c", self.dir / "relay.yaml", *args, check=False,
                timeout=timeout)
        if r.returncode not in ok:
            raise RuntimeError(f"{self.name}: anycastctl {' '.join(args)}: "
                               f"exit {r.returncode}: {r.stderr.strip() or r.stdout.strip()}")
        return r

    def ctl(self, *args, timeout=30):
        return run(CTL, "-c", self.dir / "relay.yaml", *args, check=False,
                   timeout=timeout)


class Lab(Run):
    """The whole lab.  Parameters:

    nodes           number of nameservers (2..62)
    workdir         where configs, logs and client records go (default:
                    a fresh /tmp/ahlab-<id>, removed at teardown unless
                    keep=True; a given workdir is always kept)
    interval        the plugin's interval in ms (default: conf/named.conf's)
    services        YAML text replacing the relay's services (str.format'd
                    with router4/router6); default: conf/anycast-relay.yaml's
    relay_replacements  extra (old, new) pairs for the relay's YAML
    damping         False removes the example's flap damping
    hold_time       BGP hold time (the seed's 10)
    router          'bird' (BIRD 2, lab/bird-router.conf) or 'frr' (FRR's
                    zebra + bgpd, lab/frr-router.conf)
    bfd             BFD between the router (BIRD) and every node (a BIRD
                    beside ExaBGP), 100 ms x 3
    exabgp_template (text, where it came from) used instead of
                    conf/exabgp.conf, with the same addresses to replace
                    (doc/guide.md's watchdog variant)
    exabgp_mode     'systemd' (User=exabgp with its groups, Debian's unit)
                    or 'daemon-user' (root + exabgp.daemon.user)
    realtime        run the client with SCHED_FIFO
    save_to         at teardown, copy the work directory (logs, configs,
                    client records) here first: pytest's tmp_path, whose
                    parents bind and exabgp cannot enter, so it cannot be
                    the work directory itself
    internet        the nodes resolve through the lab internet instead of
                    each forwarding to its upstream: True brings one up
                    (and down) with the lab (its own run: lab/internet/),
                    or an Internet already up, which the lab attaches to
                    and leaves running; then traffic() is the client
    """

    def __init__(self, nodes=2, workdir=None, keep=False, interval=None,
                 services=None, relay_replacements=(), damping=True,
                 hold_time=10, exabgp_mode="systemd", realtime=True,
                 max_seconds=4 * 3600, save_to=None, log=None, router="bird",
                 exabgp_template=None, bfd=False, internet=False):
        if not 2 <= nodes <= MAX_NODES:
            raise ValueError(f"nodes must be 2..{MAX_NODES}")
        if router not in ROUTERS:
            raise ValueError(f"router must be one of {', '.join(ROUTERS)}")
        if bfd and router != "bird":
            raise ValueError("bfd: only with the BIRD router")
        if exabgp_mode not in ("systemd", "daemon-user"):
            raise ValueError("exabgp_mode must be 'systemd' or 'daemon-user'")
        self.id = secrets.token_hex(3)
        self.own_workdir = workdir is None
        self.dir = Path(workdir or f"/tmp/{PREFIX}{self.id}")
        self.keep = keep or not self.own_workdir
        self.interval, self.services = interval, services
        self.relay_replacements = tuple(relay_replacements)
        self.damping, self.hold_time = damping, hold_time
        self.exabgp_mode, self.realtime = exabgp_mode, realtime
        self.max_seconds = max_seconds
        self.save_to = save_to
        self.router_kind = router
        self.exabgp_template = exabgp_template
        self.bfd = bfd
        self.log = log or (lambda msg: None)
        self.nodes = [Node(self, i) for i in range(1, nodes + 1)]
        self.plugin = self.relay = None
        self.stack = None
        self.bird = self.zebra = self.bgpd = self.monitor = None
        self.namespaces = []
        self._old_sigterm = None
        self._loads = 0
        self.detached = False
        self.internet = internet if internet not in (True, False) else None
        self._own_internet = internet is True

    def node(self, i):
        return self.nodes[i - 1]

    @property
    def router(self):
        return self.netns_name("router")

    # -- bring up ----------------------------------------------------------

    def up(self):
        if os.geteuid() != 0:
            raise PermissionError("the lab needs root (network namespaces)")
        netns.cleanup(detached=False, log=self.log)   # leftovers of crashed runs
        ensure_group()
        if self._own_internet:
            # Up first and down last: its SIGTERM handler is then the
            # outer one, restored after the lab's.
            from .internet import Internet
            self.internet = Internet(log=self.log, max_seconds=self.max_seconds,
                                     keep=self.keep,
                                     save_to=self.save_to and self.save_to / "internet")
            self.internet.up()
        if threading_main():
            self._old_sigterm = signal.signal(signal.SIGTERM, self._sigterm)
        self.dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.dir, 0o755)       # bind and exabgp read below it
        for d in self.dir.parents:
            if not os.stat(d).st_mode & 0o001:
                raise PermissionError(
                    f"work directory {self.dir}: {d} is not searchable by "
                    "others, so named (as bind) and ExaBGP (as exabgp) could "
                    "not reach their files; use another directory")
        self._install_build()
        self.stack = Stack(self.dir)
        self._register(detached=False)
        self.log(f"lab {self.id}: {len(self.nodes)} nodes, work directory {self.dir}")
        self._network()
        if self.internet is not None:
            for n in self.nodes:
                n.resolver = self.internet.attach(n.netns, n.i)
        self._start_router()
        for n in self.nodes:
            n.write_configs()
        for n in self.nodes:
            n.start()
        self.wait_nexthops({n.name for n in self.nodes}, timeout=60)
        self.log(f"lab {self.id}: every node announced, multipath at the router")

    def _install_build(self):
        """Copies of the plugin and the relay that bind and exabgp can
        read: the build may live where they cannot (CI's clone under
        /root, pytest's 0700 directories)."""
        bindir = self.dir / "bin"
        bindir.mkdir(exist_ok=True)
        os.chmod(bindir, 0o755)
        self.plugin = bindir / PLUGIN.name
        self.relay = bindir / RELAY.name
        for src, dst in ((PLUGIN, self.plugin), (RELAY, self.relay)):
            shutil.copy2(src, dst)
            os.chmod(dst, 0o755)

    def _network(self):
        roles = ["client", "router"] + [n.name for n in self.nodes]
        for role in roles:
            ns = self.netns_name(role)
            run("ip", "netns", "add", ns)
            self.namespaces.append(ns)
            self._register(detached=False)
        r, c = self.router, self.netns_name("client")
        # Each veth pair is made from the router's side, its peer put
        # straight into the other namespace: the host's never sees it.
        cmds = {self.netns_name(role): ["link set lo up"] for role in roles}
        cmds[r] += [
            f"link add client type veth peer name eth0 netns {c}",
            f"addr add {CLIENT4[0]}/{CLIENT4[2]} dev client",
            f"addr add {CLIENT6[0]}/{CLIENT6[2]} dev client nodad",
            "link set client up",
        ]
        cmds[c] += [
            f"addr add {CLIENT4[1]}/{CLIENT4[2]} dev eth0",
            f"addr add {CLIENT6[1]}/{CLIENT6[2]} dev eth0 nodad",
            "link set eth0 up",
            f"route add default via {CLIENT4[0]}",
            f"route add ::/0 via {CLIENT6[0]}",
        ]
        for n in self.nodes:
            r4, a4, l4 = node_link4(n.i)
            r6, a6, l6 = node_link6(n.i)
            cmds[r] += [
                f"link add {n.name} type veth peer name eth0 netns {n.netns}",
                f"addr add {r4}/{l4} dev {n.name}",
                f"addr add {r6}/{l6} dev {n.name} nodad",
                f"link set {n.name} up",
            ]
            cmds[n.netns] += [
                f"addr add {a4}/{l4} dev eth0",
                f"addr add {a6}/{l6} dev eth0 nodad",
                "link set eth0 up",
                f"addr add {ANYCAST4}/32 dev lo",
                f"addr add {ANYCAST6}/128 dev lo",
                f"route add default via {r4}",
                f"route add ::/0 via {r6}",
            ]
        # The router first: it creates the links the others configure.
        for ns in [r] + [x for x in cmds if x != r]:
            ip_batch(ns, cmds[ns])
        sysctl(r, ROUTER_SYSCTLS)

    def _start_router(self):
        ex = ["ip", "netns", "exec", self.router]
        self.monitor = self.stack.start(
            "router-routes", ["ip", "-n", self.router, "-ts", "-o", "monitor", "route"])
        if self.router_kind == "frr":
            self.frr_dir = self.dir / "router-frr"
            self.zebra, self.bgpd = start_frr(self.stack, ex, self.frr_dir,
                                              self.router_conf())
        else:
            conf = self.dir / "router-bird.conf"
            conf.write_text(self.router_conf())
            self.bird_ctl = self.dir / "router-bird.ctl"
            self.bird = start_bird(self.stack, "router-bird", ex, conf, self.bird_ctl,
                                   "BIRD's control socket")

    def router_conf(self):
        """The router's configuration for this lab (router.router_conf())."""
        return router_conf(self.router_kind,
                           [(n.name, n.addr4, n.addr6) for n in self.nodes],
                           self.hold_time, self.bfd)

    # -- observe -------------------------------------------------------------

    def nexthops(self, family=4):
        """The nodes the router's kernel now forwards the anycast address to."""
        dst = ANYCAST4 if family == 4 else ANYCAST6
        r = run("ip", "-n", self.router, f"-{family}", "-j", "route", "show",
                "exact", f"{dst}/{32 if family == 4 else 128}")
        out = set()
        for route in json.loads(r.stdout or "[]"):
            for nh in route.get("nexthops", [route]):
                if "dev" in nh:
                    out.add(nh["dev"])
        return out

    def wait_nexthops(self, expected, families=(4, 6), timeout=30):
        expected = set(expected)
        wait_for(lambda: all(self.nexthops(f) == expected for f in families),
                 timeout, interval=0.05,
                 what=f"router next hops {sorted(expected)}: have "
                      f"{[sorted(self.nexthops(f)) for f in families]}")

    def birdc(self, *args):
        return run(BIRDC, "-s", self.bird_ctl, *args, check=False).stdout

    def vtysh(self, *commands):
        """FRR's vtysh, with each of commands as a -c."""
        argv = ["/usr/bin/vtysh", "--vty_socket", self.frr_dir]
        for c in commands:
            argv += ["-c", c]
        return run(*argv, check=False).stdout

    def router_routes(self, family=4):
        """What the router's BGP speaker has for the anycast prefix: each
        nameserver's route, best ones marked, as its CLI shows them."""
        prefix = f"{ANYCAST4}/32" if family == 4 else f"{ANYCAST6}/128"
        if self.router_kind == "frr":
            return self.vtysh(f"show bgp ipv{family} unicast {prefix}")
        return self.birdc("show", "route", "all", prefix)

    def load(self, qps=1000, count=10000, mix="auth=50,recursive=50",
             timeout=2.0, v6_share=20, start_at=None, extra=()):
        """Start the client (lab/load.py); returns a load.Client (call
        .wait())."""
        self._loads += 1
        args = ["--qps", qps, "--count", count, "--mix", mix,
                "--timeout", timeout, "--v6-share", v6_share, *extra]
        if start_at:
            args += ["--start-at", f"{start_at:.6f}"]
        return Client(self, f"client-{self._loads}", [str(a) for a in args])

    def traffic(self, qps=1000, seconds=10, **kw):
        """Resolver-like client traffic (lab/internet/traffic.py) from the
        client to the anycast addresses; keywords as Internet.traffic()
        (attack=..., count=..., timeout=...).  Returns a TrafficRun."""
        if self.internet is None:
            raise RuntimeError("traffic() needs the lab internet (Lab(internet=True))")
        return self.internet.traffic(self.netns_name("client"), [ANYCAST4, ANYCAST6],
                                     qps=qps, seconds=seconds, **kw)

    def upstreams(self, line, nodes=None):
        """One command to the upstream of every node (or of those given)."""
        return [n.upstream_cmd(line) for n in (nodes or self.nodes)]

    # -- tear down -----------------------------------------------------------

    def down(self):
        self._teardown()
        if self._own_internet and self.internet is not None:
            self.internet.down()

    def detach(self):
        """Leave the lab running after this process exits (`up --detach`):
        `down` removes it (and its internet, a run of its own)."""
        self._detach()
        if self._own_internet and self.internet is not None:
            self.internet.detach()

def describe(lab):
    lines = [f"lab {lab.id}, work directory {lab.dir}",
             f"  client  {lab.netns_name('client')}  {CLIENT4[1]}  {CLIENT6[1]}",
             f"  router  {lab.router}  " + (
                 f"FRR: vtysh --vty_socket {lab.frr_dir}" if lab.router_kind == "frr"
                 else f"BIRD: birdc -s {lab.bird_ctl}")]
    for n in lab.nodes:
        lines.append(f"  {n.name:<7} {n.netns}  {n.addr4}  {n.addr6}  "
                     f"anycastctl -c {n.dir / 'relay.yaml'} status")
    lines.append(f"  anycast {ANYCAST4} {ANYCAST6}, next hops now: "
                 f"{sorted(lab.nexthops(4))} / {sorted(lab.nexthops(6))}")
    lines.append(f"  e.g.: ip netns exec {lab.netns_name('client')} "
                 f"dig @{ANYCAST4} +nsid www.example")
    return "\n".join(lines)
