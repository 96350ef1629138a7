"""Column roles from the spec and the Arrow schema."""

from __future__ import annotations

import pytest

from kubedrift.errors import ConfigError, DataUnreadable
from kubedrift.models.driftcheck import Columns
from kubedrift_jobs.train.features import feature_roles

BIKE_SCHEMA = {
    "dteday": "timestamp[us]",
    "season": "large_string",
    "hr": "large_string",
    "holiday": "large_string",
    "temp": "double",
    "hum": "double",
    "cnt": "int64",
    "flag": "bool",
    "code": "dictionary<values=string, indices=int32, ordered=0>",
    "high_demand": "int64",
}


def test_roles_are_inferred_from_types_minus_target_and_exclude() -> None:
    roles = feature_roles(BIKE_SCHEMA, Columns(target="high_demand", exclude=["cnt"]), "u")
    assert roles.numerical == ("temp", "hum")
    assert roles.categorical == ("season", "hr", "holiday", "flag", "code")
    assert roles.skipped == ("dteday",)
    assert roles.needed == ["temp", "hum", "season", "hr", "holiday", "flag", "code", "high_demand"]


def test_named_roles_win_over_types() -> None:
    columns = Columns(target="high_demand", categorical=["cnt"], numerical=["season"], exclude=["dteday"])
    roles = feature_roles(BIKE_SCHEMA, columns, "u")
    assert "cnt" in roles.categorical and "cnt" not in roles.numerical
    assert "season" in roles.numerical and "season" not in roles.categorical


def test_missing_target_is_config_error_and_missing_column_is_unreadable_data() -> None:
    with pytest.raises(ConfigError, match=r"columns\.target: training needs a target column"):
        feature_roles(BIKE_SCHEMA, Columns(), "u")
    with pytest.raises(DataUnreadable, match=r"s3://b/x: no column 'demand' \(columns.target\)"):
        feature_roles(BIKE_SCHEMA, Columns(target="demand"), "s3://b/x")
    with pytest.raises(DataUnreadable, match=r"no column 'wind' \(columns.numerical\)"):
        feature_roles(BIKE_SCHEMA, Columns(target="high_demand", numerical=["wind"]), "u")


def test_no_features_left_is_config_error() -> None:
    with pytest.raises(ConfigError, match="no feature columns"):
        feature_roles({"y": "int64", "x": "double"}, Columns(target="y", exclude=["x"]), "u")


def test_inf_is_missing_in_features_and_in_a_numerical_target() -> None:
    import numpy as np
    import pandas as pd

    from kubedrift_jobs.train.features import FeatureRoles
    from kubedrift_jobs.train.pipeline import infinite_counts, prepare_frame

    roles = FeatureRoles("y", ("a",), ("c",))
    frame = pd.DataFrame(
        {"a": [1.0, np.inf, -np.inf, 4.0], "c": ["x", "y", None, "x"], "y": [1.0, 2.0, np.inf, 3.0]}
    )
    assert infinite_counts(frame, roles) == {"a": 2, "y": 1}
    features, target = prepare_frame(frame, roles)
    assert target.tolist() == [1.0, 2.0, 3.0]  # the ±inf target's row is dropped like a missing one
    assert features["a"].isna().tolist() == [False, True, False]
