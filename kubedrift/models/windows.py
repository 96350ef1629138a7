"""Time windows: how a DataSource says where time is in its dataset and which stretch of it to read.

A window is relative to the check's scheduled time (`last: 7d`, optionally `offset` and `lag`)
or absolute (`from`/`to`); `resolve` turns either into a `TimeWindow`, a half-open interval
[start, end) of aware datetimes. Day and week arithmetic is calendar arithmetic in the
DriftCheck's time zone: 7 days back across a DST change is 7 calendar days at the same wall time
(167 or 169 hours), as a person reading "the last 7 days" means it. Minutes and hours are
elapsed time.

Pure: the models import it for the retrain non-overlap rule and the train job config; the job
side (which files a window selects) is in `kubedrift.windows`.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

from pydantic import Field, ValidationInfo, field_validator, model_validator

from kubedrift.models.base import Model, SpecModel
from kubedrift.models.rules import OperatorRule, Rule, RuleViolation, cel_matches, cel_rules, matches

DURATION_PATTERN = r"^[1-9][0-9]{0,5}(m|h|d|w)$"
DURATION_DESCRIPTION = (
    "A duration: a whole number and a unit, m (minutes), h, d (calendar days) or w (weeks)."
)
_UNIT_MINUTES = {"m": 1, "h": 60, "d": 24 * 60, "w": 7 * 24 * 60}

# strftime fields a partition pattern may use, coarsest first; a partition's span is its finest.
PARTITION_FIELDS = ("%Y", "%m", "%d", "%H", "%M")
PARTITION_PATTERN = r"^([^%]|%[YmdHM])+$"
PARTITION_RULES = (
    # Each guarded by has(): on the apiserver an absent field is an error, not false, so an
    # unguarded rule would refuse every column layout ("no such key: partition").
    Rule(
        cel=f"!has(self.partition) || {cel_matches('self.partition', PARTITION_PATTERN)}",
        message="partition is a path pattern below uri with the strftime fields %Y, %m, %d, %H and %M "
        "only, e.g. dt=%Y-%m-%d or %Y/%m/%d",
        field_path=".partition",
    ),
    Rule(
        cel="!has(self.partition) || (self.partition.contains('%Y') && "
        "(!self.partition.contains('%d') || self.partition.contains('%m')) && "
        "(!self.partition.contains('%H') || self.partition.contains('%d')) && "
        "(!self.partition.contains('%M') || self.partition.contains('%H')))",
        message="partition must name the year (%Y) and every field coarser than its finest one "
        "(a day %d needs the month %m, an hour %H the day, a minute %M the hour)",
        field_path=".partition",
    ),
)
TIME_LAYOUT_RULE = Rule(
    cel="has(self.partition) != has(self.column)",
    message="time must name exactly one of partition (a path pattern) or column (a timestamp column)",
)


def _partition_fields_nest(pattern: str) -> bool:
    used = [f in pattern for f in PARTITION_FIELDS]
    return used[0] and all(not finer or coarser for coarser, finer in itertools.pairwise(used))


class TimeLayout(SpecModel):
    """How time is found in the dataset: its partition paths, or a timestamp column. Partition values
    and windows are read in the DriftCheck's timeZone (UTC when absent)."""

    model_config = cel_rules(TIME_LAYOUT_RULE, *(r for r in PARTITION_RULES))

    partition: str | None = Field(
        default=None,
        min_length=2,
        max_length=256,
        description="A strftime pattern of the path below uri, e.g. dt=%Y-%m-%d (Hive style) or "
        "%Y/%m/%d. A partition is labelled by its start and spans its finest field (a day for %d). "
        "Only the window's partitions are listed and read.",
    )
    column: str | None = Field(
        default=None,
        min_length=1,
        max_length=256,
        description="A timestamp column: row groups whose statistics lie outside the window are "
        "skipped, and rows outside it dropped. A column without a time zone is read in timeZone.",
    )

    @field_validator("partition")
    @classmethod
    def _a_partition_pattern(cls, pattern: str | None) -> str | None:
        if pattern is None:
            return None
        PARTITION_RULES[0].check(matches(PARTITION_PATTERN, pattern), pattern)
        return PARTITION_RULES[1].check(_partition_fields_nest(pattern), pattern)

    @model_validator(mode="after")
    def _one_way(self) -> TimeLayout:
        return TIME_LAYOUT_RULE.check((self.partition is None) != (self.column is None), self)

    def span(self) -> str:
        """The partition pattern's finest field: what one partition covers."""
        assert self.partition is not None
        return [f for f in PARTITION_FIELDS if f in self.partition][-1]


WINDOW_KIND_RULE = Rule(
    cel="has(self.last) ? !has(self.from) && !has(self.to) : "
    "(has(self.from) && has(self.to) && !has(self.offset) && !has(self.lag))",
    message="window is either relative (last, with optional offset and lag) or absolute (from and to)",
)
WINDOW_ORDER_RULE = Rule(
    cel="!has(self.from) || !has(self.to) || self.from < self.to",
    message="window.from must be before window.to",
    field_path=".from",
)
DURATION_RULES = tuple(
    Rule(
        cel=f"!has(self.{name}) || {cel_matches(f'self.{name}', DURATION_PATTERN)}",
        message=f"{name} must be a whole number and a unit, e.g. 7d, 4w, 24h or 90m",
        field_path=f".{name}",
    )
    for name in ("last", "offset", "lag")
)


class Window(SpecModel):
    """A stretch of time: relative to the check's scheduled time, or absolute."""

    model_config = cel_rules(WINDOW_KIND_RULE, WINDOW_ORDER_RULE, *DURATION_RULES)

    last: str | None = Field(
        default=None,
        max_length=8,
        description="Relative: the window's length, ending at the scheduled time (less offset and lag). "
        + DURATION_DESCRIPTION,
    )
    offset: str | None = Field(
        default=None,
        max_length=8,
        description="Relative: the window ends this long before the scheduled time; a training window "
        "with offset 4w ends where a 4w test window starts.",
    )
    lag: str | None = Field(
        default=None,
        max_length=8,
        description="Relative: allowance for late data. The window ends this long before the scheduled "
        "time (after offset), so data that lands within the lag is included.",
    )
    from_: datetime | None = Field(
        default=None,
        alias="from",
        strict=False,
        description="Absolute: the window's start (RFC 3339, included).",
    )
    to: datetime | None = Field(
        default=None, strict=False, description="Absolute: the window's end (RFC 3339, excluded)."
    )

    @field_validator("last", "offset", "lag")
    @classmethod
    def _a_duration(cls, text: str | None, info: ValidationInfo) -> str | None:
        if text is not None and not matches(DURATION_PATTERN, text):
            raise RuleViolation(DURATION_RULES[("last", "offset", "lag").index(str(info.field_name))])
        return text

    @field_validator("from_", "to")
    @classmethod
    def _with_a_zone(cls, at: datetime | None) -> datetime | None:
        if at is not None and at.tzinfo is None:
            raise ValueError("from and to are RFC 3339 date-times with an offset, e.g. 2011-01-01T00:00:00Z")
        return at

    @model_validator(mode="after")
    def _relative_or_absolute(self) -> Window:
        if self.last is not None:
            holds = self.from_ is None and self.to is None
        else:
            holds = None not in (self.from_, self.to) and self.offset is None and self.lag is None
        WINDOW_KIND_RULE.check(holds, self)
        if self.from_ is not None and self.to is not None:
            WINDOW_ORDER_RULE.check(self.from_ < self.to, self)
        return self

    @property
    def relative(self) -> bool:
        return self.last is not None


class TimeWindow(Model):
    """A resolved window: [start, end), aware datetimes."""

    start: datetime = Field(description="The window's start (included).")
    end: datetime = Field(description="The window's end (excluded).")

    def __str__(self) -> str:
        return f"{_minutes(self.start)}..{_minutes(self.end)}"

    def overlaps(self, other: TimeWindow) -> bool:
        return self.start < other.end and other.start < self.end

    def contains(self, at: datetime) -> bool:
        return self.start <= at < self.end


def _minutes(at: datetime) -> str:
    return at.isoformat(timespec="minutes") if at.second == 0 else at.isoformat()


def duration_parts(text: str) -> tuple[int, str]:
    return int(text[:-1]), text[-1]


def minus(at: datetime, text: str | None, zone: ZoneInfo) -> datetime:
    """`at` less a duration: days and weeks on the calendar in `zone`, minutes and hours elapsed."""
    if not text:
        return at
    count, unit = duration_parts(text)
    if unit in ("m", "h"):
        return (at.astimezone(UTC) - timedelta(minutes=count * _UNIT_MINUTES[unit])).astimezone(zone)
    local = at.astimezone(zone).replace(tzinfo=None) - timedelta(days=count * (7 if unit == "w" else 1))
    return _wall(local, zone)


def _wall(local: datetime, zone: ZoneInfo) -> datetime:
    """A wall-clock time in `zone`: one the clocks skip moves forward by the gap (as the clocks do);
    one they repeat is its first occurrence."""
    aware = local.replace(tzinfo=zone, fold=0)
    back = aware.astimezone(UTC).astimezone(zone)
    if back.replace(tzinfo=None) != local:  # in a gap: fold=0 reads it with the offset before the change
        return back
    return aware


def zone_of(name: str | None) -> ZoneInfo:
    return ZoneInfo(name or "UTC")


def resolve(window: Window, at: datetime, zone: ZoneInfo | str | None = None) -> TimeWindow:
    """The window for a check scheduled at `at` (absolute windows ignore `at`)."""
    tz = zone if isinstance(zone, ZoneInfo) else zone_of(zone)
    if not window.relative:
        assert window.from_ is not None and window.to is not None
        return TimeWindow(start=window.from_.astimezone(tz), end=window.to.astimezone(tz))
    end = minus(minus(at.astimezone(tz), window.offset, tz), window.lag, tz)
    return TimeWindow(start=minus(end, window.last, tz), end=end)


S = TypeVar("S", bound=Model)


def resolve_source(source: S, at: datetime, zone: ZoneInfo | str | None = None) -> S:
    """The same source with its window made absolute for a check scheduled at `at`; unchanged without one."""
    window = getattr(source, "window", None)
    if window is None or not window.relative:
        return source
    resolved = resolve(window, at, zone)
    absolute = Window(from_=resolved.start, to=resolved.end)
    return source.model_copy(update={"window": absolute})


def relative_span_minutes(window: Window) -> tuple[int, int]:
    """A relative window as (start, end) minutes before the scheduled time, a day taken as 24 h
    (for comparing two windows of one spec; resolution itself is calendar arithmetic)."""
    assert window.last is not None

    def minutes(text: str | None) -> int:
        if not text:
            return 0
        count, unit = duration_parts(text)
        return count * _UNIT_MINUTES[unit]

    end = minutes(window.offset) + minutes(window.lag)
    return end + minutes(window.last), end


def windows_overlap(a: Window, b: Window) -> bool | None:
    """Whether two windows of one spec can overlap; None when one is relative and the other absolute
    (only the run's resolved windows can tell)."""
    if a.relative and b.relative:
        (a_start, a_end), (b_start, b_end) = relative_span_minutes(a), relative_span_minutes(b)
        return b_end < a_start and a_end < b_start  # minutes *before* the time: larger is earlier
    if not a.relative and not b.relative:
        assert a.from_ and a.to and b.from_ and b.to
        return a.from_ < b.to and b.from_ < a.to
    return None


WINDOWS_OVERLAP_RULE = OperatorRule(
    message="train and test windows on the same dataset overlap: a model would be tested on rows it was "
    "trained on; end the train window where the test window starts (e.g. train last: 52w, offset: 4w; "
    "test last: 4w)",
    field_path=".test.window",
)
