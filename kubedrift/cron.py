"""A DriftCheck's schedule: when it fires (`scheduled_times`, for backfills and local runs) and how
often (`interval_seconds`: the longest gap between two consecutive scheduled times).

The schedule is read as Kubernetes' CronJob reads it (robfig/cron's standard parser, whose
syntax `kubedrift.models.spec_rules` validates): five fields or a descriptor; day of month and
day of week combine with AND when either field starts with `*` or `?` (a step over `*` such
as `*/2` does not count), with OR when both are restricted. Times are wall-clock times in the
schedule's time zone, read by zoneinfo; without one, UTC (the controller manager's usual zone).

The interval is the longest gap from each run of the coming year to the run after it (from the
first run to the second when the runs are further apart, up to eight years ahead, which covers
a 29 February). On a day the clocks change, a wall time the change skips does not run and one it
repeats runs twice, as robfig/cron's Next walks the clock; other days are taken as regular.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from kubedrift.models.spec_rules import CRON_DESCRIPTORS, cron_value

BOUNDS = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 6))  # minute, hour, day, month, day of week
YEAR_DAYS = 366
HORIZON_DAYS = 8 * 366 + 1  # 29 February comes every 4 years, 8 across a century's non-leap year


@dataclass(frozen=True)
class Cron:
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 is Sunday
    any_day: bool  # the day-of-month field starts with * or ?
    any_weekday: bool

    def fires_on(self, day: date) -> bool:
        if day.month not in self.months:
            return False
        by_day = day.day in self.days
        by_weekday = day.isoweekday() % 7 in self.weekdays
        if self.any_day or self.any_weekday:
            return by_day and by_weekday
        return by_day or by_weekday


def _field(text: str, low: int, high: int) -> tuple[frozenset[int], bool]:
    values: set[int] = set()
    star = False
    for item in text.split(","):
        span, _, step_text = item.partition("/")
        step = int(step_text) if step_text else 1
        if span in ("*", "?"):
            start, end = low, high
            star = star or step == 1
        else:
            first, _, last = span.partition("-")
            start = cron_value(first)
            end = cron_value(last) if last else (high if step_text else start)  # 5/15 is 5-max/15
        values.update(range(start, end + 1, step))
    return frozenset(values), star


def parse(schedule: str) -> Cron:
    """A schedule that `check_schedule` accepts, as the sets of values it fires on."""
    fields = CRON_DESCRIPTORS.get(schedule.strip(), schedule).split()
    (minutes, _), (hours, _), (days, any_day), (months, _), (weekdays, any_weekday) = (
        _field(text, low, high) for text, (low, high) in zip(fields, BOUNDS, strict=True)
    )
    return Cron(minutes, hours, days, months, weekdays, any_day, any_weekday)


def _runs(day: date, zone: ZoneInfo, times: list[tuple[int, int]]) -> list[float]:
    """The day's runs as Unix times: each wall time once per time it occurs on the clock."""
    runs = set()
    for h, m in times:
        for fold in (0, 1):
            at = datetime(day.year, day.month, day.day, h, m, tzinfo=zone, fold=fold).timestamp()
            back = datetime.fromtimestamp(at, zone)
            if (back.date(), back.hour, back.minute) == (day, h, m):  # not skipped by a change
                runs.add(at)
    return sorted(runs)


def _regular(day: date, zone: ZoneInfo) -> bool:
    """Whether the clocks keep one offset from the day's midnight to the next."""
    midnights = (
        datetime(d.year, d.month, d.day, tzinfo=zone, fold=f)
        for d in (day, day + timedelta(days=1))
        for f in (0, 1)
    )
    return len({m.utcoffset() for m in midnights}) == 1


@functools.lru_cache(maxsize=1024)
def interval_seconds(schedule: str, time_zone: str | None, today: date) -> float | None:
    """The longest gap between consecutive runs from `today` on (see the module's docstring);
    None when the schedule fires less than twice in the horizon (e.g. on 30 February).

    Cached: the answer changes with the day at most, and a scrape asks for every DriftCheck.
    """
    cron = parse(schedule)
    zone = ZoneInfo(time_zone or "UTC")
    times = sorted((h, m) for h in cron.hours for m in cron.minutes)
    of_day = [h * 60 + m for h, m in times]
    wall_gap = max((b - a for a, b in pairwise(of_day)), default=0) * 60.0
    longest: float | None = None
    last: float | None = None  # the previous run
    for offset in range(HORIZON_DAYS):
        day = today + timedelta(days=offset)
        if not cron.fires_on(day):
            continue
        if _regular(day, zone):
            first = datetime(day.year, day.month, day.day, *times[0], tzinfo=zone).timestamp()
            end = datetime(day.year, day.month, day.day, *times[-1], tzinfo=zone).timestamp()
            within = wall_gap
        else:
            runs = _runs(day, zone, times)
            if not runs:
                continue
            first, end = runs[0], runs[-1]
            within = max((b - a for a, b in pairwise(runs)), default=0.0)
        if last is not None:
            longest = max(longest or 0.0, first - last)
            if offset >= YEAR_DAYS:
                break  # the gap after the year's last run is counted
        if first != end:
            longest = max(longest or 0.0, within)
        last = end
    return longest


def scheduled_times(schedule: str, time_zone: str | None, start: datetime, end: datetime) -> list[datetime]:
    """Every time the schedule fires in [start, end] (both included), in order, as aware datetimes in
    the schedule's zone; on DST days as robfig/cron walks the clock (see the module's docstring)."""
    cron = parse(schedule)
    zone = ZoneInfo(time_zone or "UTC")
    times = sorted((h, m) for h in cron.hours for m in cron.minutes)
    low, high = start.timestamp(), end.timestamp()
    first_day = start.astimezone(zone).date() - timedelta(days=1)
    last_day = end.astimezone(zone).date() + timedelta(days=1)
    found: list[datetime] = []
    day = first_day
    while day <= last_day:
        if cron.fires_on(day):
            found += [datetime.fromtimestamp(at, zone) for at in _runs(day, zone, times) if low <= at <= high]
        day += timedelta(days=1)
    return found
