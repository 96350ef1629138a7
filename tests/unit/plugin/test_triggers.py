"""Trigger values, acknowledgement, waiting, report locations and the command line."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from kubedrift.errors import DataNotFound
from kubedrift.models.resources import (
    ANNOTATION_CHECK_NOW,
    ANNOTATION_PROMOTE,
    DriftCheck,
    handled_trigger_key,
)
from kubedrift.models.status import DriftCheckStatus
from kubedrift.plugin import report, triggers
from kubedrift.plugin.commands import build_parser, wait_for_acknowledgement
from tests.unit.plugin.factories import driftcheck_wire


def test_fresh_values_are_utc_timestamps_that_differ() -> None:
    first = triggers.fresh_value(datetime(2025, 3, 1, 12, 0, 0, 1, tzinfo=UTC))
    second = triggers.fresh_value(datetime(2025, 3, 1, 12, 0, 0, 2, tzinfo=UTC))

    assert first == "2025-03-01T12:00:00.000001Z"
    assert first != second


def test_promote_annotates_the_experiment_and_is_acknowledged_by_its_check() -> None:
    trigger = triggers.promote("bikes-r1-3", "bikes", "v1")

    assert trigger.kind.plural == "experiments" and trigger.name == "bikes-r1-3"
    assert trigger.annotation == ANNOTATION_PROMOTE and trigger.check == "bikes"


def test_acknowledged_only_for_the_same_value_of_the_same_annotation() -> None:
    trigger = triggers.check_now("bikes", "v2")

    assert not triggers.acknowledged(DriftCheckStatus(), trigger)
    assert not triggers.acknowledged(DriftCheckStatus(handled_triggers={ANNOTATION_CHECK_NOW: "v1"}), trigger)
    assert not triggers.acknowledged(DriftCheckStatus(handled_triggers={ANNOTATION_PROMOTE: "v2"}), trigger)
    assert triggers.acknowledged(DriftCheckStatus(handled_triggers={ANNOTATION_CHECK_NOW: "v2"}), trigger)


def test_a_promotion_is_acknowledged_under_its_experiments_key() -> None:
    # The operator's key (kubedrift_operator/reconcile/promotion.py) names the Experiment.
    trigger = triggers.promote("bikes-r1-3", "bikes", "v1")
    assert not triggers.acknowledged(DriftCheckStatus(handled_triggers={ANNOTATION_PROMOTE: "v1"}), trigger)
    key = handled_trigger_key(ANNOTATION_PROMOTE, "bikes-r1-3")
    assert key == "kubedrift.io/promote/bikes-r1-3"
    assert triggers.acknowledged(DriftCheckStatus(handled_triggers={key: "v1"}), trigger)


def test_wait_returns_once_the_status_acknowledges() -> None:
    trigger = triggers.retrain_now("bikes", "v1")
    statuses = iter(
        [
            DriftCheckStatus(),
            DriftCheckStatus(),
            DriftCheckStatus(handled_triggers={trigger.annotation: "v1"}),
        ]
    )
    slept: list[float] = []

    assert wait_for_acknowledgement(lambda: next(statuses), trigger, timeout=60, sleep=slept.append)
    assert len(slept) == 2


def test_wait_gives_up_at_the_timeout() -> None:
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    acknowledged = wait_for_acknowledgement(
        DriftCheckStatus, triggers.check_now("bikes", "v1"), timeout=3, sleep=sleep, clock=lambda: now[0]
    )

    assert not acknowledged and now[0] == pytest.approx(3)


def test_outcome_of_a_promotion_names_the_production_model() -> None:
    status = {
        "production": {
            "experiment": "bikes-r1-3",
            "objective": 0.812345,
            "uri": "s3://r/p/",
            "promotedAt": "2025-03-01T00:00:00Z",
        },
        "handledTriggers": {ANNOTATION_PROMOTE: "v1"},
    }
    check = DriftCheck.from_wire(driftcheck_wire(status=status))

    lines = triggers.outcome(triggers.promote("bikes-r1-3", "bikes", "v1"), check)

    assert lines[0].startswith("promote acknowledged")
    assert "production: bikes-r1-3 (objective 0.81234) at s3://r/p/" in lines


@pytest.mark.parametrize(
    ("text", "seconds"), [("90", 90.0), ("90s", 90.0), ("5m", 300.0), ("1h30m", 5400.0), ("0.5s", 0.5)]
)
def test_durations_read_like_kubectls(text: str, seconds: float) -> None:
    assert triggers.parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "soon", "5 minutes", "-1s"])
def test_bad_durations_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="invalid duration"):
        triggers.parse_duration(text)


def test_the_latest_report_is_the_newest_complete_one() -> None:
    def check(status: dict[str, Any] | None) -> DriftCheck:
        return DriftCheck.from_wire(driftcheck_wire(status=status))

    last = {"time": "2026-03-01T13:00:00Z", "job": "c2", "succeeded": True, "reportUri": "s3://r/c2"}
    assert report.latest_report_uri(check({"lastCheck": last})) == "s3://r/c2"
    failed = {"time": "2026-03-01T14:00:00Z", "job": "c3", "succeeded": False, "reason": "Transient"}
    history = [
        {"time": "2026-03-01T14:00:00Z", "job": "c3", "succeeded": False},
        {"time": "2026-03-01T13:00:00Z", "job": "c2", "succeeded": True, "reportUri": "s3://r/c2"},
        {"time": "2026-03-01T12:00:00Z", "job": "c1", "succeeded": True, "reportUri": "s3://r/c1"},
    ]
    assert report.latest_report_uri(check({"lastCheck": failed, "history": history})) == "s3://r/c2"
    with pytest.raises(DataNotFound, match="has no report yet"):
        report.latest_report_uri(check({"lastCheck": failed, "history": history[:1]}))


@pytest.mark.parametrize(
    ("report_uri", "output", "expected"),
    [
        ("s3://r/bikes/checks/c1/", "out.html", "s3://r/bikes/checks/c1/report.html"),
        ("s3://r/bikes/checks/c1", "out.json", "s3://r/bikes/checks/c1/report.json"),
        ("s3://r/bikes/c1/drift.html", "x.html", "s3://r/bikes/c1/drift.html"),
        ("s3://r/bikes/c1/drift.html", "x.json", "s3://r/bikes/c1/drift.json"),
        ("/tmp/reports/c1", "x", "/tmp/reports/c1/report.html"),
    ],
)
def test_report_file_follows_the_output_suffix(report_uri: str, output: str, expected: str) -> None:
    assert report.report_file_uri(report_uri, Path(output)) == expected


def test_connection_flags_work_before_and_after_the_subcommand() -> None:
    before = build_parser().parse_args(["-n", "prod", "--context", "kind", "exp", "show", "bikes"])
    after = build_parser().parse_args(["exp", "show", "bikes", "--namespace", "prod", "--kubeconfig", "/k"])
    neither = build_parser().parse_args(["run", "bikes"])

    assert (before.namespace, before.context, before.check) == ("prod", "kind", "bikes")
    assert (after.namespace, after.kubeconfig) == ("prod", "/k")
    assert not hasattr(neither, "namespace")


def test_output_formats_exclude_each_other() -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["exp", "show", "--csv", "--json"])
    assert build_parser().parse_args(["exp", "show", "--md"]).format == "md"
    assert build_parser().parse_args(["exp", "show"]).format == "table"
