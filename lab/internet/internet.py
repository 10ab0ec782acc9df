# SPDX-License-Identifier: MPL-2.0
"""The lab internet: name servers, their network, its faults, traffic.

See lab/internet/__init__.py for the interface and lab/README.md ("The
internet") for the address plan and the figures behind the traffic.
"""

import json
import os
import pwd
import secrets
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from lab.run import Run, threading_main
from lab.named import lock_file_statement
from lab.netns import PREFIX, cleanup, ip_batch, sysctl
from lab.proc import Stack, run, wait_for

from . import dnssec
from .traffic import READY
from .knot import Knot
from .world import (MAX_NODES, NETS, OPERATORS, ROUTER4, ROUTER6, V4, V6,
                    World)

HERE = Path(__file__).resolve().parent
PYTHON = "/usr/bin/python3"
DELAY_DEV, DELAY_TABLE = "delay", 53
SLOW_MS = 600                   # the slow hoster's answers
# Reverse zones of documentation space that named answers itself
# (RFC 6303's automatic empty zones) unless told not to: the lab's own
# reverse zones live there.
EMPTY_ZONES = ("2.0.192.in-addr.arpa", "100.51.198.in-addr.arpa",
               "113.0.203.in-addr.arpa", "8.b.d.0.1.0.0.2.ip6.arpa")
ROUTER_SYSCTLS = {
    "net.ipv4.ip_forward": 1,
    "net.ipv6.conf.all.forwarding": 1,
    # Delayed packets come back in through the TUN device with their
    # own source addresses: no reverse-path check.
    "net.ipv4.conf.all.rp_filter": 0,
    "net.ipv4.conf.default.rp_filter": 0,
}


@dataclass
class Uplink:
    """A resolver node's path into the internet: the link `inet` in the
    node's namespace, `n<index>` at the internet router."""
    index: int
    netns: str
    v4: str
    v6: str

    @property
    def router_side(self):
        return f"n{self.index}"


@dataclass
class ResolverConfig:
    """What a node's named needs to resolve from the lab root.

    options     statements for named.conf's options block: recursion,
                validation, and the empty zones to leave alone; no
                forwarders (add allow-recursion, listen-on, server-id)
    statements  top-level statements: the lab root's trust anchor and
                the root hints zone
    include     a file with the statements, for an `include` in
                named.conf (readable by bind)
    hints       the root hints file (readable by bind)
    """
    uplink: Uplink
    hints: Path
    trust_anchor: str
    options: str
    statements: str
    include: Path

    def named_conf(self, directory, name):
        """A whole named.conf for a standalone resolver (loopback)."""
        d = Path(directory)
        lock = lock_file_statement(d / "named.lock")
        return f"""// A resolver of the lab internet (lab/internet), node {name}.
options {{
	directory "{d}";
	pid-file "{d}/named.pid";
	{lock}
	session-keyfile "{d}/session.key";
	listen-on {{ 127.0.0.1; }};
	listen-on-v6 {{ ::1; }};
	allow-recursion {{ localhost; }};
	server-id "{name}";
{self.options}}};
controls {{ }};
{self.statements}"""


class Resolver:
    """A standalone resolver node: a namespace with named on loopback."""

    def __init__(self, internet, index):
        self.internet, self.index = internet, index
        self.name = f"r{index}"
        self.netns = internet.netns_name(self.name)
        self.dir = internet.dir / self.name
        self.named = None
        self.config = None

    def start(self):
        bind = pwd.getpwnam("bind")
        self.dir.mkdir(exist_ok=True)
        os.chown(self.dir, bind.pw_uid, bind.pw_gid)
        conf = self.dir / "named.conf"
        conf.write_text(self.config.named_conf(self.dir, self.name))
        self.named = self.internet.stack.start(
            f"{self.name}-named", ["ip", "netns", "exec", self.netns,
                                   "/usr/sbin/named", "-g", "-u", "bind",
                                   "-n", "2", "-c", str(conf)])

    def wait(self, timeout=30):
        wait_for(lambda: " running\n" in self.named.text()
                 or not self.named.alive(), timeout,
                 what=f"{self.name}'s named to start")
        if not self.named.alive():
            raise RuntimeError(f"{self.name}: named exited:\n{self.named.text()[-3000:]}")

    def dig(self, *args, timeout=15):
        """dig in this node's namespace against its named; the output."""
        return run("ip", "netns", "exec", self.netns, "dig", "@127.0.0.1",
                   "+tries=1", "+time=10", *args, check=False,
                   timeout=timeout).stdout


class TrafficRun:
    """One run of lab/internet/traffic.py (see its docstring)."""

    def __init__(self, proc, csv, summary):
        self.proc, self.csv, self.summary_path = proc, csv, summary

    def wait(self, timeout=None):
        self.proc.p.wait(timeout)
        if self.proc.p.returncode != 0:
            raise RuntimeError(f"traffic failed:\n{self.proc.text()[-3000:]}")
        return self.summary()

    def stop_sending(self):
        # Not before it handles the signal, whose default kills it: a
        # stretch stopped as soon as it started (the catalogue's last).
        wait_for(lambda: READY in self.proc.text() or not self.proc.alive(),
                 30, what="the traffic to start")
        self.proc.send_signal(signal.SIGUSR1)

    def summary(self):
        return json.loads(self.summary_path.read_text())

    def rows(self):
        import csv
        with open(self.csv) as f:
            return list(csv.DictReader(f))


class Internet(Run):
    """See lab/internet/__init__.py.  Its life cycle is a lab run's
    (lab/run.py), as the fleet's is."""

    def __init__(self, seed=1, domains=400, resolvers=0, workdir=None,
                 keep=False, log=None, slow_ms=SLOW_MS, max_seconds=4 * 3600,
                 save_to=None):
        if not 0 <= resolvers <= MAX_NODES:
            raise ValueError(f"resolvers must be 0..{MAX_NODES}")
        self.world = World(seed, domains)
        self.id = secrets.token_hex(3)
        self.own_workdir = workdir is None
        self.dir = Path(workdir or f"/tmp/{PREFIX}{self.id}")
        self.keep = keep or not self.own_workdir
        self.log = log or (lambda msg: None)
        self.slow_ms, self.max_seconds = slow_ms, max_seconds
        self.save_to = save_to
        self.nresolvers = resolvers
        self.resolvers = []
        self.uplinks = {}                   # index -> Uplink
        self.knots = {}                     # operator -> Knot
        self.texts, self.served, self.keys = {}, {}, {}
        self.stack = None
        self.namespaces = []
        self.detached = False
        self.delay = None
        self.signing = None
        self._down, self._loss, self._dead = set(), {}, {}
        self._delays = {}                   # source address -> ms
        self._bogus = set()
        self._runs = 0
        self._old_sigterm = None

    @property
    def router(self):
        return self.netns_name("inet")

    # -- up --------------------------------------------------------------------

    def up(self):
        if os.geteuid() != 0:
            raise PermissionError("the lab internet needs root (network namespaces)")
        t0 = time.monotonic()
        cleanup(detached=False, log=self.log)       # leftovers of crashed runs
        if threading_main():
            self._old_sigterm = signal.signal(signal.SIGTERM, self._sigterm)
        self.dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.dir, 0o755)       # knot and bind read below it
        blind = [d for d in self.dir.parents if not os.stat(d).st_mode & 0o001]
        if blind:
            raise PermissionError(f"work directory {self.dir}: knot and bind "
                                  f"cannot pass {blind[0]}; use another one")
        self.stack = Stack(self.dir)
        self._register(detached=False)
        self._zones()
        self.log(f"internet {self.id}: {len(self.world.zones)} zones; signed "
                 f"{self.signing['signed']} now, {self.signing['cached']} from "
                 f"the cache, in {self.signing['seconds']:.1f} s")
        self._network()
        self._start_delay()
        self._render_faults()
        for op in OPERATORS:
            self._start_knot(op)
        for k in self.knots.values():
            k.wait()
        for h in self.world.slow_hosts:
            self._set_delay(h.v4, self.slow_ms)
            self._set_delay(h.v6, self.slow_ms)
        for i in range(1, self.nresolvers + 1):
            r = Resolver(self, i)
            self._add_netns(r.netns)
            r.config = self.attach(r.netns, i)
            r.start()
            self.resolvers.append(r)
        for r in self.resolvers:
            r.wait()
        self.log(f"internet {self.id}: up in {time.monotonic() - t0:.1f} s")

    def _add_netns(self, ns):
        run("ip", "netns", "add", ns)
        self.namespaces.append(ns)
        self._register(detached=False)

    # -- zones ---------------------------------------------------------------

    def _zones(self):
        """Every zone's text, DS records in the parents, signed where the
        world says so (dnssec.py; cached per machine)."""
        w = self.world
        signed = [z for z in w.zones.values() if z.signing]
        wanted = [(z.name, z.name == "." or "tld" in z.tags) for z in signed]
        wanted += [(z.name, False, "ghost") for z in signed
                   if z.broken == "ds-mismatch"]
        self.keys = dnssec.make_keys(wanted)
        ds = {}
        for z in signed:
            if z.name != "." and w.parent(z).signing:
                purpose = "ghost" if z.broken == "ds-mismatch" else "keys"
                ksk = [k for k in self.keys[(z.name, purpose)] if k.flags == 257]
                ds.setdefault(w.parent(z).name, []).extend(k.ds() for k in ksk)
        for z in w.zones.values():
            self.texts[z.name] = "\n".join(z.records + ds.get(z.name, [])) + "\n"
        out = self.dir / "signed"
        out.mkdir(exist_ok=True)
        jobs = []
        for z in signed:
            variant = "expired" if z.broken == "expired" else "good"
            jobs.append((z.name, self.texts[z.name], self.keys[(z.name, "keys")],
                         z.signing, variant, out / f"{variant}-{z.name}zone"))
        now, cached, seconds = dnssec.sign_all(jobs)
        self.signing = {"signed": now, "cached": cached, "seconds": seconds}
        for z in w.zones.values():
            self.served[z.name] = self.texts[z.name]
        for job in jobs:
            self.served[job[0]] = Path(job[5]).read_text()
        self.trust_anchor = dnssec.trust_anchor(self.keys[(".", "keys")])
        self.hints = self.dir / "root.hints"
        self.hints.write_text("".join(
            f".\t3600000\tNS\t{h.name}\n{h.name}\t3600000\tA\t{h.v4}\n"
            f"{h.name}\t3600000\tAAAA\t{h.v6}\n" for h in w.zones["."].ns))
        self.resolver_conf = self.dir / "resolver.conf"
        self.resolver_conf.write_text(
            "// The lab internet's root: its trust anchor and hints.\n" +
            self.trust_anchor +
            f'zone "." {{\n\ttype hint;\n\tfile "{self.hints}";\n}};\n')

    def zone_text(self, name, variant="good"):
        """A zone as served in `variant` ('good' or 'expired'), signed
        now if the cache does not have it."""
        z = self.world.zones[name]
        if not z.signing:
            raise ValueError(f"{name} is not signed: it cannot be signed badly")
        if variant == "good" and z.broken != "expired":
            path = self.dir / "signed" / f"good-{name}zone"
            if path.exists():
                return path.read_text()
        path = self.dir / "signed" / f"{variant}-{name}zone"
        dnssec.sign(name, self.texts[name], self.keys[(name, "keys")], z.signing,
                    variant, path)
        return path.read_text()

    # -- the network -----------------------------------------------------------

    def _network(self):
        """The internet router, and one namespace per operator with its
        servers' addresses on lo.  Links are unnumbered: the router is
        192.0.2.129 and fe80::1 on each of its links, the far side
        fe80::2; routes to /32s and /128s over the links."""
        r = self.router
        self._add_netns(r)
        cmds = {r: ["link set lo up", f"addr add {ROUTER6}/128 dev lo"]}
        for op in OPERATORS:
            ns = self.netns_name(f"inet-{op}")
            self._add_netns(ns)
            dev = f"o-{op}"
            cmds[r] += [f"link add {dev} type veth peer name eth0 netns {ns}",
                        f"addr add {ROUTER4}/32 dev {dev}",
                        f"addr add fe80::1/64 dev {dev} nodad",
                        f"link set {dev} up"]
            cmds[ns] = ["link set lo up", "link set eth0 up",
                        "addr add fe80::2/64 dev eth0 nodad",
                        f"route add default via {ROUTER4} dev eth0 onlink",
                        "route add ::/0 via fe80::1 dev eth0"]
            for h in self.world.hosts.get(op, []):
                cmds[ns] += [f"addr add {h.v4}/32 dev lo", f"addr add {h.v6}/128 dev lo"]
                cmds[r] += [f"route add {h.v4}/32 dev {dev}",
                            f"route add {h.v6}/128 via fe80::2 dev {dev}"]
        ip_batch(r, cmds.pop(r))
        sysctl(r, ROUTER_SYSCTLS)
        for ns, c in cmds.items():
            ip_batch(ns, c)

    def attach(self, netns, index):
        """Give node `index` (1..62) in namespace `netns` its uplink into
        the internet; return the named configuration it needs."""
        if not 1 <= index <= MAX_NODES:
            raise ValueError(f"node index must be 1..{MAX_NODES}")
        if index in self.uplinks:
            raise ValueError(f"node {index} is attached already")
        up = Uplink(index, netns, f"{V4}{192 + index}", f"{V6}{192 + index}")
        dev = up.router_side
        ip_batch(self.router, [
            f"link add {dev} type veth peer name inet netns {netns}",
            f"addr add {ROUTER4}/32 dev {dev}",
            f"addr add fe80::1/64 dev {dev} nodad",
            f"link set {dev} up",
            f"route add {up.v4}/32 dev {dev}",
            f"route add {up.v6}/128 via fe80::2 dev {dev}"])
        ip_batch(netns, [
            "link set lo up",
            f"addr add {up.v4}/32 dev inet",
            f"addr add {up.v6}/128 dev inet nodad",
            "addr add fe80::2/64 dev inet nodad",
            "link set inet up",
            f"route add {NETS[0]} via {ROUTER4} dev inet onlink src {up.v4}",
            f"route add {NETS[1]} via fe80::1 dev inet src {up.v6}"])
        self.uplinks[index] = up
        self._render_faults()
        disable = "".join(f'\tdisable-empty-zone "{z}";\n' for z in EMPTY_ZONES)
        return ResolverConfig(
            uplink=up, hints=self.hints, trust_anchor=self.trust_anchor,
            options=("\trecursion yes;\n"
                     "\tdnssec-validation yes;\t// the lab root's trust anchor\n"
                     + disable),
            statements=self.resolver_conf.read_text(), include=self.resolver_conf)

    # -- servers -------------------------------------------------------------------

    def _start_knot(self, op):
        w = self.world
        zones = [z for z in w.zones.values() if z.operator == op]
        listen = [a for h in w.hosts.get(op, []) if h != w.gone_host
                  for a in (h.v4, h.v6)]
        k = Knot(op, self.netns_name(f"inet-{op}"), self.dir / f"knot-{op}",
                 listen, [z.name for z in zones],
                 broken=[z.name for z in zones if z.broken == "unloadable"])
        k.write(self.served)
        k.start(self.stack)
        self.knots[op] = k

    def knot_of(self, zone):
        op = self.world.zones[zone].operator
        if op is None:
            raise ValueError(f"{zone} is served by nobody")
        return self.knots[op]

    # -- the delay -----------------------------------------------------------------

    def _start_delay(self):
        argv = ["ip", "netns", "exec", self.router, "chrt", "-f", "10", PYTHON,
                str(HERE / "delay.py"), "--dev", DELAY_DEV,
                "--max-seconds", str(self.max_seconds)]
        self.delay = self.stack.start("inet-delay", argv, stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE)
        ready = self.delay.p.stdout.readline().decode().strip()
        if ready != "ready":
            self.delay.p.wait(5)
            raise RuntimeError(f"delay.py did not start:\n{self.delay.text()[-2000:]}")
        # A long queue: packets wait there for delay.py to read them,
        # and a burst must not overflow it (500 by default).
        run("ip", "-n", self.router, "link", "set", DELAY_DEV, "txqueuelen",
            10000, "up")
        # What comes out of the device is routed as usual; what the
        # rules of _set_delay() pick goes into it.
        for fam in ("-4", "-6"):
            run("ip", fam, "-n", self.router, "rule", "add", "iif", DELAY_DEV,
                "lookup", "main", "pref", "100")
            run("ip", fam, "-n", self.router, "route", "add", "default",
                "dev", DELAY_DEV, "table", DELAY_TABLE)

    def delay_cmd(self, line):
        """A command to delay.py (its docstring); its reply."""
        p = self.delay.p
        p.stdin.write(line.encode() + b"\n")
        p.stdin.flush()
        reply = p.stdout.readline().decode().strip()
        if not reply.startswith("ok"):
            raise RuntimeError(f"delay: {line}: {reply or 'no reply'}")
        return reply

    def _set_delay(self, addr, ms):
        """Hold packets from addr for ms at the router (0: no more)."""
        def rule(op):
            run("ip", "-6" if ":" in addr else "-4", "-n", self.router, "rule",
                op, "from", addr, "lookup", DELAY_TABLE, "pref", 200)

        old = self._delays.get(addr, 0)
        if ms:
            self.delay_cmd(f"delay {addr} {ms}")
            if not old:
                rule("add")
            self._delays[addr] = ms
        elif old:
            rule("del")
            self.delay_cmd(f"delay {addr} 0")
            del self._delays[addr]

    # -- faults ----------------------------------------------------------------------

    def _render_faults(self):
        """The router's nftables table, whole, in one transaction."""
        dead = set().union(*self._dead.values()) if self._dead else set()
        d4 = ", ".join(sorted(h.v4 for h in dead))
        d6 = ", ".join(sorted(h.v6 for h in dead))
        # Counters first: what each operator and each node's uplink
        # was sent (a delayed packet passes twice, counted once).
        rules = [f'oifname "o-{op}" counter comment "to {op}"' for op in OPERATORS]
        rules += [f'iifname "n{i}" counter comment "from n{i}"'
                  for i in sorted(self.uplinks)]
        if d4:
            rules += [f"ip daddr {{ {d4} }} counter drop comment \"dead\"",
                      f"ip6 daddr {{ {d6} }} counter drop comment \"dead\""]
        for i in sorted(self._down):
            dev = f"n{i}"
            rules += [f'iifname "{dev}" counter drop comment "down {dev}"',
                      f'oifname "{dev}" counter drop comment "down {dev}"']
        for i, pct in sorted(self._loss.items()):
            dev = f"n{i}"
            for way in ("iifname", "oifname"):
                rules.append(f'{way} "{dev}" numgen random mod 100 < {pct} '
                             f'counter drop comment "loss {dev}"')
        body = "".join(f"\t\t{r}\n" for r in rules)
        text = ("table inet internet\ndelete table inet internet\n"
                "table inet internet {\n\tchain forward {\n"
                "\t\ttype filter hook forward priority 0; policy accept;\n"
                f"\t\tcounter comment \"forwarded\"\n{body}\t}}\n}}\n")
        r = subprocess.run(["ip", "netns", "exec", self.router, "nft", "-f", "-"],
                           input=text, capture_output=True, text=True, timeout=10)
        if r.returncode != 0:
            raise RuntimeError(f"nft: {r.stderr.strip()}\n{text}")

    def counters(self):
        """The router's nftables counters, {comment: packets}: "to OP"
        (packets to an operator's servers), "from nI" (from node I),
        "dead", "down nI", "loss nI" (dropped).  They restart from 0 at
        every change of the uplink faults or dead servers."""
        r = run("ip", "netns", "exec", self.router, "nft", "-j", "list",
                "table", "inet", "internet")
        out = {}
        for item in json.loads(r.stdout)["nftables"]:
            rule = item.get("rule")
            if not rule:
                continue
            name = rule.get("comment", "")
            for e in rule["expr"]:
                if "counter" in e:
                    out[name] = out.get(name, 0) + e["counter"]["packets"]
        return out

    def _uplink(self, node):
        if node not in self.uplinks:
            raise KeyError(f"node {node} has no uplink (attach it first)")
        return self.uplinks[node]

    def uplink_down(self, node, on=True):
        """Node's uplink cut: every packet to and from it dropped."""
        self._uplink(node)
        (self._down.add if on else self._down.discard)(node)
        self._render_faults()

    def uplink_loss(self, node, percent):
        """percent % of the packets each way on node's uplink dropped
        (nftables numgen random); 0 ends it."""
        self._uplink(node)
        if not 0 <= percent <= 100:
            raise ValueError("loss is a percentage")
        if percent:
            self._loss[node] = int(percent)
        else:
            self._loss.pop(node, None)
        self._render_faults()

    def uplink_delay(self, node, ms):
        """ms added to node's round trips (its queries held at the
        router); 0 ends it."""
        up = self._uplink(node)
        self._set_delay(up.v4, ms)
        self._set_delay(up.v6, ms)

    def servers_dead(self, label, hosts, on=True):
        """Packets to these name servers dropped at the router (as if
        their hosts were down); `label` names the fault."""
        if on:
            self._dead[label] = set(hosts)
        else:
            self._dead.pop(label, None)
        self._render_faults()

    def domain_dead(self, domain, on=True):
        """The domain's name servers dead (every zone they serve too)."""
        self.servers_dead(f"domain {domain}", self.world.zones[domain].ns, on)

    def tld_dead(self, tld, on=True):
        self.servers_dead(f"tld {tld}", self.world.tld_hosts[tld.strip(".")], on)

    def provider_dead(self, on=True):
        self.servers_dead("provider", self.world.hosts["dnsprov"], on)

    def cdn_dead(self, on=True):
        self.servers_dead("cdn", self.world.hosts["cdn"], on)

    def domain_slow(self, domain, ms):
        """The answers of the domain's name servers delayed by ms (every
        zone they serve too); 0 ends it."""
        for h in self.world.zones[domain].ns:
            self._set_delay(h.v4, ms)
            self._set_delay(h.v6, ms)

    def zone_bogus(self, zone, on=True):
        """The zone served with expired signatures (re-signed badly and
        reloaded), or well again."""
        name = zone if zone.endswith(".") else zone + "."
        text = self.zone_text(name, "expired" if on else "good")
        self.knot_of(name).reload(name, text)
        (self._bogus.add if on else self._bogus.discard)(name)

    def domain_bogus(self, domain, on=True):
        self.zone_bogus(domain, on)

    def tld_bogus(self, tld, on=True):
        """A TLD's signatures expired: every signed delegation under it
        (and every NXDOMAIN proof) is bogus."""
        self.zone_bogus(tld, on)

    def clear(self):
        """Every fault switched off (the background stays)."""
        self._down.clear()
        self._loss.clear()
        self._dead.clear()
        self._render_faults()
        slow = {a for h in self.world.slow_hosts for a in (h.v4, h.v6)}
        for addr in [a for a in self._delays if a not in slow]:
            self._set_delay(addr, 0)
        for z in list(self._bogus):
            self.zone_bogus(z, False)

    # -- traffic -------------------------------------------------------------------------

    def population_file(self):
        path = self.dir / "population.json"
        if not path.exists():
            asks = [[a.qname, a.qtype, a.weight, a.kind, a.expect]
                    for a in self.world.population()]
            path.write_text(json.dumps({"seed": self.world.seed, "asks": asks}))
        return path

    def traffic(self, netns, servers, qps=1000, seconds=10, count=None,
                timeout=1.0, attempts=2, v6_share=20, attack=None,
                victim="victim.com.", seed=None, realtime=True, name=None):
        """Start lab/internet/traffic.py in `netns` against `servers`
        (addresses, 'addr@port' for another port); attack: the
        random-subdomain attack's multiple of qps (None: none).
        Returns a TrafficRun; wait() gives its summary."""
        self._runs += 1
        name = name or f"traffic-{self._runs}"
        csv, summary = self.dir / f"{name}.csv", self.dir / f"{name}.json"
        argv = ["ip", "netns", "exec", netns]
        if realtime:
            argv += ["chrt", "-f", "10"]
        argv += [PYTHON, str(HERE / "traffic.py"),
                 "--population", str(self.population_file()),
                 "--qps", str(qps), "--seconds", str(seconds),
                 "--timeout", str(timeout), "--attempts", str(attempts),
                 "--v6-share", str(v6_share), "--seed", str(seed or self._runs),
                 "--out", str(csv), "--summary", str(summary)]
        argv += [x for s in servers for x in ("--server", s)]
        if count:
            argv += ["--count", str(count)]
        if attack:
            argv += ["--attack-victim", victim, "--attack-multiple", str(attack)]
        return TrafficRun(self.stack.start(name, argv), csv, summary)

    def expected_mix(self):
        """Shares (per cent of queries) the population should give: by
        expected rcode and by type."""
        rc, ty = {}, {}
        total = 0.0
        for a in self.world.population():
            types = ("A", "AAAA") if a.qtype == "addr" else (a.qtype,)
            for t in types:
                rc[a.expect] = rc.get(a.expect, 0) + a.weight
                ty[t] = ty.get(t, 0) + a.weight
                total += a.weight
        return ({k: 100 * v / total for k, v in rc.items()},
                {k: 100 * v / total for k, v in ty.items()})

    def describe(self):
        w = self.world
        lines = [f"internet {self.id}, work directory {self.dir}",
                 f"  router   {self.router}  {ROUTER4} {ROUTER6}"]
        for op in OPERATORS:
            hosts = w.hosts.get(op, [])
            n = sum(1 for z in w.zones.values() if z.operator == op)
            lines.append(f"  {op:<9}{self.netns_name('inet-' + op)}  {n} zones on "
                         f"{len(hosts)} addresses ({hosts[0].v4}...)")
        for r in self.resolvers:
            up = r.config.uplink
            lines.append(f"  {r.name:<9}{r.netns}  uplink {up.v4} {up.v6}, "
                         "named on 127.0.0.1 and ::1")
        if self.resolvers:
            ns = self.resolvers[0].netns
            root = w.zones["."].ns[0].v4
            lines.append("  e.g.:")
            for args, what in (
                    ("www.popular.com", "signed: flag ad"),
                    (f"www.{w.pick('cdn-customer')}", "CNAMEs into the CDN"),
                    (w.pick("expired"), "bogus: SERVFAIL; with +cd the data"),
                    (w.pick("lame"), "lame delegation: SERVFAIL"),
                    (f"mail.{w.pick('slow')}", f"on the slow hoster ({self.slow_ms} ms)"),
                    ("+nsid xyz.victim.com", "NXDOMAIN; NSID names the node")):
                lines.append(f"    ip netns exec {ns} dig @127.0.0.1 {args:<28} # {what}")
            lines.append(f"    ip netns exec {ns} dig @{root} +norec com NS"
                         f"{'':<9}# the lab root, asked directly")
        return "\n".join(lines)
