# SPDX-License-Identifier: MPL-2.0
"""The short catalogue of failures (issue 13, section 2): the fleet on
the lab internet (two nodes resolving from the lab root, validating,
configured from conf/ as shipped), each fault scored against the
verdict it deserves (lab/catalogue/ has the rows and the rules;
bench/catalogue.py runs all of them, with trials).

The lab and its internet come up once for the module, the client's
traffic runs throughout; the rows run in sequence, each from a quiet
fleet (every node announced normally, no route change for 5 s, and
room in the node's flap damping for this node's rows), each
followed by its recovery, which is checked too: the fleet must come
back to normal by itself.  Where it does not in time, the catalogue
restarts the relays concerned, one node at a time, so that the next
row starts clean, and the row fails.

Rows the relay gets wrong on today's main are expected failures
(strict): when the judge is fixed they pass, and the strict xfail
fails the run until its mark is removed here.  This node's rows that
are right only by chance today (FLAKY_TODAY) assert what holds (the
node moves) and are expected failures only when the rest fails.
"""

import os

import pytest

from lab import catalogue
from lab.fleet import Lab

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0,
    reason="the catalogue needs root (the fleet and the lab internet are "
           "network namespaces); CI runs as root")

# What the relay gets wrong on main 0bde75a (judge2 merged), measured
# in 3 runs (bench/published/catalogue-short-first.json; doc/benchmarks.md,
# section 5): wrong every time, so strict.  Once fixed the row passes
# and its strict xfail fails the run until the mark is removed here.
# None today: restart-storm was (named really expired sec.example, whose
# SOA expire was 5 s, while the storm held off its refreshes; the lab's
# zone has a real zone's timers now, lab/fleet.py SEC_REAL).
WRONG_TODAY = {}
# This node's rows that were right only by chance (the node moved, but
# the rest of the verdict held only when the other node happened not to
# flap on the background): an expected failure when the rest failed, a
# pass when it passed.  None today: uplink-down passed its last 9 runs
# of CI's rows; zone-expired's recovery was forced every time, and that
# was the catalogue's doing, not the background's (rows within a minute
# of each other, and of the relay's first announcement, left the node
# held by its flap damping: Catalogue.damping_room() now waits for room
# first).  Add a row back here, with the reason, only if it is so again.
FLAKY_TODAY = {}


def params():
    out = []
    for rid in catalogue.SHORT:
        marks = ()
        if rid in WRONG_TODAY:
            marks = pytest.mark.xfail(reason=WRONG_TODAY[rid], strict=True,
                                      raises=AssertionError)
        out.append(pytest.param(rid, marks=marks, id=rid))
    return out


@pytest.fixture(scope="module")
def cat(tmp_path_factory):
    with Lab(nodes=2, internet=True, log=print,
             save_to=tmp_path_factory.mktemp("catalogue")) as lab:
        c = catalogue.Catalogue(lab, qps=1000, holds=catalogue.SHORT_HOLDS,
                                recovery_timeout=catalogue.SHORT_RECOVERY,
                                attempts=2)
        c.results = []
        try:
            c.warm_up(15)
            yield c
        finally:
            c.close()
    print("\n" + catalogue.markdown(c.results))


@pytest.mark.timeout(420)
@pytest.mark.parametrize("row_id", params())
def test_catalogue(cat, row_id):
    row = catalogue.BY_ID[row_id]
    r = cat.run(row)
    cat.results.append(r)
    print(f"{row_id}: {r['why']}; decided in {r['decide_ms']} ms; route changes {r['route_changes']}, lost "
          f"{r['lost']} (background {r['lost_background']}), recovery "
          f"{r['recovery']}; the relay: {catalogue.reason(r)}")
    # The row started from a quiet fleet (no route moved in the
    # seconds before the fault), was judged right, and the fleet came
    # back to normal by itself (without the catalogue restarting a
    # relay or a named to end flapping or a damping hold).
    # This node's goal (within 1 s) is a figure of the table, not
    # asserted here: CI's machines are shared; the verdict is.
    if row.expect == "this":
        assert (r["decide_ms"] is not None
                and r["decide_ms"] <= 1000 * r["hold_s"]), \
            f"ns{catalogue.TARGET} did not move during the fault: {r['why']}"
    wrong = []
    if r["before_fault_changes"]:
        wrong.append(f"not quiet before the fault: {r['why']}")
    if not r["verdict_right"]:
        wrong.append(f"{catalogue.VERDICTS[row.expect]} fault: {r['why']}")
    if r["recovery"] != "clean":
        wrong.append(f"recovery {r['recovery']}")
    if wrong and row_id in FLAKY_TODAY:
        pytest.xfail(f"{FLAKY_TODAY[row_id]}: {'; '.join(wrong)}")
    assert not wrong, "; ".join(wrong)
