"""Param checks against scikit-learn's own rules, before any trial starts."""

from __future__ import annotations

from typing import Any, get_args

import pytest
from pydantic import ValidationError

from kubedrift.errors import ConfigError
from kubedrift.models.driftcheck import EstimatorName, ModelSpec, Retrain
from kubedrift.models.estimators import ESTIMATORS, SEED_PARAM
from kubedrift_jobs.train.estimators import (
    constructor_params,
    estimator_class,
    make_estimator,
    param_problems,
    validate_retrain,
)


def retrain(estimator: str = "RandomForestClassifier", **overrides: Any) -> Retrain:
    spec: dict[str, Any] = {
        "train": {"uri": "/data/train.parquet"},
        "test": {"uri": "/data/test.parquet"},
        "model": {"estimator": estimator, "params": {}},
        "grid": {},
        "objective": {"metric": "rmse" if ESTIMATORS[estimator].regression else "avg_prec"},
    }
    spec.update(overrides)
    return Retrain.model_validate(spec)


def test_allow_list_matches_the_spec_literal_and_loads_real_classes() -> None:
    assert set(ESTIMATORS) == set(get_args(EstimatorName))
    from sklearn.base import is_regressor

    for name, info in ESTIMATORS.items():
        cls = estimator_class(name)
        assert cls.__name__ == name
        assert cls.__module__.startswith("sklearn.")
        assert is_regressor(cls()) is info.regression, (
            f"fix the task of {name} in kubedrift/models/estimators.py"
        )


def test_valid_grid_passes() -> None:
    validate_retrain(
        retrain(
            model={"estimator": "RandomForestClassifier", "params": {"n_jobs": 1}},
            grid={"n_estimators": [350, 500], "min_samples_split": [28, 64], "max_depth": [None, 8]},
        )
    )


@pytest.mark.parametrize(
    ("estimator", "spec", "message"),
    [
        (
            "RandomForestClassifier",
            {"grid": {"max_depth": [4, "deep"]}},
            r"retrain\.grid\.max_depth\[1\]: The 'max_depth' parameter .* must be an int",
        ),
        (
            "RandomForestClassifier",
            {"grid": {"min_samples_split": [1]}},
            r"retrain\.grid\.min_samples_split\[0\]: .*range \[2, inf\)",
        ),
        (
            "LogisticRegression",
            {"model": {"estimator": "LogisticRegression", "params": {"C": -1}}},
            r"retrain\.model\.params\.C: The 'C' parameter of LogisticRegression must be a float",
        ),
        (
            "Ridge",
            {"model": {"estimator": "Ridge", "params": {"solver": "fast"}}},
            r"retrain\.model\.params\.solver: .* must be a str among",
        ),
        (
            "RandomForestClassifier",
            {
                "model": {"estimator": "RandomForestClassifier", "params": {"n_estimators": 10}},
                "grid": {"n_estimators": [5]},
            },
            r"retrain\.grid\.n_estimators: also set in retrain\.model\.params",
        ),
        (
            "RandomForestClassifier",
            {"grid": {"n_estimators": list(range(1, 102)), "min_samples_split": list(range(2, 102))}},
            r"retrain\.grid: 10100 combinations \(100 min_samples_split × 101 n_estimators\) "
            r"exceed the cap of 10000",
        ),
    ],
)
def test_bad_params_are_config_errors_naming_the_field(
    estimator: str, spec: dict[str, Any], message: str
) -> None:
    # The models refuse most of these before any trial (see tests/unit/train/test_param_constraints.py);
    # the job's own check, with scikit-learn at hand, still covers a config it is handed as is.
    with pytest.raises(ConfigError, match=message):
        validate_retrain(unvalidated(estimator, spec))


def unvalidated(estimator: str, spec: dict[str, Any]) -> Retrain:
    update: dict[str, Any] = {"grid": spec.get("grid", {})}
    if "model" in spec:
        update["model"] = ModelSpec.model_construct(**spec["model"])
    return retrain(estimator).model_copy(update=update)


@pytest.mark.parametrize(
    ("grid", "message"),
    [
        (
            {"n_estimator": [10]},
            r"retrain\.grid\.n_estimator\[0\]: RandomForestClassifier has no param 'n_estimator'; "
            r"did you mean 'n_estimators'\?",
        ),
        ({"random_state": [1, 2]}, r"retrain\.grid\.random_state\[0\]: set retrain\.randomSeed instead"),
    ],
)
def test_params_the_estimator_lacks_are_rejected_by_the_spec_and_by_the_job(
    grid: dict[str, Any], message: str
) -> None:
    # The spec (and the CRD's CEL rule) rejects them at apply time ...
    with pytest.raises(ValidationError, match="grid may only name constructor params of the estimator"):
        retrain(grid=grid)
    # ... and the job's own check, with scikit-learn at hand, says more for a spec it is handed as is.
    unvalidated = retrain().model_copy(update={"grid": grid})
    with pytest.raises(ConfigError, match=message):
        validate_retrain(unvalidated)


def test_the_models_know_every_param_scikit_learn_knows() -> None:
    for name, info in ESTIMATORS.items():
        expected = sorted(set(estimator_class(name)().get_params()) - {SEED_PARAM})
        assert sorted(info.params) == expected, f"update kubedrift/models/estimators.py for {name}"


def test_all_problems_are_reported_together() -> None:
    with pytest.raises(ConfigError) as error:
        validate_retrain(
            unvalidated("RandomForestClassifier", {"grid": {"n_estimators": [0], "max_depth": [0]}})
        )
    assert "retrain.grid.max_depth[0]" in error.value.message
    assert "retrain.grid.n_estimators[0]" in error.value.message


def test_empty_grid_list_is_rejected_by_the_spec_and_by_the_check() -> None:
    with pytest.raises(ValidationError, match=r"grid\.n_estimators\n  List should have at least 1 item"):
        retrain(grid={"n_estimators": []})
    # The check itself also covers specs built without validation (e.g. model_construct).
    spec = retrain().model_copy(update={"grid": {"n_estimators": []}})
    with pytest.raises(ConfigError, match=r"retrain\.grid\.n_estimators: needs at least one value"):
        validate_retrain(spec)


def test_problems_are_plain_data_for_other_callers() -> None:
    assert param_problems("Ridge", {"alpha": 1.0}, "retrain.model.params") == []
    assert param_problems("Ridge", {"alpha": -1.0}, "x")[0].startswith("x.alpha: ")


def test_seed_is_set_where_the_estimator_takes_one() -> None:
    params = constructor_params("RandomForestClassifier", {"n_estimators": 3}, seed=7)
    assert params == {"n_estimators": 3, "random_state": 7}
    model = make_estimator("RandomForestClassifier", params)
    assert model.get_params()["random_state"] == 7 and model.get_params()["n_estimators"] == 3
    assert "random_state" in constructor_params("Ridge", {}, seed=1)  # Ridge takes one, for its sag solver
