# SPDX-License-Identifier: MPL-2.0
"""The previous release's plugin judged by this tree's relay, as after a
package upgrade while named keeps the plugin it loaded (doc/guide.md,
1.10): the real anycast-health.so of the previous release's package
(tests/roots/previous-deb) in this machine's named, on loopback, with
real queries.  test_health.py judges the same with a fake plugin of
protocol 2; this checks that the real one says what the fake does.

Needs root (the package is built in a Debian root) and the bind9 that
package was built for.
"""

import os
import re
import subprocess
import time
from pathlib import Path

import pytest

import lab
from lab.named import forwarding

V4 = "192.0.2.53/32"
ROOTS = lab.SRCDIR / "tests" / "roots"


def suite():
    for line in Path("/etc/os-release").read_text().splitlines():
        if line.startswith("VERSION_CODENAME="):
            return line.split("=", 1)[1].strip('"')
    return ""


@pytest.fixture(scope="module")
def previous_plugin(tmp_path_factory):
    """The previous release's plugin, unpacked from its package."""
    if os.geteuid() != 0:
        pytest.skip("needs root: tests/roots/previous-deb builds in a "
                    "Debian root")
    r = subprocess.run([str(ROOTS / "previous-deb"), suite()],
                       capture_output=True, text=True, timeout=1800)
    if r.returncode in (2, 77):
        pytest.skip(r.stderr.strip())
    assert r.returncode == 0, r.stderr[-3000:]
    deb = next(Path(r.stdout.strip()).glob("anycast-health_*.deb"))
    # The plugin is built for exactly one bind9 (debian/rules).
    depends = subprocess.run(["dpkg-deb", "-f", str(deb), "Depends"],
                             capture_output=True, text=True,
                             check=True).stdout
    here = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", "bind9"],
                          capture_output=True, text=True).stdout
    if f"bind9 (= {here})" not in depends:
        pytest.skip(f"the previous plugin is built for {depends.strip()}; "
                    f"this machine has bind9 {here or 'not installed'}")
    d = tmp_path_factory.mktemp("previous")
    subprocess.run(["dpkg-deb", "-x", str(deb), str(d)], check=True)
    return next(d.glob("usr/lib/*/bind/anycast-health.so"))


# The first run builds the previous package (a minute or two, more
# while CI builds the Debian roots in the background).
@pytest.mark.timeout(1800)
def test_previous_plugin_judged_by_this_relay(stack, previous_plugin):
    """One domain failing is excused by the shared-fault rule on the
    previous plugin's domain groups, without a route change; every name
    failing is this node's, and depreferred."""
    upstream = lab.FakeUpstream()
    stack.procs.append(upstream)
    named = lab.Named(stack, interval=100)
    named.conf.write_text(named.conf.read_text()
                          .replace(f'"{lab.PLUGIN}"', f'"{previous_plugin}"')
                          .replace("recursion no;", forwarding(upstream.port)))
    named.start()
    bird = lab.Bird(stack).start()
    relay = lab.Relay(stack, named, services=lab.plain_service() + """\
    min-queries: 100
    fall: 2
    checks:
      servfail-ratio: 20%
      recursion-failure-ratio: 50%
""")
    exa = lab.ExaBGP(stack, bird, relay).start()
    load = lab.Load(named.port, lab.mixed_names(0.3, "previous"), qps=300,
                    seconds=30)
    stack.procs.append(load)
    lab.wait_for(lambda: bird.has_route(V4), 20, what="announced")
    status = relay.ctl("status").stdout
    assert ("plugin:   protocol 2, older than this relay's 3: shared faults "
            "judged by the last two labels of names") in status, status
    assert "plugin speaks protocol 2, this relay 3" in exa.proc.text()
    time.sleep(2)

    # broken.test fails, 30 % of the names: excused, nothing moves.
    excused = lab.break_shared_domain(upstream, exa, settle=3)
    assert re.search(r"SERVFAIL \d+% > 20%", excused), excused
    # The previous plugin's group: the last two labels of the name.
    assert "domain group (e.g. broken.test)" in excused, excused
    assert "public-suffix" not in excused, excused
    assert lab.bird_changes(bird, V4) == [lab.bird_changes(bird, V4)[0]]
    assert "DOWN" not in exa.proc.text()

    # Nothing resolves: this node, depreferred.
    upstream.mode = "silent"
    lab.wait_for(lambda: "(65535,0)" in bird.birdc("show", "route", "all",
                                                   V4),
                 15, interval=0.05, what="route depreferred at BIRD")
    down = next(l for l in exa.proc.text().splitlines()
                if "service dns DOWN, announcing depreferred" in l)
    assert "public-suffix" not in down, down
    print(f"\n{excused}\n{down}")
    assert not any(w == "removed" for _, w in lab.bird_changes(bird, V4))
    load.stop()
