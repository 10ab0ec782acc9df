# SPDX-License-Identifier: MPL-2.0
"""The whole chain on loopback, as most system tests want it: named
with the plugin -> anycast-relay, ExaBGP's API process -> ExaBGP ->
BIRD as the router, each from its conf/ example; and the shared fault
played on it: one domain of the clients' names failing upstream.
"""

import time

from .exabgp import ExaBGP
from .named import Named
from .proc import wait_for
from .relay import Relay
from .router import Bird

V4, V6 = "192.0.2.53/32", "2001:db8::53/128"


def chain(stack, replacements=(), wait=True):
    """named, BIRD, the relay's YAML (with replacements) and ExaBGP
    running the relay, started; with wait, once both of the example's
    prefixes are at BIRD.  Returns (named, bird, relay, exabgp)."""
    named = Named(stack).start()
    bird = Bird(stack).start()
    relay = Relay(stack, named, replacements=replacements)
    exa = ExaBGP(stack, bird, relay).start()
    if wait:
        wait_for(lambda: bird.has_route(V4) and bird.has_route(V6), 30,
                 what="both prefixes at BIRD")
    return named, bird, relay, exa


EXCUSED = "external fault, not this node"


def mixed_names(broken_share, tag):
    """Fresh names over 50 healthy domains, 'broken_share' of them under
    broken.test (not under example: named serves that zone itself)."""
    def name(i):
        if (i * 37 % 100) < broken_share * 100:
            return f"q{i}-{tag}.broken.test."
        return f"q{i}-{tag}.d{i % 50}.test."
    return name


def break_shared_domain(upstream, exa, settle):
    """broken.test answered SERVFAIL by the upstream, under a load of
    mixed_names(): waits for the relay to excuse it by the shared-fault
    rule, then 'settle' seconds more, in which nothing must move; returns
    the relay's first excuse, as ExaBGP logged it."""
    upstream.broken["broken.test"] = "servfail"
    wait_for(lambda: EXCUSED in exa.proc.text(), 10, interval=0.2,
             what="the shared-fault rule to excuse the SERVFAILs")
    time.sleep(settle)
    return next(l for l in exa.proc.text().splitlines() if EXCUSED in l)
