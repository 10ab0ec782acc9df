# SPDX-License-Identifier: MPL-2.0
"""Reading what the fleet logged, on the wall clock: the router's BIRD
log (every anycast route each node's session imported), the relays'
log lines (route changes and their reasons, excuses, starts) and
named's own timestamps.
"""

import datetime
import re

from ..fleet import ANYCAST4, ANYCAST6

_BIRD_ROUTE = re.compile(
    r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+) <TRACE> (ns\d+)(?:_v6)?\.ipv([46]) "
    r"> (added|removed)(?: \[[^]]*\])? (\S+) ")
_RELAY = re.compile(
    r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+) anycast-relay\[(\d+)\] \w+: (.*)$")
PREFIXES = {f"{ANYCAST4}/32": 4, f"{ANYCAST6}/128": 6}


def _local(ts):
    return datetime.datetime.fromisoformat(ts).timestamp()


def named_log_time(line):
    """The wall-clock time of a `named -g` log line (local time)."""
    stamp = " ".join(line.split()[:2])
    return datetime.datetime.strptime(stamp, "%d-%b-%Y %H:%M:%S.%f").timestamp()


def bird_routes(text):
    """Every anycast route the router's BIRD imported from a node:
    (time, node, family, 'added'|'removed'), in the log's order.  An
    'added' for a route already there is an update (depreferred, or
    back)."""
    out = []
    for line in text.splitlines():
        m = _BIRD_ROUTE.match(line)
        if m and m.group(5) in PREFIXES:
            out.append((_local(m.group(1)), m.group(2), int(m.group(3)),
                        m.group(4)))
    return out


def relay_events(text):
    """What a relay logged that the catalogue reads: (time, kind, text),
    kind being 'start', 'route' (a route change: text is 'STATE: why'),
    'excused' (a failing check excused as the world's fault) or
    'retry'."""
    out = []
    for line in text.splitlines():
        m = _RELAY.match(line)
        if not m:
            continue
        t, msg = _local(m.group(1)), m.group(3)
        if msg.startswith("starting:"):
            out.append((t, "start", msg))
            continue
        if not msg.startswith("service "):
            continue
        # "service NAME STATE...: why" is a route change; "service NAME:
        # text" anything else.
        name, _, rest = msg[len("service "):].partition(" ")
        if not name.endswith(":"):
            if rest[:1].isupper():
                out.append((t, "route", rest))
        elif "external fault" in rest:
            out.append((t, "excused", rest))
        elif "retrying" in rest:
            out.append((t, "retry", rest))
    return out

