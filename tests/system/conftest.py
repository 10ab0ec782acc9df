"""pytest fixtures: one Stack per test, always stopped, even on failure."""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

import ahtest  # noqa: E402


def pytest_sessionstart(session):
    missing = [str(p) for p in (ahtest.PLUGIN, ahtest.RELAY, ahtest.CTL)
               if not p.exists()]
    if missing:
        pytest.exit(f"build first (make): missing {', '.join(missing)}", 2)


@pytest.fixture
def stack(tmp_path):
    s = ahtest.Stack(tmp_path)
    try:
        yield s
    finally:
        s.stop()
