"""The allow-listed estimators, one row each: everything about them known without scikit-learn.

The model's literal, the CEL rule and the Python validation of `retrain`, and the
training job's class lookup all read this table, so "is this a regressor" is
answered in one place.

The operator has no scikit-learn, yet a grid that names a param the estimator does
not have should stop before any Job starts, not fail in twelve pods. So the names
live here (for scikit-learn 1.9, the version the jobs extra pins), the models check
specs against them, and a unit test compares them with scikit-learn's own
`get_params()`. Types and ranges are still checked by the training job, with
scikit-learn's own constraints.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# Set from `retrain.randomSeed`, so that every trial of a run is reproducible.
SEED_PARAM = "random_state"

# Random forests and extra trees share their params; the classifiers add class_weight.
_FOREST = (
    "bootstrap",
    "ccp_alpha",
    "criterion",
    "max_depth",
    "max_features",
    "max_leaf_nodes",
    "max_samples",
    "min_impurity_decrease",
    "min_samples_leaf",
    "min_samples_split",
    "min_weight_fraction_leaf",
    "monotonic_cst",
    "n_estimators",
    "n_jobs",
    "oob_score",
    "verbose",
    "warm_start",
)
_GRADIENT_BOOSTING = (
    "ccp_alpha",
    "criterion",
    "init",
    "learning_rate",
    "loss",
    "max_depth",
    "max_features",
    "max_leaf_nodes",
    "min_impurity_decrease",
    "min_samples_leaf",
    "min_samples_split",
    "min_weight_fraction_leaf",
    "n_estimators",
    "n_iter_no_change",
    "subsample",
    "tol",
    "validation_fraction",
    "verbose",
    "warm_start",
)
_HIST_GRADIENT_BOOSTING = (
    "categorical_features",
    "early_stopping",
    "interaction_cst",
    "l2_regularization",
    "learning_rate",
    "loss",
    "max_bins",
    "max_depth",
    "max_features",
    "max_iter",
    "max_leaf_nodes",
    "min_samples_leaf",
    "monotonic_cst",
    "n_iter_no_change",
    "scoring",
    "tol",
    "validation_fraction",
    "verbose",
    "warm_start",
)

Task = Literal["classification", "regression"]


@dataclass(frozen=True)
class Estimator:
    name: str
    module: str  # where scikit-learn defines the class
    family: str
    task: Task
    # Trees split on thresholds: ordinal codes are as good as one-hot columns and far cheaper.
    tree_based: bool
    params: tuple[str, ...]  # constructor params, without SEED_PARAM
    # Takes NaN in numerical columns as information, so the training pipeline does not impute them.
    nan_native: bool = False

    @property
    def regression(self) -> bool:
        return self.task == "regression"


_ENSEMBLE = "sklearn.ensemble"
_LINEAR = "sklearn.linear_model"
_LOGISTIC_REGRESSION = (
    "C",
    "class_weight",
    "dual",
    "fit_intercept",
    "intercept_scaling",
    "l1_ratio",
    "max_iter",
    "n_jobs",
    "penalty",
    "solver",
    "tol",
    "verbose",
    "warm_start",
)
_RIDGE = (
    "alpha",
    "copy_X",
    "fit_intercept",
    "max_iter",
    "positive",
    "solver",
    "tol",
)

ESTIMATORS: dict[str, Estimator] = {
    estimator.name: estimator
    for estimator in (
        Estimator(
            "RandomForestClassifier", _ENSEMBLE, "forest", "classification", True, (*_FOREST, "class_weight")
        ),
        Estimator("RandomForestRegressor", _ENSEMBLE, "forest", "regression", True, _FOREST),
        Estimator(
            "ExtraTreesClassifier", _ENSEMBLE, "forest", "classification", True, (*_FOREST, "class_weight")
        ),
        Estimator("ExtraTreesRegressor", _ENSEMBLE, "forest", "regression", True, _FOREST),
        Estimator(
            "GradientBoostingClassifier",
            _ENSEMBLE,
            "gradient_boosting",
            "classification",
            True,
            _GRADIENT_BOOSTING,
        ),
        Estimator(
            "GradientBoostingRegressor",
            _ENSEMBLE,
            "gradient_boosting",
            "regression",
            True,
            (*_GRADIENT_BOOSTING, "alpha"),
        ),
        Estimator(
            "HistGradientBoostingClassifier",
            _ENSEMBLE,
            "hist_gradient_boosting",
            "classification",
            True,
            (*_HIST_GRADIENT_BOOSTING, "class_weight"),
            nan_native=True,
        ),
        Estimator(
            "HistGradientBoostingRegressor",
            _ENSEMBLE,
            "hist_gradient_boosting",
            "regression",
            True,
            (*_HIST_GRADIENT_BOOSTING, "quantile"),
            nan_native=True,
        ),
        Estimator("LogisticRegression", _LINEAR, "linear", "classification", False, _LOGISTIC_REGRESSION),
        Estimator("Ridge", _LINEAR, "linear", "regression", False, _RIDGE),
    )
}
REGRESSORS = tuple(name for name, estimator in ESTIMATORS.items() if estimator.regression)
