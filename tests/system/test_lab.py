# SPDX-License-Identifier: MPL-2.0
"""The lab's own helpers, where a mistake of theirs shows up as a
failure of something else."""

import lab


def test_free_port_never_hands_out_a_port_twice():
    """free_port() lets the port go before the server binds it, so two
    calls could name the same one: the kernel hands out a free port
    again, dozens of times in 1,000 calls.  A test that gave its relay
    a metrics port and then started named, whose rndc port came out the
    same, scraped named's control channel, which hangs up on HTTP
    ("Remote end closed connection without response"), and failed."""
    ports = [lab.free_port() for _ in range(1000)]
    assert len(set(ports)) == len(ports)
