"""Issue 5, items 5, 6 and 7: a failing trial, the operator dying mid-run, bad data."""

from __future__ import annotations

import io
from collections import Counter
from typing import Any

import pytest

from kubedrift_operator import crashpoints
from tests.fixtures.cluster import Cluster
from tests.fixtures.s3 import S3Server
from tests.integration.operator.conftest import BikeData, Kube, OperatorProcess, bike_check, dump, wait_status

pytestmark = pytest.mark.cluster
JSON = dict[str, Any]


def _run_done(status: dict) -> bool:
    return (status.get("run") or {}).get("phase") in ("Succeeded", "Failed")


def _train_runs(kube: Kube, check: str) -> Counter[int]:
    """How many training containers ran per completion index (from the pods' status)."""
    counts: Counter[int] = Counter()
    for run in kube.pod_runs():
        if run.get("pod", "").startswith(f"{check}-r") and run.get("container") == "train":
            counts[int(run["annotations"]["batch.kubernetes.io/job-completion-index"])] += 1
    return counts


def test_an_oom_killed_trial_fails_with_its_limit_and_the_others_finish(
    cluster: Cluster,
    namespace: str,
    kube: Kube,
    operator: OperatorProcess,
    bike_bucket: BikeData,
    s3_secret: str,
) -> None:
    """Issue 10, item 4: the kernel enforces the trial's memory limit; the operator says so."""
    # 5 trees fit in the limit; 5000 unpruned trees (about 1.4 MB each on this data) cannot.
    check = bike_check("oom", bike_bucket, grid={"n_estimators": [5, 5000]}, policy="Manual")
    check["spec"]["retrain"]["trigger"] = "Manual"
    check["spec"]["retrain"]["resources"] = {"requests": {"memory": "512Mi"}, "limits": {"memory": "512Mi"}}
    cluster.apply(check, namespace)
    kube.annotate("driftcheck", "oom", "kubedrift.io/retrain-now", "1")
    status = wait_status(kube, "oom", _run_done, "the run to end", timeout=400)
    run = status["run"]
    experiments = {e["spec"]["params"]["n_estimators"]: e for e in kube.experiments("oom")}
    detail = dump([run, *(e["status"] for e in experiments.values())])
    assert (run["trialsTotal"], run["trialsSucceeded"], run["trialsFailed"]) == (2, 1, 1), detail
    assert experiments[5]["status"]["phase"] == "Succeeded", detail
    killed = experiments[5000]["status"]
    assert (killed["phase"], killed["reason"]) == ("Failed", "OOMKilled"), detail
    assert "memory limit of 512Mi" in killed["message"], detail
    oom_runs = [r for r in kube.pod_runs() if r["container"] == "train" and r["reason"] == "OOMKilled"]
    assert oom_runs and all(r["exitCode"] == 137 for r in oom_runs), kube.pod_runs()


def test_a_failing_trial_fails_its_experiment_and_the_others_finish(
    cluster: Cluster,
    namespace: str,
    kube: Kube,
    operator: OperatorProcess,
    bike_bucket: BikeData,
    s3_secret: str,
) -> None:
    # max_samples without bootstrap passes every check before fit and fails inside fit().
    check = bike_check(
        "failing", bike_bucket, grid={"bootstrap": [True, False], "n_estimators": [3, 4]}, policy="Manual"
    )
    check["spec"]["retrain"]["model"]["params"]["max_samples"] = 0.5
    check["spec"]["retrain"]["trigger"] = "Manual"
    cluster.apply(check, namespace)
    kube.annotate("driftcheck", "failing", "kubedrift.io/retrain-now", "1")
    status = wait_status(kube, "failing", _run_done, "the run to end", timeout=300)
    run = status["run"]
    experiments = {e["spec"]["index"]: e for e in kube.experiments("failing")}
    detail = dump([run, *(e["status"] for e in experiments.values())])
    assert (run["trialsTotal"], run["trialsSucceeded"], run["trialsFailed"], run["trialsRunning"]) == (
        4,
        2,
        2,
        0,
    ), detail
    assert run["phase"] == "Succeeded" and run["bestExperiment"], detail  # the run produced a usable model
    for exp in experiments.values():
        bootstrap = exp["spec"]["params"]["bootstrap"]
        if bootstrap:
            assert exp["status"]["phase"] == "Succeeded" and exp["status"]["metrics"], detail
        else:
            assert exp["status"]["phase"] == "Failed", detail
            assert exp["status"]["reason"] == "TrainingFailed", detail
            assert "max_samples" in exp["status"]["message"] or "bootstrap" in exp["status"]["message"], (
                detail
            )
    # a permanent error fails the index at once (podFailurePolicy FailIndex): one attempt each
    assert all(count == 1 for count in _train_runs(kube, "failing").values()), _train_runs(kube, "failing")
    failed = next(e for e in experiments.values() if e["status"]["phase"] == "Failed")
    reasons = [(e["type"], e["reason"]) for e in kube.events(failed["metadata"]["name"])]
    assert ("Warning", "ExperimentFailed") in reasons, reasons
    retraining = kube.condition("failing", "Retraining")
    assert retraining["status"] == "False" and "2 failed" in retraining["message"]


def _converged(kube: Kube, check: str) -> JSON:
    """What must be true after any crash: the run and its promotion as if nothing happened."""
    status = kube.status(check)
    run = status["run"]
    conditions = {c["type"]: (c["status"], c["reason"]) for c in status["conditions"]}
    experiments = sorted(kube.experiments(check), key=lambda e: e["spec"]["index"])
    jobs = Counter(j["metadata"]["labels"]["app.kubernetes.io/component"] for j in kube.jobs(check))
    return {
        "run": {
            k: run[k] for k in ("phase", "trialsTotal", "trialsSucceeded", "trialsFailed", "trialsRunning")
        },
        "experiments": [
            (
                e["spec"]["index"],
                e["metadata"]["labels"]["kubedrift.io/run"] == run["name"],
                e["status"]["phase"],
            )
            for e in experiments
        ],
        "every trial has metrics": all("avg_prec" in e["status"]["metrics"] for e in experiments),
        "only the best is promoted": [
            e["metadata"]["name"] for e in experiments if e["status"].get("promoted")
        ]
        == [run["bestExperiment"]],
        "production is the best": status["production"]["experiment"] == run["bestExperiment"],
        "promotions": len(status["promotions"]),
        "jobs": dict(jobs),
        "train processes per index": dict(_train_runs(kube, check)),
        "copy processes": sum(1 for r in kube.pod_runs() if r.get("container") == "promote"),
        "conditions": {k: conditions[k] for k in ("Ready", "Retraining", "Promoted")},
    }


CONVERGED = {
    "run": {
        "phase": "Succeeded",
        "trialsTotal": 4,
        "trialsSucceeded": 4,
        "trialsFailed": 0,
        "trialsRunning": 0,
    },
    "experiments": [
        (0, True, "Succeeded"),
        (1, True, "Succeeded"),
        (2, True, "Succeeded"),
        (3, True, "Succeeded"),
    ],
    "every trial has metrics": True,
    "only the best is promoted": True,
    "production is the best": True,
    "promotions": 1,
    "jobs": {"train": 1, "promote": 1},
    "train processes per index": {0: 1, 1: 1, 2: 1, 3: 1},
    "copy processes": 1,
    "conditions": {
        "Ready": ("True", "Reconciled"),
        "Retraining": ("False", "RunSucceeded"),
        "Promoted": ("True", "AutoPromoted"),
    },
}


@pytest.mark.parametrize(
    "point",
    [
        crashpoints.DECISION_WRITTEN,  # the run is recorded; no child of it exists
        "train-job-created",  # the Indexed Job exists; no Experiment has a status
        crashpoints.TRIALS_RECORDED,  # every trial recorded; the run summary not written
        "promote-job-created",  # the copy runs; production not recorded
    ],
)
def test_a_crash_at_each_named_point_loses_nothing_and_duplicates_nothing(
    point: str,
    cluster: Cluster,
    namespace: str,
    kube: Kube,
    operator: OperatorProcess,
    bike_bucket: BikeData,
    s3_secret: str,
) -> None:
    check = bike_check("killed", bike_bucket, grid={"n_estimators": [3, 4, 5, 6]}, policy="Auto")
    check["spec"]["retrain"]["trigger"] = "Manual"
    cluster.apply(check, namespace)
    cluster.kubectl("wait", "-n", namespace, "--for=condition=Ready", "--timeout=60s", "driftcheck/killed")

    # Arm the point, start the run, and let the operator die right after the named write.
    operator.stop()
    operator.env[crashpoints.ENV] = point
    operator.start()
    kube.annotate("driftcheck", "killed", "kubedrift.io/retrain-now", "go")
    assert operator.crashed(timeout=300) == crashpoints.EXIT_CODE
    assert f"crash point {point} reached" in operator.logs()

    del operator.env[crashpoints.ENV]
    operator.start()
    wait_status(
        kube,
        "killed",
        lambda s: _run_done(s) and s.get("production") and not s.get("promoting"),
        "the run and its promotion to end",
        timeout=300,
    )
    assert _converged(kube, "killed") == CONVERGED, dump(kube.status("killed"))
    # Events are best effort: a crash before they are posted loses them, never doubles them.
    assert [e["reason"] for e in kube.events("killed")].count("RetrainStarted") <= 1


def _upload_without_column(data: BikeData, s3: S3Server, column: str) -> str:
    import pyarrow.parquet as pq

    client = s3.client()
    table = pq.read_table(
        io.BytesIO(client.get_object(Bucket=data.bucket, Key="2012.parquet")["Body"].read())
    )
    out = io.BytesIO()
    pq.write_table(table.drop_columns([column]), out)
    client.put_object(Bucket=data.bucket, Key=f"without-{column}.parquet", Body=out.getvalue())
    return data.uri(f"without-{column}.parquet")


def test_bad_data_ends_in_a_condition_and_an_event_while_others_keep_working(
    cluster: Cluster,
    namespace: str,
    kube: Kube,
    operator: OperatorProcess,
    bike_bucket: BikeData,
    s3_server: S3Server,
    s3_secret: str,
) -> None:
    missing = bike_check("missing", bike_bucket, current={"uri": bike_bucket.uri("nowhere/2013.parquet")})
    without_target = _upload_without_column(bike_bucket, s3_server, "high_demand")
    no_column = bike_check("nocolumn", bike_bucket, current={"uri": without_target})
    good = bike_check("good", bike_bucket, current={"uri": bike_bucket.uri("current/week-1.parquet")})
    for check in (missing, no_column, good):
        check["spec"]["retrain"]["trigger"] = "Manual"
        cluster.apply(check, namespace)
        kube.annotate("driftcheck", check["metadata"]["name"], "kubedrift.io/check-now", "1")

    for name, reason in (("missing", "DataNotFound"), ("nocolumn", "DataUnreadable")):
        status = wait_status(kube, name, lambda s: s.get("lastCheck"), f"{name}'s check", timeout=180)
        assert status["lastCheck"]["succeeded"] is False and status["lastCheck"]["reason"] == reason, dump(
            status
        )
        ready, stalled = kube.condition(name, "Ready"), kube.condition(name, "Stalled")
        assert (ready["status"], ready["reason"]) == ("False", reason), dump(status)
        assert stalled["status"] == "True"
        events = [e for e in kube.events(name) if e["reason"] == "CheckFailed"]
        assert events and events[0]["type"] == "Warning" and reason in events[0]["message"]
    assert "high_demand" in kube.status("nocolumn")["lastCheck"]["message"]

    status = wait_status(kube, "good", lambda s: s.get("lastCheck"), "the good check", timeout=180)
    assert status["lastCheck"]["succeeded"] is True, dump(status)
    assert kube.condition("good", "Ready")["status"] == "True"
    # the failures were permanent: one attempt each (podFailurePolicy FailJob), no retry storm
    attempts = Counter(r["pod"].rsplit("-", 1)[0] for r in kube.pod_runs() if r.get("container") == "check")
    assert all(count == 1 for count in attempts.values()), attempts
