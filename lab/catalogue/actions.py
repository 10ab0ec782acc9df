# SPDX-License-Identifier: MPL-2.0
"""What the catalogue does to the nodes that needs more than one line:
cache flushes, rndc storms, saturation by dnsperf, relay kills and
ExaBGP restarts, the node's clock, its trust anchor.

A mixin of the Catalogue (runner.py), whose __init__ sets the state
these methods share: _stop, _threads (storms), _procs (dnsperf),
_runs, _relay_kills, wrong_anchor, holds.
"""

import dataclasses
import re
import signal
import subprocess
import threading
import time
from pathlib import Path

from ..fleet import ANYCAST4, ANYCAST6
from ..paths import RNDC
from ..proc import run

# An LD_PRELOAD shim moving one process's wall clock (Debian's
# libfaketime does not start under BIND 9.18: the file says why).
CLOCKSHIFT_C = Path(__file__).resolve().parent / "clockshift.c"


def build_clockshift(bindir):
    """bindir/clockshift.so, built with cc the first time."""
    so = Path(bindir) / "clockshift.so"
    if not so.exists():
        so.parent.mkdir(parents=True, exist_ok=True)
        run("cc", "-O2", "-shared", "-fPIC", "-o", so, CLOCKSHIFT_C, timeout=120)
        so.chmod(0o755)
    return so


class Actions:
    """The catalogue's actions on the nodes (mixed into Catalogue)."""

    def flush(self, names, nodes=None):
        """rndc flushtree NAME for each name, on every node at once."""
        names = [n.rstrip(".") or "." for n in names]
        procs = []
        for n in nodes or self.lab.nodes:
            script = "; ".join(f"{RNDC} -c {n.rndc_conf} flushtree {x} >/dev/null"
                               for x in names)
            procs.append(subprocess.Popen(n.exec("sh", "-c", script)))
        for p in procs:
            p.wait(120)

    def start_storm(self, commands):
        def loop(node, cmds):
            i = 0
            while not self._stop.is_set():
                node.rndc(cmds[i % len(cmds)], timeout=60)
                i += 1
                self._stop.wait(0.2)
        self._stop.clear()
        for n in self.lab.nodes:
            t = threading.Thread(target=loop, args=(n, commands.split(",")),
                                 daemon=True)
            t.start()
            self._threads.append(t)

    def stop_storm(self):
        self._stop.set()
        for t in self._threads:
            t.join(90)
        self._threads.clear()

    def start_saturation(self):
        """dnsperf in the client namespace, as fast as named answers,
        many source ports, names the nodes have cached."""
        qfile = self.lab.dir / "saturation.queries"
        if not qfile.exists():
            names = [f"www.{z.name} A" for z in self.net.world.domains()
                     if not z.broken][:200]
            qfile.write_text("\n".join(names) + "\n")
        hold = self.holds["load"]
        for server in (ANYCAST4, ANYCAST6):
            self._procs.append(self.lab.stack.start(
                f"dnsperf-{self._runs}-{len(self._procs)}",
                ["ip", "netns", "exec", self.lab.netns_name("client"),
                 "dnsperf", "-s", server, "-d", str(qfile), "-l", str(int(hold) + 30),
                 "-c", "64", "-q", "500"]))

    def stop_saturation(self):
        for p in self._procs:
            p.send_signal(signal.SIGINT)
        for p in self._procs:
            p.stop(timeout=10)
        self._procs.clear()

    def kill_relay(self, node):
        """kill -9 node's relay; ExaBGP respawns it.  ExaBGP 4.2 gives up
        (and exits) when a process dies more than 5 times within one
        64-second slot of the clock (exabgp/reactor/api/processes.py),
        so a fifth kill in a slot waits for the next."""
        slot = int(time.time()) & ~63
        kills = [t for t in self._relay_kills.get(node.name, []) if t == slot]
        if len(kills) >= 4:
            time.sleep(max(0.0, slot + 64 - time.time()) + 0.1)
            slot = int(time.time()) & ~63
        self._relay_kills.setdefault(node.name, []).append(slot)
        node.signal_relay(signal.SIGKILL)

    def restart_relays(self):
        """Every node's relay killed; ExaBGP respawns them."""
        for n in self.lab.nodes:
            self.kill_relay(n)

    def restart_exabgp(self, node):
        """ExaBGP stopped (SIGTERM, as systemctl stop does) and started."""
        t_term = time.time()
        node.exabgp.send_signal(signal.SIGTERM)
        node.exabgp.p.wait(30)
        node.start_exabgp()
        self.exabgp_restarts.append((node.name, t_term, time.time()))

    def clockshift(self, node, on):
        """node's named restarted with its wall clock read through
        lab/catalogue/clockshift.c (offset 0 for now; set_clock() moves it), or
        without."""
        clock = node.dir / "clock-offset"
        if on:
            so = build_clockshift(self.lab.dir / "bin")
            clock.write_text("0\n")
            clock.chmod(0o644)
            node.named_wrapper = ("env", f"LD_PRELOAD={so}", f"CLOCKSHIFT_FILE={clock}")
        else:
            node.named_wrapper = ()
        node.restart_named(wait=True)

    def set_clock(self, node, seconds):
        """node's named's wall clock `seconds` off from now on (within
        10 ms: lab/catalogue/clockshift.c reads the offset that often)."""
        (node.dir / "clock-offset").write_text(f"{int(seconds)}\n")

    def trust_anchor(self, node, wrong):
        """node's named reconfigured with a trust anchor the lab root does
        not use (a key of its own, as a node left with the old key after
        a KSK roll), or the right one again (then its cache flushed of
        what failed)."""
        if wrong:
            if self.wrong_anchor is None:
                self.wrong_anchor = self._other_key()
            include = node.dir / "resolver-wrong-anchor.conf"
            right = node.resolver.include.read_text()
            text = re.sub(r'static-key [^;]*;', f"static-key {self.wrong_anchor};",
                          right)
            if text == right:
                raise RuntimeError("no static-key in the resolver's statements")
            include.write_text(text)
            include.chmod(0o644)
            resolver = dataclasses.replace(node.resolver, include=include)
        else:
            resolver = None
        (node.named_dir / "named.conf").write_text(node.named_conf(resolver))
        r = node.rndc("reconfig")
        if r.returncode != 0:
            raise RuntimeError(f"{node.name}: rndc reconfig: {r.stderr or r.stdout}")
        if not wrong:
            node.rndc("flush")

    def _other_key(self):
        d = self.lab.dir / "wrong-anchor"
        d.mkdir(exist_ok=True)
        r = run("dnssec-keygen", "-q", "-a", "ECDSAP256SHA256", "-f", "KSK",
                "-K", d, ".", timeout=60)
        key = (d / (r.stdout.strip() + ".key")).read_text().split()
        i = key.index("DNSKEY")
        flags, proto, alg = key[i + 1:i + 4]
        return f'{flags} {proto} {alg} "{"".join(key[i + 4:])}"'

    # -- a row --------------------------------------------------------------
