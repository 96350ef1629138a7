"""The registry of stat tests: every built-in test, looked up by name.

Importing the `stattests` package runs each module's `register()` call once; it
is imported here at the top, so a lookup never sees a half-filled registry and
the tests' modules never import this one back (they import `descriptor`).
"""

from __future__ import annotations

from kubedrift_jobs.drift import stattests  # noqa: F401  (registers the built-in tests)
from kubedrift_jobs.drift.descriptor import REGISTERED, StatTest, register

__all__ = ["StatTest", "get", "names", "register"]


def get(name: str) -> StatTest:
    try:
        return REGISTERED[name]
    except KeyError:
        raise KeyError(f"unknown stat test {name!r}; known: {', '.join(sorted(REGISTERED))}") from None


def names() -> list[str]:
    return sorted(REGISTERED)
