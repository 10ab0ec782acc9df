"""The whole chain on loopback, as most system tests want it: named
with the plugin -> anycast-relay, ExaBGP's API process -> ExaBGP ->
BIRD as the router, each from its conf/ example.
"""

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
