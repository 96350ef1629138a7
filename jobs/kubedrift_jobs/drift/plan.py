"""Which columns a check tests, in which role and with which declared type.

Validation that must fail the whole check happens here, before any column is
read: a column the spec names that is missing on one side, or a column whose
type differs between the sides (numbers on one side, text on the other).
"""

from __future__ import annotations

import pyarrow as pa

from kubedrift.errors import DataUnreadable
from kubedrift.models.driftcheck import Columns
from kubedrift.models.report import ColumnResult
from kubedrift_jobs.drift.column_check import ColumnPlan
from kubedrift_jobs.drift.column_types import ColumnType, declared_type_fits
from kubedrift_jobs.drift.samples import same_kind


def plan_columns(
    columns: Columns, reference: pa.Schema, current: pa.Schema
) -> tuple[list[ColumnPlan], list[ColumnResult]]:
    """The columns to test, and the ones only one side has (reported as missing)."""
    declared: dict[str, ColumnType] = {n: "numerical" for n in columns.numerical or []}
    declared |= {n: "categorical" for n in columns.categorical or []}
    named = [n for n in (columns.target, columns.prediction, *declared) if n]
    for name in named:
        for side, schema in (("reference", reference), ("current", current)):
            if name not in schema.names:
                raise DataUnreadable(
                    f"column {name!r} named in the spec is missing from the {side} data; "
                    f"it has {', '.join(schema.names)}"
                )
    roles = {columns.target: "target", columns.prediction: "prediction"}
    plans: list[ColumnPlan] = []
    missing: list[ColumnResult] = []
    ordered = list(reference.names) + [n for n in current.names if n not in reference.names]
    for name in ordered:
        if name in columns.exclude:
            continue
        if name not in reference.names or name not in current.names:
            side = "current" if name in reference.names else "reference"
            missing.append(
                ColumnResult(name=name, role="feature", status="missing", reason=f"not in the {side} data")
            )
            continue
        ref_type, cur_type = reference.field(name).type, current.field(name).type
        if not same_kind(ref_type, cur_type):
            raise DataUnreadable(
                f"column {name!r} has type {ref_type} in the reference but {cur_type} in the current data"
            )
        if name in declared and not declared_type_fits(declared[name], cur_type):
            raise DataUnreadable(f"column {name!r} is declared {declared[name]} but holds {cur_type}")
        plans.append(ColumnPlan(name=name, role=roles.get(name, "feature"), declared=declared.get(name)))  # type: ignore[arg-type]
    return plans, missing
