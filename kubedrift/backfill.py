"""Re-runs and backfills: the values of the `check-at` and `backfill` annotations, and the
scheduled times a backfill covers.

    kubedrift.io/check-at: 2011-03-07T00:00:00Z[;retrain][;id=<token>]
    kubedrift.io/backfill: 2011-02-01T00:00:00Z..2011-06-30T00:00:00Z[;retrain][;id=<token>]

Times are RFC 3339 with an offset (`Z` or `+01:00`), so a value means the same instant to
everyone who reads it. `retrain` lets the checks start a retrain as a scheduled check would;
without it they only add to the history. `id=` only makes a value new, to ask again for what
an earlier value already did (the operator acts on each value once). The kubectl plugin and
the operator parse with the same functions here, so both refuse the same values in the same
words. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

# More scheduled times than this in one backfill is refused, not trimmed: ten years of a
# weekly schedule. A daily schedule over years is several backfills, each one a decision.
MAX_WINDOWS = 520
RETRAIN = "retrain"
ID_PREFIX = "id="
RANGE_SEPARATOR = ".."


class InvalidValue(ValueError):
    """An annotation value the operator refuses; the message says why, for a person."""


@dataclass(frozen=True)
class CheckAt:
    """Check the window of one past scheduled time."""

    at: datetime
    retrain: bool = False


@dataclass(frozen=True)
class Backfill:
    """Check the window of every scheduled time in [start, end]."""

    start: datetime
    end: datetime
    retrain: bool = False

    def __str__(self) -> str:
        return f"{rfc3339(self.start)}{RANGE_SEPARATOR}{rfc3339(self.end)}"


def rfc3339(at: datetime) -> str:
    """An aware time as RFC 3339 in UTC, without fractions of a second when there are none."""
    text = at.astimezone(UTC).isoformat()
    return text.replace("+00:00", "Z")


def parse_time(text: str, zone: tzinfo | None = None) -> datetime:
    """An RFC 3339 time. With `zone` (the plugin's command line), a date or a time without an
    offset is read in that zone; without it (an annotation value), the offset is required."""
    text = text.strip()
    try:
        at = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        raise InvalidValue(
            f"{text!r} is not a time; write it as RFC 3339, e.g. 2011-03-07T00:00:00Z"
        ) from None
    if at.tzinfo is None:
        if zone is None:
            raise InvalidValue(
                f"{text!r} has no offset; write it as RFC 3339 with Z or an offset, e.g. 2011-03-07T00:00:00Z"
            )
        at = at.replace(tzinfo=zone)
    return at.astimezone(UTC)


def _options(parts: list[str], what: str) -> bool:
    retrain = False
    for part in (p.strip() for p in parts):
        if part == RETRAIN:
            retrain = True
        elif not part.startswith(ID_PREFIX):
            raise InvalidValue(f"{what}: unknown option {part!r}; the options are 'retrain' and 'id=<token>'")
    return retrain


def _not_future(at: datetime, now: datetime, what: str) -> None:
    if at > now:
        raise InvalidValue(
            f"{what}: {rfc3339(at)} is in the future (now is {rfc3339(now)}); "
            "only past scheduled times can be checked"
        )


def parse_check_at(value: str, now: datetime) -> CheckAt:
    """The `check-at` annotation's value; InvalidValue says what is wrong with it."""
    what = "kubedrift.io/check-at"
    time_text, *options = value.split(";")
    at = parse_time(time_text)
    _not_future(at, now, what)
    return CheckAt(at=at, retrain=_options(options, what))


def parse_backfill(value: str, now: datetime) -> Backfill:
    """The `backfill` annotation's value; InvalidValue says what is wrong with it."""
    what = "kubedrift.io/backfill"
    span, *options = value.split(";")
    start_text, separator, end_text = span.partition(RANGE_SEPARATOR)
    if not separator:
        raise InvalidValue(
            f"{what}: {span.strip()!r} is not a range; write FROM..TO, "
            "e.g. 2011-02-01T00:00:00Z..2011-06-30T00:00:00Z"
        )
    start, end = parse_time(start_text), parse_time(end_text)
    if start > end:
        raise InvalidValue(f"{what}: the range starts ({rfc3339(start)}) after it ends ({rfc3339(end)})")
    _not_future(end, now, what)
    return Backfill(start=start, end=end, retrain=_options(options, what))


def check_at_value(at: datetime, *, retrain: bool = False, token: str | None = None) -> str:
    return ";".join([rfc3339(at)] + ([RETRAIN] if retrain else []) + ([ID_PREFIX + token] if token else []))


def backfill_value(backfill: Backfill, *, token: str | None = None) -> str:
    parts = [str(backfill)] + ([RETRAIN] if backfill.retrain else []) + ([ID_PREFIX + token] if token else [])
    return ";".join(parts)


# kubedrift.cron.scheduled_times(schedule, zone, start, end): the schedule's times in [start, end].
Enumerate = Callable[[str, str | None, datetime, datetime], list[datetime]]
# The range is enumerated a week at a time, so that a schedule firing every minute over years
# costs a week of minutes before it is refused, not years of them.
CHUNK = timedelta(days=7)


class TooManyWindows(InvalidValue):
    pass


def scheduled_times(
    backfill: Backfill, schedule: str, zone: str | None, enumerate_times: Enumerate
) -> list[datetime]:
    """The scheduled times a backfill covers, oldest first, in UTC; TooManyWindows above MAX_WINDOWS."""
    found: list[datetime] = []
    start = backfill.start
    while start <= backfill.end:
        end = min(start + CHUNK, backfill.end)
        # Both ends are included: a time on a chunk's border comes back twice and is kept once.
        found += [t for t in enumerate_times(schedule, zone, start, end) if not found or t > found[-1]]
        if len(found) > MAX_WINDOWS:
            raise TooManyWindows(
                f"kubedrift.io/backfill: {backfill} holds more than {MAX_WINDOWS} scheduled times of "
                f"{schedule!r}; split it into several backfills of at most {MAX_WINDOWS} each"
            )
        start = end + timedelta(microseconds=1)
    return [t.astimezone(UTC) for t in found]
