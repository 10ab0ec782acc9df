# SPDX-License-Identifier: MPL-2.0
"""BIND 9.20 reads its zone tables under RCU (liburcu), and the plugin
walks them on a thread of its own (plugin/bindcompat.h).  A reader
thread that never registered with liburcu is not waited for by grace
periods, so a zone added or removed could free trie memory under the
walk; Debian's liburcu does not check.  A shim preloaded into named
(tests/preload/rcureaders.c) writes down every thread that takes the
RCU read lock, registered or not; here the publisher thread walks all
zones, then listed ones, while zones are added and deleted, views are
reconfigured and queries keep coming, and named is stopped under load.
"""

import pytest

import lab
from lab.feed import Subscriber

SHIM = lab.BUILDDIR / "tests" / "preload" / ".libs" / "rcureaders.so"


pytestmark = pytest.mark.skipif(
    lab.bind_minor() < (9, 20),
    reason="BIND 9.18 reads zone tables under a rwlock, not RCU: there is "
           "no reader registration to check (this runs against 9.20)")


def zones_record(sub):
    """The 'zones' summary of the next snapshot that has one."""
    while True:
        found = None
        records = []
        sub.snapshot(records)
        for typ, kv in records:
            if typ == "zones":
                found = {k: int(v) for k, v in kv.items()}
        if found is not None:
            return found


@pytest.mark.timeout(240)
def test_publisher_reads_as_a_registered_rcu_reader(stack):
    assert SHIM.exists(), f"{SHIM} missing: build with 'make check'"
    readers = stack.dir / "rcu-readers.txt"
    named = lab.Named(stack, interval=50)
    text = named.conf.read_text()
    text = text.replace("recursion no;", "recursion no;\n\tallow-new-zones yes;")
    all_zones = text.replace('zones { "example"; };', "all-zones yes;")
    all_zones = all_zones.replace("zone-interval 1000;", "zone-interval 50;")
    assert all_zones != text
    named.conf.write_text(all_zones)
    named.start(wrapper=["env", f"LD_PRELOAD={SHIM}",
                         f"AH_RCU_READERS={readers}"])
    sub = Subscriber(named.socket)
    sub.s.settimeout(10)
    # Queries throughout, bounded: at most 18,000 in 60 s.
    load = lab.Load(named.port, lambda i: "www.example", qps=300, seconds=60)
    try:
        base = lab.wait_for(lambda: zones_record(sub), 10,
                            what="a zone walk")["watched"]
        # Zones come and go while the publisher walks: each change is a
        # new version of the trie, the old one freed after a grace
        # period that must wait for the walk.
        db = named.dir / "db.example"
        added = []
        for i in range(30):
            zone = f"z{i}.example"
            r = named.rndc("addzone", zone,
                           f'{{ type primary; file "{db}"; }};')
            assert r.returncode == 0, r.stderr
            added.append(zone)
            if i % 3 == 2:
                r = named.rndc("delzone", added.pop(0))
                assert r.returncode == 0, r.stderr
        lab.wait_for(
            lambda: zones_record(sub)["watched"] == base + len(added), 10,
            what=f"walks to count the {len(added)} added zones")

        # The listed zones: dns_zt_find instead of dns_zt_apply.
        listed = text.replace("zone-interval 1000;", "zone-interval 50;")
        listed = listed.replace('zones { "example"; };',
                                'zones { "example"; "' + added[0] + '"; "nx.example"; };')
        named.conf.write_text(listed)
        r = named.rndc("reconfig")
        assert r.returncode == 0, r.stderr
        z = lab.wait_for(lambda: (lambda z: z["watched"] == 3 and z)(
            zones_record(sub)), 10, what="a walk of the listed zones")
        # added[0] was added with rndc: a reconfig keeps it.
        assert z["healthy"] == 2 and z["missing"] == 1, z
        for _ in range(3):
            named.conf.write_text(all_zones)
            assert named.rndc("reconfig").returncode == 0
            named.conf.write_text(listed)
            assert named.rndc("reconfig").returncode == 0
        sub.s.close()

        # Stopped under load: 'rndc stop' also flushes zones on the way.
        answered = load.answered
        lab.wait_for(lambda: load.answered > answered + 10, 5,
                     what="queries answered just before the stop")
        r = named.rndc("stop")
        assert r.returncode == 0, r.stderr
        named.proc.p.wait(30)
    finally:
        load.stop()
    log = named.proc.text()
    assert named.proc.p.returncode == 0, log[-3000:]
    assert "exiting" in log, log[-3000:]

    lines = set(readers.read_text().splitlines())
    print("\nRCU readers seen:", ", ".join(sorted(lines)))
    assert "registered ah-publisher" in lines, "the publisher walked under RCU"
    assert "unregistered ah-publisher" not in lines
