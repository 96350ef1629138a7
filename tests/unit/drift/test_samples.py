"""Arrow columns become clean numpy samples: nulls, NaN and ±inf dropped, codes shared by both sides."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from kubedrift_jobs.drift.profile import build
from kubedrift_jobs.drift.samples import categorical_pair, numerical_sample, same_kind


def test_numerical_sample_drops_null_nan_and_inf_and_sorts() -> None:
    column = pa.chunked_array([pa.array([3.0, None, np.nan]), pa.array([np.inf, -1.0, -np.inf, 2])])
    sample = numerical_sample(column)
    assert sample.values.tolist() == [-1.0, 2.0, 3.0] and sample.rows == 7 and sample.missing == 4


def test_integer_columns_become_floats() -> None:
    assert numerical_sample(pa.chunked_array([pa.array([5, None, 1], pa.int32())])).values.tolist() == [
        1.0,
        5.0,
    ]


def test_categorical_codes_index_sorted_labels_shared_by_both_sides() -> None:
    reference = build("x", pa.chunked_array([["b", None, "a"]]))
    pair = categorical_pair(reference, pa.chunked_array([["c", "a", "a"]]))
    assert pair.labels == ["a", "b", "c"]
    # Counts per label, the reference's from its profile: no value per row is ever made.
    assert pair.reference_counts.tolist() == [1, 1, 0] and pair.current_counts.tolist() == [2, 0, 1]
    assert (pair.missing_reference, pair.missing_current) == (1, 0)


def test_float_categories_drop_nan() -> None:
    pair = categorical_pair(
        build("x", pa.chunked_array([[1.0, np.nan, 2.0]])), pa.chunked_array([[2.0, 3.5]])
    )
    assert pair.labels == ["1", "2", "3.5"] and pair.missing_reference == 1


def test_int_and_float_sides_are_the_same_kind_but_not_number_and_text() -> None:
    assert same_kind(pa.int64(), pa.float64())
    assert same_kind(pa.string(), pa.dictionary(pa.int32(), pa.string()))
    assert not same_kind(pa.float64(), pa.string())
