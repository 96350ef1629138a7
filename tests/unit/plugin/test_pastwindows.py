"""`kubectl drift run --at` and `kubectl drift backfill`: values, refusals, waiting and what is printed."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from kubedrift.errors import ConfigError
from kubedrift.models.resources import DRIFTCHECK, DriftCheck, ResourceKind
from kubedrift.models.status import BackfillStatus, CheckAtStatus, DriftCheckStatus
from kubedrift.plugin import commands, pastwindows
from tests.unit.plugin.factories import driftcheck_wire

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def check(status: dict[str, Any] | None = None, zone: str | None = "Europe/Berlin") -> DriftCheck:
    wire = driftcheck_wire(status=status)
    wire["spec"]["schedule"] = "0 0 * * 1"
    if zone:
        wire["spec"]["timeZone"] = zone
    return DriftCheck.from_wire(wire)


def test_at_reads_a_date_in_the_checks_zone_and_writes_utc() -> None:
    assert pastwindows.check_at_value(check(), "2011-03-07", retrain=False, token=None, now=NOW) == (
        "2011-03-06T23:00:00Z"
    )
    assert pastwindows.check_at_value(check(zone=None), "2011-03-07", retrain=True, token="t", now=NOW) == (
        "2011-03-07T00:00:00Z;retrain;id=t"
    )


@pytest.mark.parametrize(
    ("at", "words"), [("2027-01-01", "is in the future"), ("next week", "'next week' is not a time")]
)
def test_at_refuses_what_the_operator_would(at: str, words: str) -> None:
    with pytest.raises(ConfigError, match="--at: ") as error:
        pastwindows.check_at_value(check(), at, retrain=False, token=None, now=NOW)
    assert words in error.value.message and error.value.exit_code == 2


def test_backfill_counts_the_scheduled_times_before_annotating() -> None:
    value, total = pastwindows.backfill_value(
        check(), "2011-02-01", "2011-06-30", retrain=False, token=None, now=NOW
    )
    assert value == "2011-01-31T23:00:00Z..2011-06-29T22:00:00Z"
    assert total == 21  # the Mondays from 7 February to 27 June 2011


@pytest.mark.parametrize(
    ("start", "end", "words"),
    [
        ("2011-06-30", "2011-02-01", "after it ends"),
        ("2011-01-01", "2027-01-01", "is in the future"),
        ("2001-01-01", "2020-01-01", "holds more than 520 scheduled times"),
    ],
)
def test_backfill_refuses_what_the_operator_would(start: str, end: str, words: str) -> None:
    with pytest.raises(ConfigError) as error:
        pastwindows.backfill_value(check(), start, end, retrain=False, token=None, now=NOW)
    assert words in error.value.message


def clocked() -> tuple[list[float], Any, Any]:
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    return now, sleep, lambda: now[0]


def at_status(phase: str, value: str = "v", **extra: Any) -> DriftCheckStatus:
    return DriftCheckStatus(
        check_at=CheckAtStatus(value=value, phase=phase, started_at=NOW, job="bikes-at-1", **extra)
    )


def test_waiting_for_a_check_at_ends_when_its_job_ends() -> None:
    statuses = iter(
        [DriftCheckStatus(), at_status("Succeeded", value="old"), at_status("Running"), at_status("Failed")]
    )
    _, sleep, clock = clocked()
    found = pastwindows.wait_check_at(lambda: next(statuses), "v", 60, sleep, clock)
    assert found is not None and found.phase == "Failed"


def test_waiting_for_a_check_at_gives_up_at_the_timeout() -> None:
    now, sleep, clock = clocked()
    assert pastwindows.wait_check_at(lambda: at_status("Running"), "v", 5, sleep, clock) is None
    assert now[0] == pytest.approx(5)


def test_the_outcome_of_a_check_at_names_the_window_and_its_result() -> None:
    status = {
        "lastCheck": {
            "time": "2026-12-01T12:00:00Z",
            "job": "bikes-at-1",
            "succeeded": True,
            "datasetDrift": True,
            "driftShare": 0.5,
            "reportUri": "s3://r/bikes/20110307T000000Z/",
        }
    }
    found = CheckAtStatus(
        value="v",
        phase="Succeeded",
        started_at=NOW,
        job="bikes-at-1",
        scheduled_at=datetime(2011, 3, 7, tzinfo=UTC),
    )
    lines = pastwindows.check_at_outcome(check(status), found)
    assert lines == [
        "check of the window of 2011-03-07T00:00:00Z: Succeeded (Job bikes-at-1)",
        "drift, drift share 50%; report: s3://r/bikes/20110307T000000Z/",
    ]
    refused = CheckAtStatus(value="v", phase="Refused", started_at=NOW, message="kubedrift.io/check-at: bad")
    assert pastwindows.check_at_outcome(check(), refused) == [
        "refused by the operator: kubedrift.io/check-at: bad"
    ]


def progress(done: int, failed: int = 0, phase: str = "Running", in_flight: int = 0) -> DriftCheckStatus:
    times = [datetime(2011, 3, 7, tzinfo=UTC)] * in_flight
    return DriftCheckStatus(
        backfill=BackfillStatus(
            value="v",
            phase=phase,
            total=4,
            started=done + failed + in_flight,
            done=done,
            failed=failed,
            in_flight=times,
            started_at=NOW,
            message="2011-03-14T00:00:00Z: BackoffLimitExceeded: failed" if failed else None,
        )
    )


def test_following_a_backfill_reports_each_reading_until_it_ends() -> None:
    statuses = iter(
        [DriftCheckStatus(), progress(0, in_flight=2), progress(2, in_flight=2), progress(3, 1, "Failed")]
    )
    seen: list[tuple[int, int]] = []
    _, sleep, clock = clocked()
    found = pastwindows.follow_backfill(
        lambda: next(statuses), "v", 60, lambda s: seen.append((s.done, s.failed)), sleep, clock
    )
    assert found is not None and found.phase == "Failed"
    assert seen == [(0, 0), (2, 0), (3, 1)]
    assert pastwindows.backfill_outcome(found) == [
        "backfill Failed: 3 of 4 windows checked, 1 failed",
        "failed windows: 2011-03-14T00:00:00Z: BackoffLimitExceeded: failed",
    ]


@dataclass
class FakeCluster:
    """The plugin's door to the API, in memory: what was annotated, and a status that answers."""

    check: DriftCheck
    answers: Iterator[DriftCheckStatus] | None = None
    annotated: list[dict[str, str]] = field(default_factory=list)
    namespace: str = "default"

    def get_driftcheck(self, name: str) -> DriftCheck:
        if self.annotated and self.answers is not None:
            return self.check.model_copy(update={"status": next(self.answers)})
        return self.check

    def annotate(self, kind: ResourceKind, name: str, annotations: dict[str, str]) -> None:
        assert kind == DRIFTCHECK
        self.annotated.append(annotations)


def run(monkeypatch: pytest.MonkeyPatch, cluster: FakeCluster, argv: list[str]) -> int:
    monkeypatch.setattr(commands, "connect", lambda args: cluster)
    monkeypatch.setattr(pastwindows, "POLL_SECONDS", 0.0)
    return commands.main(argv)


def test_a_future_time_is_refused_before_anything_is_annotated(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cluster = FakeCluster(check())
    assert run(monkeypatch, cluster, ["run", "bikes", "--at", "2099-01-01"]) == 2
    assert cluster.annotated == [] and "is in the future" in capsys.readouterr().err


def test_backfill_wait_prints_progress_and_fails_when_a_window_failed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    value = "2011-02-27T23:00:00Z..2011-03-20T23:00:00Z"
    answers = [progress(0, in_flight=2), progress(3, 1, "Failed")]
    statuses = iter(
        [
            s.model_copy(
                update={
                    "handled_triggers": {"kubedrift.io/backfill": value},
                    "backfill": s.backfill.model_copy(update={"value": value}) if s.backfill else None,
                }
            )
            for s in [answers[0], *answers]
        ]
    )
    cluster = FakeCluster(check(), answers=statuses)
    code = run(
        monkeypatch, cluster, ["backfill", "bikes", "--from", "2011-02-28", "--to", "2011-03-21", "--wait"]
    )
    out = capsys.readouterr().out
    assert cluster.annotated == [{"kubedrift.io/backfill": value}]
    assert code == 1
    assert "4 scheduled times of '0 0 * * 1' in the range" in out
    assert "backfill Failed: 3 of 4 windows checked, 1 failed" in out


def test_an_identical_request_already_handled_annotates_nothing_unless_again(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    value = "2011-03-06T23:00:00Z"
    handled = check({"handledTriggers": {"kubedrift.io/check-at": value}})
    cluster = FakeCluster(handled)
    assert run(monkeypatch, cluster, ["run", "bikes", "--at", "2011-03-07"]) == 0
    assert cluster.annotated == [] and "pass --again" in capsys.readouterr().err
    assert run(monkeypatch, cluster, ["run", "bikes", "--at", "2011-03-07", "--again"]) == 0
    (annotation,) = cluster.annotated
    assert annotation["kubedrift.io/check-at"].startswith(value + ";id=")


def test_retrain_and_again_go_with_at(monkeypatch: pytest.MonkeyPatch) -> None:
    assert run(monkeypatch, FakeCluster(check()), ["run", "bikes", "--retrain"]) == 2


def test_the_parser_knows_the_new_flags() -> None:
    args = commands.build_parser().parse_args(["backfill", "bikes", "--from", "a", "--to", "b", "--retrain"])
    assert isinstance(args, argparse.Namespace) and (args.start, args.end, args.retrain) == ("a", "b", True)
    assert args.timeout == 3600.0
    assert commands.build_parser().parse_args(["run", "bikes", "--at", "x"]).at == "x"
