# SPDX-License-Identifier: MPL-2.0
"""Builds configured with --enable-sanitizers: 'make check' sets
AH_SANITIZE=1 and AH_SANITIZER_PRELOAD.  Our programs carry ASan and
UBSan; Debian's named does not, so the runtimes are preloaded into it
for our plugin, and every report goes to a file the test checks.
"""

import os
import shutil
from pathlib import Path

SANITIZE = os.environ.get("AH_SANITIZE") == "1"
SANITIZER_PRELOAD = os.environ.get("AH_SANITIZER_PRELOAD", "")
SANITIZER_LOGS = "AH_SANITIZER_LOGS"


def sanitizer_env(report_dir):
    """Environment for a test's sanitized programs: reports go to files
    in report_dir (the harness fails the test if any appear), not to a
    stderr nobody reads.  Children (ExaBGP's relay) inherit it."""
    logs = f"log_path={report_dir}/"
    return {
        SANITIZER_LOGS: str(report_dir),
        "ASAN_OPTIONS": f"halt_on_error=1:detect_leaks=1:{logs}asan",
        "UBSAN_OPTIONS": f"halt_on_error=1:print_stacktrace=1:{logs}ubsan",
    }


def named_sanitizer_env():
    """named itself is not instrumented: preload the runtimes for the
    plugin, and report only what concerns instrumented code.  Leak
    checking is off: named's own allocations at exit are not ours."""
    env = dict(os.environ)
    logs = f"log_path={os.environ[SANITIZER_LOGS]}/named-"
    env.update({
        "LD_PRELOAD": SANITIZER_PRELOAD,
        "ASAN_OPTIONS": f"halt_on_error=1:detect_leaks=0:{logs}asan",
        "UBSAN_OPTIONS": f"halt_on_error=1:print_stacktrace=1:{logs}ubsan",
    })
    return env


def sanitizer_shims(bin_dir):
    """Programs other than named that load the plugin (named-checkconf,
    for plugin_check) need the runtimes preloaded too: a shim of the
    same name in bin_dir, which the caller puts first in PATH."""
    real = shutil.which("named-checkconf")
    env = named_sanitizer_env()
    shim = Path(bin_dir) / "named-checkconf"
    shim.write_text("#!/bin/sh\n"
                    "# The plugin under test is built with ASan: preload it.\n"
                    + "".join(f"{k}='{env[k]}' " for k in
                              ("LD_PRELOAD", "ASAN_OPTIONS", "UBSAN_OPTIONS"))
                    + f'exec {real} "$@"\n')
    shim.chmod(0o755)


def under_strace_env():
    """Environment for one of our programs run under strace: LeakSanitizer
    stops the world with ptrace, which a traced process cannot have, and
    dies of it; the leak check goes, the rest stays."""
    env = dict(os.environ)
    if "ASAN_OPTIONS" in env:
        env["ASAN_OPTIONS"] = env["ASAN_OPTIONS"].replace(
            "detect_leaks=1", "detect_leaks=0")
    return env
