"""The drift check: stat tests, method selection, the check engine and its reports.

The public API is re-exported here, in one place (pinned by a test).
"""

from kubedrift.jobs.drift.engine import run_check
from kubedrift.jobs.drift.job import check, main
from kubedrift.jobs.drift.registry import StatTest, get, names, register
from kubedrift.jobs.drift.selection import choose, default_method

__all__ = ["StatTest", "check", "choose", "default_method", "get", "main", "names", "register", "run_check"]
