"""`kubedrift run FILE --at TIME` and `--backfill A..B`: past scheduled times, checked on this machine.

A backfill checks every time the schedule fires in [A, B] once, in order; each outcome joins the
history under reportsUri (a time already there is skipped, so a second identical backfill adds
nothing), and the history of the range is printed as a drift-share-over-time table.
"""

from __future__ import annotations

from datetime import date, datetime, time

from rich.console import Console
from rich.table import Table

from kubedrift.cron import scheduled_times
from kubedrift.errors import ConfigError
from kubedrift.history import read_history
from kubedrift.models.resources import DriftCheck
from kubedrift.models.results import HistoryEntry
from kubedrift.models.windows import TimeWindow, zone_of

BAR_WIDTH = 10


def parse_time(text: str, zone: str | None) -> datetime:
    """An RFC 3339 time, or a date (its midnight in the DriftCheck's zone)."""
    try:
        if "T" not in text and " " not in text:
            return datetime.combine(date.fromisoformat(text), time.min, tzinfo=zone_of(zone))
        at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(f"{text!r} is not a date (2011-02-01) or an RFC 3339 time") from None
    return at if at.tzinfo else at.replace(tzinfo=zone_of(zone))


def parse_range(text: str, zone: str | None) -> tuple[datetime, datetime]:
    start, sep, end = text.partition("..")
    if not sep or not start or not end:
        raise ConfigError(f"--backfill takes FROM..TO, e.g. 2011-02-01..2011-06-30; not {text!r}")
    first, last = parse_time(start, zone), parse_time(end, zone)
    if last < first:
        raise ConfigError(f"--backfill {text}: the range ends before it starts")
    return first, last


def backfill_times(check: DriftCheck, text: str) -> list[datetime]:
    first, last = parse_range(text, check.spec.time_zone)
    times = scheduled_times(check.spec.schedule, check.spec.time_zone, first, last)
    if not times:
        raise ConfigError(f"the schedule {check.spec.schedule!r} does not fire in {text}")
    return times


def history_in(check: DriftCheck, first: datetime, last: datetime) -> list[HistoryEntry]:
    entries = read_history(check.spec.storage.reports_uri, check.metadata.name, check.spec.storage)
    return [e for e in entries if first <= e.scheduled_at <= last]


def _short(window: TimeWindow | None) -> str:
    """A window as a person scans a column of them: days when it starts and ends at midnight."""
    if window is None:
        return "whole dataset"
    start, end = window.start, window.end
    if start.time() == time.min and end.time() == time.min:
        return (
            f"{start:%Y-%m-%d}..{end:%m-%d}"
            if start.year == end.year
            else f"{start:%Y-%m-%d}..{end:%Y-%m-%d}"
        )
    return str(window)


def drift_table(entries: list[HistoryEntry], title: str) -> Table:
    """One row per scheduled time: its window, the drift share as a number and a bar, the verdict."""
    table = Table(title=title, title_justify="left")
    for column in ("scheduled", "window", "share", "", "dataset", "target", "drifted"):
        table.add_column(column, no_wrap=True)
    for entry in entries:
        filled = round(entry.drift_share * BAR_WIDTH)
        colour = "red" if entry.dataset_drift else "green"
        table.add_row(
            f"{entry.scheduled_at:%Y-%m-%d %H:%M}",
            _short(entry.window),
            f"{entry.drift_share:.2f}",
            f"[{colour}]{'█' * filled}[/]{'·' * (BAR_WIDTH - filled)}",
            "DRIFT" if entry.dataset_drift else "ok",
            {True: "drifted", False: "stable", None: "-"}[entry.target_drift],
            str(len(entry.drifted_columns)),
        )
    return table


def print_drift_over_time(check: DriftCheck, first: datetime, last: datetime, console: Console) -> None:
    entries = history_in(check, first, last)
    title = f"{check.metadata.name}: drift share over time ({len(entries)} checks)"
    console.print(drift_table(entries, title))
