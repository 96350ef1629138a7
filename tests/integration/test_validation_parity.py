"""`kubedrift run` rejects a broken DriftCheck with the apiserver's own words.

Each manifest goes to the real apiserver through `kubectl apply` and to the local
validation in the models; the field errors must be the same lines.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
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


def windowed(window: dict[str, Any], time: dict[str, Any] | None = None) -> dict[str, Any]:
    """VALID whose current data is a window over daily partitions."""
    return broken(
        current__time={"partition": "dt=%Y-%m-%d"} if time is None else time, current__window=window
    )


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
    "bad-promotion-uri": broken(promotion={"policy": "Auto", "uri": "ftp://models/prod"}),
    "unknown-field": broken(schedul="0 * * * *"),
    "several-at-once": broken(schedule="* *", retrain__parallelism=0, current=...),
    # Windows (issue 13). from/to are compared as instants, not as text, on both sides.
    "window-from-after-to": windowed({"from": "2011-02-01T00:00:00Z", "to": "2011-01-01T00:00:00Z"}),
    "window-from-equals-to": windowed({"from": "2011-01-01T00:00:00Z", "to": "2011-01-01T00:00:00Z"}),
    "window-from-after-to-in-its-offset": windowed(
        {"from": "2011-01-01T23:00:00-05:00", "to": "2011-01-02T00:00:00Z"}  # 04:00Z: after `to`
    ),
    "window-relative-and-absolute": windowed({"last": "7d", "from": "2011-01-01T00:00:00Z"}),
    "window-half-absolute": windowed({"from": "2011-01-01T00:00:00Z"}),
    "window-bad-duration": windowed({"last": "7days"}),
    "window-zero-duration": windowed({"last": "0d"}),
    "window-bad-lag": windowed({"last": "7d", "lag": "2 hours"}),
    "window-without-time": broken(current__window={"last": "7d"}),
    "time-partition-and-column": windowed({"last": "7d"}, {"partition": "dt=%Y-%m-%d", "column": "ts"}),
    "time-neither-partition-nor-column": windowed({"last": "7d"}, {}),
    "time-partition-bad-field": windowed({"last": "7d"}, {"partition": "dt=%Y-%j"}),
    "time-partition-day-without-month": windowed({"last": "7d"}, {"partition": "%Y/%d"}),
}
VALID_WINDOWS = {
    "window-relative": windowed({"last": "7d", "offset": "4w", "lag": "2h"}),
    "window-absolute": windowed({"from": "2011-01-01T00:00:00Z", "to": "2011-02-01T00:00:00Z"}),
    "window-from-before-to-in-its-offset": windowed(
        {"from": "2011-01-02T00:00:00+05:00", "to": "2011-01-01T22:00:00Z"}  # 19:00Z: before `to`
    ),
    "window-over-a-column": windowed({"last": "24h"}, {"column": "event_time"}),  # no partition rule fires
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


@pytest.mark.parametrize("case", sorted(VALID_WINDOWS))
def test_valid_windows_are_valid_on_both_sides(
    case: str, cluster: Cluster, crds: str, namespace: str
) -> None:
    manifest = copy.deepcopy(VALID_WINDOWS[case])
    manifest["metadata"]["name"] = case
    DriftCheck.model_validate(manifest)
    cluster.kubectl("apply", "--dry-run=server", "-n", namespace, "-f", "-", stdin=json.dumps(manifest))


EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples").glob("*/driftcheck-*.yaml"))


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_the_example_manifests_are_valid_on_both_sides(
    example: Path, cluster: Cluster, crds: str, namespace: str
) -> None:
    manifest = yaml.safe_load(example.read_text())
    DriftCheck.model_validate(manifest)
    cluster.kubectl("apply", "--dry-run=server", "-n", namespace, "-f", str(example))
