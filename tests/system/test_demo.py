# SPDX-License-Identifier: MPL-2.0
"""The fleet demo (python3 -m lab.demo, what ./demo.sh runs) runs to
the end, so that it cannot rot, and Ctrl-C leaves nothing behind.

Needs root (the lab); skips, saying so, when not root.
"""

import os
import re
import signal
import subprocess
import time

import pytest

from lab.paths import module_argv, module_env

DEMO = module_argv("demo", "--short")

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0,
    reason="the demo's lab needs root (network namespaces); CI runs as root")


def lab_leftovers(out):
    """Namespaces and the record of the lab the demo's output names."""
    m = re.search(r"lab ([0-9a-f]{6}): ", out)
    assert m, out
    rid = m.group(1)
    ns = [n for n in subprocess.run(["ip", "netns", "list"], capture_output=True,
                                    text=True).stdout.split()
          if n.startswith(f"ahlab-{rid}-")]
    record = os.path.exists(f"/run/ahlab/{rid}.json")
    return ns, record, os.path.exists(f"/tmp/ahlab-{rid}")


@pytest.mark.timeout(180)
def test_demo_short_runs_to_the_end():
    r = subprocess.run(DEMO, env=module_env(), capture_output=True, text=True,
                       timeout=170)
    out = r.stdout
    assert r.returncode == 0, out[-3000:] + r.stderr[-3000:]
    assert re.search(r"^done, \d+ s in all\.$", out, re.M), out[-2000:]
    summary = out[out.index("== summary"):]
    # Every act reported its numbers; the other node answered throughout.
    for act in ("kill -9:", "SIGSTOP:", "upstream dead:", "shared fault:"):
        line = next((x for x in summary.splitlines() if act in x), None)
        assert line is not None and "answered throughout: yes" in line, (act, summary)
    assert "0 route changes" in summary
    assert "external fault, not this node" in out
    assert lab_leftovers(out) == ([], False, False)


@pytest.mark.timeout(90)
def test_demo_ctrl_c_removes_everything():
    p = subprocess.Popen(DEMO, env=module_env(), stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True)
    out = ""
    try:
        deadline = time.monotonic() + 60
        for line in p.stdout:
            out += line
            if "ACT 1" in line or time.monotonic() > deadline:
                break
        assert "ACT 1" in out, out
        p.send_signal(signal.SIGINT)
        rest, _ = p.communicate(timeout=30)
        out += rest
    finally:
        if p.poll() is None:
            p.kill()
            p.wait(10)
    assert p.returncode == 130, out[-2000:]
    assert "interrupted; everything removed." in out
    assert lab_leftovers(out) == ([], False, False)
