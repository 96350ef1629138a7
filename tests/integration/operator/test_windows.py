"""Issue 13 on the real control plane: time windows, end to end.

Data is generated here: one small Parquet file per minute (`minute=%Y-%m-%dT%H-%M/part-0.parquet`),
so a `* * * * *` CronJob gives a new window every minute and a 2-minute window is exactly two
partitions. Proofs:

- a CronJob-started check reads exactly the window of its scheduled time (the Job's
  `batch.kubernetes.io/cronjob-scheduled-timestamp`), asserted from its report's recorded window
  and file list, even from a retried pod; a second start of the same window records nothing;
- the retrain that drift starts trains and tests on windows that do not overlap, named in the
  run's status and each Experiment;
- after the Auto promotion, a later check's reference is the promoted trial's training window,
  with the data version its Experiment recorded;
- a window with no data is DataAvailable=False with the window in the message and a Warning
  Event, no retrain and no failed Job; once the data lands the operator's own re-check records it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from kubedrift.models.windows import TimeWindow
from tests.fixtures.cluster import Cluster, wait_for
from tests.fixtures.s3 import S3Server
from tests.integration.operator.conftest import (
    GROUP_PATH,
    S3_CA_CONFIG_MAP,
    S3_CA_KEY,
    BikeData,
    Kube,
    OperatorProcess,
    dump,
    termination_messages,
    wait_status,
)

pytestmark = pytest.mark.cluster

JSON = dict[str, Any]
MINUTE = timedelta(minutes=1)
LAYOUT = "minute=%Y-%m-%dT%H-%M"
PART = "part-0.parquet"
ROWS = 60
SCHEDULED = "batch.kubernetes.io/cronjob-scheduled-timestamp"
EXPERIMENTS = GROUP_PATH + "/namespaces/{ns}/experiments"


def when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def minute_floor(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(second=0, microsecond=0)


def table(seed: int, shift: float, rows: int = ROWS) -> pa.Table:
    rng = np.random.default_rng(seed)
    x = rng.normal(shift, 1.0, rows)
    return pa.table(
        {
            "x": x,
            "z": rng.normal(shift, 1.0, rows),
            "c": rng.choice(["a", "b", "c"], rows),
            "y": (x + rng.normal(0, 0.7, rows) > shift).astype("int64"),
        }
    )


class Data:
    """A bucket for one DriftCheck: a fixed reference and minute partitions of current data."""

    def __init__(self, server: S3Server, cluster: Cluster, folder: Path) -> None:
        self.server, self.folder = server, folder
        self.bucket = server.create_bucket()
        self.data = BikeData(self.bucket, server.pod_endpoint(cluster))

    def put(self, key: str, content: pa.Table) -> None:
        path = self.folder / key.replace("/", "_")
        pq.write_table(content, path)
        self.server.upload(self.bucket, key, path)

    def minutes(self, prefix: str, start: datetime, count: int, shift: float) -> None:
        for i in range(count):
            at = start + i * MINUTE
            self.put(f"{prefix}/{at.strftime(LAYOUT)}/{PART}", table(int(at.timestamp()) // 60, shift))

    def keys(self, prefix: str) -> list[str]:
        pages = (
            self.server.client().get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
        )
        return sorted(item["Key"] for page in pages for item in page.get("Contents", []))

    def json(self, uri: str) -> JSON:
        key = uri.removeprefix(f"s3://{self.bucket}/")
        body = self.server.client().get_object(Bucket=self.bucket, Key=key)["Body"].read()
        return dict(json.loads(body))


def windowed_check(name: str, data: Data, schedule: str) -> JSON:
    layout = {"partition": LAYOUT}
    current = data.data.uri(f"{name}/current/")
    return {
        "apiVersion": "kubedrift.io/v1alpha1",
        "kind": "DriftCheck",
        "metadata": {"name": name},
        "spec": {
            "schedule": schedule,
            "reference": {"uri": data.data.uri(f"{name}/reference.parquet"), "followProduction": True},
            "current": {"uri": current, "time": layout, "window": {"last": "2m"}},
            "columns": {"target": "y"},
            "storage": {
                "reportsUri": data.data.uri("reports"),
                "endpoint": data.data.endpoint,
                "region": "us-east-1",
                "secretRef": {"name": "s3"},
                "caBundle": {"configMapRef": {"name": S3_CA_CONFIG_MAP, "key": S3_CA_KEY}},
            },
            "retrain": {
                "trigger": "OnDrift",
                "train": {"uri": current, "time": layout, "window": {"last": "6m", "offset": "2m"}},
                "test": {"uri": current, "time": layout, "window": {"last": "2m"}},
                "model": {"estimator": "RandomForestClassifier", "params": {"n_jobs": 1, "n_estimators": 5}},
                "grid": {"max_depth": [3]},
                "metrics": ["avg_prec"],
                "objective": {"metric": "avg_prec", "goal": "maximize"},
                "parallelism": 1,
            },
            "promotion": {"policy": "Auto"},
        },
    }


@pytest.fixture
def windows_operator(
    cluster: Cluster, operator_kubeconfig: Path, tmp_path: Path
) -> Iterator[OperatorProcess]:
    """The operator with short re-checks of empty windows (10 s, up to 30 times)."""
    env = {
        "KUBEDRIFT_JOB_IMAGE": cluster.images["jobs"],
        "KUBEDRIFT_EMPTY_WINDOW_RECHECK_SECONDS": "10",
        "KUBEDRIFT_EMPTY_WINDOW_RECHECKS": "30",
    }
    process = OperatorProcess(operator_kubeconfig, tmp_path, env=env).start()
    try:
        yield process
    finally:
        process.stop()


def history_of(kube: Kube, name: str) -> list[JSON]:
    return list(kube.status(name).get("history") or [])


def as_window(value: JSON) -> tuple[datetime, datetime]:
    return when(value["start"]), when(value["end"])


# How late the retried pod of the first scheduled Job starts, at least.
LATE = timedelta(seconds=15)


def test_scheduled_windows_retrain_windows_and_a_reference_that_follows_production(
    cluster: Cluster,
    namespace: str,
    kube: Kube,
    windows_operator: OperatorProcess,
    s3_server: S3Server,
    s3_secret: str,
    tmp_path: Path,
) -> None:
    started = time.monotonic()
    data = Data(s3_server, cluster, tmp_path)
    now = minute_floor(datetime.now(UTC))
    data.put("win/reference.parquet", table(1, shift=0.0, rows=400))
    data.minutes("win/current", now - 20 * MINUTE, 45, shift=3.0)  # 20 minutes back, 25 ahead
    # Without the CA bundle's ConfigMap a check pod waits in ContainerCreating: so the first pod of
    # the first scheduled Job is deleted before it can have run, and its retry starts late.
    core = f"/api/v1/namespaces/{namespace}"
    ca_bundle = kube.cluster.api.get(f"{core}/configmaps/{S3_CA_CONFIG_MAP}")
    kube.cluster.api.delete(f"{core}/configmaps/{S3_CA_CONFIG_MAP}")
    cluster.apply(windowed_check("win", data, "* * * * *"), namespace)

    def first_job() -> JSON | None:
        jobs = [j for j in kube.jobs("win") if SCHEDULED in (j["metadata"].get("annotations") or {})]
        return min(jobs, key=lambda j: j["metadata"]["name"]) if jobs else None

    job = wait_for(first_job, "the CronJob's first Job", timeout=90)
    job_name = job["metadata"]["name"]
    scheduled = when(job["metadata"]["annotations"][SCHEDULED])
    pods_path = f"{core}/pods"
    selector = f"batch.kubernetes.io/job-name={job_name}"
    first_pod = wait_for(lambda: (kube.list(pods_path, selector) or [None])[0], "its first pod", timeout=60)
    # The CronJob controller annotates the Job with its scheduled time, never the pod.
    assert SCHEDULED not in (first_pod["metadata"].get("annotations") or {}), first_pod["metadata"]
    assert (first_pod.get("status") or {}).get("phase", "Pending") == "Pending", dump(first_pod)
    kube.cluster.api.delete(f"{pods_path}/{first_pod['metadata']['name']}")
    retry = wait_for(
        lambda: next(
            (
                p
                for p in kube.list(pods_path, selector)
                if p["metadata"]["uid"] != first_pod["metadata"]["uid"]
            ),
            None,
        ),
        "the Job's retry",
        timeout=120,
    )
    # The retry starts only once the CA is back: hold that until it is surely late for its window.
    time.sleep(max(0.0, (scheduled + LATE - datetime.now(UTC)).total_seconds()))
    kube.cluster.api.post(
        f"{core}/configmaps", {"metadata": {"name": S3_CA_CONFIG_MAP}, "data": ca_bundle["data"]}
    )

    status = wait_status(
        kube,
        "win",
        lambda s: any(r["job"] == job_name for r in s.get("history") or []),
        "the first scheduled check",
        timeout=180,
    )
    (record,) = [r for r in status["history"] if r["job"] == job_name]
    assert record["succeeded"] is True, dump(status)
    assert when(record["scheduledAt"]) == scheduled
    assert as_window(record["window"]) == (scheduled - 2 * MINUTE, scheduled)
    pods = kube.list(pods_path, selector)
    assert [p["metadata"]["uid"] for p in pods] == [retry["metadata"]["uid"]], dump(pods)
    ran_at = when(pods[0]["status"]["containerStatuses"][0]["state"]["terminated"]["startedAt"])
    assert ran_at - scheduled >= LATE, (ran_at, scheduled)  # late, yet the same window
    report = data.json(record["reportUri"].rstrip("/") + "/report.json")
    assert when(report["scheduledAt"]) == scheduled
    assert as_window(report["current"]["window"]) == (scheduled - 2 * MINUTE, scheduled)
    assert report["filesRead"]["current"] == [
        f"{(scheduled - k * MINUTE).strftime(LAYOUT)}/{PART}" for k in (2, 1)
    ], report["filesRead"]
    stamp = scheduled.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    entries = [k for k in data.keys("reports/win/history/") if k.endswith(f"/{stamp}.json")]
    assert len(entries) == 1, data.keys("reports/win/history/")
    assert data.json(data.data.uri(entries[0]))["job"] == job_name

    # A second start of the same window (another Job pinned to the same time) records nothing.
    cron = kube.cluster.api.get(f"/apis/batch/v1/namespaces/{namespace}/cronjobs/win-check")
    again = json.loads(json.dumps(cron["spec"]["jobTemplate"]))
    container = again["spec"]["template"]["spec"]["containers"][0]
    container["env"].append({"name": "KUBEDRIFT_SCHEDULED_AT", "value": record["scheduledAt"]})
    again["metadata"]["name"] = "win-again"
    kube.cluster.api.post(
        f"/apis/batch/v1/namespaces/{namespace}/jobs", {"apiVersion": "batch/v1", "kind": "Job", **again}
    )
    wait_for(
        lambda: any(
            c.get("type") == "Complete" and c.get("status") == "True"
            for c in (kube.cluster.get(f"/apis/batch/v1/namespaces/{namespace}/jobs/win-again") or {})
            .get("status", {})
            .get("conditions", [])
        ),
        "the second start of the window",
        timeout=120,
    )
    (again_pod,) = kube.list(pods_path, "batch.kubernetes.io/job-name=win-again")
    assert json.loads(termination_messages(again_pod)[0])["skipped"] == "AlreadyRecorded"
    time.sleep(3)  # a reconcile has seen it
    same = [
        r for r in history_of(kube, "win") if r.get("scheduledAt") and when(r["scheduledAt"]) == scheduled
    ]
    assert [r["job"] for r in same] == [job_name], dump(history_of(kube, "win"))
    assert [k for k in data.keys("reports/win/history/") if k.endswith(f"/{stamp}.json")] == entries

    # Drift (the reference is another distribution) starts a run on the triggering check's windows.
    status = wait_status(
        kube, "win", lambda s: (s.get("run") or {}).get("phase") in ("Succeeded", "Failed"), "the run", 300
    )
    run = status["run"]
    assert run["phase"] == "Succeeded", dump(run)
    at = when(run["scheduledAt"])
    train, test = as_window(run["trainWindow"]), as_window(run["testWindow"])
    assert test == (at - 2 * MINUTE, at) and train == (at - 8 * MINUTE, at - 2 * MINUTE)
    assert train[1] <= test[0], (train, test)
    run_selector = f"kubedrift.io/check=win,kubedrift.io/run={run['name']}"
    (experiment,) = kube.list(EXPERIMENTS, run_selector)
    assert as_window(experiment["spec"]["trainWindow"]) == train
    assert as_window(experiment["spec"]["testWindow"]) == test
    assert experiment["status"]["trainDataVersion"] and experiment["status"]["testDataVersion"]

    # Auto promotion records the trial's training data; a check scheduled after that compares with it.
    def check_after_promotion() -> tuple[JSON, JSON] | None:
        status = kube.status("win")
        production = status.get("production") or {}
        if not production.get("trainingData"):
            return None
        promoted = when(production["promotedAt"])
        later = [
            r
            for r in status.get("history") or []
            if r["succeeded"] and when(r["scheduledAt"]) >= promoted + MINUTE
        ]
        return (production, later[-1]) if later else None

    production, later = wait_for(check_after_promotion, "a check scheduled after the promotion", timeout=300)
    promoted = kube.cluster.api.get(
        f"{GROUP_PATH}/namespaces/{namespace}/experiments/{production['experiment']}"
    )
    trained = as_window(promoted["spec"]["trainWindow"])
    train_version = promoted["status"]["trainDataVersion"]
    assert production["trainingDataVersion"] == train_version, dump(production)
    window = production["trainingData"]["window"]
    assert (when(window["from"]), when(window["to"])) == trained
    assert later["referenceVersion"] == train_version, dump(later)
    report = data.json(later["reportUri"].rstrip("/") + "/report.json")
    assert as_window(report["reference"]["window"]) == trained
    assert report["reference"]["contentHash"][:8] == train_version
    assert report["filesRead"]["reference"] == [
        f"{(trained[0] + k * MINUTE).strftime(LAYOUT)}/{PART}" for k in range(6)
    ]
    print(f"windows story: {time.monotonic() - started:.0f} s")


def test_an_empty_window_waits_for_its_data_and_recovers_by_itself(
    cluster: Cluster,
    namespace: str,
    kube: Kube,
    windows_operator: OperatorProcess,
    s3_server: S3Server,
    s3_secret: str,
    tmp_path: Path,
) -> None:
    data = Data(s3_server, cluster, tmp_path)
    data.put("gap/reference.parquet", table(2, shift=3.0, rows=400))
    # Far from its next scheduled time, so only the check-now and the operator's re-checks run.
    cluster.apply(windowed_check("gap", data, "0 0 1 1 *"), namespace)
    kube.annotate("driftcheck", "gap", "kubedrift.io/check-now", "1")

    status = wait_status(
        kube,
        "gap",
        lambda s: any(
            c["type"] == "DataAvailable" and c["reason"] == "EmptyWindow" for c in s.get("conditions", [])
        ),
        "the empty window",
        timeout=120,
    )
    conditions = {c["type"]: c for c in status["conditions"]}
    empty = status["emptyWindow"]
    scheduled = when(empty["scheduledAt"])
    start, end = as_window(empty["window"])
    assert (start, end) == (scheduled - 2 * MINUTE, scheduled)
    assert conditions["DataAvailable"]["status"] == "False"
    assert str(TimeWindow(start=start, end=end)) in conditions["DataAvailable"]["message"], conditions
    assert conditions["Ready"]["status"] == "True" and conditions["Stalled"]["status"] == "False"
    assert "run" not in status, dump(status)
    events = wait_for(
        lambda: [e for e in kube.events("gap") if e["reason"] == "EmptyWindow"],
        "the EmptyWindow Event",
        timeout=30,
    )
    assert len(events) == 1 and events[0]["type"] == "Warning", dump(events)
    for job in kube.jobs("gap"):
        assert not any(c["type"] == "Failed" for c in job.get("status", {}).get("conditions", [])), dump(job)

    # The data lands (late); a re-check of the same scheduled window records it.
    data.minutes("gap/current", minute_floor(start) - MINUTE, 4, shift=3.0)
    status = wait_status(
        kube,
        "gap",
        lambda s: any(
            c["type"] == "DataAvailable" and c["status"] == "True" for c in s.get("conditions", [])
        ),
        "the re-check that finds the data",
        timeout=120,
    )
    assert "emptyWindow" not in status
    (record,) = [r for r in status["history"] if when(r["scheduledAt"]) == scheduled]
    assert record["succeeded"] is True and "-recheck-" in record["job"], dump(status["history"])
    assert as_window(record["window"]) == (start, end)
    # Events are posted after the status write that decided them.
    wait_for(
        lambda: "WindowFilled" in [e["reason"] for e in kube.events("gap")],
        "the WindowFilled Event",
        timeout=30,
    )
