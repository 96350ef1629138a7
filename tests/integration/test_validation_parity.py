"""`kubedrift run` rejects a broken DriftCheck with the apiserver's own words.

Each manifest goes to the real apiserver through `kubectl apply` and to the local
validation in the models; the field errors must be the same lines.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from pydantic import ValidationError

from kubedrift.models.resources import DriftCheck
from kubedrift.models.validation import invalid_message
from tests.fixtures.cluster import Cluster

pytestmark = pytest.mark.cluster

VALID: dict[str, Any] = {
    "apiVersion": "kubedrift.io/v1alpha1",
    "kind": "DriftCheck",
    "metadata": {"name": "bikes"},
    "spec": {
        "schedule": "0 * * * *",
        "reference": {"uri": "s3://bikes/reference.parquet"},
        "current": {"uri": "s3://bikes/current/"},
        "storage": {"reportsUri": "s3://bikes/reports"},
        "retrain": {
            "train": {"uri": "s3://bikes/train.parquet"},
            "test": {"uri": "s3://bikes/test.parquet"},
            "model": {"estimator": "RandomForestClassifier"},
            "grid": {"n_estimators": [50, 100]},
            "objective": {"metric": "roc_auc"},
        },
    },
}


def broken(**changes: Any) -> dict[str, Any]:
    """VALID with dotted-path changes; a value of ... removes the field."""
    manifest = copy.deepcopy(VALID)
    for dotted, value in changes.items():
        *parents, leaf = dotted.split("__")
        node = manifest["spec"]
        for part in parents:
            node = node.setdefault(part, {})
        if value is ...:
            node.pop(leaf)
        else:
            node[leaf] = value
    return manifest


CASES = {
    "bad-schedule": broken(schedule="* *"),
    "bad-uri": broken(reference__uri="ftp://host/x"),
    "bad-reports-uri": broken(storage__reportsUri="http://x"),
    "missing-current": broken(current=...),
    "share-zero": broken(drift__datasetDriftShare=0),
    "share-type": broken(drift__datasetDriftShare="half"),
    "bad-correction": broken(drift__correction="holm"),
    "bad-estimator": broken(retrain__model__estimator="XGBClassifier"),
    "bad-goal": broken(retrain__objective={"metric": "roc_auc", "goal": "up"}),
    "metric-for-regressor": broken(retrain__model__estimator="Ridge"),
    "empty-grid-list": broken(retrain__grid={"n_estimators": []}),
    "parallelism-zero": broken(retrain__parallelism=0),
    "too-many-metrics": broken(retrain__metrics=["f1"] * 9),
    "bad-trigger": broken(retrain__trigger="Sometimes"),
    "bad-policy": broken(promotion={"policy": "Always"}),
    "unknown-field": broken(schedul="0 * * * *"),
    "several-at-once": broken(schedule="* *", retrain__parallelism=0, current=...),
}


def apiserver_lines(text: str) -> set[str]:
    text = text.strip().split(": ", 1)[1] if text.startswith("Error from server") else text.strip()
    if "\n" in text:
        return {line.removeprefix("* ").strip() for line in text.splitlines()[1:]}
    return {text.split(" is invalid: ", 1)[-1].split('error when creating "STDIN": ')[-1]}


def local_lines(manifest: dict[str, Any]) -> set[str]:
    with pytest.raises(ValidationError) as raised:
        DriftCheck.model_validate(manifest)
    return apiserver_lines(invalid_message("DriftCheck", manifest["metadata"]["name"], raised.value))


@pytest.mark.parametrize("case", sorted(CASES))
def test_local_validation_says_what_the_apiserver_says(
    case: str, cluster: Cluster, crds: str, namespace: str
) -> None:
    manifest = copy.deepcopy(CASES[case])
    manifest["metadata"]["name"] = case
    result = cluster.kubectl("apply", "-n", namespace, "-f", "-", stdin=json.dumps(manifest), check=False)
    assert result.returncode != 0, f"the apiserver accepted {case}"
    assert local_lines(manifest) == apiserver_lines(result.stderr)


def test_the_valid_manifest_is_valid_on_both_sides(cluster: Cluster, crds: str, namespace: str) -> None:
    DriftCheck.model_validate(VALID)
    cluster.kubectl("apply", "-n", namespace, "-f", "-", stdin=json.dumps(VALID))
