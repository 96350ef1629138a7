"""Experiment and DriftCheck objects as the apiserver would return them."""

from __future__ import annotations

from typing import Any

from kubedrift.models.driftcheck import Goal, ParamValue
from kubedrift.models.resources import DriftCheck, Experiment


def experiment(
    name: str,
    params: dict[str, ParamValue],
    metrics: dict[str, float] | None = None,
    *,
    check: str = "bikes",
    run: str = "r1",
    phase: str = "Succeeded",
    objective_metric: str = "avg_prec",
    undefined: dict[str, str] | None = None,
    data_version: str = "1a2b3c4d",
    promoted: bool = False,
) -> Experiment:
    return Experiment.from_wire(
        {
            "metadata": {"name": name, "namespace": "default"},
            "spec": {
                "check": check,
                "run": run,
                "index": 0,
                "trialId": f"t-{name}",
                "estimator": "RandomForestClassifier",
                "params": params,
                "paramsSummary": " ".join(f"{k}={v}" for k, v in params.items()),
                "trainUri": "s3://data/train.parquet",
                "testUri": "s3://data/test.parquet",
                "objectiveMetric": objective_metric,
            },
            "status": {
                "phase": phase,
                "metrics": metrics or {},
                "undefinedMetrics": undefined or {},
                "objective": (metrics or {}).get(objective_metric),
                "dataVersion": data_version,
                "promoted": promoted,
            },
        }
    )


def driftcheck_wire(
    name: str = "bikes",
    *,
    metric: str = "avg_prec",
    goal: Goal = "maximize",
    status: dict[str, Any] | None = None,
    reports_uri: str = "s3://reports",
) -> dict[str, Any]:
    return {
        "apiVersion": "kubedrift.io/v1alpha1",
        "kind": "DriftCheck",
        "metadata": {"name": name},
        "spec": {
            "reference": {"uri": "s3://data/reference.parquet"},
            "current": {"uri": "s3://data/current.parquet"},
            "storage": {"reportsUri": reports_uri},
            "retrain": {
                "train": {"uri": "s3://data/train.parquet"},
                "test": {"uri": "s3://data/test.parquet"},
                "model": {"estimator": "RandomForestClassifier" if metric != "rmse" else "Ridge"},
                "objective": {"metric": metric, "goal": goal},
            },
        },
        **({"status": status} if status else {}),
    }


def driftcheck(
    name: str = "bikes",
    *,
    metric: str = "avg_prec",
    goal: Goal = "maximize",
    production: dict[str, Any] | None = None,
) -> DriftCheck:
    status = {"production": production} if production else None
    return DriftCheck.from_wire(driftcheck_wire(name, metric=metric, goal=goal, status=status))
