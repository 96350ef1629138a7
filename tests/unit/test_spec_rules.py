"""The Python twins of the CRD's format rules (the CEL side is tested against a real apiserver)."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from kubedrift.models.quantity import is_quantity, quantity
from kubedrift.models.resources import DriftCheck
from kubedrift.models.rules import RuleViolation, matches
from kubedrift.models.spec_rules import (
    CRON_PATTERN,
    DNS_SUBDOMAIN,
    SAME_DATA_MESSAGE,
    SCHEDULE_RANGE_RULE,
    SCHEDULE_RULE,
    TIME_ZONE_PREFIX,
    TIME_ZONE_RULE,
    check_schedule,
    is_time_zone,
    normalised_uri,
    reversed_cron_range,
    trials,
)
from kubedrift.uris import normalised, overlaps

ROOT = Path(__file__).resolve().parents[2]

# What robfig/cron's ParseStandard (Kubernetes' CronJob validation) accepts ...
GOOD = [
    "0 * * * *",
    "*/15 6-18 * * mon-fri",
    "0 0 1,15 JAN,jul ?",
    "5 4 * * SUN",
    "@daily",
    "@midnight",
    " 0 3 * * 0 ",
    "0 0 31 12 6",
    "? ? ? ? ?",
    "05 07 01 01 00",
    "5/15 * * * *",
    "0 0 1-31/2 jan-DEC/3 sun-sat",
    "0 0 * * 1-fri",
    "0-0 0 31 2 *",
    "*/90 * * * *",
]
# ... and what it refuses.
BAD = [
    "every day at 6 am",
    "* *",
    "60 * * * *",
    "0 24 * * *",
    "0 0 0 * *",
    "0 0 * 13 *",
    "0 0 * * 7",
    "0 0 * * 8",
    "0 0 6 * * *",
    "@every 5m",
    "@Daily",
    " @daily",
    "@daily ",
    "@daily\n",
    "0 0 * * funday",
    "*/0 * * * *",
    "0 0/0 * * *",
    "50-70 * * * *",
    "0 0 * jan-dez *",
    "0 0 1,,2 * *",
    "0 9 * * mon/tue",
]


@pytest.mark.parametrize("schedule", GOOD)
def test_schedules_kubernetes_accepts_pass(schedule: str) -> None:
    assert re.fullmatch(CRON_PATTERN, schedule) and check_schedule(schedule) == schedule


@pytest.mark.parametrize("schedule", BAD)
def test_words_out_of_range_values_and_zero_steps_do_not(schedule: str) -> None:
    assert not re.fullmatch(CRON_PATTERN, schedule)
    with pytest.raises(RuleViolation) as raised:
        check_schedule(schedule)
    assert raised.value.rule == SCHEDULE_RULE


@pytest.mark.parametrize(
    "schedule", ["5-1 * * * *", "0 0 * * fri-mon", "0 0 * dec-jan *", "0 0 * * SAT-sun/2"]
)
def test_a_range_from_high_to_low_is_refused_by_the_operator_side_rule(schedule: str) -> None:
    assert re.fullmatch(CRON_PATTERN, schedule) and reversed_cron_range(schedule)
    with pytest.raises(RuleViolation) as raised:
        check_schedule(schedule)
    assert raised.value.operator_side and raised.value.rule.message == SCHEDULE_RANGE_RULE.message
    assert raised.value.value == schedule


@pytest.mark.parametrize(
    "zone", ["Europe/Berlin", "UTC", "America/Argentina/Buenos_Aires", "EST5EDT", "Etc/GMT+5"]
)
def test_iana_time_zones_pass(zone: str) -> None:
    assert is_time_zone(zone)


@pytest.mark.parametrize(
    "zone",
    [
        "Mars/Olympus",
        "EST5EDT-bad",
        "Local",
        "local",
        "",
        "Europe/Berlin ",
        "/etc/localtime",
        "../zoneinfo/UTC",
        "Europe//Berlin",
        "America",
        "zone.tab",
        "Europe/-Berlin",
        "Europe/Abcdefghijklmno",
    ],
)
def test_what_the_cronjob_validation_refuses_does_not(zone: str) -> None:
    assert not is_time_zone(zone)


def test_a_time_zone_prefix_is_recognised() -> None:
    assert re.match(TIME_ZONE_PREFIX, "CRON_TZ=UTC 0 6 * * *") and re.match(
        TIME_ZONE_PREFIX, "TZ=UTC 0 6 * * *"
    )


def test_quantities_read_as_the_apiserver_reads_them() -> None:
    assert [quantity(q) for q in ("500m", "1Gi", "2", "1e3", "1.5k", 3)] == [
        Decimal("0.5"),
        Decimal(2**30),
        Decimal(2),
        Decimal(1000),
        Decimal(1500),
        Decimal(3),
    ]
    assert not any(is_quantity(q) for q in ("1GB", "two", "1 Gi", "", "Mi"))


def test_the_grid_size_and_the_sameness_of_uris() -> None:
    assert trials({"a": [1, 2, 3], "b": [1] * 10}) == 30 and trials({}) == 1
    assert normalised_uri("file:///data/train/") == normalised_uri("/data/train")
    assert normalised("file:///data/./train//") == "/data/train" and normalised("./a/../x") == "x"
    assert normalised("s3://b/p//") == "s3://b/p" and normalised("s3://b/./p") == "s3://b/./p"


OVERLAPPING = [
    ("./data/x.parquet", "data/x.parquet"),
    ("file:///abs/train", "/abs/train/"),
    ("s3://b/p", "s3://b/p/"),
    ("s3://b/train/", "s3://b/train/part-1.parquet"),
    ("data/test", "data/test/x.parquet"),
    ("s3://b", "s3://b/train.parquet"),
    ("s3://b/d/*.parquet", "s3://b/d/x.parquet"),
    ("s3://b/d/*.parquet", "s3://b/d"),
    ("s3://b/*/train", "s3://b/2024/train/p.parquet"),
    ("s3://b/**/x.parquet", "s3://b/x.parquet"),
    ("*/x.parquet", "data"),
    ("a/../b", "b"),
]
APART = [
    ("s3://b/train", "s3://b/train2"),
    ("s3://b/train.parquet", "s3://b/test.parquet"),
    ("s3://b/d/*.parquet", "s3://b/d/sub/x.parquet"),
    ("s3://b/d/train-*.parquet", "s3://b/d/test-*.parquet"),
    ("data/x", "/data/x"),
    ("s3://b/x", "/b/x"),
    ("s3://b/p/*", "s3://b/q"),
]


@pytest.mark.parametrize(("first", "second"), OVERLAPPING)
def test_locations_that_may_share_files_overlap_either_way(first: str, second: str) -> None:
    assert overlaps(first, second) and overlaps(second, first)


@pytest.mark.parametrize(("first", "second"), APART)
def test_siblings_different_globs_and_other_stores_do_not(first: str, second: str) -> None:
    assert not overlaps(first, second) and not overlaps(second, first)


@pytest.mark.parametrize(
    "message",
    [SCHEDULE_RULE.message, SCHEDULE_RANGE_RULE.message, TIME_ZONE_RULE.message, SAME_DATA_MESSAGE],
)
def test_the_schedule_time_zone_and_data_messages_are_in_troubleshooting(message: str) -> None:
    docs = Path(__file__).resolve().parents[2] / "docs" / "troubleshooting.md"
    assert message in docs.read_text()


def test_patterns_read_dollar_as_the_apiserver_does() -> None:
    # RE2's `$` (CEL's matches) holds only at the end of the text; Python's also before a final "\n".
    assert matches(DNS_SUBDOMAIN, "bike-data")
    assert not matches(DNS_SUBDOMAIN, "bike-data\n")
    assert re.match(DNS_SUBDOMAIN, "bike-data\n") is not None  # what the old check let through
    assert not is_quantity("512Mi\n")


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("metadata", "name"), "bikes\n"),
        (("spec", "storage", "secretRef", "name"), "bike-data\n"),
        (("spec", "current", "uri"), "s3://bikes/current.parquet\n"),
        (("spec", "storage", "reportsUri"), "s3://bikes/reports\n"),
    ],
)
def test_a_value_with_a_final_newline_is_refused_locally_as_by_the_apiserver(
    path: tuple[str, ...], value: str
) -> None:
    manifest = yaml.safe_load((ROOT / "examples" / "bike-sharing" / "driftcheck-s3.yaml").read_text())
    target = manifest
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(ValidationError):
        DriftCheck.model_validate(manifest)
