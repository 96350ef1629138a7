"""Issue 2, item 1: the project's real CRDs: CEL rules, printer columns, descriptions, status subresource."""

from __future__ import annotations

import json

import pytest

from tests.fixtures.cluster import Cluster, wait_for
from tests.integration.manifests import driftcheck

pytestmark = pytest.mark.cluster


def test_the_apiserver_accepts_the_generated_crds(crds: str) -> None:
    assert "driftchecks.kubedrift.io" in crds
    assert "experiments.kubedrift.io" in crds


def test_cel_rule_rejects_metrics_that_do_not_fit_the_estimator(
    cluster: Cluster, crds: str, namespace: str
) -> None:
    manifest = driftcheck("bad-metric")
    manifest["spec"]["retrain"] = {
        "train": {"uri": "s3://kd-data/train"},
        "test": {"uri": "s3://kd-data/test"},
        "model": {"estimator": "RandomForestRegressor"},
        "grid": {"n_estimators": [10, 20]},
        "objective": {"metric": "roc_auc"},
    }
    result = cluster.kubectl("apply", "-n", namespace, "-f", "-", stdin=json.dumps(manifest), check=False)
    assert result.returncode != 0
    assert "metrics must fit the estimator" in result.stderr
    assert "spec.retrain.objective.metric" in result.stderr


def test_cel_rule_rejects_a_bad_schedule_at_apply(cluster: Cluster, crds: str, namespace: str) -> None:
    result = cluster.kubectl(
        "apply", "-n", namespace, "-f", "-", stdin=json.dumps(driftcheck("bad", schedule="* *")), check=False
    )
    assert result.returncode != 0
    assert "schedule must be a cron expression of five fields" in result.stderr
    assert "spec.schedule" in result.stderr


def test_get_shows_the_printer_columns_and_status_comes_from_the_subresource(
    cluster: Cluster, crds: str, namespace: str
) -> None:
    cluster.apply(driftcheck("bikes", schedule="*/5 * * * *"), namespace)
    status = {
        "status": {
            "lastCheck": {
                "time": "2026-01-02T03:04:05Z",
                "job": "bikes-check-1",
                "succeeded": True,
                "datasetDrift": True,
                "driftShare": 0.75,
            }
        }
    }
    # Status written with the main resource is ignored: that is what the status subresource means.
    cluster.kubectl("patch", "-n", namespace, "driftcheck", "bikes", "--type=merge", "-p", json.dumps(status))
    assert "lastCheck" not in cluster.kubectl("get", "-n", namespace, "dc", "bikes", "-o", "json").stdout
    cluster.kubectl(
        "patch",
        "-n",
        namespace,
        "driftcheck",
        "bikes",
        "--subresource=status",
        "--type=merge",
        "-p",
        json.dumps(status),
    )

    table = cluster.kubectl("get", "-n", namespace, "dc").stdout.splitlines()
    header, row = table[0].split(), table[1]
    assert header[:7] == ["NAME", "SCHEDULE", "LAST", "CHECK", "DRIFT", "SHARE", "DRIFTED"]
    assert "*/5 * * * *" in row and "0.75" in row and "true" in row
    wide = cluster.kubectl("get", "-n", namespace, "dc", "-o", "wide").stdout.splitlines()[0]
    assert "PRODUCTION" in wide and "REASON" in wide


def test_explain_shows_the_field_descriptions(cluster: Cluster, crds: str) -> None:
    # explain reads the published OpenAPI, which can lag the CRD by a few seconds.
    def explained() -> str | None:
        result = cluster.kubectl("explain", "driftcheck.spec.retrain", check=False)
        return result.stdout if result.returncode == 0 else None

    text = wait_for(explained, "kubectl explain to know DriftCheck", timeout=60)
    assert "Retraining when drift is found." in text
    assert "Param name to the list of values to try" in text
