"""Column types, inferred the way Evidently 0.7 infers them from the current data.

  float, decimal                → numerical (training takes decimals as numbers too)
  integer                       → categorical with ≤ 10 distinct values, else numerical
  string                        → categorical, unless its distinct values exceed half its
                                  non-null rows: then high-cardinality (Evidently would call it
                                  text), skipped with a reason rather than silently tested
  bool, dictionary              → categorical
  null (no value in any file)   → all-null, reported, not tested
  anything else (dates, lists)  → not tested (Evidently leaves them out of the drift preset too)
A type named in the spec's `columns.numerical` / `columns.categorical` always wins.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import pyarrow as pa

from kubedrift_jobs.drift.samples import arrow_kind, non_null_distinct

ColumnType = Literal["numerical", "categorical"]

INTEGER_CARDINALITY_LIMIT = 10
TEXT_DISTINCT_SHARE = 0.5


@dataclass(frozen=True)
class Inferred:
    column_type: ColumnType | None
    skip_status: str | None = None  # "high_cardinality" or "unsupported" when not tested
    reason: str | None = None


def infer(current: pa.ChunkedArray) -> Inferred:
    return infer_type(current.type, lambda: non_null_distinct(current))


def infer_type(data_type: pa.DataType, counted: Callable[[], tuple[int, int]]) -> Inferred:
    """The type of a column of `data_type`; `counted()` gives (non-null values, distinct ones)
    when the kind needs them (a column's or a profile's)."""
    kind = arrow_kind(data_type)
    if kind == "floating":
        return Inferred("numerical")
    if kind == "integer":
        _, distinct = counted()
        return Inferred("categorical" if distinct <= INTEGER_CARDINALITY_LIMIT else "numerical")
    if kind == "string":
        valid, distinct = counted()
        if distinct > valid * TEXT_DISTINCT_SHARE:
            return Inferred(
                None,
                "high_cardinality",
                f"{distinct} distinct values in {valid} current rows (more than half): looks like free "
                "text or ids; name it in columns.categorical to test it anyway, or in columns.exclude",
            )
        return Inferred("categorical")
    if kind in ("boolean", "dictionary"):
        return Inferred("categorical")
    return Inferred(None, "unsupported", f"type {data_type} is neither numerical nor categorical")


def declared_type_fits(column_type: ColumnType, data_type: pa.DataType) -> bool:
    kind = arrow_kind(data_type)
    if column_type == "numerical":
        return kind in ("integer", "floating", "null") or (
            kind == "dictionary" and arrow_kind(data_type.value_type) in ("integer", "floating")
        )
    return kind != "other"
