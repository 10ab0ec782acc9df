# SPDX-License-Identifier: MPL-2.0
"""ExaBGP running the relay as its API process: its configuration,
rendered from conf/exabgp.conf, and the one way the lab starts it.
"""

import os

from .examples import example, render_text
from .paths import EXABGP, RELAY


def exabgp_conf(relay_argv, neighbors, local, *, connect=None, router_id=None,
                hold_time=None, template=None):
    """conf/exabgp.conf (or template: (text, where it came from), with
    the same lines) rendered for one node.

    relay_argv  the relay's command line ('run')
    neighbors   (IPv4, IPv6) of the router
    local       (IPv4, IPv6) of this node (local-address)
    connect     the router's BGP port, when not 179 (on loopback)
    router_id   in place of the example's
    hold_time   in place of the example's
    """
    text, what = template or (example("exabgp.conf"), "conf/exabgp.conf")
    port = f"\n\tconnect {connect};" if connect is not None else ""
    repl = [
        ("run /usr/sbin/anycast-relay /etc/anycast-health/anycast-relay.yaml;",
         f"run {' '.join(map(str, relay_argv))};"),
        ("neighbor 192.0.2.1 {", f"neighbor {neighbors[0]} {{{port}"),
    ]
    if router_id is not None:
        repl.append(("router-id 192.0.2.10;", f"router-id {router_id};"))
    repl += [
        ("local-address 192.0.2.10;", f"local-address {local[0]};"),
        ("neighbor 2001:db8::1 {", f"neighbor {neighbors[1]} {{{port}"),
        ("local-address 2001:db8::10;", f"local-address {local[1]};"),
    ]
    if hold_time is not None:
        repl.append(("hold-time 10;", f"hold-time {hold_time};"))
    return render_text(text, repl, what)


def start_exabgp(stack, name, conf, *, prefix=(), user="root"):
    """ExaBGP in the foreground, logging to its Proc's log, no pid file
    and no CLI pipes.  prefix: argv put before it (ip netns exec,
    setpriv); user: exabgp.daemon.user (None: whoever prefix makes it)."""
    env = dict(os.environ)
    env.update({
        "exabgp_daemon_daemonize": "false",
        "exabgp_log_destination": "stdout",
        "exabgp_api_cli": "false",
        "exabgp_daemon_pid": "",
    })
    if user is not None:
        env["exabgp_daemon_user"] = user
    return stack.start(name, [str(a) for a in (*prefix, EXABGP, conf)], env=env)


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


class ExaBGP:
    """ExaBGP on loopback from conf/exabgp.conf, running the relay as its
    process, its sessions to the test's BIRD."""

    def __init__(self, stack, bird, relay, name="exabgp"):
        self.stack = stack
        self.name = name
        self.conf = stack.dir / f"{name}.conf"
        self.conf.write_text(exabgp_conf(
            (RELAY, relay.path), ("127.0.0.1", "::1"), ("127.0.0.1", "::1"),
            connect=bird.port))
        self.proc = None

    def start(self):
        self.proc = start_exabgp(self.stack, self.name, self.conf)
        return self
