"""From Arrow columns to the numpy samples the stat tests take.

Numerical columns become float64 arrays without nulls, NaN or ±inf, sorted once
here (every later step - quantiles, histograms, distinct counts, the
Wasserstein merge - wants them sorted). Categorical columns become integer codes
into their sorted labels, the same labels for both sides, so counting is one
`bincount` and code order is value order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

ArrowKind = Literal["integer", "floating", "string", "boolean", "dictionary", "null", "other"]


def arrow_kind(data_type: pa.DataType) -> ArrowKind:
    if pa.types.is_dictionary(data_type):
        return "dictionary"
    if pa.types.is_integer(data_type):
        return "integer"
    if pa.types.is_floating(data_type) or pa.types.is_decimal(data_type):
        return "floating"  # a decimal is a number, as training takes it
    if pa.types.is_string(data_type) or pa.types.is_large_string(data_type):
        return "string"
    if pa.types.is_boolean(data_type):
        return "boolean"
    if pa.types.is_null(data_type):
        return "null"
    return "other"


# Kinds that may meet across the two sides of one column (an int column may arrive as float).
COMPATIBLE = {"integer": "number", "floating": "number", "string": "text", "dictionary": "text"}


def same_kind(left: pa.DataType, right: pa.DataType) -> bool:
    a, b = arrow_kind(left), arrow_kind(right)
    return "null" in (a, b) or COMPATIBLE.get(a, a) == COMPATIBLE.get(b, b)


def non_null_distinct(column: pa.ChunkedArray) -> tuple[int, int]:
    """(non-null values, distinct non-null values)."""
    valid = len(column) - column.null_count
    return valid, int(pc.count_distinct(column, mode="only_valid").as_py())


@dataclass(frozen=True)
class NumericalSample:
    rows: int
    values: np.ndarray  # sorted, finite float64
    infinite: int = 0  # ±inf values, counted as missing (training imputes them like nulls)

    @property
    def missing(self) -> int:
        return self.rows - self.values.size


def numerical_sample(column: pa.ChunkedArray) -> NumericalSample:
    if pa.types.is_dictionary(column.type):
        column = column.cast(column.type.value_type)
    chunks = [_float_values(chunk) for chunk in column.chunks]
    # Drop NaN/±inf chunk by chunk, and only where there are any: no second full-size copy.
    finite = [values if bool(np.isfinite(values).all()) else values[np.isfinite(values)] for values in chunks]
    infinite = sum(
        int(np.isinf(values).sum()) for values, kept in zip(chunks, finite, strict=True) if kept is not values
    )
    values = np.concatenate(finite) if finite else np.empty(0, dtype=np.float64)
    values.sort()
    return NumericalSample(rows=len(column), values=values, infinite=infinite)


def _float_values(chunk: pa.Array) -> np.ndarray:
    return np.asarray(pc.cast(chunk, pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64)


@dataclass(frozen=True)
class CategoricalPair:
    labels: list[str]
    reference: np.ndarray  # codes into labels
    current: np.ndarray
    rows_reference: int
    rows_current: int

    @property
    def missing_reference(self) -> int:
        return self.rows_reference - self.reference.size

    @property
    def missing_current(self) -> int:
        return self.rows_current - self.current.size


def categorical_pair(reference: pa.ChunkedArray, current: pa.ChunkedArray) -> CategoricalPair:
    reference, current = _plain(reference), _plain(current)
    if pa.types.is_floating(reference.type) or pa.types.is_floating(current.type):
        return _float_categories(reference, current)
    if reference.type != current.type and not pa.types.is_null(reference.type):
        current = current.cast(reference.type) if not pa.types.is_null(current.type) else current
    distinct = pa.chunked_array(
        [pc.unique(reference).drop_null(), pc.unique(current).drop_null().cast(reference.type)]
    )
    labels = pc.unique(distinct.combine_chunks()).sort()
    return CategoricalPair(
        labels=[str(v) for v in labels.to_pylist()],
        reference=_codes(reference, labels),
        current=_codes(current, labels),
        rows_reference=len(reference),
        rows_current=len(current),
    )


def _plain(column: pa.ChunkedArray) -> pa.ChunkedArray:
    return column.cast(column.type.value_type) if pa.types.is_dictionary(column.type) else column


def _codes(column: pa.ChunkedArray, labels: pa.Array) -> np.ndarray:
    codes = pc.index_in(column, value_set=labels).drop_null()
    return np.asarray(codes.to_numpy(), dtype=np.int64) if len(codes) else np.empty(0, dtype=np.int64)


def _float_categories(reference: pa.ChunkedArray, current: pa.ChunkedArray) -> CategoricalPair:
    ref = numerical_sample(reference)
    cur = numerical_sample(current)
    labels, inverse = np.unique(np.concatenate([ref.values, cur.values]), return_inverse=True)
    return CategoricalPair(
        labels=[_label(v) for v in labels],
        reference=inverse[: ref.values.size].astype(np.int64),
        current=inverse[ref.values.size :].astype(np.int64),
        rows_reference=ref.rows,
        rows_current=cur.rows,
    )


def _label(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))
