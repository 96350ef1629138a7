"""The Python twins of the CRD's format rules (the CEL side is tested against a real apiserver)."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from kubedrift.models.quantity import is_quantity, quantity
from kubedrift.models.spec_rules import CRON_PATTERN, TIME_ZONE_PREFIX, normalised_uri, trials

GOOD = [
    "0 * * * *",
    "*/15 6-18 * * mon-fri",
    "0 0 1,15 JAN,jul ?",
    "5 4 * * SUN",
    "@daily",
    " 0 3 * * 0 ",
    "0 0 31 12 7",
]
BAD = [
    "every day at 6 am",
    "* *",
    "60 * * * *",
    "0 24 * * *",
    "0 0 0 * *",
    "0 0 * 13 *",
    "0 0 * * 8",
    "0 0 6 * * *",
    "@every 5m",
    "0 0 * * funday",
]


@pytest.mark.parametrize("schedule", GOOD)
def test_cron_schedules_of_five_valid_fields_pass(schedule: str) -> None:
    assert re.match(CRON_PATTERN, schedule)


@pytest.mark.parametrize("schedule", BAD)
def test_words_and_out_of_range_fields_do_not(schedule: str) -> None:
    assert not re.match(CRON_PATTERN, schedule)


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
