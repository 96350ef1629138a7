"""Which data a window selects, and when a check was scheduled. Pure: no storage, no clock but `now`.

- `resolve(window, at, zone)` / `resolved(source, at, zone)`: a window for a scheduled time
  (the arithmetic lives in `kubedrift.models.windows`, which the models need too);
- `partition_prefixes(layout, window)`: the partitions a window covers, as paths below the
  dataset's uri, so listing costs O(window), not O(dataset);
- `select(paths, layout, window)`: which listed files lie in the window (for a listing that was not
  pruned, e.g. a glob);
- `scheduled_at(environ, now)`: the scheduled time of a check pod.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from kubedrift.models.jobconfig import ENV_JOB_NAME, ENV_SCHEDULED_AT
from kubedrift.models.windows import PARTITION_FIELDS, TimeLayout, TimeWindow, Window, resolve, resolve_source

__all__ = [
    "MAX_PREFIXES",
    "partition_of",
    "partition_prefixes",
    "resolve",
    "resolved",
    "scheduled_at",
    "select",
]

resolved = resolve_source

# Beyond this many partitions (e.g. two years of hourly ones), one listing of the whole dataset
# filtered by `select` costs fewer requests than one listing per partition.
MAX_PREFIXES = 2000

_FIELD_REGEX = {"%Y": r"(?P<Y>[0-9]{4})", "%m": r"(?P<m>[0-9]{2})", "%d": r"(?P<d>[0-9]{2})"}
_FIELD_REGEX |= {"%H": r"(?P<H>[0-9]{2})", "%M": r"(?P<M>[0-9]{2})"}


@functools.cache
def _pattern_regex(pattern: str) -> re.Pattern[str]:
    """The partition pattern as a regex over a path below the dataset's uri (anchored at its start)."""
    parts = re.split(r"(%[YmdHM])", pattern)
    body = "".join(_FIELD_REGEX.get(p, re.escape(p)) for p in parts)
    return re.compile(rf"^{body}(?=/|$)" if not pattern.endswith("/") else rf"^{body}")


def partition_of(relative_path: str, layout: TimeLayout, zone: ZoneInfo) -> datetime | None:
    """The start of the partition a path (relative to the dataset's uri) belongs to; None when the
    path does not follow the pattern or names no real date (dt=2011-02-30)."""
    assert layout.partition is not None
    found = _pattern_regex(layout.partition).match(relative_path.lstrip("/"))
    if found is None:
        return None
    values = {k: int(v) for k, v in found.groupdict().items()}
    try:
        local = datetime(
            values["Y"], values.get("m", 1), values.get("d", 1), values.get("H", 0), values.get("M", 0)
        )
    except ValueError:
        return None
    return local.replace(tzinfo=zone)


def _step(start: datetime, span: str, zone: ZoneInfo) -> datetime:
    """The next partition's start: calendar steps on the wall clock (a day is a day across DST)."""
    local = start.replace(tzinfo=None)
    if span == "%Y":
        nxt = local.replace(year=local.year + 1)
    elif span == "%m":
        nxt = local.replace(year=local.year + local.month // 12, month=local.month % 12 + 1)
    elif span == "%d":
        nxt = local + timedelta(days=1)
    else:  # hours and minutes are elapsed time
        size = timedelta(hours=1) if span == "%H" else timedelta(minutes=1)
        return (start.astimezone(UTC) + size).astimezone(zone)
    return nxt.replace(tzinfo=zone)


def _floor(at: datetime, span: str) -> datetime:
    fields = PARTITION_FIELDS[: PARTITION_FIELDS.index(span) + 1]
    local = at.replace(
        month=at.month if "%m" in fields else 1,
        day=at.day if "%d" in fields else 1,
        hour=at.hour if "%H" in fields else 0,
        minute=at.minute if "%M" in fields else 0,
        second=0,
        microsecond=0,
    )
    return local


def _partitions(layout: TimeLayout, window: TimeWindow, zone: ZoneInfo) -> Iterator[datetime]:
    span = layout.span()
    start = _floor(window.start.astimezone(zone), span)
    while start < window.end:
        following = _step(start, span, zone)
        if following > window.start:  # it ends after the window starts: they share time
            yield start
        start = following


def partition_prefixes(layout: TimeLayout, window: TimeWindow, zone: ZoneInfo | None = None) -> list[str]:
    """The paths below the dataset's uri of every partition that shares time with the window, in time
    order. A partition is labelled by its start, so a window that begins mid-day takes that whole day;
    a day partition is the calendar day in `zone` (the DriftCheck's timeZone)."""
    assert layout.partition is not None
    tz = zone or ZoneInfo("UTC")
    return [start.strftime(layout.partition) for start in _partitions(layout, window, tz)]


def partition_window(start: datetime, layout: TimeLayout, zone: ZoneInfo) -> TimeWindow:
    return TimeWindow(start=start, end=_step(start, layout.span(), zone))


def select(
    paths: list[str], layout: TimeLayout, window: TimeWindow, root: str = "", zone: ZoneInfo | None = None
) -> list[str]:
    """The paths (below `root`, the dataset's folder) whose partition shares time with the window.
    Paths that follow no partition pattern are left out: without a time they are in no window."""
    assert layout.partition is not None
    tz = zone or ZoneInfo("UTC")
    prefix = root.rstrip("/") + "/" if root else ""
    chosen = []
    for path in paths:
        relative = path[len(prefix) :] if prefix and path.startswith(prefix) else path
        start = partition_of(relative, layout, tz)
        if start is not None and partition_window(start, layout, tz).overlaps(window):
            chosen.append(path)
    return chosen


# A CronJob names its Jobs <cronjob>-<scheduled time in Unix minutes>, and kubedrift's CronJobs are
# named <check>-check (kubedrift_operator.names.cron_job), so a check Job of the CronJob ends so.
_CRON_JOB_NAME = re.compile(r"-check-(?P<minutes>[0-9]{1,12})$")


def scheduled_at(environ: Mapping[str, str], now: datetime) -> datetime:
    """The check's scheduled time: KUBEDRIFT_SCHEDULED_AT (run --at, backfill), else the minute in a
    CronJob-made Job's name (KUBEDRIFT_JOB_NAME), else `now` (a manual run or a local one)."""
    text = environ.get(ENV_SCHEDULED_AT)
    if text:
        at = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return at if at.tzinfo else at.replace(tzinfo=UTC)
    found = _CRON_JOB_NAME.search(environ.get(ENV_JOB_NAME, ""))
    if found:
        return datetime.fromtimestamp(int(found["minutes"]) * 60, UTC)
    return now


__all__ += ["TimeWindow", "Window", "partition_window"]
