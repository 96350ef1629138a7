"""Window arithmetic (issue 13, test 1): relative and absolute windows, time zones and DST, the lag and
offset, partition patterns, which files a window selects, scheduled times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from kubedrift.cron import scheduled_times
from kubedrift.models.driftcheck import DataSource, ReferenceSource, Retrain
from kubedrift.models.results import (
    CheckSkipped,
    CheckSummary,
    HistoryEntry,
    history_key,
    parse_check_message,
)
from kubedrift.models.windows import TimeLayout, TimeWindow, Window
from kubedrift.windows import partition_of, partition_prefixes, resolve, resolved, scheduled_at, select

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
UTC_ZONE = ZoneInfo("UTC")


def at(text: str, zone: ZoneInfo = UTC_ZONE) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=zone)


def window(**fields: object) -> Window:
    return Window.from_wire(fields)


@pytest.mark.parametrize(
    ("fields", "scheduled", "zone", "start", "end"),
    [
        # the last 7 days, ending at the scheduled time
        ({"last": "7d"}, at("2011-02-08"), None, at("2011-02-01"), at("2011-02-08")),
        ({"last": "24h"}, at("2011-02-08T06:00"), None, at("2011-02-07T06:00"), at("2011-02-08T06:00")),
        ({"last": "90m"}, at("2011-02-08T06:00"), None, at("2011-02-08T04:30"), at("2011-02-08T06:00")),
        ({"last": "4w"}, at("2011-03-01"), None, at("2011-02-01"), at("2011-03-01")),
        # a lag moves the window back: late data within it is included
        ({"last": "7d", "lag": "1d"}, at("2011-02-08"), None, at("2011-01-31"), at("2011-02-07")),
        ({"last": "7d", "lag": "2h"}, at("2011-02-08"), None, at("2011-01-31T22:00"), at("2011-02-07T22:00")),
        # offset: a training window that ends where a 4-week test window starts
        ({"last": "52w", "offset": "4w"}, at("2012-12-31"), None, at("2011-12-05"), at("2012-12-03")),
        # the schedule's zone: a Berlin midnight is 23:00 UTC in winter
        ({"last": "7d"}, at("2011-02-08", BERLIN), "Europe/Berlin", at("2011-02-01", BERLIN), None),
        # 7 days across the spring change are 7 calendar days (167 h), not 168 h
        ({"last": "7d"}, at("2011-03-31", BERLIN), "Europe/Berlin", at("2011-03-24", BERLIN), None),
        # ... and across the autumn change (169 h)
        ({"last": "7d"}, at("2011-11-08", NEW_YORK), "America/New_York", at("2011-11-01", NEW_YORK), None),
        # hours are elapsed time: 24h across the spring change ends at another wall time
        ({"last": "24h"}, at("2011-03-28", BERLIN), "Europe/Berlin", at("2011-03-26T23:00", BERLIN), None),
        # absolute windows ignore the scheduled time
        (
            {"from": "2011-01-01T00:00:00Z", "to": "2011-02-01T00:00:00Z"},
            at("2012-06-01"),
            None,
            at("2011-01-01"),
            at("2011-02-01"),
        ),
        (
            {"from": "2011-01-01T00:00:00+01:00", "to": "2011-01-02T00:00:00+01:00"},
            at("2012-06-01"),
            "Europe/Berlin",
            at("2011-01-01", BERLIN),
            at("2011-01-02", BERLIN),
        ),
    ],
)
def test_resolve(
    fields: dict, scheduled: datetime, zone: str | None, start: datetime, end: datetime | None
) -> None:
    got = resolve(window(**fields), scheduled, zone)
    assert got.start == start
    assert got.end == (end or scheduled)
    assert got.start.utcoffset() == start.utcoffset()  # in the zone, not shifted by a naive hour


def test_seven_days_across_dst_are_167_and_169_hours() -> None:
    spring = resolve(window(last="7d"), at("2011-03-31", BERLIN), "Europe/Berlin")
    autumn = resolve(window(last="7d"), at("2011-11-03", BERLIN), "Europe/Berlin")
    # (an aware subtraction within one zone object is wall-clock; in UTC it is elapsed time)
    assert spring.end.astimezone(UTC) - spring.start.astimezone(UTC) == timedelta(hours=167)
    assert autumn.end.astimezone(UTC) - autumn.start.astimezone(UTC) == timedelta(hours=169)


def test_a_window_ending_in_a_skipped_hour_moves_forward() -> None:
    # 02:30 on 27 March 2011 does not exist in Berlin; a day before 02:30 on the 28th is 03:30 on the 27th
    got = resolve(window(last="1d"), at("2011-03-28T02:30", BERLIN), "Europe/Berlin")
    assert got.start == datetime(2011, 3, 27, 1, 30, tzinfo=UTC)


def test_window_text() -> None:
    assert str(TimeWindow(start=at("2011-02-01"), end=at("2011-02-08"))) == (
        "2011-02-01T00:00+00:00..2011-02-08T00:00+00:00"
    )


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"last": "7"}, "last must be a whole number and a unit"),
        ({"last": "0d"}, "last must be a whole number and a unit"),
        ({"last": "7d", "lag": "1y"}, "lag must be a whole number and a unit"),
        ({"last": "7d", "from": "2011-01-01T00:00:00Z"}, "either relative"),
        ({"from": "2011-01-01T00:00:00Z"}, "either relative"),
        ({"from": "2011-01-01T00:00:00Z", "to": "2011-02-01T00:00:00Z", "lag": "1d"}, "either relative"),
        ({"from": "2011-02-01T00:00:00Z", "to": "2011-01-01T00:00:00Z"}, "from must be before window.to"),
        ({"from": "2011-01-01T00:00:00", "to": "2011-02-01T00:00:00Z"}, "with an offset"),
        ({}, "either relative"),
    ],
)
def test_invalid_windows(fields: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Window.from_wire(fields)


@pytest.mark.parametrize(
    ("layout", "message"),
    [
        ({}, "exactly one of partition"),
        ({"partition": "dt=%Y-%m-%d", "column": "ts"}, "exactly one of partition"),
        ({"partition": "dt=%y-%m-%d"}, "strftime fields"),
        ({"partition": "%m/%d"}, "must name the year"),
        ({"partition": "%Y/%d"}, "must name the year"),
        ({"partition": "%Y/%m/%d/%M"}, "must name the year"),
    ],
)
def test_invalid_layouts(layout: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        TimeLayout.from_wire(layout)


def test_a_window_needs_time() -> None:
    with pytest.raises(ValidationError, match="window needs time"):
        DataSource.from_wire({"uri": "s3://bucket/data/", "window": {"last": "7d"}})


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("dt=%Y-%m-%d", "dt=2011-02-03/part-0.parquet", at("2011-02-03")),
        ("%Y/%m/%d", "2011/02/03/part-0.parquet", at("2011-02-03")),
        ("year=%Y/month=%m", "year=2011/month=02/x.parquet", at("2011-02-01")),
        ("dt=%Y-%m-%d/hour=%H", "dt=2011-02-03/hour=07/x.parquet", at("2011-02-03T07:00")),
        ("day-%Y%m%d.parquet", "day-20110203.parquet", at("2011-02-03")),
        ("dt=%Y-%m-%d", "dt=2011-02-30/x.parquet", None),  # no such day
        ("dt=%Y-%m-%d", "other/x.parquet", None),
        ("dt=%Y-%m-%d", "dt=2011-02-031/x.parquet", None),  # a segment must end where the pattern does
    ],
)
def test_partition_of(pattern: str, path: str, expected: datetime | None) -> None:
    assert partition_of(path, TimeLayout(partition=pattern), ZoneInfo("UTC")) == expected


@pytest.mark.parametrize(
    ("pattern", "start", "end", "expected"),
    [
        (
            "dt=%Y-%m-%d",
            at("2011-02-01"),
            at("2011-02-04"),
            ["dt=2011-02-01", "dt=2011-02-02", "dt=2011-02-03"],
        ),
        # a window that starts mid-day takes that day: the partition shares time with it
        ("dt=%Y-%m-%d", at("2011-02-01T12:00"), at("2011-02-03"), ["dt=2011-02-01", "dt=2011-02-02"]),
        ("%Y/%m", at("2011-11-15"), at("2012-02-01"), ["2011/11", "2011/12", "2012/01"]),
        (
            "h=%Y%m%d%H",
            at("2011-02-01T22:00"),
            at("2011-02-02T01:00"),
            ["h=2011020122", "h=2011020123", "h=2011020200"],
        ),
        ("dt=%Y-%m-%d", at("2011-02-01"), at("2011-02-01T00:01"), ["dt=2011-02-01"]),
    ],
)
def test_partition_prefixes(pattern: str, start: datetime, end: datetime, expected: list[str]) -> None:
    assert partition_prefixes(TimeLayout(partition=pattern), TimeWindow(start=start, end=end)) == expected


def test_partition_days_are_days_of_the_zone() -> None:
    # a Berlin week ending at Berlin midnight covers seven Berlin days, not eight UTC ones
    week = resolve(window(last="7d"), at("2011-02-08", BERLIN), "Europe/Berlin")
    prefixes = partition_prefixes(TimeLayout(partition="dt=%Y-%m-%d"), week, BERLIN)
    assert prefixes == [f"dt=2011-02-0{d}" for d in range(1, 8)]
    # the week over the spring change still has seven days (one of them 23 hours long)
    week = resolve(window(last="7d"), at("2011-03-31", BERLIN), "Europe/Berlin")
    assert len(partition_prefixes(TimeLayout(partition="dt=%Y-%m-%d"), week, BERLIN)) == 7


def test_select_picks_the_files_of_the_window() -> None:
    days = [at("2011-01-01") + timedelta(days=n) for n in range(731)]
    paths = [f"s3://bkt/data/dt={d:%Y-%m-%d}/part-0.parquet" for d in days] + ["s3://bkt/data/README.parquet"]
    week = resolve(window(last="7d"), at("2012-03-01"), None)
    chosen = select(paths, TimeLayout(partition="dt=%Y-%m-%d"), week, root="s3://bkt/data")
    assert chosen == [f"s3://bkt/data/dt=2012-02-{d}/part-0.parquet" for d in range(23, 30)]  # 2012 is leap


def test_resolved_source_keeps_everything_but_the_window() -> None:
    source = DataSource.from_wire(
        {"uri": "s3://bkt/data/", "time": {"partition": "dt=%Y-%m-%d"}, "window": {"last": "7d"}}
    )
    got = resolved(source, at("2011-02-08"), None)
    assert got.uri == source.uri and got.time == source.time
    assert got.window == Window.from_wire({"from": "2011-02-01T00:00:00Z", "to": "2011-02-08T00:00:00Z"})
    fixed = DataSource(uri="s3://bkt/fixed.parquet")
    assert resolved(fixed, at("2011-02-08"), None) is fixed


def test_reference_follows_production_is_not_in_the_job_config() -> None:
    reference = ReferenceSource.from_wire({"uri": "s3://bkt/ref.parquet", "followProduction": True})
    assert reference.as_source().to_wire() == {"uri": "s3://bkt/ref.parquet"}


def _retrain(train: dict, test: dict) -> dict:
    return {
        "train": train,
        "test": test,
        "model": {"estimator": "RandomForestClassifier"},
        "objective": {"metric": "f1"},
    }


DAILY = {"uri": "s3://bkt/data/", "time": {"partition": "dt=%Y-%m-%d"}}


@pytest.mark.parametrize(
    ("train", "test", "overlap"),
    [
        ({"last": "52w", "offset": "4w"}, {"last": "4w"}, False),
        ({"last": "52w", "offset": "3w"}, {"last": "4w"}, True),
        ({"last": "52w"}, {"last": "4w"}, True),
        ({"last": "4w"}, {"last": "52w", "offset": "4w"}, False),  # testing on the past is allowed
        ({"last": "52w", "offset": "28d"}, {"last": "4w"}, False),
        (
            {"from": "2011-01-01T00:00:00Z", "to": "2011-07-01T00:00:00Z"},
            {"from": "2011-07-01T00:00:00Z", "to": "2011-08-01T00:00:00Z"},
            False,
        ),
        (
            {"from": "2011-01-01T00:00:00Z", "to": "2011-07-02T00:00:00Z"},
            {"from": "2011-07-01T00:00:00Z", "to": "2011-08-01T00:00:00Z"},
            True,
        ),
    ],
)
def test_retrain_windows_must_not_overlap(train: dict, test: dict, overlap: bool) -> None:
    spec = _retrain({**DAILY, "window": train}, {**DAILY, "window": test})
    if overlap:
        with pytest.raises(ValidationError, match="train and test windows on the same dataset overlap"):
            Retrain.from_wire(spec)
    else:
        Retrain.from_wire(spec)


def test_one_dataset_without_windows_is_still_refused() -> None:
    with pytest.raises(ValidationError, match="test must not be the same data as train"):
        Retrain.from_wire(_retrain(DAILY, {**DAILY, "window": {"last": "4w"}}))


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"KUBEDRIFT_SCHEDULED_AT": "2011-02-08T00:00:00Z"}, at("2011-02-08")),
        ({"KUBEDRIFT_SCHEDULED_AT": "2011-02-08T01:00:00+01:00"}, at("2011-02-08")),
        # a CronJob-made Job: <check>-check-<unix minutes>
        ({"KUBEDRIFT_JOB_NAME": "bikes-check-21620160"}, datetime.fromtimestamp(21620160 * 60, UTC)),
        # a run-now Job's hash is not a time, even when it is all digits
        ({"KUBEDRIFT_JOB_NAME": "bikes-now-12345678"}, None),
        ({}, None),
    ],
)
def test_scheduled_at(environ: dict[str, str], expected: datetime | None) -> None:
    now = at("2026-12-01T10:11")
    assert scheduled_at(environ, now) == (expected or now)


@pytest.mark.parametrize(
    ("schedule", "zone", "start", "end", "expected"),
    [
        (
            "0 0 * * 1",
            None,
            at("2011-02-01"),
            at("2011-02-28"),
            [at(f"2011-02-{d:02}") for d in (7, 14, 21, 28)],
        ),
        (
            "@weekly",
            "Europe/Berlin",
            at("2011-03-20"),
            at("2011-04-04"),
            [at("2011-03-27", BERLIN), at("2011-04-03", BERLIN)],
        ),
        # 02:30 does not exist on the spring-change day: no run then
        (
            "30 2 * * *",
            "Europe/Berlin",
            at("2011-03-26", BERLIN),
            at("2011-03-29", BERLIN),
            [at("2011-03-26T02:30", BERLIN), at("2011-03-28T02:30", BERLIN)],
        ),
        # both ends are included
        ("0 0 * * *", None, at("2011-02-01"), at("2011-02-02"), [at("2011-02-01"), at("2011-02-02")]),
    ],
)
def test_scheduled_times(
    schedule: str, zone: str | None, start: datetime, end: datetime, expected: list[datetime]
) -> None:
    assert scheduled_times(schedule, zone, start, end) == expected


def test_scheduled_times_repeat_a_wall_time_the_autumn_change_repeats() -> None:
    got = scheduled_times("30 2 * * *", "Europe/Berlin", at("2011-10-30", BERLIN), at("2011-10-31", BERLIN))
    assert [t.astimezone(UTC) for t in got] == [
        datetime(2011, 10, 30, 0, 30, tzinfo=UTC),
        datetime(2011, 10, 30, 1, 30, tzinfo=UTC),
    ]


def test_check_messages() -> None:
    window_ = TimeWindow(start=at("2011-02-01"), end=at("2011-02-08"))
    skipped = CheckSkipped(
        skipped="EmptyWindow", message="no data", scheduled_at=at("2011-02-08"), window=window_
    )
    assert parse_check_message(skipped.model_dump_json(by_alias=True)) == skipped
    summary = CheckSummary(
        finished_at=at("2011-02-08"),
        dataset_drift=True,
        drift_share=0.5,
        columns_checked=2,
        columns_drifted=1,
        report_uri="s3://bkt/r",
        scheduled_at=at("2011-02-08"),
        window=window_,
    )
    assert parse_check_message(summary.model_dump_json(by_alias=True)) == summary
    with pytest.raises(ValueError):
        parse_check_message("not json")


def test_history_keys_sort_in_time_order() -> None:
    entries = [
        HistoryEntry(
            scheduled_at=at(day, BERLIN),
            checked_at=at("2026-01-01"),
            dataset_drift=False,
            drift_share=0,
            report_uri="r",
        )
        for day in ("2011-12-31T23:30", "2011-02-08", "2011-10-30T02:30")
    ]
    keys = [e.key for e in entries]
    assert keys == ["20111231T223000Z.json", "20110207T230000Z.json", "20111030T003000Z.json"]
    assert sorted(keys) == [e.key for e in sorted(entries, key=lambda e: e.scheduled_at)]


def test_checks_started_by_hand_within_one_second_have_their_own_history_keys() -> None:
    first, second = (datetime(2026, 12, 7, 1, 11, 55, us, tzinfo=UTC) for us in (66285, 912000))
    assert history_key(first) == "20261207T011155.066285Z.json"
    assert history_key(first) != history_key(second)
