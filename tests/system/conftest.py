# SPDX-License-Identifier: MPL-2.0
"""pytest fixtures: one Stack per test, always stopped, even on failure.

The harness is the lab package (lab/, found through pytest.ini's
pythonpath); shared helpers live there, never in a test module.

Every test has a time limit (pytest-timeout, SIGALRM), so a hang fails
that test, its stack is still torn down, and the run goes on.  A test
that needs longer says so with @pytest.mark.timeout(SECONDS).
"""

import os
import shutil
import tempfile
from pathlib import Path

import pytest

import lab
from lab.paths import missing_build

# Seconds; the slowest test today takes about 25 s alone.  Sanitized
# builds run several times slower.
TIMEOUT = 120
TIMEOUT_FACTOR = 3 if lab.SANITIZE else 1


def pytest_configure(config):
    if not config.pluginmanager.hasplugin("timeout"):
        raise pytest.UsageError(
            "system tests need pytest-timeout (Debian: python3-pytest-timeout)")
    config.addinivalue_line(
        "markers", "slow: takes minutes (valgrind); deselect with -m 'not slow'")


def pytest_sessionstart(session):
    missing = missing_build()
    if missing:
        pytest.exit(f"build first (make): missing {', '.join(missing)}", 2)


def pytest_collection_modifyitems(config, items):
    for item in items:
        mark = item.get_closest_marker("timeout")
        seconds = mark.args[0] if mark and mark.args else TIMEOUT
        # Signal method: the test is interrupted in its own thread, so
        # fixtures still stop every process it started.
        # Prepended, so pytest-timeout finds it before the test's own.
        item.add_marker(pytest.mark.timeout(seconds * TIMEOUT_FACTOR,
                                            method="signal"), append=False)


@pytest.fixture(autouse=True)
def sanitizer_reports(request, tmp_path_factory, monkeypatch):
    """With --enable-sanitizers: any ASan/UBSan/LSan report written by a
    process of this test (relay, anycastctl, or the plugin inside named)
    fails the test."""
    if not lab.SANITIZE:
        yield
        return
    # Outside pytest's private tmp tree and open to all: tests run
    # anycastctl as nobody, and its reports must land here too.
    d = Path(tempfile.mkdtemp(prefix="ah-sanitizer-"))
    d.chmod(0o1777)
    request.addfinalizer(lambda: shutil.rmtree(d, ignore_errors=True))
    for k, v in lab.sanitizer_env(d).items():
        monkeypatch.setenv(k, v)
    shims = tmp_path_factory.mktemp("sanitizer-bin")
    lab.sanitizer_shims(shims)
    monkeypatch.setenv("PATH", f"{shims}:{os.environ['PATH']}")
    yield
    reports = sorted(p for p in d.iterdir() if p.is_file())
    if reports:
        text = "\n".join(f"== {p.name}\n{p.read_text(errors='replace')[-6000:]}"
                         for p in reports)
        pytest.fail(f"sanitizer reports:\n{text}", pytrace=False)


@pytest.fixture
def stack(tmp_path):
    s = lab.Stack(tmp_path)
    try:
        yield s
    finally:
        s.stop()
