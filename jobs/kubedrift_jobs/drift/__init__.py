"""The drift check: stat tests, method selection, the check engine and its reports.

The public API is re-exported here, in one place (pinned by a test).
"""

from kubedrift_jobs.drift.engine import run_check
from kubedrift_jobs.drift.job import check, main
from kubedrift_jobs.drift.registry import StatTest, get, names, register
from kubedrift_jobs.drift.selection import choose, default_method

__all__ = ["StatTest", "check", "choose", "default_method", "get", "main", "names", "register", "run_check"]
