# SPDX-License-Identifier: MPL-2.0
"""The catalogue's rows: each fault, where it strikes, how it is
switched on and off, and the verdict it deserves (the package's doc
says how a row runs and is scored; doc/fleet.md, section 8, why each
fault deserves its verdict).

A row's switches are functions of the Catalogue (runner.py), whose
methods (actions.py) do what needs more than one line.
"""

import dataclasses
import signal
import time
from dataclasses import dataclass, field

from .logs import named_log_time

VERDICTS = {"this": "this node's", "world": "the world's", "load": "load"}
DECIDE_S = 1.0              # this node's faults: the route moves within this
TARGET = 1                  # the node a one-node fault hits (ns1)
POPULAR = "popular.com."    # rank 1, signed, servers of its own
VICTIM = "victim.com."      # the attack's victim, unsigned, servers of its own
TLD = "nl"                  # signed (NSEC3), most of its domains signed too


# -- the rows ---------------------------------------------------------------


@dataclass
class Row:
    """One fault of the catalogue.

    id          a short name (the command line's, the test's)
    fault       what happens, for the table
    where       'ns1' (the target node) or 'all'
    expect      'this', 'world' or 'load'
    inject      f(cat): switch it on; may return the fault's start
                (wall clock) when that is not the moment of the switch
    recover     f(cat): switch it off
    hold        seconds from t0 to the recovery (None: the kind's)
    setup       f(cat) before the quiet wait (route changes it causes
                are the setup's, not the row's); teardown f(cat) after
    flush       names flushed from every node's cache at t0 and at the
                recovery (the world's faults; see the module's doc)
    traffic     Internet.traffic() keywords for the row's client
    attack      a second client's random-subdomain attack on VICTIM:
                lookups per second
    during      'relay' (kill -9 every node's relay, ExaBGP respawns it)
                or 'exabgp' (restart ns1's ExaBGP) half way through
    cannot_tell why the inside view alone cannot tell, if it cannot
    """
    id: str
    fault: str
    where: str
    expect: str
    inject: object
    recover: object
    hold: float = None
    setup: object = None
    teardown: object = None
    flush: object = ()
    traffic: dict = field(default_factory=dict)
    attack: float = 0
    during: str = None
    cannot_tell: str = None


def _node(cat):
    return cat.lab.node(TARGET)


def _named_kill(cat):
    _node(cat).signal_named(signal.SIGKILL)


def _named_start(cat):
    _node(cat).start_named(wait=True)


def _named_stop(cat):
    _node(cat).signal_named(signal.SIGSTOP)


def _named_cont(cat):
    _node(cat).signal_named(signal.SIGCONT)


def _uplink(method, on, off):
    return (lambda cat: getattr(cat.net, method)(TARGET, on),
            lambda cat: getattr(cat.net, method)(TARGET, off))


def _zone_short(cat):
    """sec.example with an expiry of seconds (the lab's is a real
    zone's, two weeks) on the node hit."""
    _node(cat).sec_timers(short=True)


def _zone_real(cat):
    _node(cat).sec_timers(short=False)


def _zone_expire(cat):
    """Kill the primary of sec.example: the secondary's copy expires
    (SOA expire 5 s after the last refresh, _zone_short()); the fault
    starts when named says so."""
    n = _node(cat)
    mark = len(n.named.text())
    n.primary.send_signal(signal.SIGKILL)
    n.primary.p.wait(10)
    line = cat.wait_log(n.named, mark, "zone sec.example/IN: expired", 30)
    return named_log_time(line)


def _zone_back(cat):
    _node(cat).start_primary(wait=True)


def _clock(seconds):
    """ns1's named's wall clock moved by seconds (lab/catalogue/clockshift.c)."""
    return lambda cat: cat.set_clock(_node(cat), seconds)


def _clock_right(cat):
    """The clock right again, and the cache flushed, as an operator
    must: what named cached with the wrong clock (failures in its bad
    cache, for one) expires a day late or early."""
    n = _node(cat)
    cat.set_clock(n, 0)
    time.sleep(0.1)                 # the shim reads the offset every 10 ms
    n.rndc("flush")


def _clockshift_on(cat):
    cat.clockshift(_node(cat), True)


def _clockshift_off(cat):
    cat.clockshift(_node(cat), False)


def _anchor_wrong(cat):
    cat.trust_anchor(_node(cat), wrong=True)


def _anchor_right(cat):
    cat.trust_anchor(_node(cat), wrong=False)


def _flush_all(cat):
    """Everything ns1 validated so far is gone from its cache: from now
    on every answer needs the trust anchor."""
    n = _node(cat)
    t = time.time()
    r = n.rndc("flush")
    if r.returncode != 0:
        raise RuntimeError(f"{n.name}: rndc flush: {r.stderr or r.stdout}")
    return t


def _switch(method, *args):
    """An internet fault switch (on, then off)."""
    return (lambda cat: getattr(cat.net, method)(*args, True),
            lambda cat: getattr(cat.net, method)(*args, False))


def _slow(domain, ms):
    return (lambda cat: cat.net.domain_slow(domain, ms),
            lambda cat: cat.net.domain_slow(domain, 0))


def _provider_names(cat):
    return ["dnsprov.net"] + [z.name for z in cat.net.world.domains("provider")]


def _storm(command):
    """rndc COMMAND on every node in a loop until the recovery."""
    return (lambda cat: cat.start_storm(command), lambda cat: cat.stop_storm())


def _saturate(cat):
    cat.start_saturation()


def _unsaturate(cat):
    cat.stop_saturation()


def _nothing(cat):
    pass


def _this(id, fault, inject, recover, **kw):
    return Row(id, fault, "ns1", "this", inject, recover, **kw)


def _world(id, fault, inject, recover, **kw):
    return Row(id, fault, "all", "world", inject, recover, **kw)


def _load(id, fault, inject, recover, **kw):
    return Row(id, fault, "all", "load", inject, recover, **kw)


PROVIDER_CANNOT_TELL = (
    "40 % of the domains (30 % of the lookups) fail at once: from inside one "
    "node this looks like the node failing; every node sees the same")

ROWS = [
    # -- this node's --------------------------------------------------------
    _this("named-killed", "named killed (kill -9), started again",
          _named_kill, _named_start),
    _this("named-hung", "named hung (SIGSTOP), then SIGCONT",
          _named_stop, _named_cont),
    _this("uplink-down", "the node's uplink to the internet down",
          *_uplink("uplink_down", True, False)),
    _this("uplink-loss", "30 % packet loss on the node's uplink, each way",
          *_uplink("uplink_loss", 30, 0)),
    _this("uplink-delay", "300 ms added to the node's round trips",
          *_uplink("uplink_delay", 300, 0)),
    _this("zone-expired", "the node's secondary zone expired (its primary "
          "killed; SOA expire 5 s; from named's 'expired')", _zone_expire,
          _zone_back, setup=_zone_short, teardown=_zone_real),
    _this("clock-ahead", "the node's clock a day ahead (stepped under its "
          "running named)", _clock(86400), _clock_right,
          setup=_clockshift_on, teardown=_clockshift_off),
    _this("clock-behind", "the node's clock a day behind (stepped under its "
          "running named)", _clock(-86400), _clock_right,
          setup=_clockshift_on, teardown=_clockshift_off),
    _this("trust-anchor", "the node's trust anchor wrong (a key the root "
          "does not use; rndc reconfig, then its cache flushed)",
          _flush_all, _anchor_right, setup=_anchor_wrong),
    # -- the world's --------------------------------------------------------
    _world("domain-dead", f"one domain's servers dead ({POPULAR[:-1]}, "
           "10 % of the lookups)", *_switch("domain_dead", POPULAR),
           flush=(POPULAR,)),
    _world("domain-bogus", f"one domain signed badly: bogus ({POPULAR[:-1]}, "
           "expired signatures)", *_switch("domain_bogus", POPULAR),
           flush=(POPULAR,)),
    _world("attack", f"random-subdomain attack on {VICTIM[:-1]} at 3x the "
           "normal rate, its servers overwhelmed (silent)",
           *_switch("domain_dead", VICTIM), attack=3.0),
    _world("attack-answered", f"random-subdomain attack on {VICTIM[:-1]} at "
           "3x the normal rate, its servers answering (NXDOMAIN)",
           _nothing, _nothing, attack=3.0),
    _world("tld-dead", f"one TLD broken: .{TLD}'s servers dead (15 % of the "
           "lookups)", *_switch("tld_dead", TLD), flush=(TLD,)),
    _world("tld-bogus", f"one TLD broken: .{TLD}'s signatures expired",
           *_switch("tld_bogus", TLD), flush=(TLD,)),
    _world("provider-dead", "the DNS provider dead (ns1-4.dnsprov.net: 40 % "
           "of the domains)", *_switch("provider_dead"), flush=_provider_names,
           cannot_tell=PROVIDER_CANNOT_TELL),
    _world("cdn-dead", "the CDN behind the CNAMEs dead (cdnkey.net, "
           "cdnedge.net)", *_switch("cdn_dead"),
           flush=("cdnkey.net", "cdnedge.net")),
    _world("popular-slow", f"one popular domain answering after 2 s "
           f"({POPULAR[:-1]})", *_slow(POPULAR, 2000), flush=(POPULAR,)),
    # -- load ---------------------------------------------------------------
    _load("saturated", "the nodes saturated by their clients (dnsperf "
          "beside the traffic, as fast as named answers)", _saturate, _unsaturate),
    _load("recursive-clients", "recursive-clients exhausted (fresh names under "
          f"{VICTIM[:-1]}, its servers silent, 0.5x the normal rate: ~2,500 "
          "recursions waiting per node)", *_switch("domain_dead", VICTIM),
          attack=0.5),
    _load("reload-storm", "rndc reload in a loop on every node",
          *_storm("reload")),
    _load("reconfig-storm", "rndc reconfig in a loop on every node",
          *_storm("reconfig")),
    _load("relay-restart", "every node's relay killed (ExaBGP respawns it)",
          _nothing, _nothing, during="relay", hold=8),
    Row("exabgp-restart", "ns1's ExaBGP restarted (SIGTERM, started again)",
        "ns1", "load", _nothing, _nothing, during="exabgp", hold=8),
]

# "Relay and ExaBGP restarts in the middle of all of these".
for _base in [r for r in ROWS if r.expect == "load" and not r.during]:
    ROWS.append(dataclasses.replace(
        _base, id=f"{_base.id}+relay",
        fault=_base.fault + "; every relay killed half way", during="relay"))
    ROWS.append(dataclasses.replace(
        _base, id=f"{_base.id}+exabgp",
        fault=_base.fault + "; ns1's ExaBGP restarted half way", during="exabgp"))
# Reload and reconfig storms together, relays killed in the middle: the
# short catalogue's restart storm.
ROWS.append(_load(
    "restart-storm", "rndc reload and reconfig in a loop on every node, "
    "every relay killed half way", *_storm("reload,reconfig"), during="relay"))

BY_ID = {r.id: r for r in ROWS}
# The short catalogue (CI): each verdict kind, and each judge defect's
# real-world form.
SHORT = ("uplink-down", "zone-expired", "attack", "tld-bogus", "cdn-dead",
         "restart-storm")
# ... with the faults held shorter, and the recovery's bound before the
# catalogue ends the damping hold of nodes not back (then restarts their
# relays): enough for the retry (10 s) and rise, short enough for CI.
SHORT_HOLDS = {"this": 6.0, "world": 10.0, "load": 10.0}
SHORT_RECOVERY = 20


def rows(*ids):
    """The rows named (all, in the catalogue's order, when none)."""
    if not ids:
        return list(ROWS)
    unknown = [i for i in ids if i not in BY_ID]
    if unknown:
        raise KeyError(f"no such row: {', '.join(unknown)} "
                       f"(rows: {', '.join(BY_ID)})")
    return [BY_ID[i] for i in ids]

