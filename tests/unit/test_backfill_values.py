"""The check-at and backfill annotation values, and the scheduled times a backfill covers."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from kubedrift import backfill
from kubedrift.backfill import Backfill, CheckAt, InvalidValue, TooManyWindows
from kubedrift.cron import scheduled_times as cron_times
from kubedrift.models.reference import reference_markdown

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2011-03-07T00:00:00Z", CheckAt(datetime(2011, 3, 7, tzinfo=UTC))),
        ("2011-03-07T01:00:00+01:00", CheckAt(datetime(2011, 3, 7, tzinfo=UTC))),
        ("2011-03-07t00:00:00z", CheckAt(datetime(2011, 3, 7, tzinfo=UTC))),
        ("2011-03-07T00:00:00Z;retrain", CheckAt(datetime(2011, 3, 7, tzinfo=UTC), retrain=True)),
        ("2011-03-07T00:00:00Z;id=abc", CheckAt(datetime(2011, 3, 7, tzinfo=UTC))),
        ("2011-03-07T00:00:00Z;id=abc;retrain", CheckAt(datetime(2011, 3, 7, tzinfo=UTC), retrain=True)),
        (" 2026-12-01T12:00:00Z ", CheckAt(NOW)),  # now is not the future
    ],
)
def test_check_at_values(value: str, expected: CheckAt) -> None:
    assert backfill.parse_check_at(value, NOW) == expected


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("yesterday", "'yesterday' is not a time; write it as RFC 3339"),
        ("2011-03-07T00:00:00", "has no offset"),
        ("2011-03-07", "has no offset"),
        ("2026-12-01T12:00:01Z", "2026-12-01T12:00:01Z is in the future (now is 2026-12-01T12:00:00Z)"),
        ("2011-03-07T00:00:00Z;again", "unknown option 'again'"),
        ("", "'' is not a time"),
    ],
)
def test_check_at_values_refused_in_words(value: str, words: str) -> None:
    with pytest.raises(InvalidValue) as error:
        backfill.parse_check_at(value, NOW)
    assert words in str(error.value)
    assert str(error.value).startswith(("kubedrift.io/check-at: ", f"{value.strip()!r}"))


def test_backfill_values() -> None:
    parsed = backfill.parse_backfill("2011-02-01T00:00:00Z..2011-06-30T00:00:00+02:00;retrain;id=x", NOW)
    assert parsed == Backfill(
        datetime(2011, 2, 1, tzinfo=UTC), datetime(2011, 6, 29, 22, 0, tzinfo=UTC), retrain=True
    )
    assert str(parsed) == "2011-02-01T00:00:00Z..2011-06-29T22:00:00Z"
    assert backfill.parse_backfill(backfill.backfill_value(parsed), NOW) == parsed
    again = backfill.backfill_value(parsed, token="t1")
    assert again == "2011-02-01T00:00:00Z..2011-06-29T22:00:00Z;retrain;id=t1"
    assert backfill.parse_backfill(again, NOW) == parsed


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("2011-02-01T00:00:00Z", "is not a range; write FROM..TO"),
        ("2011-06-01T00:00:00Z..2011-02-01T00:00:00Z", "starts (2011-06-01T00:00:00Z) after it ends"),
        ("2011-02-01T00:00:00Z..2027-01-01T00:00:00Z", "2027-01-01T00:00:00Z is in the future"),
        ("2011-02-01T00:00:00Z..june", "'june' is not a time"),
        ("2011-02-01T00:00:00Z..2011-03-01T00:00:00Z;all", "unknown option 'all'"),
    ],
)
def test_backfill_values_refused_in_words(value: str, words: str) -> None:
    with pytest.raises(InvalidValue) as error:
        backfill.parse_backfill(value, NOW)
    assert words in str(error.value)


def test_the_plugin_reads_a_date_in_the_schedules_zone() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    assert backfill.parse_time("2011-03-07", berlin) == datetime(2011, 3, 6, 23, 0, tzinfo=UTC)
    assert backfill.parse_time("2011-07-07T06:00", berlin) == datetime(2011, 7, 7, 4, 0, tzinfo=UTC)
    assert backfill.parse_time("2011-07-07T06:00Z", berlin) == datetime(2011, 7, 7, 6, 0, tzinfo=UTC)


def test_check_at_values_round_trip() -> None:
    at = datetime(2011, 3, 7, 5, 30, tzinfo=UTC)
    assert backfill.check_at_value(at) == "2011-03-07T05:30:00Z"
    assert backfill.check_at_value(at, retrain=True, token="z") == "2011-03-07T05:30:00Z;retrain;id=z"
    assert backfill.parse_check_at(backfill.check_at_value(at, retrain=True, token="z"), NOW) == CheckAt(
        at, retrain=True
    )


WEEKLY = "0 0 * * 1"  # Mondays at midnight


@pytest.mark.parametrize(
    ("start", "end", "zone", "expected"),
    [
        # both ends included
        (
            "2011-02-07T00:00:00Z",
            "2011-02-28T00:00:00Z",
            None,
            ["2011-02-07", "2011-02-14", "2011-02-21", "2011-02-28"],
        ),
        ("2011-02-07T00:00:01Z", "2011-02-27T23:59:59Z", None, ["2011-02-14", "2011-02-21"]),
        ("2011-02-08T00:00:00Z", "2011-02-13T00:00:00Z", None, []),
        # in the schedule's zone, returned in UTC: Berlin's midnight is 23:00 UTC in winter, 22:00 in summer
        (
            "2011-03-20T00:00:00Z",
            "2011-04-04T00:00:00Z",
            "Europe/Berlin",
            ["2011-03-20T23", "2011-03-27T22", "2011-04-03T22"],
        ),
    ],
)
def test_a_backfill_covers_the_schedules_times_in_its_range(
    start: str, end: str, zone: str | None, expected: list[str]
) -> None:
    request = backfill.parse_backfill(f"{start}..{end}", NOW)
    times = backfill.scheduled_times(request, WEEKLY, zone, cron_times)
    assert [t.isoformat()[: len(e)] for t, e in zip(times, expected, strict=True)] == expected
    assert all(t.tzinfo == UTC for t in times)


def test_a_range_across_many_chunks_has_each_time_once_in_order() -> None:
    request = Backfill(datetime(2012, 1, 1, tzinfo=UTC), datetime(2012, 12, 31, 23, 59, tzinfo=UTC))
    times = backfill.scheduled_times(request, "0 0 * * *", None, cron_times)
    assert len(times) == 366  # 2012, a leap year, daily: 53 chunks of a week
    assert times == sorted(set(times))
    assert all(b - a == timedelta(days=1) for a, b in itertools.pairwise(times))


def test_more_times_than_the_bound_is_refused_before_enumerating_them_all() -> None:
    seen: list[datetime] = []

    def counting(schedule: str, zone: str | None, start: datetime, end: datetime) -> list[datetime]:
        found = cron_times(schedule, zone, start, end)
        seen.extend(found)
        return found

    first_monday = datetime(2011, 1, 3, tzinfo=UTC)
    last = first_monday + timedelta(weeks=519)
    assert len(backfill.scheduled_times(Backfill(first_monday, last), WEEKLY, None, counting)) == 520
    with pytest.raises(TooManyWindows):
        backfill.scheduled_times(Backfill(first_monday, last + timedelta(weeks=1)), WEEKLY, None, counting)
    every_minute = Backfill(datetime(2011, 1, 1, tzinfo=UTC), datetime(2020, 12, 31, tzinfo=UTC))
    seen.clear()
    with pytest.raises(TooManyWindows, match="holds more than 520 scheduled times of '\\* \\* \\* \\* \\*'"):
        backfill.scheduled_times(every_minute, "* * * * *", None, counting)
    assert len(seen) <= 8 * 24 * 60  # one chunk (a week and its border), not ten years of minutes


def test_the_bound_is_the_documented_one() -> None:
    assert backfill.MAX_WINDOWS == 520
    assert "at most 520 times" in reference_markdown()
