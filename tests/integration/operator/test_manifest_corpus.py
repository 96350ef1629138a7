"""Issue 12, proof 1: over eighty plausible mistakes in a DriftCheck, each refused with the same words.

Every case goes to the real apiserver (`kubectl apply`) and to the local validation
(`kubedrift run`'s models) in the same test. The `rule` column says who can refuse it:

* `openapi` — the CRD's structural schema (types, enums, bounds, patterns, required fields);
* `cel` — the CRD's x-kubernetes-validations rules;
* `operator` — rules the apiserver can't express (CEL declares no field for the grid's
  type-less values, so it can't see the grid at all; it has no time-zone database, and can't
  compare a cron range's two ends or resolve `./` and globs in paths): the apiserver accepts
  the manifest and the operator refuses it before any child exists, with a Stalled condition
  and an Event whose message is the local line, word for word.

For the first two, both sides must give the same lines, and one of them must name the
case's field and contain its fragment.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any

import pytest
from pydantic import ValidationError

from kubedrift.models.resources import DriftCheck
from kubedrift.models.validation import invalid_message
from tests.fixtures.cluster import Cluster, wait_for
from tests.integration.operator.conftest import Kube, OperatorProcess, dump
from tests.integration.test_validation_parity import VALID, apiserver_lines, broken

pytestmark = pytest.mark.cluster
JSON = dict[str, Any]


@dataclass(frozen=True)
class Case:
    rule: str  # openapi | cel | operator
    field: str  # the DriftCheck field the message must name
    fragment: str  # words the message must contain
    manifest: JSON


def named(manifest: JSON, name: str) -> JSON:
    out = copy.deepcopy(manifest)
    out["metadata"]["name"] = name
    return out


def retrain(**changes: Any) -> JSON:
    return broken(**{f"retrain__{k}": v for k, v in changes.items()})


GRID_27000 = {
    "n_estimators": list(range(1, 31)),
    "max_depth": list(range(1, 31)),
    "min_samples_leaf": list(range(1, 31)),
}

CASES: dict[str, Case] = {
    # --- OpenAPI: types (no quoted numbers or booleans), enums, bounds, patterns, required fields
    "share-quoted": Case(
        "openapi",
        "spec.drift.datasetDriftShare",
        "must be of type number",
        broken(drift__datasetDriftShare="0.5"),
    ),
    "share-word": Case(
        "openapi",
        "spec.drift.datasetDriftShare",
        "must be of type number",
        broken(drift__datasetDriftShare="half"),
    ),
    "share-zero": Case(
        "openapi",
        "spec.drift.datasetDriftShare",
        "should be greater than 0",
        broken(drift__datasetDriftShare=0),
    ),
    "share-above-one": Case(
        "openapi",
        "spec.drift.datasetDriftShare",
        "less than or equal to 1",
        broken(drift__datasetDriftShare=1.5),
    ),
    "threshold-quoted": Case(
        "openapi",
        "spec.drift.numerical.threshold",
        "must be of type number",
        broken(drift__numerical={"threshold": "0.05"}),
    ),
    "threshold-negative": Case(
        "openapi",
        "spec.drift.numerical.threshold",
        "greater than or equal to 0",
        broken(drift__numerical={"threshold": -0.1}),
    ),
    "bad-method": Case(
        "openapi",
        "spec.drift.categorical.method",
        "Unsupported value",
        broken(drift__categorical={"method": "kolmogorov"}),
    ),
    "bad-correction": Case(
        "openapi", "spec.drift.correction", "Unsupported value", broken(drift__correction="holm")
    ),
    "suspend-quoted": Case("openapi", "spec.suspend", "must be of type boolean", broken(suspend="true")),
    "missing-current": Case("openapi", "spec.current", "Required value", broken(current=...)),
    "missing-storage": Case("openapi", "spec.storage", "Required value", broken(storage=...)),
    "unknown-field": Case("openapi", "spec.schedul", "unknown field", broken(schedul="0 * * * *")),
    "exclude-not-a-list": Case(
        "openapi", "spec.columns.exclude", "must be of type array", broken(columns={"exclude": "cnt"})
    ),
    "schedule-too-long": Case("openapi", "spec.schedule", "Too long", broken(schedule="0 " * 70)),
    "endpoint-no-scheme": Case(
        "openapi", "spec.storage.endpoint", "should match", broken(storage__endpoint="minio:9000")
    ),
    "secret-key-spaces": Case(
        "openapi",
        "spec.storage.secretRef.accessKeyIdKey",
        "should match",
        broken(storage__secretRef={"name": "s3", "accessKeyIdKey": "access key"}),
    ),
    "bad-estimator": Case(
        "openapi",
        "spec.retrain.model.estimator",
        "Unsupported value",
        retrain(model={"estimator": "XGBClassifier"}),
    ),
    "bad-goal": Case(
        "openapi",
        "spec.retrain.objective.goal",
        "Unsupported value",
        retrain(objective={"metric": "roc_auc", "goal": "up"}),
    ),
    "bad-metric": Case(
        "openapi", "spec.retrain.objective.metric", "Unsupported value", retrain(objective={"metric": "auc"})
    ),
    "bad-trigger": Case("openapi", "spec.retrain.trigger", "Unsupported value", retrain(trigger="Sometimes")),
    "empty-grid-list": Case(
        "openapi",
        "spec.retrain.grid.n_estimators",
        "should have at least 1 items",
        retrain(grid={"n_estimators": []}),
    ),
    "grid-value-not-a-list": Case(
        "openapi",
        "spec.retrain.grid.n_estimators",
        "must be of type array",
        retrain(grid={"n_estimators": 100}),
    ),
    "too-many-grid-params": Case(
        "openapi",
        "spec.retrain.grid",
        "must have at most 32 items",
        retrain(grid={f"p{i}": [1] for i in range(33)}),
    ),
    "parallelism-quoted": Case(
        "openapi", "spec.retrain.parallelism", "must be of type integer", retrain(parallelism="4")
    ),
    "parallelism-zero": Case(
        "openapi", "spec.retrain.parallelism", "greater than or equal to 1", retrain(parallelism=0)
    ),
    "parallelism-huge": Case(
        "openapi", "spec.retrain.parallelism", "less than or equal to 1000", retrain(parallelism=5000)
    ),
    "backoff-too-high": Case(
        "openapi",
        "spec.retrain.backoffLimitPerIndex",
        "less than or equal to 10",
        retrain(backoffLimitPerIndex=11),
    ),
    "seed-negative": Case(
        "openapi", "spec.retrain.randomSeed", "greater than or equal to 0", retrain(randomSeed=-1)
    ),
    "max-failed-above-cap": Case(
        "openapi",
        "spec.retrain.maxFailedIndexes",
        "less than or equal to 10000",
        retrain(maxFailedIndexes=20000),
    ),
    "too-many-metrics": Case(
        "openapi", "spec.retrain.metrics", "must have at most 8 items", retrain(metrics=["f1"] * 9)
    ),
    "bad-policy": Case(
        "openapi", "spec.promotion.policy", "Unsupported value", broken(promotion={"policy": "Always"})
    ),
    "min-improvement-negative": Case(
        "openapi",
        "spec.promotion.minImprovement",
        "greater than or equal to 0",
        broken(promotion={"minImprovement": -0.1}),
    ),
    "train-missing": Case("openapi", "spec.retrain.train", "Required value", retrain(train=...)),
    # --- CEL: formats and cross-field rules, in the rule's own words
    "schedule-two-fields": Case("cel", "spec.schedule", "five fields", broken(schedule="* *")),
    "schedule-words": Case("cel", "spec.schedule", "five fields", broken(schedule="every day at 6 am")),
    "schedule-minute-60": Case("cel", "spec.schedule", "five fields", broken(schedule="60 * * * *")),
    "schedule-hour-24": Case("cel", "spec.schedule", "five fields", broken(schedule="0 24 * * *")),
    "schedule-six-fields": Case("cel", "spec.schedule", "five fields", broken(schedule="0 0 6 * * *")),
    "schedule-cron-tz": Case(
        "cel", "spec.schedule", "spec.timeZone", broken(schedule="CRON_TZ=Europe/Berlin 0 6 * * *")
    ),
    "schedule-tz": Case("cel", "spec.schedule", "spec.timeZone", broken(schedule="TZ=UTC 0 6 * * *")),
    "schedule-step-zero": Case("cel", "spec.schedule", "step of at least 1", broken(schedule="*/0 * * * *")),
    "schedule-sunday-seven": Case("cel", "spec.schedule", "day-of-week 0-6", broken(schedule="0 6 * * 7")),
    "schedule-range-past-max": Case("cel", "spec.schedule", "minute 0-59", broken(schedule="50-70 * * * *")),
    "schedule-descriptor-spaced": Case("cel", "spec.schedule", "@daily", broken(schedule="@daily ")),
    "bad-uri": Case("cel", "spec.reference.uri", "uri must be", broken(reference__uri="ftp://host/x")),
    "bad-reports-uri": Case(
        "cel", "spec.storage.reportsUri", "reportsUri must be", broken(storage__reportsUri="http://x")
    ),
    "bad-promotion-uri": Case(
        "cel",
        "spec.promotion.uri",
        "uri must be",
        broken(promotion={"policy": "Auto", "uri": "ftp://models/prod"}),
    ),
    "metric-for-regressor": Case(
        "cel",
        "spec.retrain.objective.metric",
        "metrics must fit the estimator",
        retrain(model={"estimator": "Ridge"}),
    ),
    "target-excluded": Case(
        "cel", "spec.columns.target", "columns.exclude", broken(columns={"target": "cnt", "exclude": ["cnt"]})
    ),
    "numerical-and-categorical": Case(
        "cel",
        "spec.columns.categorical",
        "not both",
        broken(columns={"numerical": ["temp", "hum"], "categorical": ["hum"]}),
    ),
    "secret-name-uppercase": Case(
        "cel",
        "spec.storage.secretRef.name",
        "name of a Secret",
        broken(storage__secretRef={"name": "S3_Creds"}),
    ),
    "secret-name-slash": Case(
        "cel",
        "spec.storage.secretRef.name",
        "name of a Secret",
        broken(storage__secretRef={"name": "team/s3"}),
    ),
    "memory-not-a-quantity": Case(
        "cel", "spec.retrain.resources.limits", "quantities", retrain(resources={"limits": {"memory": "1GB"}})
    ),
    "cpu-negative": Case(
        "cel", "spec.retrain.resources.requests", "quantities", retrain(resources={"requests": {"cpu": "-1"}})
    ),
    "cpu-word": Case(
        "cel",
        "spec.retrain.resources.requests",
        "quantities",
        retrain(resources={"requests": {"cpu": "two"}}),
    ),
    "resource-name-typo": Case(
        "cel", "spec.retrain.resources.limits", "may only name", retrain(resources={"limits": {"mem": "1Gi"}})
    ),
    "requests-above-limits": Case(
        "cel",
        "spec.retrain.resources.requests",
        "at most its resources.limits",
        retrain(resources={"requests": {"memory": "2Gi"}, "limits": {"memory": "1Gi"}}),
    ),
    "test-is-train": Case(
        "cel",
        "spec.retrain.test.uri",
        "allowTestOnTrainData",
        retrain(test={"uri": "s3://bikes/train.parquet"}),
    ),
    "test-is-train-with-slash": Case(
        "cel",
        "spec.retrain.test.uri",
        "allowTestOnTrainData",
        broken(retrain__train={"uri": "s3://bikes/train/"}, retrain__test={"uri": "s3://bikes/train"}),
    ),
    "test-is-train-file-url": Case(
        "cel",
        "spec.retrain.test.uri",
        "allowTestOnTrainData",
        broken(
            retrain__train={"uri": "file:///data/train.parquet"}, retrain__test={"uri": "/data/train.parquet"}
        ),
    ),
    "name-too-long": Case("cel", "metadata.name", "at most 63 characters", named(VALID, "b" * 64)),
    "name-uppercase": Case("openapi", "metadata.name", "RFC 1123", named(VALID, "Bikes")),
    "name-with-dots": Case("cel", "metadata.name", "without dots", named(VALID, "bikes.v2")),
    # --- operator-side: the apiserver can't see into the grid's values
    "grid-27000": Case(
        "operator", "spec.retrain.grid", "at most 10000 combinations", retrain(grid=GRID_27000)
    ),
    "max-failed-above-trials": Case(
        "operator",
        "spec.retrain.maxFailedIndexes",
        "at most the number of trials",
        retrain(maxFailedIndexes=5),
    ),
    "grid-unknown-param": Case(
        "operator", "spec.retrain.grid", "has no n_trees", retrain(grid={"n_trees": [10]})
    ),
    "grid-random-state": Case(
        "operator", "spec.retrain.grid", "randomSeed", retrain(grid={"random_state": [1, 2]})
    ),
    "params-unknown-param": Case(
        "operator",
        "spec.retrain.model.params",
        "has no depth",
        retrain(model={"estimator": "RandomForestClassifier", "params": {"depth": 3}}),
    ),
    "grid-and-params": Case(
        "operator",
        "spec.retrain.grid",
        "keep each param in one place",
        retrain(model={"estimator": "RandomForestClassifier", "params": {"n_estimators": 10}}),
    ),
    "grid-value-word": Case(
        "operator",
        "spec.retrain.grid.n_estimators[0]",
        "must be an int in the range [1, inf)",
        retrain(grid={"n_estimators": ["many"]}),
    ),
    "grid-value-negative": Case(
        "operator",
        "spec.retrain.grid.n_estimators[1]",
        "Got -5 instead",
        retrain(grid={"n_estimators": [10, -5]}),
    ),
    "grid-value-float-for-int": Case(
        "operator",
        "spec.retrain.grid.min_samples_leaf[0]",
        "min_samples_leaf",
        retrain(grid={"min_samples_leaf": [0]}),
    ),
    "grid-bad-option": Case(
        "operator",
        "spec.retrain.grid.criterion[0]",
        "a str among {'entropy', 'gini', 'log_loss'}",
        retrain(grid={"criterion": ["best"]}),
    ),
    "params-bad-option": Case(
        "operator",
        "spec.retrain.model.params.max_features",
        "max_features",
        retrain(model={"estimator": "RandomForestClassifier", "params": {"max_features": "most"}}),
    ),
    "time-zone-unknown": Case("operator", "spec.timeZone", "IANA time zone", broken(timeZone="Mars/Olympus")),
    "time-zone-posix-suffix": Case(
        "operator", "spec.timeZone", "IANA time zone", broken(timeZone="EST5EDT-bad")
    ),
    "time-zone-local": Case("operator", "spec.timeZone", "not Local", broken(timeZone="Local")),
    "schedule-reversed-range": Case(
        "operator", "spec.schedule", "low to high", broken(schedule="5-1 * * * *")
    ),
    "schedule-reversed-days": Case(
        "operator", "spec.schedule", "low to high", broken(schedule="0 6 * * fri-mon")
    ),
    "test-is-train-dot-slash": Case(
        "operator",
        "spec.retrain.test.uri",
        "nor overlap it",
        broken(retrain__train={"uri": "./data/train.parquet"}, retrain__test={"uri": "data/train.parquet"}),
    ),
    "test-inside-train": Case(
        "operator",
        "spec.retrain.test.uri",
        "nor overlap it",
        broken(
            retrain__train={"uri": "s3://bikes/train/"},
            retrain__test={"uri": "s3://bikes/train/2012.parquet"},
        ),
    ),
    "train-glob-picks-test": Case(
        "operator",
        "spec.retrain.test.uri",
        "nor overlap it",
        broken(
            retrain__train={"uri": "s3://bikes/data/*.parquet"},
            retrain__test={"uri": "s3://bikes/data/test.parquet"},
        ),
    ),
    "logistic-c-zero": Case(
        "operator",
        "spec.retrain.grid.C[0]",
        "a float in the range (0.0, inf]",
        retrain(model={"estimator": "LogisticRegression"}, grid={"C": [0, 1.0]}),
    ),
}
# The metric-for-regressor case needs a regressor's grid to reach its rule.
CASES["metric-for-regressor"].manifest["spec"]["retrain"]["grid"] = {"alpha": [0.1, 1.0]}

APISERVER = sorted(name for name, case in CASES.items() if case.rule != "operator")
OPERATOR = sorted(name for name, case in CASES.items() if case.rule == "operator")


def local_refusal(manifest: JSON) -> str:
    with pytest.raises(ValidationError) as raised:
        DriftCheck.model_validate(manifest)
    return invalid_message("DriftCheck", manifest["metadata"]["name"], raised.value)


def test_the_corpus_is_large_and_lists_every_kind_of_rule() -> None:
    kinds = {case.rule for case in CASES.values()}
    assert len(CASES) >= 50 and kinds == {"openapi", "cel", "operator"}


@pytest.mark.parametrize("case", APISERVER)
def test_apiserver_and_local_refuse_with_the_same_words(
    case: str, cluster: Cluster, crds: str, namespace: str
) -> None:
    spec = CASES[case]
    manifest = spec.manifest if case.startswith("name-") else named(spec.manifest, case)
    result = cluster.kubectl("apply", "-n", namespace, "-f", "-", stdin=json.dumps(manifest), check=False)
    assert result.returncode != 0, f"the apiserver accepted {case}"
    server = apiserver_lines(result.stderr)
    assert apiserver_lines(local_refusal(manifest)) == server
    assert any(spec.field in line and spec.fragment in line for line in server), server


def test_what_only_the_operator_can_check_is_refused_before_any_child_with_the_local_words(
    cluster: Cluster, crds: str, namespace: str, kube: Kube, operator: OperatorProcess
) -> None:
    expected: dict[str, str] = {}
    for case in OPERATOR:
        spec = CASES[case]
        manifest = named(spec.manifest, case)
        local = local_refusal(manifest)
        line = local.removeprefix(f'The DriftCheck "{case}" is invalid: ')
        assert spec.field in line and spec.fragment in line, line
        expected[case] = line
        cluster.kubectl("apply", "-n", namespace, "-f", "-", stdin=json.dumps(manifest))  # accepted
    for case, line in expected.items():
        stalled = wait_for(
            lambda case=case: (c := kube.condition(case, "Stalled")).get("status") == "True" and c,
            f"{case} to be Stalled",
            timeout=120,
        )
        assert (stalled["reason"], stalled["message"]) == ("InvalidSpec", line), dump(stalled)
        events = [e for e in kube.events(case) if e["reason"] == "InvalidSpec"]
        assert [e["message"] for e in events] == [line], dump(events)
    for path in (
        "/apis/batch/v1/namespaces/{ns}/jobs",
        "/apis/batch/v1/namespaces/{ns}/cronjobs",
        "/api/v1/namespaces/{ns}/configmaps",
        "/apis/kubedrift.io/v1alpha1/namespaces/{ns}/experiments",
    ):
        children = [o["metadata"]["name"] for o in kube.list(path, "kubedrift.io/check")]
        assert children == [], f"{path}: {children}"
