"""The reconcile decisions, as pure functions of (DriftCheck, children, now)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from kubedrift.models.resources import DriftCheck
from kubedrift.models.status import CHECK_HISTORY_LIMIT as HISTORY_LIMIT
from kubedrift.models.validation import invalid_message, operator_problems
from kubedrift_operator import names
from kubedrift_operator.reconcile import plan as reconcile
from kubedrift_operator.reconcile.draft import Children, Plan
from kubedrift_operator.settings import Settings
from tests.unit.operator import factories as f

SETTINGS = Settings()


def cond(status: dict[str, Any], type_: str) -> dict[str, Any]:
    return next(c for c in status["conditions"] if c["type"] == type_)


def settled(body: dict[str, Any], objects: list[dict[str, Any]] | None = None) -> Children:
    """Children as they are once the static children were applied."""
    from kubedrift_operator.build.check import config_map, cron_job
    from tests.unit.operator.test_build import parsed

    return Children.of(
        "bikes", [config_map(parsed(body)), cron_job(parsed(body), SETTINGS), *(objects or [])]
    )


def plan(body: dict[str, Any], children: Children, settings: Settings, now: Any) -> Plan:
    """The plan for a raw body, parsed once as the controller does."""
    return reconcile.plan(reconcile.parse(body), children, settings, now)


def written(out: Plan) -> dict[str, Any] | None:
    """The DriftCheck status as the controller writes it; None when unchanged."""
    return out.status.to_wire() if out.status is not None else None


def apply_plan(body: dict[str, Any], out: Plan) -> dict[str, Any]:
    return {**body, "status": written(out)} if out.status is not None else body


def test_a_new_driftcheck_gets_its_children_and_ready() -> None:
    out = plan(f.driftcheck(), Children(service_account=False), SETTINGS, f.NOW)
    assert [m["kind"] for m in out.apply] == ["ServiceAccount", "ConfigMap", "CronJob"]
    assert written(out) is not None and cond(written(out), "Ready")["status"] == "True"
    assert cond(written(out), "Drifted")["status"] == "Unknown"
    assert out.create == [] and out.create_first == []


def test_a_settled_driftcheck_plans_nothing() -> None:
    body = f.driftcheck()
    body = apply_plan(body, plan(body, settled(body), SETTINGS, f.NOW))
    again = plan(body, settled(body), SETTINGS, f.NOW + timedelta(minutes=5))
    assert (again.apply, again.create, written(again), again.events) == ([], [], None, [])


def test_an_invalid_stored_spec_stalls_without_touching_children() -> None:
    body = f.driftcheck(spec={"schedule": "* *"})
    out = plan(body, Children(), SETTINGS, f.NOW)
    assert out.apply == [] and written(out) is not None
    assert (
        cond(written(out), "Stalled")["reason"] == "InvalidSpec"
        and cond(written(out), "Ready")["status"] == "False"
    )
    assert [e.reason for e in out.events] == ["InvalidSpec"]


def test_check_now_creates_one_job_and_acknowledges_it() -> None:
    body = f.driftcheck(annotations={"kubedrift.io/check-now": "t1"})
    out = plan(body, settled(body), SETTINGS, f.NOW)
    assert [j["metadata"]["name"] for j in out.create_first] == [names.check_now_job("bikes", "t1")]
    assert written(out) is not None and written(out)["handledTriggers"]["kubedrift.io/check-now"] == "t1"
    again = plan(apply_plan(body, out), settled(body), SETTINGS, f.NOW)
    assert again.create_first == []


def drifted_check(drift: bool = True) -> tuple[dict[str, Any], Children]:
    body = f.driftcheck()
    body = apply_plan(body, plan(body, settled(body), SETTINGS, f.NOW))
    job = f.job("bikes-check-1", "check", outcome="Complete")
    pod = f.pod("bikes-check-1", "Succeeded", message=f.check_summary(drift))
    return body, settled(body, [job, pod])


def test_drift_records_the_check_and_starts_exactly_one_run() -> None:
    body, children = drifted_check()
    out = plan(body, children, SETTINGS, f.NOW + timedelta(seconds=5))
    status = written(out)
    assert status is not None
    assert status["lastCheck"]["datasetDrift"] is True and status["lastCheck"]["job"] == "bikes-check-1"
    run = status["run"]
    assert run["phase"] == "Running" and run["trialsTotal"] == 6 and run["reason"] == "Drift"
    kinds = [m["kind"] for m in out.create]
    assert kinds == ["ConfigMap", *["Experiment"] * 6, "Job"]
    assert {e.reason for e in out.events} >= {"DriftDetected", "RetrainStarted"}
    assert cond(status, "Drifted")["status"] == "True" and cond(status, "Retraining")["status"] == "True"
    # the same check is never recorded twice, and no second run starts
    again = plan(apply_plan(body, out), children, SETTINGS, f.NOW + timedelta(seconds=10))
    assert written(again) is None or written(again)["run"]["name"] == run["name"]
    assert len(written(again)["history"] if written(again) else status["history"]) == 1


def test_no_drift_records_the_check_without_a_run() -> None:
    body, children = drifted_check(drift=False)
    out = plan(body, children, SETTINGS, f.NOW)
    assert written(out) is not None and "run" not in written(out) and out.create == []
    assert cond(written(out), "Drifted")["reason"] == "NoDrift"


def test_a_failed_check_reads_the_jobs_reason() -> None:
    body = f.driftcheck()
    job = f.job("bikes-check-1", "check", outcome="Failed")
    pod = f.pod(
        "bikes-check-1",
        "Failed",
        exit_code=3,
        message={"error": {"reason": "DataNotFound", "message": "no s3://x"}},
    )
    out = plan(body, settled(body, [job, pod]), SETTINGS, f.NOW)
    assert written(out) is not None
    assert written(out)["lastCheck"]["reason"] == "DataNotFound"
    assert (
        cond(written(out), "Ready")["reason"] == "DataNotFound"
        and cond(written(out), "Stalled")["status"] == "True"
    )
    assert [(e.type, e.reason) for e in out.events] == [("Warning", "CheckFailed")]


def test_a_failed_check_keeps_the_earlier_report_in_the_history() -> None:
    body = f.driftcheck()
    first = [
        f.job("bikes-check-1", "check", outcome="Complete"),
        f.pod("bikes-check-1", "Succeeded", message=f.check_summary(drift=False)),
    ]
    body = apply_plan(body, plan(body, settled(body, first), SETTINGS, f.NOW))
    later = f.NOW + timedelta(hours=1)
    denied = {"reason": "InvalidConfig", "message": "s3://bikes/reports/bikes/x/report.json: access denied"}
    failed = [
        f.job("bikes-check-2", "check", outcome="Failed", at=later),
        f.pod("bikes-check-2", "Failed", exit_code=2, at=later, message={"error": denied}),
    ]
    status = written(plan(body, settled(body, [*first, *failed]), SETTINGS, later))
    assert status is not None and status["lastCheck"]["job"] == "bikes-check-2"
    assert "reportUri" not in status["lastCheck"]
    assert [r.get("reportUri") for r in status["history"]] == [None, f.check_summary()["reportUri"]]


def test_a_finished_job_without_its_pod_waits_then_is_recorded_unavailable() -> None:
    body = f.driftcheck()
    job = f.job("bikes-check-1", "check", outcome="Complete", at=f.NOW)
    soon = plan(body, settled(body, [job]), SETTINGS, f.NOW + timedelta(seconds=3))
    assert soon.requeue_after is not None and "lastCheck" not in (written(soon) or {})
    late = plan(body, settled(body, [job]), SETTINGS, f.NOW + timedelta(minutes=2))
    assert written(late) is not None and written(late)["lastCheck"]["reason"] == "ResultUnavailable"


def test_history_is_capped() -> None:
    body = f.driftcheck()
    objects: list[dict[str, Any]] = []
    for i in range(HISTORY_LIMIT + 5):
        at = f.NOW + timedelta(minutes=i)
        objects.append(f.job(f"bikes-check-{i}", "check", outcome="Complete", at=at))
        summary = {**f.check_summary(drift=False), "finishedAt": f.ts(at)}
        objects.append(f.pod(f"bikes-check-{i}", "Succeeded", message=summary, at=at))
    out = plan(body, settled(body, objects), SETTINGS, f.NOW + timedelta(hours=1))
    assert written(out) is not None and len(written(out)["history"]) == HISTORY_LIMIT
    assert written(out)["lastCheck"]["job"] == f"bikes-check-{HISTORY_LIMIT + 4}"
    assert written(out)["history"][0]["job"] == written(out)["lastCheck"]["job"]


def running(body: dict[str, Any]) -> tuple[dict[str, Any], str]:
    out = plan(body, drifted_check()[1], SETTINGS, f.NOW)
    body = apply_plan(body, out)
    return body, body["status"]["run"]["name"]


def test_trials_become_experiment_statuses_and_the_run_is_summarised() -> None:
    body, _ = drifted_check()
    body, run = running(body)
    job_name = names.run_job("bikes", run)
    exps = [
        f.experiment(names.experiment("bikes", run, i), run, i, status={"phase": "Pending"}) for i in range(6)
    ]
    objectives = [0.70, 0.80, 0.75, 0.60, 0.90, 0.65]
    pods = [
        f.pod(job_name, "Succeeded", index=i, message=f.trial_summary(i, objectives[i]))
        for i in range(6)
        if i != 3
    ]
    pods.append(
        f.pod(
            job_name,
            "Failed",
            index=3,
            exit_code=5,
            message={"error": {"reason": "TrainingFailed", "message": "boom"}},
        )
    )
    job = f.job(job_name, "train", run=run, outcome="Failed", completed="0-2,4-5", failed="3")
    children = settled(body, [*exps, *pods, job, f.job("bikes-check-1", "check", outcome="Complete")])
    children.pods.append(f.pod("bikes-check-1", "Succeeded", message=f.check_summary()))
    out = plan(body, children, SETTINGS, f.NOW + timedelta(minutes=5))
    statuses = {name: s.to_wire() for name, s in out.experiment_status.items()}
    assert statuses[names.experiment("bikes", run, 4)]["objective"] == 0.90
    failed = statuses[names.experiment("bikes", run, 3)]
    assert (failed["phase"], failed["reason"], failed["message"]) == ("Failed", "TrainingFailed", "boom")
    status = written(out)
    assert status is not None
    summary = status["run"]
    assert (summary["phase"], summary["trialsSucceeded"], summary["trialsFailed"]) == ("Succeeded", 5, 1)
    assert summary["bestExperiment"] == names.experiment("bikes", run, 4)
    # Auto policy, no production yet: promotion is recorded before its Job is created
    assert status["promoting"]["experiment"] == summary["bestExperiment"]
    jobs = [m for m in out.create if m["kind"] == "Job"]
    assert len(jobs) == 1 and "promote-copy" in jobs[0]["spec"]["template"]["spec"]["containers"][0]["args"]
    assert {e.reason for e in out.events} >= {"ExperimentFailed", "RetrainSucceeded", "Promoting"}


def test_a_trial_being_retried_is_still_running() -> None:
    from kubedrift.models.status import ExperimentStatus
    from kubedrift_operator.reconcile.runs import trial_status

    pods = [
        f.pod(
            "j", "Failed", index=0, exit_code=75, message={"error": {"reason": "Transient", "message": "x"}}
        ),
        f.pod("j", "Running", index=0, suffix="b"),
    ]
    status = trial_status(ExperimentStatus(), pods, f.job("j", "train", completed="", failed=""), 0)
    assert status.phase == "Running" and status.attempts == 2


def test_an_index_the_job_never_ran_fails_as_not_run() -> None:
    from kubedrift.models.status import ExperimentStatus
    from kubedrift_operator.reconcile.runs import trial_status

    status = trial_status(
        ExperimentStatus(), [], f.job("j", "train", outcome="Failed", completed="0", failed="1"), 2
    )
    assert status.phase == "Failed" and status.reason == "NotRun"


def test_promotion_skips_a_model_that_does_not_beat_production_by_the_margin() -> None:
    from kubedrift.models.status import DriftCheckStatus, ProductionModel, RunStatus
    from kubedrift_operator.reconcile import promotion
    from kubedrift_operator.reconcile.draft import Draft
    from tests.unit.operator.test_build import parsed

    body = f.driftcheck()
    body["spec"]["promotion"] = {"policy": "Auto", "minImprovement": 0.05}
    status = DriftCheckStatus(
        production=ProductionModel(experiment="old", objective=0.88, uri="s3://p", promoted_at=f.NOW),
        run=RunStatus(
            name="r1",
            job="j",
            reason="Drift",
            phase="Succeeded",
            started_at=f.NOW,
            trials_total=1,
            best_experiment="bikes-r1-0",
            best_objective=0.90,
        ),
    )
    draft = Draft(check=parsed(body), children=Children(), settings=SETTINGS, now=f.NOW, status=status)
    promotion.auto_promote(draft)
    assert draft.status.promoting is None and draft.promoted_condition is not None
    assert draft.promoted_condition[1] == "NotImproved"
    assert [e.reason for e in draft.plan.events] == ["PromotionSkipped"]


def test_a_grid_param_the_estimator_lacks_stalls_before_any_job() -> None:
    # The apiserver cannot check grid keys (CEL does not see untyped values); the models can.
    body = f.driftcheck()
    body["spec"]["retrain"]["grid"] = {"n_estimator": [10, 20]}
    out = plan(body, Children(), SETTINGS, f.NOW)
    assert out.apply == [] and out.create == [] and written(out) is not None
    stalled = cond(written(out), "Stalled")
    assert stalled["reason"] == "InvalidSpec"
    assert "grid may only name constructor params of the estimator" in stalled["message"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"timeZone": "Mars/Olympus"}, "spec.timeZone"),
        ({"timeZone": "Local"}, "spec.timeZone"),
        ({"schedule": "0 9 * * fri-mon"}, "spec.schedule"),
        (
            {
                "retrain": {
                    **f.SPEC["retrain"],
                    "train": {"uri": "./bikes/"},
                    "test": {"uri": "bikes/2012.parquet"},
                }
            },
            "spec.retrain.test.uri",
        ),
    ],
)
def test_what_cel_cannot_check_stalls_before_any_child_in_the_local_words(
    changes: dict[str, Any], field: str
) -> None:
    body = f.driftcheck(spec={**f.SPEC, **changes})
    with pytest.raises(ValidationError) as local:
        DriftCheck.model_validate(body)
    assert operator_problems(local.value) is not None  # the apiserver accepts it
    line = invalid_message("DriftCheck", "bikes", local.value).removeprefix(
        'The DriftCheck "bikes" is invalid: '
    )
    out = plan(body, Children(), SETTINGS, f.NOW)
    assert out.apply == [] and out.create == [] and out.create_first == []
    stalled = cond(written(out), "Stalled")
    assert (stalled["reason"], stalled["message"]) == ("InvalidSpec", line) and line.startswith(f"{field}: ")
    assert [(e.reason, e.message) for e in out.events] == [("InvalidSpec", line)]


PRODUCTION_URI = "s3://bikes/reports/bikes/production"


def production_check(objective: float = 0.80, margin: float = 0.05) -> tuple[dict[str, Any], Children]:
    """A drifted check whose earlier run promoted `old` (objective recorded at its promotion)."""
    body, children = drifted_check()
    body["spec"]["promotion"] = {"policy": "Auto", "minImprovement": margin}
    body["status"]["production"] = {
        "experiment": "bikes-rold-1",
        "objective": objective,
        "uri": PRODUCTION_URI,
        "promotedAt": f.ts(f.NOW),
    }
    return body, children


def test_a_run_with_a_production_model_evaluates_it_as_the_index_after_the_grid() -> None:
    body, children = production_check()
    out = plan(body, children, SETTINGS, f.NOW)
    assert written(out) is not None
    run = written(out)["run"]
    assert run["trialsTotal"] == 6
    assert run["baseline"] == {"experiment": "bikes-rold-1", "uri": PRODUCTION_URI, "phase": "Pending"}
    assert [m["kind"] for m in out.create] == ["ConfigMap", *["Experiment"] * 6, "Job"]
    config = json.loads(out.create[0]["data"]["config.json"])
    assert config["baselineModelUri"] == PRODUCTION_URI
    assert out.create[-1]["spec"]["completions"] == 7
    # the children are rebuilt from the recorded run, not from the (maybe changed) production
    body = apply_plan(body, out)
    del body["status"]["production"]
    again = plan(body, children, SETTINGS, f.NOW + timedelta(seconds=5))
    assert again.create[-1]["spec"]["completions"] == 7
    assert json.loads(again.create[0]["data"]["config.json"])["baselineModelUri"] == PRODUCTION_URI


def test_a_run_without_a_production_model_has_no_baseline() -> None:
    body, children = drifted_check()
    out = plan(body, children, SETTINGS, f.NOW)
    assert written(out) is not None and "baseline" not in written(out)["run"]
    assert "baselineModelUri" not in out.create[0]["data"]["config.json"]
    assert out.create[-1]["spec"]["completions"] == 6


def baseline_summary(objective: float) -> dict[str, Any]:
    return {**f.trial_summary(6, objective), "modelUri": f"{PRODUCTION_URI}/model.skops", "baseline": True}


def ended_run(
    body: dict[str, Any],
    baseline_pod: dict[str, Any] | None,
    *,
    completed: str,
    failed: str = "",
    defined: bool = True,
) -> tuple[dict[str, Any], Plan, str]:
    """Six trials succeeded (best index 4, 0.90; none with `defined=False`); the Job ended;
    the baseline pod as given."""
    body, run = running(body)
    job_name = names.run_job("bikes", run)
    objectives = [0.70, 0.80, 0.75, 0.60, 0.90, 0.65]
    summaries = [f.trial_summary(i, objectives[i]) for i in range(6)]
    if not defined:  # the objective (avg_prec) is undefined on this test data for every trial
        for summary in summaries:
            del summary["metrics"]["avg_prec"], summary["objective"]
            summary["undefinedMetrics"] = {"avg_prec": "the test data has one class"}
    exps = [
        f.experiment(names.experiment("bikes", run, i), run, i, status={"phase": "Pending"}) for i in range(6)
    ]
    pods = [f.pod(job_name, "Succeeded", index=i, message=summaries[i]) for i in range(6)]
    if baseline_pod is not None:
        pods.append(baseline_pod)
    outcome = "Failed" if failed else "Complete"
    job = f.job(job_name, "train", run=run, outcome=outcome, completed=completed, failed=failed)
    children = settled(body, [*exps, *pods, job, f.job("bikes-check-1", "check", outcome="Complete")])
    children.pods.append(f.pod("bikes-check-1", "Succeeded", message=f.check_summary()))
    return body, plan(body, children, SETTINGS, f.NOW + timedelta(minutes=5)), job_name


def running_with_production(objective: float = 0.80) -> dict[str, Any]:
    body, _ = production_check(objective)
    return body


def test_the_run_ends_only_when_its_baseline_index_has_ended() -> None:
    body = running_with_production()
    # the Job says index 6 completed, but its pod is not in the cache yet
    _, out, _ = ended_run(body, None, completed="0-6")
    assert written(out) is not None
    run = written(out)["run"]
    assert run["phase"] == "Running" and run["trialsSucceeded"] == 6 and run["baseline"]["phase"] == "Pending"
    assert "promoting" not in written(out)


def test_auto_promotion_keeps_production_when_the_best_does_not_beat_it_on_the_same_test_data() -> None:
    body = running_with_production(objective=0.80)  # 0.90 beats the recorded 0.80 by more than 0.05 ...
    job = names.run_job("bikes", running(body)[1])
    pod = f.pod(job, "Succeeded", index=6, message=baseline_summary(0.88))  # ... but not 0.88 on this data
    _, out, _ = ended_run(body, pod, completed="0-6")
    status = written(out)
    assert status is not None
    run = status["run"]
    assert run["phase"] == "Succeeded" and run["trialsTotal"] == 6 and run["trialsSucceeded"] == 6
    assert run["baseline"]["phase"] == "Succeeded" and run["baseline"]["objective"] == 0.88
    assert "promoting" not in status and not [m for m in out.create if m["kind"] == "Job"]
    promoted = cond(status, "Promoted")
    assert promoted["reason"] == "NotImproved" and "0.88 on this run's test data" in promoted["message"]
    assert "PromotionSkipped" in [e.reason for e in out.events]
    # the baseline index is not an Experiment
    assert names.experiment("bikes", run["name"], 6) not in out.experiment_status


def test_auto_promotion_promotes_when_the_best_beats_the_re_evaluated_production() -> None:
    body = running_with_production(objective=0.95)  # the recorded objective alone would keep production
    job = names.run_job("bikes", running(body)[1])
    pod = f.pod(job, "Succeeded", index=6, message=baseline_summary(0.70))
    _, out, _ = ended_run(body, pod, completed="0-6")
    assert written(out) is not None and written(out)["run"]["baseline"]["objective"] == 0.70
    assert written(out)["promoting"]["experiment"] == written(out)["run"]["bestExperiment"]
    promoting = next(e for e in out.events if e.reason == "Promoting")
    assert "0.7 on this run's test data" in promoting.message


def test_a_failed_baseline_falls_back_to_the_recorded_objective_and_says_so() -> None:
    body = running_with_production(objective=0.80)
    job = names.run_job("bikes", running(body)[1])
    pod = f.pod(
        job,
        "Failed",
        index=6,
        exit_code=3,
        message={"error": {"reason": "DataUnreadable", "message": "the test data lacks column(s) hum"}},
    )
    _, out, _ = ended_run(body, pod, completed="0-5", failed="6")
    status = written(out)
    assert status is not None
    run = status["run"]
    assert run["phase"] == "Succeeded" and run["trialsFailed"] == 0
    assert (run["baseline"]["phase"], run["baseline"]["reason"]) == ("Failed", "DataUnreadable")
    assert "objective" not in run["baseline"]
    events = {e.reason: e for e in out.events}
    assert events["BaselineFailed"].type == "Warning" and "hum" in events["BaselineFailed"].message
    # 0.90 against the 0.80 recorded at promotion: promoted, and the Event says why that number
    assert status["promoting"]["experiment"] == run["bestExperiment"]
    assert "0.8 recorded at its promotion" in events["Promoting"].message
    assert "failed: DataUnreadable" in events["Promoting"].message


def failed_baseline_run(recorded: float, policy: str = "Auto") -> Plan:
    """Six trials (best 0.90) whose re-evaluation of production failed; production recorded as given."""
    body = running_with_production(objective=recorded)
    body["spec"]["promotion"]["policy"] = policy
    job = names.run_job("bikes", running(body)[1])
    message = {"error": {"reason": "DataUnreadable", "message": "the test data lacks column(s) hum"}}
    pod = f.pod(job, "Failed", index=6, exit_code=3, message=message)
    return ended_run(body, pod, completed="0-5", failed="6")[1]


def test_a_failed_baseline_keeps_production_when_the_best_does_not_beat_the_recorded_objective() -> None:
    out = failed_baseline_run(recorded=0.88)  # 0.90 does not beat 0.88 by more than 0.05
    status = written(out)
    assert status is not None and "promoting" not in status
    promoted = cond(status, "Promoted")
    assert promoted["reason"] == "NotImproved"
    assert "0.88 recorded at its promotion" in promoted["message"]
    assert "failed: DataUnreadable" in promoted["message"]


def test_a_manual_policy_never_promotes_automatically() -> None:
    out = failed_baseline_run(recorded=0.10, policy="Manual")
    status = written(out)
    assert status is not None and "promoting" not in status
    assert not [m for m in out.create if m["kind"] == "Job" and "promote-copy" in json.dumps(m)]


def test_a_run_without_a_value_for_the_objective_promotes_nothing_and_keeps_production() -> None:
    """The verdict's NoObjective branch: no trial has an objective, so the run has no best; the
    recorded objective (0.10) would be beaten by anything, yet nothing is promoted."""
    body = running_with_production(objective=0.10)
    job = names.run_job("bikes", running(body)[1])
    pod = f.pod(job, "Succeeded", index=6, message=baseline_summary(0.05))
    _, out, _ = ended_run(body, pod, completed="0-6", defined=False)
    status = written(out)
    assert status is not None
    run = status["run"]
    assert run["phase"] == "Succeeded" and run["trialsSucceeded"] == 6 and "bestExperiment" not in run
    assert "promoting" not in status and status["production"]["experiment"] == "bikes-rold-1"
    assert not [m for m in out.create if m["kind"] == "Job"]
    assert not {"Promoting", "PromotionSkipped"} & {e.reason for e in out.events}
