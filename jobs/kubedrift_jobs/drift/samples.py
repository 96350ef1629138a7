"""From Arrow columns to the numpy samples the stat tests take.

Numerical columns become float64 arrays without nulls, NaN or ±inf, sorted once
here (every later step - quantiles, histograms, distinct counts, the
Wasserstein merge - wants them sorted). Categorical columns become integer codes
into their sorted labels, the same labels for both sides, so counting is one
`bincount` and code order is value order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from kubedrift.models.report import NumericalSummary

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


def numerical_summary(values: np.ndarray) -> NumericalSummary:
    """The report's summary of sorted finite values (not empty)."""
    p25, median, p75 = (_quantile_of_sorted(values, q) for q in (0.25, 0.5, 0.75))
    return NumericalSummary(
        count=int(values.size),
        mean=float(np.mean(values)),
        std=float(np.std(values)),
        min=float(values[0]),
        p25=float(p25),
        median=float(median),
        p75=float(p75),
        max=float(values[-1]),
    )


def _quantile_of_sorted(values: np.ndarray, q: float) -> float:
    # numpy's "linear" method, without the partition np.quantile would do on sorted data.
    position = (values.size - 1) * q
    low = int(np.floor(position))
    high = min(low + 1, values.size - 1)
    return float(values[low] + (values[high] - values[low]) * (position - low))


def _float_values(chunk: pa.Array) -> np.ndarray:
    return np.asarray(pc.cast(chunk, pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64)


@dataclass(frozen=True)
class CategoricalPair:
    """Both sides of a categorical column as counts per label (the sorted labels of both): every
    categorical test counts, so a column is never a value per row once counted."""

    labels: list[str]
    reference_counts: np.ndarray  # int64, one per label
    current_counts: np.ndarray
    rows_reference: int
    rows_current: int

    @property
    def reference_size(self) -> int:
        return int(self.reference_counts.sum())

    @property
    def current_size(self) -> int:
        return int(self.current_counts.sum())

    @property
    def missing_reference(self) -> int:
        return self.rows_reference - self.reference_size

    @property
    def missing_current(self) -> int:
        return self.rows_current - self.current_size


class ReferenceSide(Protocol):
    """What the pair needs of the reference column: its profile (`profile.ColumnProfile`)."""

    @property
    def rows(self) -> int: ...
    @property
    def arrow_type(self) -> pa.DataType: ...
    def numerical(self) -> NumericalSample: ...
    def distinct(self) -> tuple[pa.Array, np.ndarray]: ...


def categorical_pair(reference: ReferenceSide, current: pa.ChunkedArray) -> CategoricalPair:
    """Counts of both sides per sorted label of both; the reference's from its profile."""
    current = _plain(current)
    if pa.types.is_floating(reference.arrow_type) or pa.types.is_floating(current.type):
        return _float_categories(reference.numerical(), numerical_sample(current))
    if reference.arrow_type != current.type and not pa.types.is_null(current.type):
        current = current.cast(reference.arrow_type)
    values, counts = reference.distinct()
    # One hashing pass over the current rows gives both their distinct values and their codes
    # into them; the codes into the shared labels are then a lookup, not a second hash per row.
    encoded = pc.dictionary_encode(current).unify_dictionaries()
    seen = encoded.chunk(0).dictionary if encoded.num_chunks else pa.array([], values.type)
    labels = pc.unique(pa.concat_arrays([values, seen])).sort()
    positions = pc.index_in(values, value_set=labels).to_numpy(zero_copy_only=False).astype(np.int64)
    relabel = pc.index_in(seen, value_set=labels).to_numpy(zero_copy_only=False).astype(np.int64)
    seen_counts = np.zeros(len(seen), dtype=np.int64)
    for chunk in encoded.chunks:
        seen_counts += np.bincount(np.asarray(chunk.indices.drop_null().to_numpy()), minlength=len(seen))
    return CategoricalPair(
        labels=[str(v) for v in labels.to_pylist()],
        reference_counts=_per_label(len(labels), positions, counts),
        current_counts=_per_label(len(labels), relabel, seen_counts),
        rows_reference=reference.rows,
        rows_current=len(current),
    )


def _per_label(labels: int, positions: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Counts of distinct values, placed at their labels' positions."""
    per_label = np.zeros(labels, dtype=np.int64)
    per_label[positions] = counts
    return per_label


def profile_pair(
    reference: ReferenceSide, current: ReferenceSide, current_type: pa.DataType
) -> CategoricalPair:
    """`categorical_pair` with the current side a profile too (a sharded check's merged partials)."""
    if pa.types.is_floating(reference.arrow_type) or pa.types.is_floating(current_type):
        return _float_categories(reference.numerical(), current.numerical())
    values, counts = reference.distinct()
    seen, seen_counts = current.distinct()
    if seen.type != values.type and not pa.types.is_null(seen.type):
        seen = seen.cast(values.type)
    labels = pc.unique(pa.concat_arrays([values, seen])).sort()
    positions = pc.index_in(values, value_set=labels).to_numpy(zero_copy_only=False).astype(np.int64)
    relabel = pc.index_in(seen, value_set=labels).to_numpy(zero_copy_only=False).astype(np.int64)
    return CategoricalPair(
        labels=[str(v) for v in labels.to_pylist()],
        reference_counts=_per_label(len(labels), positions, counts),
        current_counts=_per_label(len(labels), relabel, seen_counts),
        rows_reference=reference.rows,
        rows_current=current.rows,
    )


def _plain(column: pa.ChunkedArray) -> pa.ChunkedArray:
    return column.cast(column.type.value_type) if pa.types.is_dictionary(column.type) else column


def _float_categories(ref: NumericalSample, cur: NumericalSample) -> CategoricalPair:
    labels, inverse = np.unique(np.concatenate([ref.values, cur.values]), return_inverse=True)
    return CategoricalPair(
        labels=[_label(v) for v in labels],
        reference_counts=np.bincount(inverse[: ref.values.size], minlength=labels.size),
        current_counts=np.bincount(inverse[ref.values.size :], minlength=labels.size),
        rows_reference=ref.rows,
        rows_current=cur.rows,
    )


def _label(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))
