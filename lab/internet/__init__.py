# SPDX-License-Identifier: MPL-2.0
"""A small internet of real name servers for the lab (issue 13, section 1).

Nodes resolve for real through it: iteratively from a lab root, with
DNSSEC validation against the lab root's trust anchor, through TLDs, a
DNS provider, a CDN reached by CNAME and hundreds of ordinary domains,
with a background of broken ones.  Everything is generated from a seed
(world.py), served by Knot DNS (knot.py) in network namespaces, signed
with dnssec-signzone (dnssec.py), and reached through one internet
router whose faults can be switched on and off.

    from lab.internet import Internet

    with Internet(seed=1, resolvers=2) as net:      # standalone nodes r1, r2
        net.resolvers[0].dig("www.popular.com")
        run = net.traffic(net.resolvers[0].netns, ["127.0.0.1"], qps=1000,
                          seconds=10)
        net.uplink_loss(1, 30)
        summary = run.wait()

A fleet node (lab/fleet.py's Node) is attached instead of created:

    cfg = net.attach(node.netns, node.i)      # the uplink, and for named:
    cfg.options      # statements for options {}: recursion, validation,
                     # empty zones left alone; no forwarders
    cfg.statements   # top level: trust-anchors + zone "." { type hint; },
    cfg.include      # ... also in a file, for an include statement

Internet(seed=1, domains=400, resolvers=0, workdir=None, keep=False,
         log=None, slow_ms=600, max_seconds=4h, save_to=None)
    resolvers   standalone resolver nodes r1..rN (named on loopback)
    slow_ms     how late the slow hoster's answers are

A run of its own, as a fleet Lab is (lab/fleet.py, whose life cycle it
shares: namespaces ahlab-<id>-inet..., a record in /run/ahlab, the
fleet's cleanup of crashed runs); a fleet's nodes are attached to it.

up() / down() (or `with`), detach(); attach(netns, index) -> ResolverConfig

Faults, each on and off within a running internet, in well under a
second (a bogus switch re-signs the zone the first time in each 6-hour
signing slot: a fraction of a second for a domain, about a second for
a TLD):
    uplink_down(node, on)        every packet to and from the node dropped
    uplink_loss(node, percent)   that share of packets dropped each way
    uplink_delay(node, ms)       the node's round trips ms longer
    domain_dead(domain, on)      its servers unreachable
    domain_slow(domain, ms)      its servers' answers ms late
    domain_bogus(domain, on)     re-signed with expired signatures
    tld_dead(tld, on), tld_bogus(tld, on)
    provider_dead(on)            the DNS provider's four servers
    cdn_dead(on)                 the CDN's servers
    clear()                      all off (the broken background stays)
    servers_dead(label, hosts, on), zone_bogus(zone, on): the general forms

Which domain is which: world.pick(tag), tags being popular, victim
(dedicated servers), provider, cdn-customer, bogus-target (signed, on
the provider), and the broken kinds lame, gone, unloadable, expired,
ds-mismatch, slow.

Traffic: traffic(netns, servers, qps, seconds, attack=multiple, ...)
-> TrafficRun (wait() -> summary, rows() -> per-query records);
expected_mix() gives the shares the population should produce.

Observing: counters() (the router's nftables counters by fault), the
logs in the work directory (knot-*.log, rI-named.log, inet-delay.log).
"""

from .internet import Internet, ResolverConfig, TrafficRun, Uplink
from .world import World

__all__ = ["Internet", "ResolverConfig", "TrafficRun", "Uplink", "World"]
