"""Issue 5, items 5, 6 and 7: a failing trial, SIGKILL during a run, bad data."""

from __future__ import annotations

import io
import time
from collections import Counter

import pytest

from tests.fixtures.cluster import Cluster, wait_for
from tests.fixtures.s3 import ACCESS_KEY, SECRET_KEY
from tests.integration.operator.conftest import BikeData, Kube, OperatorProcess, bike_check, dump, wait_status

pytestmark = pytest.mark.cluster


def _run_done(status: dict) -> bool:
    return (status.get("run") or {}).get("phase") in ("Succeeded", "Failed")


def _train_runs(kube: Kube, check: str) -> Counter[int]:
    """How many training processes the node agent ran per completion index."""
    counts: Counter[int] = Counter()
    for run in kube.pod_runs():
        if run.get("pod", "").startswith(f"{check}-r") and run.get("container") == "train":
            counts[int(run["annotations"]["batch.kubernetes.io/job-completion-index"])] += 1
    return counts


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


def test_sigkill_during_a_run_loses_nothing_and_duplicates_nothing(
    cluster: Cluster,
    namespace: str,
    kube: Kube,
    operator: OperatorProcess,
    bike_bucket: BikeData,
    s3_secret: str,
) -> None:
    check = bike_check("killed", bike_bucket, grid={"n_estimators": [3, 4, 5, 6]}, policy="Manual")
    check["spec"]["retrain"]["trigger"] = "Manual"
    cluster.apply(check, namespace)
    cluster.kubectl("wait", "-n", namespace, "--for=condition=Ready", "--timeout=60s", "driftcheck/killed")

    # point 1: right after the request, before or while the run is recorded
    kube.annotate("driftcheck", "killed", "kubedrift.io/retrain-now", "go")
    time.sleep(0.2)
    operator.kill()
    operator.start()
    # point 2: the run's Job exists and its first pods run
    wait_for(
        lambda: [j for j in kube.jobs("killed") if j["metadata"]["labels"].get("kubedrift.io/run")],
        "the run Job",
    )
    operator.kill()
    # while the operator is down, trials end; their results wait in the pods' status
    wait_for(
        lambda: sum(1 for c in _train_runs(kube, "killed").values() if c) >= 2,
        "two trials to end",
        timeout=180,
    )
    operator.start()
    # point 3: some Experiments recorded, others not yet
    wait_for(
        lambda: any(e.get("status", {}).get("phase") == "Succeeded" for e in kube.experiments("killed")),
        "a recorded Experiment",
    )
    operator.kill()
    operator.start()
    status = wait_status(kube, "killed", _run_done, "the run to end", timeout=300)

    run_jobs = [j for j in kube.jobs("killed") if j["metadata"]["labels"].get("kubedrift.io/run")]
    assert len(run_jobs) == 1, [j["metadata"]["name"] for j in run_jobs]
    experiments = kube.experiments("killed")
    assert sorted(e["spec"]["index"] for e in experiments) == [0, 1, 2, 3]
    assert {e["metadata"]["labels"]["kubedrift.io/run"] for e in experiments} == {status["run"]["name"]}
    assert all(
        e["status"]["phase"] == "Succeeded" and "avg_prec" in e["status"]["metrics"] for e in experiments
    ), dump([e["status"] for e in experiments])
    assert status["run"]["trialsSucceeded"] == 4 and status["run"]["phase"] == "Succeeded"
    assert dict(_train_runs(kube, "killed")) == {0: 1, 1: 1, 2: 1, 3: 1}
    assert [e["reason"] for e in kube.events("killed")].count("RetrainStarted") == 1


def _upload_without_column(data: BikeData, column: str) -> str:
    import boto3
    import pyarrow.parquet as pq

    client = boto3.client(
        "s3",
        endpoint_url=data.endpoint,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        region_name="us-east-1",
    )
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
    s3_secret: str,
) -> None:
    missing = bike_check("missing", bike_bucket, current={"uri": bike_bucket.uri("nowhere/2013.parquet")})
    no_column = bike_check(
        "nocolumn", bike_bucket, current={"uri": _upload_without_column(bike_bucket, "high_demand")}
    )
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
