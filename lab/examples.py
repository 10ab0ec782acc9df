# SPDX-License-Identifier: MPL-2.0
"""The examples in conf/, rendered for a run: each daemon the lab
starts runs the shipped example with only what the run must change
(paths, ports, addresses), so tests follow the examples when they
change.
"""

from .paths import CONF


def render(example, replacements):
    """conf/<example> with each replacement applied.

    Every 'old' must occur: if an example changes so that a test would
    silently run something else, the test fails here instead.
    """
    return render_text((CONF / example).read_text(), replacements, f"conf/{example}")


def render_text(text, replacements, what):
    """render() for a text from elsewhere (what: where it came from)."""
    for old, new in replacements:
        if old not in text:
            raise AssertionError(f"{what} no longer contains {old!r}")
        text = text.replace(old, new)
    return text


def example(name):
    """conf/<name> as it is."""
    return (CONF / name).read_text()
