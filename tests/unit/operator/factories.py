"""Factories for the raw objects the operator sees: DriftChecks, Jobs, Pods, Experiments."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from kubedrift.models.resources import API_VERSION, LABEL_CHECK, LABEL_INDEX, LABEL_RUN

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
JSON = dict[str, Any]

SPEC: JSON = {
    "schedule": "0 * * * *",
    "reference": {"uri": "s3://bikes/reference.parquet"},
    "current": {"uri": "s3://bikes/current/"},
    "columns": {"target": "high_demand", "exclude": ["dteday", "casual", "registered", "cnt"]},
    "storage": {
        "reportsUri": "s3://bikes/reports",
        "endpoint": "http://127.0.0.1:9000",
        "secretRef": {"name": "s3"},
    },
    "retrain": {
        "train": {"uri": "s3://bikes/2011.parquet"},
        "test": {"uri": "s3://bikes/2012.parquet"},
        "model": {"estimator": "RandomForestClassifier", "params": {"random_state": 0}},
        "grid": {"n_estimators": [10, 20], "min_samples_split": [2, 8, 32]},
        "metrics": ["avg_prec", "roc_auc"],
        "objective": {"metric": "avg_prec", "goal": "maximize"},
    },
    "promotion": {"policy": "Auto"},
}


def ts(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


def driftcheck(
    name: str = "bikes",
    *,
    spec: JSON | None = None,
    status: JSON | None = None,
    annotations: JSON | None = None,
    generation: int = 1,
) -> JSON:
    return {
        "apiVersion": API_VERSION,
        "kind": "DriftCheck",
        "metadata": {
            "name": name,
            "namespace": "ml",
            "uid": f"uid-{name}",
            "generation": generation,
            "resourceVersion": "1",
            "annotations": annotations or {},
        },
        "spec": copy.deepcopy(spec if spec is not None else SPEC),
        "status": status or {},
    }


def job(
    name: str,
    component: str,
    *,
    check: str = "bikes",
    run: str | None = None,
    outcome: str | None = None,
    at: datetime = NOW,
    completed: str | None = None,
    failed: str | None = None,
) -> JSON:
    labels = {LABEL_CHECK: check, "app.kubernetes.io/component": component}
    if run:
        labels[LABEL_RUN] = run
    status: JSON = {}
    if outcome:
        status["conditions"] = [
            {"type": outcome, "status": "True", "lastTransitionTime": ts(at), "reason": "X", "message": "m"}
        ]
    if completed is not None:
        status["completedIndexes"] = completed
    if failed is not None:
        status["failedIndexes"] = failed
    return {"kind": "Job", "metadata": {"name": name, "namespace": "ml", "labels": labels}, "status": status}


def pod(
    job_name: str,
    phase: str,
    *,
    message: Any = None,
    exit_code: int = 0,
    index: int | None = None,
    check: str = "bikes",
    at: datetime = NOW,
    suffix: str = "a",
) -> JSON:
    labels = {LABEL_CHECK: check, "batch.kubernetes.io/job-name": job_name}
    annotations = {}
    if index is not None:
        annotations["batch.kubernetes.io/job-completion-index"] = str(index)
    status: JSON = {"phase": phase, "startTime": ts(at - timedelta(seconds=30))}
    if phase in ("Succeeded", "Failed"):
        text = message if isinstance(message, str) else json.dumps(message or {})
        status["containerStatuses"] = [
            {
                "name": "c",
                "state": {
                    "terminated": {
                        "exitCode": exit_code,
                        "message": text,
                        "reason": "Completed" if exit_code == 0 else "Error",
                        "startedAt": ts(at - timedelta(seconds=20)),
                        "finishedAt": ts(at),
                    }
                },
            }
        ]
    name = f"{job_name}-{index if index is not None else 0}-{suffix}"
    return {
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "ml", "labels": labels, "annotations": annotations},
        "status": status,
    }


def check_summary(drift: bool = True, share: float = 0.6) -> JSON:
    return {
        "finishedAt": ts(NOW),
        "datasetDrift": drift,
        "driftShare": share,
        "columnsChecked": 10,
        "columnsDrifted": 6,
        "driftedColumns": ["temp", "atemp", "hum"],
        "targetDrift": True,
        "reportUri": "s3://bikes/reports/bikes/20260301T120000Z/",
    }


def trial_summary(index: int, objective: float) -> JSON:
    return {
        "index": index,
        "trialId": f"t{index}",
        "params": {"n_estimators": 10},
        "metrics": {"avg_prec": objective, "roc_auc": objective + 0.01},
        "objective": objective,
        "modelUri": f"s3://bikes/reports/bikes/run/{index}/model.skops",
        "dataVersion": "abcd1234",
        "fitSeconds": 1.0,
        "totalSeconds": 2.0,
    }


def experiment(
    name: str, run: str, index: int, status: JSON | None = None, annotations: JSON | None = None
) -> JSON:
    return {
        "kind": "Experiment",
        "metadata": {
            "name": name,
            "namespace": "ml",
            "uid": f"uid-{name}",
            "labels": {LABEL_CHECK: "bikes", LABEL_RUN: run, LABEL_INDEX: str(index)},
            "annotations": annotations or {},
        },
        "spec": {"index": index},
        "status": status or {},
    }
