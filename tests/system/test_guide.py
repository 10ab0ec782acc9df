# SPDX-License-Identifier: MPL-2.0
"""doc/guide.md Part 2, run: each block marked `<!-- lab-test: NAME -->`
is run here in network namespaces of its own, compared with what the
lab runs, or run by the lab (the guide's appendix says which).

Needs root for the namespaces (CI runs as root); skips, saying so,
when not root.  Namespaces are named `ahguide-<run id>-...` and removed
whatever happens; only documentation addresses are used.
"""

import os
import re
import secrets
import shutil
import signal
import subprocess
import time
from contextlib import contextmanager

import pytest

import lab
from lab import netns
from lab.fleet import Lab
from lab.proc import run
from lab.router import ROUTER_SYSCTLS

GUIDE = lab.SRCDIR / "doc" / "guide.md"
BLOCK = re.compile(r"^<!-- lab-test: (\S+) -->\n```[a-z]*\n(.*?)^```$", re.M | re.S)

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0,
    reason="the guide's steps need root (network namespaces, sysctl); CI runs as root")


def block(name):
    blocks = dict(m.groups() for m in BLOCK.finditer(GUIDE.read_text()))
    assert name in blocks, f"doc/guide.md has no block 'lab-test: {name}'"
    return blocks[name]


def sh(netns, *argv, check=True, **kw):
    r = subprocess.run(["ip", "netns", "exec", netns, *map(str, argv)],
                       capture_output=True, text=True, timeout=30, **kw)
    if check:
        assert r.returncode == 0, f"{argv}: {r.stderr}"
    return r


@contextmanager
def namespaces(*roles):
    """Fresh namespaces `ahguide-<id>-ROLE`, deleted at the end."""
    rid = secrets.token_hex(3)
    names = {r: f"ahguide-{rid}-{r}" for r in roles}
    made = []
    try:
        for n in names.values():
            run("ip", "netns", "add", n)
            made.append(n)
        for n in made:
            run("ip", "-n", n, "link", "set", "lo", "up")
        yield names
    finally:
        for n in made:
            netns.kill_netns(n)


def test_lo_addresses_with_ifupdown(tmp_path):
    """2.1: at boot, ifup -a brings lo up with Debian's stanza and the
    guide's file (/etc/network/interfaces sources interfaces.d/*)."""
    (tmp_path / "interfaces.d").mkdir()
    (tmp_path / "interfaces.d" / "anycast").write_text(block("interfaces"))
    # What Debian's installer writes, and the package's 'source' line.
    (tmp_path / "interfaces").write_text(
        "auto lo\niface lo inet loopback\n\n"
        f"source {tmp_path}/interfaces.d/*\n")
    with namespaces("node") as ns:
        run("ip", "-n", ns["node"], "link", "set", "lo", "down")
        sh(ns["node"], "ifup", "-a", "--no-scripts", "-i", tmp_path / "interfaces",
           "--state-dir", tmp_path)
        addrs = run("ip", "-n", ns["node"], "-br", "address", "show",
                    "dev", "lo").stdout.split()
    for a in ("127.0.0.1/8", "192.0.2.53/32", "::1/128", "2001:db8::53/128"):
        assert a in addrs, addrs


def arp_learned(ns, addr):
    """Send one UDP packet to addr from ns; the lladdr it learned, if any."""
    run("ip", "-n", ns, "neigh", "flush", "to", addr, check=False)
    sh(ns, "/usr/bin/python3", "-c",
       "import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); "
       f"s.sendto(b'x', ('{addr}', 53))")
    deadline = time.monotonic() + 1.0
    while time.monotonic() < deadline:
        out = run("ip", "-n", ns, "neigh", "show", "to", addr).stdout
        m = re.search(r"lladdr (\S+)", out)
        if m:
            return m.group(1)
        time.sleep(0.02)
    return None


def test_node_sysctls_stop_arp_for_the_anycast_address(tmp_path):
    """2.2: the seed's layout, an anycast address (198.51.100.53, on lo)
    inside the servers' link subnet (198.51.100.0/24).  The router has
    no BGP route for it, so it ARPs on the link: without the sysctls
    the node answers (and would get the traffic, announced or not);
    with the guide's file it does not."""
    conf = tmp_path / "60-anycast-node.conf"
    conf.write_text(block("sysctl-node"))
    with namespaces("router", "node") as ns:
        r, n = ns["router"], ns["node"]
        netns.ip_batch(r, [f"link add eth0 type veth peer name eth0 netns {n}",
                           "addr add 198.51.100.254/24 dev eth0", "link set eth0 up"])
        netns.ip_batch(n, ["addr add 198.51.100.11/24 dev eth0", "link set eth0 up",
                           "addr add 198.51.100.53/32 dev lo"])
        mac = run("ip", "-n", n, "-br", "link", "show", "eth0").stdout.split()[2]
        assert arp_learned(r, "198.51.100.53") == mac
        sh(n, "sysctl", "-q", "-p", conf)
        assert sh(n, "sysctl", "-n", "net.ipv4.conf.all.arp_ignore").stdout.strip() == "1"
        assert arp_learned(r, "198.51.100.53") is None
        # The node's own address still resolves: only lo's are hidden.
        assert arp_learned(r, "198.51.100.11") == mac


def sysctl_file(text):
    out = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            k, v = (x.strip() for x in line.split("=", 1))
            out[k] = int(v)
    return out


def test_router_sysctls_are_the_labs(tmp_path):
    """2.2: the router's file is what the lab's router runs with, and
    sysctl -p applies it."""
    text = block("sysctl-router")
    assert sysctl_file(text) == ROUTER_SYSCTLS
    conf = tmp_path / "60-anycast-router.conf"
    conf.write_text(text)
    with namespaces("router") as ns:
        sh(ns["router"], "sysctl", "-q", "-p", conf)
        for k, v in ROUTER_SYSCTLS.items():
            assert sh(ns["router"], "sysctl", "-n", k).stdout.strip() == str(v), k


def test_named_listens_as_the_lab():
    """2.3: the listen-on lines are conf/named.conf's, which the lab's
    nodes run."""
    example = (lab.CONF / "named.conf").read_text()
    lines = [line.strip() for line in block("named-listen").splitlines() if line.strip()]
    assert lines and all(line.startswith("listen-on") for line in lines)
    for line in lines:
        assert f"\t{line}\n" in example, line


def test_exabgp_conf_is_the_example():
    """2.4: the guide shows conf/exabgp.conf, which the lab's nodes run."""
    assert block("exabgp") == (lab.CONF / "exabgp.conf").read_text()


def test_router_configs_are_the_labs(tmp_path):
    """2.6 and 2.7: the BIRD (with and without BFD) and FRR
    configurations are the lab's for two nameservers, and the daemons'
    own checkers accept them."""
    for kind, name in (("bird", "bird"), ("frr", "frr")):
        want = Lab(nodes=2, router=kind).router_conf()
        assert block(name).rstrip("\n") == want.rstrip("\n"), kind
    # BFD: the router's part is added to the same configuration, the
    # node's is a configuration of its own.
    with_bfd = Lab(nodes=2, bfd=True)
    assert block("bird-bfd-router").strip() in with_bfd.router_conf()
    assert "\tbfd on;\n" in with_bfd.router_conf()
    assert block("bird-bfd-node") == with_bfd.node(1).bfd_conf()
    for name in ("bird", "bird-bfd-node"):
        bird = tmp_path / "bird.conf"
        bird.write_text(block(name))
        r = subprocess.run(["/usr/sbin/bird", "-p", "-c", str(bird)],
                           capture_output=True, text=True, timeout=10)
        assert r.returncode == 0, (name, r.stderr)
    frr = tmp_path / "frr.conf"
    frr.write_text(block("frr"))
    r = subprocess.run(["/usr/bin/vtysh", "--dryrun", "-f", str(frr)],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 0, r.stdout + r.stderr


def test_frr_daemons_edit(tmp_path):
    """2.7: the sed turns bgpd on in Debian's /etc/frr/daemons."""
    daemons = tmp_path / "daemons"
    shutil.copy("/etc/frr/daemons", daemons)
    assert re.search(r"^bgpd=no$", daemons.read_text(), re.M)
    cmd = block("frr-daemons").strip().replace("/etc/frr/daemons", str(daemons))
    subprocess.run(cmd, shell=True, check=True, timeout=10)
    assert re.search(r"^bgpd=yes$", daemons.read_text(), re.M)


def test_seed_watchdog_fleet(tmp_path):
    """2.5: two nodes running the guide's seed-style exabgp.conf and
    watchdog service: both in the router's multipath route; ns1 leaves
    it when its named is killed, and comes back."""
    services = block("relay-watchdog")
    assert services.startswith("services:\n")
    with Lab(nodes=2, services=services[len("services:\n"):],
             exabgp_template=(block("exabgp-watchdog"), "doc/guide.md 2.5"),
             save_to=tmp_path / "lab") as lab:
        conf = (lab.node(1).dir / "exabgp.conf").read_text()
        assert "watchdog anycastdns withdraw" in conf
        t0 = time.monotonic()
        lab.node(1).signal_named(signal.SIGKILL)
        lab.wait_nexthops({"ns2"}, timeout=5)
        assert time.monotonic() - t0 < 1.5
        lab.node(1).start_named()
        lab.wait_nexthops({"ns1", "ns2"}, timeout=30)
        log = lab.node(1).exabgp.text()
    assert "withdraw watchdog anycastdns" in log
    assert "announce watchdog anycastdns" in log
