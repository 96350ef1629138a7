"""The estimator and metric tables are the one source of the literals, the CEL rule and the checks."""

from __future__ import annotations

from typing import Any, get_args

import pytest
from pydantic import ValidationError

from kubedrift.models.driftcheck import OBJECTIVE_RULE, EstimatorName, MetricName, Retrain
from kubedrift.models.estimators import ESTIMATORS, REGRESSORS
from kubedrift.models.metrics import LOWER_IS_BETTER, METRICS


def test_the_models_literals_are_the_tables_names() -> None:
    assert get_args(EstimatorName) == tuple(ESTIMATORS)
    assert get_args(MetricName) == tuple(METRICS)


def test_the_cel_rule_names_exactly_the_tables_regressors() -> None:
    assert f"self.model.estimator in {list(REGRESSORS)}" in OBJECTIVE_RULE.cel
    assert set(REGRESSORS) == {name for name, e in ESTIMATORS.items() if e.task == "regression"}


def test_lower_is_better_comes_from_the_metric_table() -> None:
    assert {"log_loss", "rmse", "mae"} == LOWER_IS_BETTER


def retrain(estimator: str, metric: str) -> dict[str, Any]:
    return {
        "train": {"uri": "/d/train.parquet"},
        "test": {"uri": "/d/test.parquet"},
        "model": {"estimator": estimator},
        "objective": {"metric": metric},
    }


@pytest.mark.parametrize("estimator", list(ESTIMATORS))
@pytest.mark.parametrize("metric", list(METRICS))
def test_the_python_check_accepts_a_metric_exactly_when_its_task_is_the_estimators(
    estimator: str, metric: str
) -> None:
    fits = METRICS[metric].task == ESTIMATORS[estimator].task
    if fits:
        Retrain.model_validate(retrain(estimator, metric))
    else:
        with pytest.raises(ValidationError, match="metrics must fit the estimator"):
            Retrain.model_validate(retrain(estimator, metric))


@pytest.mark.parametrize("estimator", list(ESTIMATORS))
def test_the_training_pipeline_imputes_exactly_where_the_table_says_nan_is_not_native(estimator: str) -> None:
    from kubedrift_jobs.train.estimators import constructor_params
    from kubedrift_jobs.train.features import FeatureRoles
    from kubedrift_jobs.train.pipeline import build_pipeline

    roles = FeatureRoles(target="y", numerical=("x",), categorical=())
    pipeline = build_pipeline(estimator, constructor_params(estimator, {}, 0), roles)
    numerical = pipeline.named_steps["features"].transformers[0][1]
    steps = [] if numerical == "passthrough" else [name for name, _ in numerical.steps]
    assert ("impute" in steps) is not ESTIMATORS[estimator].nan_native


def test_the_training_job_computes_every_metric_of_the_table() -> None:
    from kubedrift_jobs.train.metrics import _METRICS

    assert set(_METRICS) == set(METRICS)
