"""Column type inference follows Evidently 0.7's rules, on the current data."""

from __future__ import annotations

import pyarrow as pa
import pytest

from kubedrift_jobs.drift.column_types import declared_type_fits, infer


def chunked(values: list, data_type: pa.DataType | None = None) -> pa.ChunkedArray:
    return pa.chunked_array([pa.array(values, data_type)])


@pytest.mark.parametrize(
    ("values", "data_type", "expected"),
    [
        ([1.0, 1.0], pa.float64(), "numerical"),
        (list(range(10)) * 2, pa.int64(), "categorical"),  # 10 distinct: still categorical
        (list(range(11)) * 2, pa.int64(), "numerical"),  # 11 distinct: numerical
        (list(range(11)) * 2, pa.uint8(), "numerical"),
        (["a", "b", "a", "b"], pa.string(), "categorical"),  # 2 distinct of 4: not more than half
        ([True, False, None], pa.bool_(), "categorical"),
    ],
)
def test_inferred_types(values: list, data_type: pa.DataType, expected: str) -> None:
    assert infer(chunked(values, data_type)).column_type == expected


def test_dictionary_columns_are_categorical() -> None:
    column = pa.chunked_array([pa.array(["x", "y", "x"]).dictionary_encode()])
    assert infer(column).column_type == "categorical"


def test_strings_with_more_distinct_values_than_half_the_rows_are_high_cardinality() -> None:
    inferred = infer(chunked(["a", "b", "c", "a", None]))  # 3 distinct > 4 valid / 2
    assert inferred.column_type is None and inferred.skip_status == "high_cardinality"
    assert "3 distinct values in 4 current rows" in (inferred.reason or "")


def test_dates_are_not_tested() -> None:
    inferred = infer(chunked([0, 1], pa.date32()))
    assert inferred.column_type is None and inferred.skip_status == "unsupported"


def test_declared_types_must_fit_the_data() -> None:
    assert declared_type_fits("numerical", pa.int32()) and declared_type_fits("categorical", pa.int32())
    assert not declared_type_fits("numerical", pa.string())
    assert not declared_type_fits("categorical", pa.date32())
