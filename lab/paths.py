# SPDX-License-Identifier: MPL-2.0
"""Where things are: the source tree, the build, the daemons.

The build is AH_BUILDDIR ('make check' sets it; an in-tree build when
unset).  The source tree is the one this package lives in.
"""

import os
import sys
from pathlib import Path

LAB = Path(__file__).resolve().parent
SRCDIR = LAB.parent
BUILDDIR = Path(os.environ.get("AH_BUILDDIR", SRCDIR))
CONF = SRCDIR / "conf"

PLUGIN = BUILDDIR / ".libs" / "anycast-health.so"
RELAY = BUILDDIR / "anycast-relay"
CTL = BUILDDIR / "anycastctl"

NAMED = "/usr/sbin/named"
RNDC = "/usr/sbin/rndc"
BIRD = "/usr/sbin/bird"
BIRDC = "/usr/sbin/birdc"
EXABGP = "/usr/sbin/exabgp"
# Debian's, which has dnspython and ExaBGP's modules: the lab's own
# processes (the upstream, the client) run with it too.
PYTHON = "/usr/bin/python3"


def missing_build():
    """The programs of the build that are not there (yet)."""
    return [str(p) for p in (PLUGIN, RELAY, CTL) if not p.exists()]


def module_argv(module, *args):
    """argv running one of this package's modules as a program, from
    any working directory (the package is found through PYTHONPATH,
    see module_env())."""
    return [PYTHON, "-m", f"lab.{module}", *map(str, args)]


def module_env(env=None):
    """env (default: ours) with the source tree first in PYTHONPATH, so
    that module_argv() finds this package."""
    env = dict(os.environ if env is None else env)
    path = env.get("PYTHONPATH")
    env["PYTHONPATH"] = str(SRCDIR) + (os.pathsep + path if path else "")
    return env


def check_build():
    """Exit, saying what is missing, unless the build is done."""
    missing = missing_build()
    if missing:
        sys.exit(f"build first (or set AH_BUILDDIR): missing {', '.join(missing)}")
