"""The scikit-learn pipeline a trial fits: column encoding, then the estimator.

Numerical columns (decimals included): ±inf counts as missing, as in the drift
check; missing values become the training median (HistGradientBoosting
takes NaN natively and keeps them); linear models also get standardised inputs.
Categorical columns: missing values become their own category "__missing__";
tree models get ordinal codes (a split on codes is as good as on one-hot columns
and much cheaper), linear models one-hot columns. Categories first seen in the
test data never fail a prediction: they map to an unknown code / all-zero row.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from kubedrift_jobs.train.estimators import estimator_info, make_estimator
from kubedrift_jobs.train.features import FeatureRoles

MISSING_CATEGORY = "__missing__"


def build_pipeline(estimator: str, params: Mapping[str, Any], roles: FeatureRoles) -> Any:
    """`params` are the full constructor params (see `estimators.constructor_params`)."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

    info = estimator_info(estimator)
    numerical_steps: list[tuple[str, Any]] = []
    if not info.nan_native:  # imputing NaN the estimator takes natively would only lose information
        numerical_steps.append(("impute", SimpleImputer(strategy="median", keep_empty_features=True)))
    if not info.tree_based:
        numerical_steps.append(("scale", StandardScaler()))
    encoder: Any = (
        OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1, dtype=np.float64)
        if info.tree_based
        else OneHotEncoder(handle_unknown="ignore", sparse_output=False)
    )
    transformers: list[tuple[str, Any, list[str]]] = []
    if roles.numerical:
        numerical: Any = Pipeline(numerical_steps) if numerical_steps else "passthrough"
        transformers.append(("numerical", numerical, list(roles.numerical)))
    if roles.categorical:
        categorical = Pipeline(
            [("impute", SimpleImputer(strategy="constant", fill_value=MISSING_CATEGORY)), ("encode", encoder)]
        )
        transformers.append(("categorical", categorical, list(roles.categorical)))
    features = ColumnTransformer(transformers, remainder="drop", verbose_feature_names_out=False)
    return Pipeline([("features", features), ("model", make_estimator(estimator, params))])


def prepare_frame(frame: pd.DataFrame, roles: FeatureRoles) -> tuple[pd.DataFrame, np.ndarray]:
    """Features and target as the pipeline expects them; rows without a target are dropped.

    ±inf is missing, like null (`infinite_counts` says where there were any).
    Categorical values become Python strings (bools and ints included) with NaN
    for missing, so encoders never compare a str with a bool or pd.NA.
    """
    frame = frame[_present(frame[roles.target])]
    features = pd.DataFrame(index=frame.index)
    for name in roles.numerical:
        features[name] = _numbers(frame[name]).replace([np.inf, -np.inf], np.nan)
    for name in roles.categorical:
        column = frame[name]
        missing = column.isna().to_numpy()
        values = column.astype(str).to_numpy(dtype=object)
        values[missing] = np.nan
        features[name] = pd.Series(values, index=frame.index, dtype=object)
    return features.reset_index(drop=True), frame[roles.target].to_numpy()


def infinite_counts(frame: pd.DataFrame, roles: FeatureRoles) -> dict[str, int]:
    """How many ±inf values each numerical column (and a numerical target) holds, where any."""
    counts: dict[str, int] = {}
    for name in dict.fromkeys([*roles.numerical, roles.target]):
        if name not in frame:
            continue
        values = _numbers(frame[name]) if name in roles.numerical else frame[name]
        if pd.api.types.is_float_dtype(values):
            found = int(np.isinf(values.to_numpy(dtype="float64", na_value=np.nan)).sum())
            if found:
                counts[name] = found
    return counts


def _numbers(column: pd.Series) -> pd.Series:
    return pd.to_numeric(column, errors="coerce").astype("float64")


def _present(target: pd.Series) -> pd.Series:
    """Rows whose target has a value: not null and, for a numerical target, not ±inf."""
    present = target.notna()
    if pd.api.types.is_float_dtype(target):
        present &= ~np.isinf(target.to_numpy(dtype="float64", na_value=np.nan))
    return present
