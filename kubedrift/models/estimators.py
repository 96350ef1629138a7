"""The constructor params of each allow-listed estimator, known without scikit-learn.

The operator has no scikit-learn, yet a grid that names a param the estimator does
not have should stop before any Job starts, not fail in twelve pods. So the names
live here (for scikit-learn 1.9, the version the jobs extra pins), the models check
specs against them, and a unit test compares them with scikit-learn's own
`get_params()`. Types and ranges are still checked by the training job, with
scikit-learn's own constraints.
"""

from __future__ import annotations

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

ESTIMATOR_PARAMS: dict[str, tuple[str, ...]] = {
    "RandomForestClassifier": (*_FOREST, "class_weight"),
    "RandomForestRegressor": _FOREST,
    "ExtraTreesClassifier": (*_FOREST, "class_weight"),
    "ExtraTreesRegressor": _FOREST,
    "GradientBoostingClassifier": _GRADIENT_BOOSTING,
    "GradientBoostingRegressor": (*_GRADIENT_BOOSTING, "alpha"),
    "HistGradientBoostingClassifier": (*_HIST_GRADIENT_BOOSTING, "class_weight"),
    "HistGradientBoostingRegressor": (*_HIST_GRADIENT_BOOSTING, "quantile"),
    "LogisticRegression": (
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
    ),
    "Ridge": (
        "alpha",
        "copy_X",
        "fit_intercept",
        "max_iter",
        "positive",
        "solver",
        "tol",
    ),
}
