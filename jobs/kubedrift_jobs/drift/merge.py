"""Partial profiles of one column, built from disjoint shares of its rows, merged into one.

Exact forms merge exactly: the merged profile is the one `profile.build` makes of all the rows
(the same form, values, counts and summary, bit for bit), whatever the order of the parts:
numbers by sorting all their finite values together, everything else by adding counts per
value. Rows, nulls and ±inf add up.

A sketch among the parts, or parts of numbers that store more values together than the exact
limit (even if, merged, repeats would shrink them under it), makes the merge a sketch
(`sketch.py`): the parts' sketches and values go into one KLL sketch. Its summary is
recombined from the parts' exact moments (Chan et al.'s parallel mean and variance: equal to
the whole's within float rounding), min and max are exact, the quartiles are read from the
sketch (within its rank error), and the distinct count is the largest part's (a lower bound).
A KLL sketch is randomized: the merged sketch depends on the order, its error bound does not.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from kubedrift.models.report import NumericalSummary
from kubedrift_jobs.drift import profile
from kubedrift_jobs.drift import sketch as kll
from kubedrift_jobs.drift.profile import (
    ColumnProfile,
    limited,
    numbers,
    with_summary,
)
from kubedrift_jobs.drift.samples import NumericalSample, arrow_kind


def merge(profiles: Sequence[ColumnProfile], exact_limit: int | None = None) -> ColumnProfile:
    """One column's profile from the profiles of disjoint shares of its rows; a sketch past
    `exact_limit` (default `profile.EXACT_LIMIT_ROWS`) stored values."""
    limit = profile.EXACT_LIMIT_ROWS if exact_limit is None else exact_limit
    if not profiles:
        raise ValueError("no profiles to merge")
    names = {p.name for p in profiles}
    if len(names) != 1:
        raise ValueError(f"profiles of different columns: {sorted(names)}")
    kept = [p for p in profiles if p.form != "none"]
    types = {p.arrow_type for p in kept}
    if len(types) > 1:
        found = ", ".join(sorted(map(str, types)))
        raise ValueError(f"profiles of column {profiles[0].name!r} have different types: {found}")
    name = profiles[0].name
    rows, nulls = sum(p.rows for p in profiles), sum(p.nulls for p in profiles)
    infinite = sum(p.infinite for p in profiles)
    if not kept:  # all-null shares or a type no test takes: nothing but the counts
        return ColumnProfile(name=name, rows=rows, nulls=nulls, form="none", values=profiles[0].values)
    stored = sum(len(p.values) for p in kept)
    is_numbers = any(p.summary is not None for p in kept)
    if any(p.form == "sketch" for p in kept) or (is_numbers and stored > limit):
        return _sketch(name, rows, nulls, infinite, kept)
    data_type = kept[0].arrow_type
    if arrow_kind(data_type) in ("integer", "floating") and not pa.types.is_decimal(data_type):
        values = np.sort(np.concatenate([_all_values(p) for p in kept]))
        sample = NumericalSample(rows=rows, values=values.astype(np.float64), infinite=infinite)
        merged = numbers(name, rows, nulls, pa.array(values, type=data_type), infinite, sample)
        return limited(merged, limit)
    counted = _summed_counts(name, rows, nulls, infinite, kept)
    if is_numbers:  # decimals
        return limited(with_summary(counted, counted.numerical()), limit)
    return counted


def _all_values(part: ColumnProfile) -> np.ndarray:
    """Every finite value of an exact numbers profile, in the column's own numpy type."""
    values = part.values.to_numpy(zero_copy_only=False)
    if part.form == "counts":
        assert part.counts is not None
        return np.repeat(values, part.counts)
    return values


def _summed_counts(
    name: str, rows: int, nulls: int, infinite: int, parts: list[ColumnProfile]
) -> ColumnProfile:
    """Counts per distinct value added up; values sorted as `build` sorts them."""
    table = pa.table(
        {
            "values": pa.concat_arrays([p.values for p in parts]),
            "counts": pa.array(np.concatenate([p.counts for p in parts if p.counts is not None]), pa.int64()),
        }
    )
    summed = table.group_by("values").aggregate([("counts", "sum")]).sort_by("values")
    return ColumnProfile(
        name=name,
        rows=rows,
        nulls=nulls,
        form="counts",
        values=summed.column("values").combine_chunks(),
        counts=np.asarray(summed.column("counts_sum").to_numpy(), dtype=np.int64),
        infinite=infinite,
    )


def _sketch(name: str, rows: int, nulls: int, infinite: int, parts: list[ColumnProfile]) -> ColumnProfile:
    # A canonical order: the float sums of the summary do not depend on the order parts came in.
    parts = sorted(parts, key=_order)
    sketch = kll.merged(_part_sketch(p) for p in parts)
    tails = kll.merged_tails(_part_tails(p) for p in parts)
    summaries = [p.summary for p in parts if p.summary is not None and p.summary.count]
    return ColumnProfile(
        name=name,
        rows=rows,
        nulls=nulls,
        form="sketch",
        values=parts[0].values.slice(0, 0),
        infinite=infinite,
        summary=combined_summary(summaries, sketch) if summaries else None,
        finite_distinct=max((p.finite_distinct or 0) for p in parts),
        sketch=kll.to_bytes(sketch),
        tails=tails,
    )


def _order(part: ColumnProfile) -> tuple[float, ...]:
    s = part.summary
    if s is None:
        return (0, 0.0, 0.0, 0.0, 0.0)
    return (s.count, s.mean or 0.0, s.std or 0.0, s.min or 0.0, s.max or 0.0)


def _part_sketch(part: ColumnProfile) -> kll.kll_doubles_sketch:
    if part.form == "sketch":
        return part.kll()
    if part.form == "counts":
        assert part.counts is not None
        floats = pc.cast(part.values, pa.float64()).to_numpy(zero_copy_only=False)
        return kll.of_counts(np.asarray(floats, dtype=np.float64), part.counts)
    return kll.of_values(part.numerical().values)


def _part_tails(part: ColumnProfile) -> kll.Tails:
    if part.tails is not None:
        return part.tails
    if part.form == "counts":
        assert part.counts is not None
        floats = pc.cast(part.values, pa.float64()).to_numpy(zero_copy_only=False)
        return kll.tails_of_counts(np.asarray(floats, dtype=np.float64), part.counts)
    return kll.tails_of_sorted(part.numerical().values)


def combined_summary(parts: Sequence[NumericalSummary], sketch: kll.kll_doubles_sketch) -> NumericalSummary:
    """The summary of the union of disjoint parts: count, mean and std from the parts' moments
    (Chan, Golub and LeVeque's pairwise update), min and max exact, quartiles from the sketch."""
    count, mean, m2 = 0, 0.0, 0.0
    for part in parts:
        n, part_mean, part_m2 = part.count, part.mean or 0.0, (part.std or 0.0) ** 2 * part.count
        delta = part_mean - mean
        total = count + n
        mean += delta * n / total
        m2 += part_m2 + delta * delta * count * n / total
        count = total
    p25, median, p75 = sketch.get_quantiles([0.25, 0.5, 0.75])
    return NumericalSummary(
        count=count,
        mean=mean,
        std=float(np.sqrt(m2 / count)),
        min=min(p.min for p in parts if p.min is not None),
        p25=float(p25),
        median=float(median),
        p75=float(p75),
        max=max(p.max for p in parts if p.max is not None),
    )
