# SPDX-License-Identifier: MPL-2.0
"""The router: BIRD 2 on loopback from conf/bird.conf (tests,
benchmarks; no kernel table), and the fleet's router in its namespace,
BIRD 2 or FRR, from lab/bird-router.conf or lab/frr-router.conf, with
the sysctls of a Linux router doing ECMP.
"""

import os
import pwd
import subprocess
from string import Template

from .examples import render
from .paths import BIRD, BIRDC, LAB
from .proc import free_port, start_daemon, wait_for

ROUTER_ID, ROUTER_AS, NODE_AS = "192.0.2.1", 65000, 65053
ROUTERS = ("bird", "frr")

# A Linux router for the fleet (doc/guide.md, 2.2, shows them as a
# sysctl.d file and says why; tests/system/test_guide.py checks that
# the two agree): forwarding, ECMP spread by flow (source port), and
# loose reverse-path filtering, since strict filtering would drop the
# answers still coming back from a node that has just left the
# multipath set (the queries it had in flight): the route to their
# source, the anycast address, no longer goes through that link.
ROUTER_SYSCTLS = {
    "net.ipv4.ip_forward": 1,
    "net.ipv6.conf.all.forwarding": 1,
    "net.ipv4.fib_multipath_hash_policy": 1,
    "net.ipv6.fib_multipath_hash_policy": 1,
    "net.ipv4.conf.all.rp_filter": 2,
    "net.ipv4.conf.default.rp_filter": 2,
}

# BFD (Lab(bfd=True)): doc/guide.md, 2.6, shows both parts.  The
# router's BIRD asks for a session to each nameserver ('bfd on' in its
# BGP template); each node runs a BIRD with this protocol alone, since
# ExaBGP 4.2 has no BFD.  3 packets 100 ms apart missed: the node's
# host is gone, and so are its routes, long before the hold time.
BFD_TIMERS = """	interface "*" {
		interval 100 ms;
		multiplier 3;
	};
"""
BIRD_BFD_ROUTER = f"""
# BFD: a nameserver whose host stops (hung, powered off, cut off) is
# dropped after 3 missed BFD packets 100 ms apart, not the hold time.
protocol bfd {{
{BFD_TIMERS}}}
"""


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


# -- the fleet's router -------------------------------------------------------

def router_conf(kind, nameservers, hold_time, bfd=False):
    """The fleet router's configuration, from lab/bird-router.conf or
    lab/frr-router.conf, without the template's first paragraph (which
    is about the template).  nameservers: (name, IPv4, IPv6) of each."""
    return _router_template(kind, nameservers, hold_time, bfd).split("\n\n", 1)[1]


def _router_template(kind, nameservers, hold_time, bfd):
    if kind == "frr":
        neighbors = []
        for _, addr4, addr6 in nameservers:
            neighbors += [f" neighbor {addr4} peer-group NS4",
                          f" neighbor {addr6} peer-group NS6"]
        return Template((LAB / "frr-router.conf").read_text()).substitute(
            router_id=ROUTER_ID, router_as=ROUTER_AS, node_as=NODE_AS,
            hold_time=hold_time, neighbors="\n".join(neighbors))
    blocks = []
    for name, addr4, addr6 in nameservers:
        blocks.append(f"""protocol bgp {name} from nameserver {{
	neighbor {addr4} as {NODE_AS};
	ipv4 {{ import filter nameserver_in; export none; }};
}}

protocol bgp {name}_v6 from nameserver {{
	neighbor {addr6} as {NODE_AS};
	ipv6 {{ import filter nameserver_in; export none; }};
}}
""")
    text = Template((LAB / "bird-router.conf").read_text()).substitute(
        router_id=ROUTER_ID, router_as=ROUTER_AS, hold_time=hold_time,
        nameservers="\n".join(blocks))
    if bfd:
        hold = f"\thold time {hold_time};\n"
        text = text.replace(hold, hold + "\tbfd on;\n") + BIRD_BFD_ROUTER
    return text


def start_bird(stack, name, prefix, conf, ctl, what):
    """A BIRD as user bird (the router's, a node's BFD) in the
    namespace prefix enters; returns once its control socket is up."""
    return start_daemon(
        stack, name, [*prefix, BIRD, "-f", "-u", "bird", "-g", "bird",
                      "-c", conf, "-s", ctl], ctl, what)


def start_frr(stack, prefix, d, conf):
    """zebra and bgpd as user frr, inside the router namespace (so
    zebra's netlink socket is that namespace's: it cannot reach the
    host's table), with their sockets, pid files and configuration in
    d instead of /etc/frr and /run/frr, and no TCP vty.  bgpd reads
    conf; zebra needs nothing (the lab sets forwarding with sysctl).
    Debian's frr.service instead starts the daemons bare and has vtysh
    hand each its part of the integrated /etc/frr/frr.conf
    (doc/guide.md, 2.7).  Returns (zebra, bgpd)."""
    d.mkdir(exist_ok=True)
    frr = pwd.getpwnam("frr")
    os.chown(d, frr.pw_uid, frr.pw_gid)
    bgpd_conf, zebra_conf = d / "frr.conf", d / "zebra.conf"
    bgpd_conf.write_text(conf)
    zebra_conf.write_text("hostname router\nlog stdout informational\n")
    common = ["-u", "frr", "-g", "frr", "-z", str(d / "zserv.api"),
              "--vty_socket", str(d), "-P", "0", "--log", "stdout"]
    zebra = start_daemon(
        stack, "router-zebra",
        [*prefix, "/usr/lib/frr/zebra", *common, "-f", zebra_conf, "-i", d / "zebra.pid"],
        d / "zserv.api", "zebra's socket")
    bgpd = start_daemon(
        stack, "router-bgpd",
        [*prefix, "/usr/lib/frr/bgpd", *common, "-f", bgpd_conf, "-i", d / "bgpd.pid"],
        d / "bgpd.vty", "bgpd's vty socket")
    return zebra, bgpd
