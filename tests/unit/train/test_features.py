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
