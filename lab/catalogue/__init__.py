# SPDX-License-Identifier: MPL-2.0
"""The catalogue of failures (issue 13, section 2): real DNS faults on
the fleet on the lab internet, each with the verdict it deserves,
scored against what the relay decided.

    with Lab(nodes=2, internet=True) as lab:
        cat = Catalogue(lab, qps=1000)
        cat.warm_up()
        for row in rows("uplink-down", "tld-bogus"):
            result = cat.run(row)       # a dict: verdict, times, losses
        print(markdown([result, ...]))

Each row is one fault (ROWS), on one node (ns1) or on every node, with
the verdict it deserves:

  this   this node's: the node's route moves at the router (depreferred
         or withdrawn) within 1 s at 1,000 queries/s, no other node's
  world  the world's: no route moves on any node; the relay's reason
         (its status and log) says why
  load   load: no route moves on any node

An ExaBGP restart moves the node's routes by itself: the router drops
the routes of a BGP session that closes and adds them back when the new
ExaBGP's relay announces them.  Those changes (a removal from the
SIGTERM on, and as many additions within SESSION_S of the new ExaBGP's
start: score.session_changes) are the session's own, counted and shown
apart ("2 (2 the session's own)"), not a verdict of the relay; any
other change in that time still counts.

Where the inside view alone cannot tell (a DNS provider's outage looks
like many domains failing), the row says so, and also passes when what
the routes did was harmless: every node alike (all moved, or none) and
the anycast address never emptied (the router always had a route, and
the client got answers in every second).

How a row runs: the fleet is quiet (every node announced normally, no
route change for a while), and for this node's rows, which move the node
down and back, its flap damping (conf/ as shipped: 4 changes a minute)
has room for both (else the row would end held down, damping doing its
job); the client sends the lab internet's
resolver-like traffic (lab/internet/traffic.py) to the anycast
addresses; after `pre` seconds the fault is switched on (t0), held,
switched off, and the row waits until every node is announced normally
again (the recovery, itself checked).  Then it reads:

- the router's BIRD log (every route update and withdrawal it imported
  from each node, with microsecond timestamps): what moved, per node,
  and when, so time to decide is t0 to the router's first change for
  that node;
- the router's kernel table (`ip monitor route`): whether the anycast
  address was ever left without a route;
- each relay's log (its route changes with their reasons, its
  "external fault, not this node" excuses, its starts) and its status
  (`anycastctl -j status`), sampled during the fault;
- the client's per-query records: queries lost (unanswered after the
  client's retry), SERVFAILs, answers per second.

World faults switch servers off at the internet's router; on their
own they would bite only as the nodes' caches expire (TTL 300 s, 3600 s
for delegations), minutes into an outage that lasts hours.  So each
world row also flushes what the fault breaks from every node's cache
(`rndc flushtree` of the names it concerns): the fault is seen as a
node sees it once the outage has outlived those TTLs.  Everything
else stays cached.

Every process a row starts (storms, a second client, dnsperf) is
stopped when the row ends, also on an exception; the lab's own
teardown stops the rest.

The package, by role:

    rows.py       the faults table: each row, its switches, its verdict;
                  the short catalogue (CI)
    runner.py     Catalogue: runs a row from a quiet fleet, the client's
                  traffic throughout, the recovery checked
    actions.py    what it does to the nodes (flushes, storms, dnsperf,
                  relay and ExaBGP restarts, the clock, the trust anchor)
    clockshift.c  the LD_PRELOAD shim that moves named's wall clock
    logs.py       reading the router's, the relays' and named's logs
    score.py      a row scored against its verdict; the Markdown table
    normalday.py  the normal day (bench/normalday.py)
"""

from .normalday import normal_day
from .rows import (BY_ID, DECIDE_S, ROWS, SHORT, SHORT_HOLDS, SHORT_RECOVERY,
                   TARGET, VERDICTS, Row, rows)
from .runner import Catalogue
from .score import markdown, reason, summarize

__all__ = ["BY_ID", "Catalogue", "DECIDE_S", "ROWS", "Row", "SHORT",
           "SHORT_HOLDS", "SHORT_RECOVERY", "TARGET", "VERDICTS", "markdown",
           "normal_day", "reason", "rows", "summarize"]
