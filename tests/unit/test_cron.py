"""The schedule's interval: the longest gap between consecutive runs, in the schedule's zone."""

from __future__ import annotations

from datetime import date

import pytest

from kubedrift.cron import interval_seconds, parse

HOUR, DAY = 3600.0, 86400.0
TODAY = date(2026, 3, 1)  # a Sunday; Europe/Berlin changes its clocks on 29 March and 25 October


@pytest.mark.parametrize(
    ("schedule", "seconds"),
    [
        ("@hourly", HOUR),
        ("0 6 * * 1", 7 * DAY),
        ("*/15 * * * *", 15 * 60.0),
        ("0 0 1 * *", 31 * DAY),  # the longest month
        ("@daily", DAY),
        ("@weekly", 7 * DAY),
        ("@yearly", 365 * DAY),  # 2027 is not a leap year
        ("0 9 * * 1-5", 3 * DAY),  # Friday to Monday
        ("0 9 * * mon-fri", 3 * DAY),
        ("0 8,17 * * *", 15 * HOUR),  # 17:00 to 08:00
        ("10/40 * * * *", 40 * 60.0),  # 10-59/40: :10 and :50
        ("50/5 * * * *", 55 * 60.0),  # :50 and :55, then :50 of the next hour
        ("0 0 1 * 1", 7 * DAY),  # both days restricted: the 1st OR a Monday
        ("0 0 */2 * 1", 2 * DAY),  # a step over * restricts too: odd days OR Mondays (AND: 14 days)
        ("0 0 * * 1", 7 * DAY),  # day of month *: Mondays only
        ("0 0 29 2 *", (3 * 365 + 366) * DAY),  # 29 February 2028 to 2032
    ],
)
def test_the_interval_of_common_schedules_in_utc(schedule: str, seconds: float) -> None:
    assert interval_seconds(schedule, None, TODAY) == seconds
    assert interval_seconds(schedule, "UTC", TODAY) == seconds


def test_a_schedule_that_never_fires_has_no_interval() -> None:
    assert interval_seconds("0 0 30 2 *", None, TODAY) is None


def test_the_clock_change_lengthens_a_daily_gap_in_the_schedules_zone() -> None:
    assert interval_seconds("0 6 * * *", "Europe/Berlin", TODAY) == 25 * HOUR  # October's change
    assert interval_seconds("0 6 * * *", "Asia/Tokyo", TODAY) == DAY  # no DST


def test_across_a_clock_change_a_skipped_time_does_not_run_and_a_repeated_one_runs_twice() -> None:
    # 02:30 does not exist in Berlin on 29 March: from 28 March to 30 March.
    assert interval_seconds("30 2 * * *", "Europe/Berlin", TODAY) == 47 * HOUR
    # 02:00-02:59 happens twice on 25 October: every quarter hour still runs a quarter apart.
    assert interval_seconds("*/15 * * * *", "Europe/Berlin", TODAY) == 15 * 60.0
    assert interval_seconds("0 * * * *", "America/New_York", TODAY) == HOUR


def test_the_fields_read_as_the_cronjob_reads_them() -> None:
    cron = parse("0,30 22-23 1-5/2 jan,Mar ?")
    assert cron.minutes == {0, 30} and cron.hours == {22, 23} and cron.days == {1, 3, 5}
    assert cron.months == {1, 3} and cron.weekdays == set(range(7))
    assert not cron.any_day and cron.any_weekday
    assert parse("@monthly") == parse("0 0 1 * *")
    assert parse("0 0 * * sun").weekdays == {0}
