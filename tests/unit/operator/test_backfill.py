"""check-at and backfill: the Jobs of past windows, planned from (DriftCheck, children, now)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from kubedrift.models.jobconfig import ENV_SCHEDULED_AT
from kubedrift.models.status import BackfillStatus
from kubedrift_operator import names
from kubedrift_operator.reconcile import backfill
from kubedrift_operator.reconcile.draft import Children
from kubedrift_operator.settings import Settings
from tests.unit.operator import factories as f
from tests.unit.operator.test_plan import SETTINGS, apply_plan, cond, plan, settled, written

JSON = dict[str, Any]
CHECK_AT = "kubedrift.io/check-at"
BACKFILL = "kubedrift.io/backfill"
DAY = "2026-02-27T00:00:00Z..2026-02-27T23:59:59Z"  # 24 times of the factory's hourly schedule


def t(hour: int, day: int = 27) -> datetime:
    return datetime(2026, 2, day, hour, tzinfo=UTC)


def env_of(job: JSON) -> dict[str, str]:
    container = job["spec"]["template"]["spec"]["containers"][0]
    return {e["name"]: e.get("value", "") for e in container["env"]}


def running(name: str) -> JSON:
    return f.job(name, "check")


def ended(name: str, outcome: str = "Complete") -> JSON:
    return f.job(name, "check", outcome=outcome)


# --- the planner --------------------------------------------------------------------------


def fresh(total: int = 5) -> BackfillStatus:
    return BackfillStatus(
        value="v",
        start=t(0),
        end=t(max(total - 1, 0)),
        schedule="0 * * * *",
        phase="Running",
        total=total,
        started_at=f.NOW,
    )


TIMES = [t(h) for h in range(5)]


def test_the_planner_starts_the_first_times_up_to_the_concurrency() -> None:
    step = backfill.advance(fresh(), TIMES, {}, 2, f.NOW)
    assert step.create == TIMES[:2]
    assert (step.status.started, step.status.in_flight, step.status.phase) == (2, TIMES[:2], "Running")


def test_the_planner_starts_nothing_while_the_jobs_in_flight_run() -> None:
    status = fresh().model_copy(update={"started": 2, "in_flight": TIMES[:2]})
    step = backfill.advance(status, TIMES, {TIMES[0]: running("a"), TIMES[1]: running("b")}, 2, f.NOW)
    assert step.create == [] and step.status == status


@pytest.mark.parametrize(
    ("job", "done", "failed", "message"),
    [
        (ended("a"), 1, 0, None),
        (ended("a", "Failed"), 0, 1, "2026-02-27T00:00:00Z: X: m"),
        (None, 0, 1, f"2026-02-27T00:00:00Z: {backfill.GONE}"),
    ],
)
def test_a_job_that_ended_or_went_is_counted_once_and_the_next_time_starts(
    job: JSON | None, done: int, failed: int, message: str | None
) -> None:
    status = fresh().model_copy(update={"started": 2, "in_flight": TIMES[:2]})
    step = backfill.advance(status, TIMES, {TIMES[0]: job, TIMES[1]: running("b")}, 2, f.NOW)
    assert step.create == [TIMES[2]]
    new = step.status
    assert (new.done, new.failed, new.message, new.started, new.in_flight) == (
        done,
        failed,
        message,
        3,
        [TIMES[1], TIMES[2]],
    )


@pytest.mark.parametrize(("outcome", "phase"), [("Complete", "Succeeded"), ("Failed", "Failed")])
def test_the_backfill_ends_when_every_time_started_and_none_is_in_flight(outcome: str, phase: str) -> None:
    status = fresh().model_copy(update={"started": 5, "done": 4, "in_flight": TIMES[4:]})
    step = backfill.advance(status, TIMES, {TIMES[4]: ended("e", outcome)}, 2, f.NOW)
    assert step.create == [] and step.status.phase == phase and step.status.finished_at == f.NOW
    assert step.status.done + step.status.failed == 5


def test_an_empty_range_ends_at_once() -> None:
    step = backfill.advance(fresh(0), [], {}, 2, f.NOW)
    assert step.create == [] and step.status.phase == "Succeeded"


# --- the reconcile --------------------------------------------------------------------------


def reconcile_until_done(
    body: JSON, settings: Settings, finish_after: int = 1
) -> tuple[JSON, list[list[str]]]:
    """Reconcile like the operator: create what the plan says, write its status, and let each
    Job complete `finish_after` reconciles after its creation. Returns the last body and the
    Job names created by each reconcile."""
    jobs: dict[str, JSON] = {}
    age: dict[str, int] = {}
    created: list[list[str]] = []
    for round_ in range(200):
        out = plan(body, settled(body, list(jobs.values())), settings, f.NOW + timedelta(seconds=round_))
        names_now = [j["metadata"]["name"] for j in out.create_first]
        created.append(names_now)
        for manifest in out.create_first:
            assert manifest["metadata"]["name"] not in jobs, "a Job was created twice"
            jobs[manifest["metadata"]["name"]] = running(manifest["metadata"]["name"])
            age[manifest["metadata"]["name"]] = 0
        for name in list(jobs):
            age[name] += 1
            if age[name] > finish_after:
                jobs[name] = ended(name)
        in_flight = [n for n in jobs if not jobs[n]["status"]]
        assert len(in_flight) <= settings.backfill_concurrency
        body = apply_plan(body, out)
        if (body["status"].get("backfill") or {}).get("phase") not in (None, "Running"):
            return body, created
    raise AssertionError("the backfill did not end")


def test_a_backfill_checks_every_scheduled_time_once_in_order_a_few_at_a_time() -> None:
    body = f.driftcheck(annotations={BACKFILL: DAY})
    body, created = reconcile_until_done(body, Settings(backfill_concurrency=3))
    flat = [name for names_ in created for name in names_]
    assert flat == [names.backfill_job("bikes", DAY, t(h)) for h in range(24)]
    assert max(len(c) for c in created) == 3
    status = body["status"]["backfill"]
    assert (status["phase"], status["total"], status["done"], status["failed"]) == ("Succeeded", 24, 24, 0)
    assert body["status"]["handledTriggers"][BACKFILL] == DAY
    assert cond(body["status"], "Rerunning")["status"] == "False"
    assert cond(body["status"], "Rerunning")["reason"] == "BackfillSucceeded"
    assert "24 of 24 windows checked, 0 failed" in cond(body["status"], "Rerunning")["message"]
    # the same value again adds nothing
    again = plan(body, settled(body), SETTINGS, f.NOW + timedelta(hours=1))
    assert again.create_first == [] and written(again) is None


def test_each_job_carries_its_scheduled_time_and_no_retrain() -> None:
    out = plan(f.driftcheck(annotations={BACKFILL: DAY}), settled(f.driftcheck()), SETTINGS, f.NOW)
    first, second = out.create_first
    assert env_of(first)[ENV_SCHEDULED_AT] == "2026-02-27T00:00:00Z"
    assert env_of(second)[ENV_SCHEDULED_AT] == "2026-02-27T01:00:00Z"
    assert first["metadata"]["annotations"]["kubedrift.io/retrain"] == "false"
    assert first["metadata"]["labels"]["app.kubernetes.io/component"] == "check"
    assert first["spec"]["template"]["spec"]["containers"][0]["args"] == ["check"]
    status = written(out)
    assert status is not None and status["backfill"]["inFlight"] == [
        "2026-02-27T00:00:00Z",
        "2026-02-27T01:00:00Z",
    ]
    assert (
        cond(status, "Rerunning")["status"] == "True" and cond(status, "Rerunning")["reason"] == "Backfilling"
    )
    assert [e.reason for e in out.events] == ["BackfillStarted"]


def test_a_crash_before_the_status_write_repeats_the_same_creates() -> None:
    """The Jobs are created before the status counts them: a plan from the old status names the same Jobs."""
    body = f.driftcheck(annotations={BACKFILL: DAY})
    first = plan(body, settled(body), SETTINGS, f.NOW)
    created = [running(j["metadata"]["name"]) for j in first.create_first]
    # the operator died after the creates: same body, the Jobs exist
    again = plan(body, settled(body, created), SETTINGS, f.NOW + timedelta(seconds=30))
    assert [j["metadata"]["name"] for j in again.create_first] == [j["metadata"]["name"] for j in created]
    # once the status is written, a restart creates nothing while they run
    body = apply_plan(body, again)
    after = plan(body, settled(body, created), SETTINGS, f.NOW + timedelta(seconds=60))
    assert after.create_first == []


def test_a_new_backfill_value_gets_new_jobs_and_replaces_the_running_one() -> None:
    body = apply_plan(
        f.driftcheck(annotations={BACKFILL: DAY}),
        plan(f.driftcheck(annotations={BACKFILL: DAY}), settled(f.driftcheck()), SETTINGS, f.NOW),
    )
    other = DAY + ";id=2"
    body["metadata"]["annotations"][BACKFILL] = other
    out = plan(body, settled(body), SETTINGS, f.NOW)
    assert [j["metadata"]["name"] for j in out.create_first] == [
        names.backfill_job("bikes", other, t(0)),
        names.backfill_job("bikes", other, t(1)),
    ]
    assert "replaces the backfill" in out.events[0].message


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("2026-02-27T00:00:00Z", "is not a range"),
        ("2026-02-27T00:00:00Z..2026-03-02T00:00:00Z", "is in the future"),
        ("2026-01-01T00:00:00Z..2026-02-27T00:00:00Z", "holds more than 520 scheduled times of '0 * * * *'"),
    ],
)
def test_a_bad_backfill_value_is_refused_with_an_event_and_the_condition(value: str, words: str) -> None:
    body = f.driftcheck(annotations={BACKFILL: value})
    out = plan(body, settled(body), SETTINGS, f.NOW)
    status = written(out)
    assert status is not None and out.create_first == []
    assert status["backfill"]["phase"] == "Refused" and words in status["backfill"]["message"]
    assert status["handledTriggers"][BACKFILL] == value
    assert [(e.type, e.reason) for e in out.events] == [("Warning", "BackfillRefused")]
    assert words in out.events[0].message
    condition = cond(status, "Rerunning")
    assert (condition["status"], condition["reason"]) == ("False", "BackfillRefused")
    assert words in condition["message"]
    assert cond(status, "Ready")["status"] == "True"  # the DriftCheck itself is fine


def test_check_at_creates_one_job_for_that_time_and_follows_it() -> None:
    value = "2026-02-20T06:00:00Z"
    body = f.driftcheck(annotations={CHECK_AT: value})
    out = plan(body, settled(body), SETTINGS, f.NOW)
    (job,) = out.create_first
    name = names.check_at_job("bikes", value)
    assert job["metadata"]["name"] == name and env_of(job)[ENV_SCHEDULED_AT] == value
    assert job["metadata"]["annotations"]["kubedrift.io/retrain"] == "false"
    body = apply_plan(body, out)
    assert (
        body["status"]["checkAt"]["phase"] == "Running"
        and body["status"]["handledTriggers"][CHECK_AT] == value
    )
    assert plan(body, settled(body, [running(name)]), SETTINGS, f.NOW).create_first == []
    done = plan(body, settled(body, [ended(name)]), SETTINGS, f.NOW + timedelta(minutes=1))
    status = written(done)
    assert status is not None and status["checkAt"]["phase"] == "Succeeded"
    assert cond(status, "Rerunning")["reason"] == "CheckAtSucceeded"


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("last monday", "is not a time"),
        ("2026-03-01T12:00:01Z", "is in the future"),
        ("2026-02-20T06:00:00", "no offset"),
    ],
)
def test_a_bad_check_at_value_is_refused_with_an_event_and_the_condition(value: str, words: str) -> None:
    body = f.driftcheck(annotations={CHECK_AT: value})
    out = plan(body, settled(body), SETTINGS, f.NOW)
    status = written(out)
    assert status is not None and out.create_first == []
    assert status["checkAt"]["phase"] == "Refused" and words in status["checkAt"]["message"]
    assert [(e.type, e.reason) for e in out.events] == [("Warning", "CheckAtRefused")]
    assert (
        cond(status, "Rerunning")["reason"] == "CheckAtRefused"
        and words in cond(status, "Rerunning")["message"]
    )


@pytest.mark.parametrize(("retrain", "runs"), [(False, 0), (True, 1)])
def test_drift_in_a_past_window_starts_a_retrain_only_when_asked(retrain: bool, runs: int) -> None:
    value = "2026-02-20T06:00:00Z" + (";retrain" if retrain else "")
    body = f.driftcheck(annotations={CHECK_AT: value})
    out = plan(body, settled(body), SETTINGS, f.NOW)
    (job,) = out.create_first
    body = apply_plan(body, out)
    name = job["metadata"]["name"]
    finished = {**job, "status": ended(name)["status"]}
    pod = f.pod(name, "Succeeded", message=f.check_summary(drift=True))
    out = plan(
        body, Children.of("bikes", [*settled(body).config_maps.values(), finished, pod]), SETTINGS, f.NOW
    )
    status = written(out)
    assert status is not None and status["lastCheck"]["job"] == name and status["lastCheck"]["datasetDrift"]
    assert ("run" in status) == bool(runs)
    assert len([m for m in out.create if m["kind"] == "Job"]) == runs


def test_the_concurrency_setting() -> None:
    assert Settings.from_env({}).backfill_concurrency == 2
    assert Settings.from_env({"KUBEDRIFT_BACKFILL_CONCURRENCY": "4"}).backfill_concurrency == 4
    for bad in ("0", "17"):
        with pytest.raises(ValueError, match="KUBEDRIFT_BACKFILL_CONCURRENCY must be between 1 and 16"):
            Settings.from_env({"KUBEDRIFT_BACKFILL_CONCURRENCY": bad})


def test_past_window_job_names_fit_and_differ_by_value_and_time() -> None:
    long = "a" * 63
    one = names.backfill_job(long, "v1", t(0))
    assert len(one) <= names.MAX_JOB_NAME and one.endswith("-202602270000")
    assert one == names.backfill_job(long, "v1", t(0))
    assert len({one, names.backfill_job(long, "v2", t(0)), names.backfill_job(long, "v1", t(1))}) == 3
    assert len(names.check_at_job(long, "2026-02-20T06:00:00Z")) <= names.MAX_JOB_NAME
