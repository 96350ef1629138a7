"""Time windows on the operator side, as pure reconcile decisions: checks recorded once per
scheduled time, empty windows followed and re-checked, the reference following production, and
retrain windows resolved from the triggering check's scheduled time."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from kubedrift.models.jobconfig import CheckJobConfig, TrainJobConfig
from kubedrift.models.resources import DriftCheck
from kubedrift_operator import names
from kubedrift_operator.build import check as build_check
from kubedrift_operator.build.check import rfc3339
from kubedrift_operator.reconcile import plan as reconcile
from kubedrift_operator.settings import Settings
from tests.unit.operator import factories as f
from tests.unit.operator.test_build import parsed
from tests.unit.operator.test_plan import apply_plan, cond, plan, settled, written

SETTINGS = Settings(empty_window_recheck_seconds=30, empty_window_rechecks=3)
S = datetime(2026, 3, 1, 11, 0, tzinfo=UTC)  # the scheduled time of the checks below
ANNOTATION = "batch.kubernetes.io/cronjob-scheduled-timestamp"
JSON = dict[str, Any]


def windowed_spec(**retrain: Any) -> JSON:
    spec = json.loads(json.dumps(f.SPEC))
    spec["schedule"] = "0 * * * *"
    spec["current"] = {
        "uri": "s3://bikes/current/",
        "time": {"partition": "dt=%Y-%m-%d/%H"},
        "window": {"last": "1h"},
    }
    spec["reference"] = {"uri": "s3://bikes/reference.parquet", "followProduction": True}
    spec["retrain"]["train"] = {
        "uri": "s3://bikes/current/",
        "time": {"partition": "dt=%Y-%m-%d/%H"},
        "window": {"last": "6h", "offset": "1h"},
    }
    spec["retrain"]["test"] = {
        "uri": "s3://bikes/current/",
        "time": {"partition": "dt=%Y-%m-%d/%H"},
        "window": {"last": "1h"},
    }
    spec["retrain"].update(retrain)
    return spec


def cron_job(name: str, scheduled: datetime, outcome: str = "Complete", at: datetime = f.NOW) -> JSON:
    job = f.job(name, "check", outcome=outcome, at=at)
    job["metadata"]["annotations"] = {ANNOTATION: scheduled.isoformat()}
    return job


def window(start: datetime, end: datetime) -> JSON:
    return {"start": f.ts(start), "end": f.ts(end)}


def summary(scheduled: datetime, drift: bool = True, at: datetime = f.NOW) -> JSON:
    return {
        **f.check_summary(drift),
        "finishedAt": f.ts(at),
        "scheduledAt": f.ts(scheduled),
        "window": window(scheduled - timedelta(hours=1), scheduled),
    }


def empty(scheduled: datetime) -> JSON:
    text = f"no data in the window {scheduled - timedelta(hours=1)}..{scheduled} of s3://bikes/current/"
    return {
        "skipped": "EmptyWindow",
        "message": text,
        "scheduledAt": f.ts(scheduled),
        "window": window(scheduled - timedelta(hours=1), scheduled),
    }


def check_pod(job: str, message: JSON, at: datetime = f.NOW, suffix: str = "a") -> JSON:
    return f.pod(job, "Succeeded", message=message, at=at, suffix=suffix)


def start(spec: JSON | None = None) -> JSON:
    body = f.driftcheck(spec=spec or windowed_spec())
    return apply_plan(body, plan(body, settled(body), SETTINGS, f.NOW))


def test_a_check_is_recorded_under_the_jobs_scheduled_time_with_its_window() -> None:
    body = start()
    objects = [cron_job("bikes-check-1", S), check_pod("bikes-check-1", summary(S))]
    status = written(plan(body, settled(body, objects), SETTINGS, f.NOW))
    assert status is not None
    (record,) = status["history"]
    assert record["scheduledAt"] == f.ts(S) and record["window"] == window(S - timedelta(hours=1), S)
    assert record["driftedColumns"] == ["temp", "atemp", "hum"] and record["targetDrift"] is True
    assert status["lastCheck"]["scheduledAt"] == f.ts(S)
    assert cond(status, "DataAvailable")["status"] == "True"
    assert "2026-03-01T10:00+00:00..2026-03-01T11:00+00:00" in cond(status, "DataAvailable")["message"]


def test_two_starts_of_one_window_record_once_and_a_late_one_never_replaces_it() -> None:
    body = start()
    first = [cron_job("bikes-check-1", S), check_pod("bikes-check-1", summary(S, drift=True))]
    body = apply_plan(body, plan(body, settled(body, first), SETTINGS, f.NOW))
    later = f.NOW + timedelta(minutes=5)
    second = [
        cron_job("bikes-now-x", S, at=later),
        check_pod("bikes-now-x", summary(S, drift=False, at=later), at=later),
    ]
    out = plan(body, settled(body, [*first, *second]), SETTINGS, later)
    status = written(out) or body["status"]
    assert [r["job"] for r in status["history"]] == ["bikes-check-1"]
    assert status["lastCheck"]["job"] == "bikes-check-1"
    assert "NoDrift" not in [e.reason for e in out.events]


def test_the_history_is_newest_window_first_whatever_order_the_jobs_finish_in() -> None:
    body = start()
    objects: list[JSON] = []
    for i, hours in enumerate([3, 1, 2]):
        at = f.NOW + timedelta(minutes=i)
        objects += [
            cron_job(f"bikes-check-{i}", S - timedelta(hours=hours), at=at),
            check_pod(f"bikes-check-{i}", summary(S - timedelta(hours=hours), drift=False, at=at), at=at),
        ]
    status = written(plan(body, settled(body, objects), SETTINGS, f.NOW + timedelta(minutes=5)))
    assert status is not None
    assert [r["scheduledAt"] for r in status["history"]] == [f.ts(S - timedelta(hours=h)) for h in (1, 2, 3)]
    assert status["lastCheck"]["scheduledAt"] == f.ts(S - timedelta(hours=1))


def test_an_already_recorded_window_records_nothing() -> None:
    body = start()
    skipped = {"skipped": "AlreadyRecorded", "message": "recorded", "scheduledAt": f.ts(S)}
    objects = [cron_job("bikes-check-1", S), check_pod("bikes-check-1", skipped)]
    out = plan(body, settled(body, objects), SETTINGS, f.NOW)
    assert written(out) is None or not written(out).get("history")


def test_an_empty_window_is_a_condition_and_an_event_then_rechecked_until_the_data_lands() -> None:
    body = f.driftcheck(spec=windowed_spec())
    body["spec"]["schedule"] = "0 0 1 1 *"  # the next scheduled check is far away
    body = apply_plan(body, plan(body, settled(body), SETTINGS, f.NOW))
    objects = [cron_job("bikes-check-1", S), check_pod("bikes-check-1", empty(S))]
    out = plan(body, settled(body, objects), SETTINGS, f.NOW)
    status = written(out)
    assert status is not None
    ready, data = cond(status, "Ready"), cond(status, "DataAvailable")
    assert ready["status"] == "True" and cond(status, "Stalled")["status"] == "False"
    assert (data["status"], data["reason"]) == ("False", "EmptyWindow")
    assert "2026-03-01 10:00:00+00:00..2026-03-01 11:00:00+00:00" in data["message"]
    assert "looking again at" in data["message"]
    assert [(e.type, e.reason) for e in out.events] == [("Warning", "EmptyWindow")]
    assert "run" not in status and out.create == []  # no retrain
    assert status["history"][0]["reason"] == "EmptyWindow"
    body = apply_plan(body, out)

    # Nothing new until the re-check is due; then one Job pinned to the same scheduled time.
    quiet = plan(body, settled(body, objects), SETTINGS, f.NOW + timedelta(seconds=10))
    assert written(quiet) is None and quiet.events == [] and quiet.create == []
    assert quiet.requeue_after is not None and quiet.requeue_after <= 20
    due = f.NOW + timedelta(seconds=31)
    out = plan(body, settled(body, objects), SETTINGS, due)
    (job,) = out.create
    assert job["metadata"]["name"] == names.recheck_job("bikes", rfc3339(S), 1)
    env = {e["name"]: e.get("value") for e in job["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["KUBEDRIFT_SCHEDULED_AT"] == "2026-03-01T11:00:00Z"
    assert written(out)["emptyWindow"]["rechecks"] == 1
    body = apply_plan(body, out)

    # The re-check finds the data: recorded like any check, the condition clears, drift retrains.
    name = job["metadata"]["name"]
    landed = due + timedelta(seconds=20)
    objects += [
        {**f.job(name, "check", outcome="Complete", at=landed), "spec": job["spec"]},
        check_pod(name, summary(S, drift=True, at=landed), at=landed),
    ]
    out = plan(body, settled(body, objects), SETTINGS, landed)
    status = written(out)
    assert status is not None and "emptyWindow" not in status
    assert [(r["job"], r["succeeded"]) for r in status["history"]] == [(name, True)]
    assert cond(status, "DataAvailable")["status"] == "True"
    assert {"WindowFilled", "DriftDetected", "RetrainStarted"} <= {e.reason for e in out.events}
    # and it stays so: the first Job's empty outcome never comes back
    again = plan(apply_plan(body, out), settled(body, objects), SETTINGS, landed + timedelta(seconds=5))
    assert written(again) is None or "emptyWindow" not in written(again)


def test_the_rechecks_stop_at_the_next_scheduled_check() -> None:
    body = start()  # hourly: the check of 12:00 reads its own window
    objects = [cron_job("bikes-check-1", S), check_pod("bikes-check-1", empty(S))]
    body = apply_plan(body, plan(body, settled(body, objects), SETTINGS, S + timedelta(minutes=59)))
    out = plan(body, settled(body, objects), SETTINGS, S + timedelta(minutes=61))
    assert out.create == [] and written(out)["emptyWindow"].get("nextRecheckAt") is None
    assert [e.reason for e in out.events] == ["EmptyWindowGaveUp"]
    data = cond(written(out), "DataAvailable")
    assert data["status"] == "False" and "kubectl drift run NAME --at 2026-03-01T11:00:00Z" in data["message"]


def test_the_reference_follows_the_production_models_training_data() -> None:
    body = f.driftcheck(spec=windowed_spec())
    before = build_check.check_config(parsed(body))
    assert before.reference.uri == "s3://bikes/reference.parquet" and before.reference.window is None
    training = {
        "uri": "s3://bikes/current/",
        "time": {"partition": "dt=%Y-%m-%d/%H"},
        "window": {"from": "2026-03-01T04:00:00Z", "to": "2026-03-01T10:00:00Z"},
    }
    body["status"] = {
        "production": {
            "experiment": "bikes-r1-0",
            "uri": "s3://bikes/reports/bikes/production",
            "promotedAt": f.ts(f.NOW),
            "trainingData": training,
            "trainingDataVersion": "abcd1234",
        }
    }
    check = reconcile.parse(body)
    assert isinstance(check, DriftCheck)
    config = CheckJobConfig.model_validate_json(build_check.config_map(check)["data"]["config.json"])
    assert config.reference.to_wire() == training
    assert config.current.window is not None and config.current.window.last == "1h"  # as written


def test_a_run_resolves_its_windows_from_the_triggering_checks_scheduled_time() -> None:
    body = start()
    objects = [cron_job("bikes-check-1", S), check_pod("bikes-check-1", summary(S))]
    out = plan(body, settled(body, objects), SETTINGS, f.NOW)
    run = written(out)["run"]
    assert run["scheduledAt"] == f.ts(S)
    assert run["trainWindow"] == window(S - timedelta(hours=7), S - timedelta(hours=1))
    assert run["testWindow"] == window(S - timedelta(hours=1), S)
    config_map = next(m for m in out.create if m["kind"] == "ConfigMap")
    config = TrainJobConfig.model_validate_json(config_map["data"]["config.json"])
    assert config.retrain.train.window is not None and config.retrain.train.window.relative is False
    experiments = [m for m in out.create if m["kind"] == "Experiment"]
    assert {json.dumps(e["spec"]["trainWindow"]) for e in experiments} == {json.dumps(run["trainWindow"])}
    assert {json.dumps(e["spec"]["testWindow"]) for e in experiments} == {json.dumps(run["testWindow"])}


def test_a_promotion_records_the_trials_training_data_and_version() -> None:
    body = start()
    run_name = "r1"
    exp = f.experiment(
        "bikes-r1-0",
        run_name,
        0,
        status={"phase": "Succeeded", "objective": 0.9, "modelUri": "s3://m", "trainDataVersion": "feed0001"},
    )
    exp["spec"] = {
        "index": 0,
        "trainUri": "s3://bikes/current/",
        "trainWindow": window(S - timedelta(hours=7), S - timedelta(hours=1)),
    }
    promote = f.job("bikes-promote-1", "promote", outcome="Complete")
    body["status"]["promoting"] = {
        "experiment": "bikes-r1-0",
        "job": "bikes-promote-1",
        "reason": "Auto",
        "objective": 0.9,
        "sourceUri": "s3://m",
        "uri": "s3://bikes/reports/bikes/production",
        "requestedAt": f.ts(f.NOW),
    }
    status = written(plan(body, settled(body, [exp, promote]), SETTINGS, f.NOW))
    production = status["production"]
    assert production["trainingDataVersion"] == "feed0001"
    assert production["trainingData"] == {
        "uri": "s3://bikes/current/",
        "time": {"partition": "dt=%Y-%m-%d/%H"},
        "window": {"from": f.ts(S - timedelta(hours=7)), "to": f.ts(S - timedelta(hours=1))},
    }


def test_a_trial_records_the_versions_of_its_train_and_test_data() -> None:
    from kubedrift.models.status import ExperimentStatus
    from kubedrift_operator.reconcile.runs import trial_status

    summary = {**f.trial_summary(0, 0.8), "trainDataVersion": "feed0001", "testDataVersion": "beef0002"}
    pod = f.pod("bikes-r1", "Succeeded", message=summary, index=0)
    status = trial_status(ExperimentStatus(), [pod], f.job("bikes-r1", "train"), 0)
    assert (status.phase, status.train_data_version, status.test_data_version) == (
        "Succeeded",
        "feed0001",
        "beef0002",
    )


def test_the_check_config_carries_the_schedules_zone_and_the_sources_as_written() -> None:
    spec = windowed_spec()
    spec["timeZone"] = "Europe/Berlin"
    check = reconcile.parse(f.driftcheck(spec=spec))
    assert isinstance(check, DriftCheck)
    config = CheckJobConfig.model_validate_json(build_check.config_map(check)["data"]["config.json"])
    assert config.zone == "Europe/Berlin"
    assert config.current.window is not None and config.current.window.last == "1h"


def test_a_pod_that_checked_another_time_than_its_job_is_recorded_under_the_jobs_and_said_once() -> None:
    body = start()
    other = S - timedelta(minutes=7)
    objects = [cron_job("bikes-check-1", S), check_pod("bikes-check-1", summary(other))]
    out = plan(body, settled(body, objects), SETTINGS, f.NOW)
    status = written(out)
    assert status is not None and status["history"][0]["scheduledAt"] == f.ts(S)
    assert [e.reason for e in out.events].count("ScheduledTimeMismatch") == 1
    again = plan(apply_plan(body, out), settled(body, objects), SETTINGS, f.NOW + timedelta(seconds=5))
    assert "ScheduledTimeMismatch" not in [e.reason for e in again.events]
