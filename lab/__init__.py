# SPDX-License-Identifier: MPL-2.0
"""The lab: real named (with the plugin), anycast-relay, ExaBGP and a
router (BIRD 2 or FRR), started from the examples in conf/ and stopped
by PID, for the system tests, the benchmarks and the demo.

On loopback (tests/system/, bench/, `python3 -m lab.demo --single`),
each daemon on ports of its own, several stacks side by side:

    import lab
    named = lab.Named(stack).start()
    bird = lab.Bird(stack).start()
    relay = lab.Relay(stack, named)
    lab.ExaBGP(stack, bird, relay).start()

The names below are that single-host harness.  In network namespaces,
the fleet: lab.fleet.Lab (a client, a router with ECMP, N nameservers),
`python3 -m lab up` from the shell, `python3 -m lab.demo` narrated.

The rooms, by role:

    paths       the source tree, the build, the daemons' programs
    proc        Proc, Stack (every process stopped by PID), wait_for
    sanitizers  builds with --enable-sanitizers
    examples    conf/'s examples rendered for a run
    named       named.conf (one renderer), starting named, Named
    relay       the relay's YAML, anycastctl, the relay run by a test
    exabgp      exabgp.conf, starting ExaBGP
    router      BIRD on loopback; the fleet's router (BIRD, FRR)
    chain       named -> relay -> ExaBGP -> BIRD on loopback, in one call;
                one domain failing upstream, excused as a shared fault
    feed        the plugin's socket from either end (Subscriber, FakePlugin)
    upstream    the fake upstream of a resolver
    load        the load generator
    run         a run's life cycle in namespaces (up, down, detach,
                Ctrl-C), shared by the fleet and the internet
    fleet       the lab in network namespaces (netns: finding them again)
    internet    a small internet of real name servers for the fleet's
                resolvers (a subpackage: lab/internet/)
    figures     what the fleet's clients saw, from their records
    catalogue   the catalogue of failures on the fleet on the lab
                internet, scored against the relay; the normal day
    demo        the demos (./demo.sh)

Written for /usr/bin/python3 (Debian's), which has dnspython; the
package is found from the source tree (tests: pytest.ini's pythonpath;
otherwise run from the source tree, or with it in PYTHONPATH).
"""

from .chain import break_shared_domain, chain, mixed_names
from .exabgp import ExaBGP
from .feed import FakePlugin, ResolverCounters, Subscriber, fake_relay, feed
from .load import Load
from .named import (FAST_REFRESH_OPTIONS, SEC_ZONE, Named, bind_minor,
                    lock_file_statement, named_version, primary_of_sec,
                    resolver, secondary_of_sec)
from .paths import BUILDDIR, CONF, CTL, NAMED, PLUGIN, RELAY, SRCDIR
from .proc import (Proc, Stack, container_leader, free_port, pid_alive,
                   wait_for)
from .relay import (Relay, RelayUnderTest, metrics_listen, plain_service,
                    relay_only, relay_yaml, without_damping)
from .router import Bird, bird_changes
from .sanitizers import (SANITIZE, named_sanitizer_env, sanitizer_env,
                         sanitizer_shims)
from .upstream import FakeUpstream

__all__ = [
    "BUILDDIR", "CONF", "CTL", "ExaBGP", "FAST_REFRESH_OPTIONS", "FakePlugin",
    "FakeUpstream", "Bird", "Load", "NAMED", "Named", "PLUGIN", "Proc", "RELAY",
    "Relay", "RelayUnderTest", "ResolverCounters", "SANITIZE", "SEC_ZONE",
    "SRCDIR", "Stack", "Subscriber", "bind_minor", "bird_changes",
    "break_shared_domain", "chain", "container_leader",
    "fake_relay", "feed", "free_port", "lock_file_statement", "metrics_listen",
    "mixed_names",
    "named_sanitizer_env", "named_version", "pid_alive", "plain_service",
    "primary_of_sec", "relay_only", "relay_yaml", "resolver", "sanitizer_env",
    "sanitizer_shims", "secondary_of_sec", "wait_for", "without_damping",
]
