from __future__ import annotations

from collections.abc import Callable

import pytest

pytest_plugins = [
    "tests.fixtures.s3",
    "tests.fixtures.faultproxy",
    "tests.fixtures.leaks",
    "tests.fixtures.cluster",
]

TIMING = "timing: "  # the prefix of a user property `pytest_terminal_summary` prints


@pytest.fixture
def record_timing(record_property: Callable[[str, object], None]) -> Callable[[str, float], None]:
    """Record a wall time for the end of every run's output (pytest hides a passing test's prints).

    It travels as a user property, so the JUnit XML has it too.
    """

    def record(label: str, seconds: float) -> None:
        record_property(TIMING + label, round(seconds, 1))

    return record


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    lines = [
        f"{value} s  {name.removeprefix(TIMING)}  ({report.nodeid})"
        for reports in terminalreporter.stats.values()
        for report in reports
        if isinstance(report, pytest.TestReport) and report.when == "call"
        for name, value in report.user_properties
        if name.startswith(TIMING)
    ]
    if lines:
        terminalreporter.write_sep("=", "recorded timings")
        for line in lines:
            terminalreporter.write_line(line)
