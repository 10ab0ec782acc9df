# SPDX-License-Identifier: MPL-2.0
"""The catalogue's clock shim (lab/catalogue/clockshift.c): a step of
the offset file lands in the running process at once.  The catalogue
times the node's verdict from the moment it writes the file; read once
a second, the step came up to a second later, and the clock rows'
"moved in 2.3 s" held that second."""

import shutil
import subprocess
import time

import pytest

from lab.catalogue.actions import build_clockshift

# Under the shim: wait for a line, say so, then spin on the wall clock
# until it is half a day ahead of where it started (the test steps it a
# day meanwhile); print how long that took.
CHILD = r"""
import sys, time
sys.stdin.readline()
m0, w0 = time.monotonic(), time.time()
print("r", flush=True)
while time.time() - w0 < 86400 / 2:
    if time.monotonic() - m0 > 5:
        print("never"); sys.exit(0)
print(round((time.monotonic() - m0) * 1000))
"""


@pytest.mark.skipif(shutil.which("cc") is None, reason="needs cc")
def test_step_lands_at_once(tmp_path):
    so = build_clockshift(tmp_path)
    for _ in range(3):
        clock = tmp_path / "offset"
        clock.write_text("0\n")
        child = subprocess.Popen(
            ["/usr/bin/python3", "-c", CHILD], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, text=True,
            env={"LD_PRELOAD": str(so), "CLOCKSHIFT_FILE": str(clock),
                 "PATH": "/usr/bin:/bin"})
        try:
            time.sleep(0.3)             # it has read the 0 by now
            child.stdin.write("go\n")
            child.stdin.flush()
            assert child.stdout.readline() == "r\n"
            clock.write_text("86400\n")
            out, _ = child.communicate(timeout=10)
        finally:
            child.kill()
            child.wait()
        assert out.strip() != "never", "the shim never moved the clock"
        # Within a few of its 10 ms slots (a busy machine's scheduler).
        assert int(out) < 100, f"the step landed {out.strip()} ms late"
