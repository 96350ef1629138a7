"""The sharded check's pure parts: which row groups each index gets, the exact merge of partial
profiles, and the verdicts of a column whose current side is its merged partials."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from kubedrift.models.driftcheck import DriftSettings
from kubedrift.models.report import NumericalSummary
from kubedrift.storage import RowGroup
from kubedrift_jobs.drift.column_check import ColumnPlan, CurrentProfile, check_column
from kubedrift_jobs.drift.column_types import ColumnType, declared_type_fits
from kubedrift_jobs.drift.merge import merge
from kubedrift_jobs.drift.partials import PARTIAL_FORMAT, PartialManifest, ShareFile, assign, manifest_problem
from kubedrift_jobs.drift.profile import build, to_bytes
from kubedrift_jobs.drift.streamed import streamed_profile

RNG = np.random.default_rng(11)


def groups(*sizes: int, files: int = 1) -> list[RowGroup]:
    return [RowGroup(file=f"f{i % files}.parquet", index=i, rows=size) for i, size in enumerate(sizes)]


def test_every_row_group_goes_to_exactly_one_index() -> None:
    row_groups = groups(*RNG.integers(1, 10_000, 57).tolist(), files=5)
    shares = assign(row_groups, 4)
    assert len(shares) == 4
    assigned = [g for share in shares for g in share]
    assert sorted(assigned, key=lambda g: g.index) == row_groups


def test_the_split_is_balanced_by_rows() -> None:
    sizes = RNG.integers(1, 10_000, 200).tolist()
    loads = [sum(g.rows for g in share) for share in assign(groups(*sizes), 7)]
    # Largest-first to the lightest index: never more than a largest group above the fair share.
    assert max(loads) - sum(sizes) / 7 <= max(sizes)
    assert max(loads) <= 4 / 3 * max(sum(sizes) / 7, max(sizes))


def test_a_few_large_row_groups_are_spread_before_the_small_ones_fill_in() -> None:
    shares = assign(groups(100, 100, 100, 100, 1, 1, 1, 1), 4)
    assert [sum(g.rows for g in share) for share in shares] == [101, 101, 101, 101]


def test_the_split_is_deterministic_and_each_share_in_file_order() -> None:
    row_groups = groups(*RNG.integers(1, 50, 30).tolist(), files=3)
    first, again = assign(row_groups, 5), assign(list(reversed(row_groups)), 5)
    assert first == again
    for share in first:
        assert share == sorted(share, key=lambda g: (g.file, g.index))


def test_more_indexes_than_row_groups_leave_some_indexes_nothing() -> None:
    shares = assign(groups(5, 3), 4)
    assert [[g.rows for g in share] for share in shares] == [[5], [3], [], []]
    assert assign(groups(5, 3), 1) == [groups(5, 3)]
    with pytest.raises(ValueError, match="at least 1"):
        assign(groups(5), 0)


def floats_with_gaps(size: int) -> pa.Array:
    values = RNG.normal(size=size)
    values[RNG.random(size) < 0.05] = np.nan
    values[:2] = [np.inf, -np.inf]
    return pa.array(values, pa.float32(), mask=RNG.random(size) < 0.05)


COLUMNS: dict[str, pa.Array] = {
    "floats32": floats_with_gaps(500),
    "ties": pa.array(np.round(RNG.gamma(2, 3, 600), 0)),
    "small_ints": pa.array(RNG.integers(0, 6, 400), pa.int32(), mask=RNG.random(400) < 0.1),
    "wide_ints": pa.array(RNG.integers(-(10**12), 10**12, 400), pa.int64()),
    "text": pa.array(RNG.choice(["red", "green", "blue"], 300), mask=RNG.random(300) < 0.1),
    "ids": pa.array([f"id-{i}" for i in range(300)]),
    "bools": pa.array(RNG.random(300) < 0.3),
    "decimals": pa.array([Decimal(int(v)) / 100 for v in RNG.integers(0, 50, 200)], pa.decimal128(6, 2)),
    "dates": pa.array([dt.date(2024, 1, 1) + dt.timedelta(days=int(d)) for d in RNG.integers(0, 9, 50)]),
    "nulls": pa.nulls(80, pa.float64()),
}


def pieces(column: pa.Array, cuts: list[int]) -> list[pa.ChunkedArray]:
    """`column` split at `cuts` (empty pieces included), each piece as one index would read it."""
    bounds = [0, *cuts, len(column)]
    return [pa.chunked_array([column.slice(a, b - a)], column.type) for a, b in itertools.pairwise(bounds)]


CUTS = [[], [0, 0, 13], [7, 250], [1, 2, 3, 40, 41]]


@pytest.mark.parametrize("cuts", CUTS)
@pytest.mark.parametrize("name", sorted(COLUMNS))
def test_the_merged_partials_are_the_profile_of_all_rows(name: str, cuts: list[int]) -> None:
    column = COLUMNS[name]
    partials = [build(name, piece) for piece in pieces(column, [c for c in cuts if c <= len(column)])]
    assert to_bytes(merge(partials)) == to_bytes(build(name, pa.chunked_array([column])))


def test_a_piece_of_nulls_only_or_no_rows_merges_with_the_values() -> None:
    column = pa.array([None, None, 1.5, np.nan, 2.5, None], pa.float32())
    partials = [build("c", piece) for piece in pieces(column, [0, 2])]
    assert [p.form for p in partials] == ["none", "none", "sorted"]
    assert to_bytes(merge(partials)) == to_bytes(build("c", pa.chunked_array([column])))


def shifted(column: pa.Array) -> pa.Array:
    """The current side: the same kind of column, drawn again and a little different."""
    if pa.types.is_floating(column.type):
        return (
            floats_with_gaps(len(column))
            if column.type == pa.float32()
            else pa.array(np.round(RNG.gamma(2.4, 3, len(column)), 0))
        )
    if pa.types.is_integer(column.type):
        high = 7 if column.type == pa.int32() else 10**12
        return pa.array(RNG.integers(0, high, len(column)), column.type)
    if pa.types.is_string(column.type) and len(column) and column[0].as_py().startswith("id-"):
        return pa.array([f"id-{i}" for i in range(150, 450)])
    if pa.types.is_string(column.type):
        return pa.array(RNG.choice(["red", "green", "blue", "pink"], len(column), p=[0.2, 0.3, 0.4, 0.1]))
    if pa.types.is_boolean(column.type):
        return pa.array(RNG.random(len(column)) < 0.4)
    return column


SETTINGS = [
    DriftSettings(),
    DriftSettings.from_wire({"numerical": {"method": "psi"}, "categorical": {"method": "jensenshannon"}}),
    DriftSettings.from_wire({"numerical": {"method": "anderson"}, "categorical": {"method": "chisquare"}}),
]


# Each column undeclared and declared as each type it may be (plan_columns refuses the others
# before any column is read).
DECLARATIONS = [
    (name, declared)
    for name in sorted(COLUMNS)
    for declared in (None, "numerical", "categorical")
    if declared is None or declared_type_fits(declared, COLUMNS[name].type)  # type: ignore[arg-type]
]


@pytest.mark.parametrize("settings", SETTINGS, ids=["defaults", "psi", "anderson"])
@pytest.mark.parametrize(("name", "declared"), DECLARATIONS)
def test_a_column_checked_on_its_merged_partials_gets_the_single_pass_verdict(
    name: str, declared: ColumnType | None, settings: DriftSettings
) -> None:
    reference = COLUMNS[name]
    current = pa.chunked_array([shifted(reference)])
    plan = ColumnPlan(name=name, role="feature", declared=declared)
    profile = build(name, pa.chunked_array([reference]))
    partials = [
        build(name, piece)
        for piece in pieces(current.combine_chunks(), sorted([0, len(current) // 3, min(61, len(current))]))
    ]

    single = check_column(plan, profile, current, settings)
    sharded = check_column(plan, profile, CurrentProfile(merge(partials), current.type), settings)

    assert sharded.model_dump(exclude={"seconds"}) == single.model_dump(exclude={"seconds"})


def test_the_verdicts_cover_tested_and_skipped_columns_alike() -> None:
    """The comparison above means something only if it meets every status the check gives."""
    statuses: set[Any] = set()
    for name, column in COLUMNS.items():
        plan = ColumnPlan(name=name, role="feature", declared=None)
        current = pa.chunked_array([shifted(column)])
        statuses.add(
            check_column(plan, build(name, pa.chunked_array([column])), current, DriftSettings()).status
        )
    assert statuses == {"tested", "unsupported", "all_null", "high_cardinality"}


def manifest(**changes: Any) -> PartialManifest:
    fields: dict[str, Any] = {
        "format": PARTIAL_FORMAT,
        "job": "bikes-check-29000000",
        "index": 2,
        "shards": 4,
        "current": "a" * 64,
        "share": [ShareFile(file="dt=2011-01-01/part-0.parquet", index=0, rows=10)],
        "columns": {},
    }
    return PartialManifest(**(fields | changes))


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({}, None),
        ({"format": 99}, "partial format 99"),
        ({"index": 1}, "it is index 1 of 4 of Job bikes-check-29000000, not index 2 of 4"),
        ({"current": "b" * 64}, "the data changed while the check ran"),
        ({"share": []}, "other row groups than its share"),
    ],
)
def test_a_partial_is_used_only_for_its_own_index_data_and_share(
    changes: dict[str, Any], problem: str | None
) -> None:
    found = manifest_problem(manifest(**changes), manifest())
    assert found == problem if problem is None else problem in (found or "")


@pytest.mark.parametrize("method", ["wasserstein", "psi", "jensenshannon"])
def test_a_large_current_merged_into_a_sketch_is_scored_within_its_bound_of_the_single_pass(
    method: str,
) -> None:
    """Past the exact limit a shard's partial is a sketch, and so is the merge: the score comes
    with scoreError, and the single pass's exact score lies within it."""
    rng = np.random.default_rng(5)
    reference = pa.chunked_array([rng.normal(0, 1, 60_000)])
    current = rng.normal(0.05, 1.1, 80_000)
    settings = DriftSettings.from_wire({"numerical": {"method": method}})
    plan = ColumnPlan(name="x", role="feature", declared=None)
    profile = build("x", reference)
    partials = [
        build("x", pa.chunked_array([piece]), exact_limit=5_000) for piece in np.array_split(current, 4)
    ]
    merged = merge(partials, exact_limit=5_000)
    assert merged.form == "sketch" and all(p.form == "sketch" for p in partials)

    single = check_column(plan, profile, pa.chunked_array([current]), settings)
    sharded = check_column(plan, profile, CurrentProfile(merged, pa.float64()), settings)

    assert single.score_error is None and sharded.score_error is not None
    assert single.score is not None and sharded.score is not None
    assert abs(sharded.score - single.score) <= sharded.score_error
    exact, sketched = single.current_summary, sharded.current_summary
    assert isinstance(exact, NumericalSummary) and isinstance(sketched, NumericalSummary)
    assert (sketched.count, sketched.min, sketched.max) == (exact.count, exact.min, exact.max)
    assert sketched.mean == pytest.approx(exact.mean, abs=1e-12)
    assert sharded.drifted == single.drifted or sharded.uncertain


@pytest.mark.parametrize("name", sorted(COLUMNS))
def test_an_index_profiles_its_share_one_row_group_at_a_time_into_the_profile_of_all_of_it(name: str) -> None:
    column = COLUMNS[name]
    split = pieces(column, [0, len(column) // 3, 2 * len(column) // 3])  # an empty group too
    groups = [RowGroup(file="f.parquet", index=i, rows=len(p)) for i, p in enumerate(split)]
    slices = dict(enumerate(split))
    read: list[int] = []

    def read_groups(wanted: Sequence[RowGroup]) -> pa.ChunkedArray:
        read.append(len(wanted))
        return pa.chunked_array([c for g in wanted for c in slices[g.index].chunks], column.type)

    streamed = streamed_profile(name, groups, read_groups)
    assert to_bytes(streamed) == to_bytes(build(name, pa.chunked_array([column])))
    assert read == [1] * len(groups)  # never more than one row group at once


def test_a_share_past_the_exact_limit_streams_into_a_sketch() -> None:
    values = np.random.default_rng(3).normal(0, 1, 30_000)
    groups = [RowGroup(file="f.parquet", index=i, rows=3_000) for i in range(10)]

    def read_groups(wanted: Sequence[RowGroup]) -> pa.ChunkedArray:
        return pa.chunked_array([values[g.index * 3_000 : (g.index + 1) * 3_000] for g in wanted])

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("kubedrift_jobs.drift.profile.EXACT_LIMIT_ROWS", 10_000)
        streamed = streamed_profile("x", groups, read_groups)
    assert streamed.form == "sketch" and streamed.rows == 30_000
    assert streamed.summary is not None and streamed.summary.count == 30_000
    assert streamed.summary.mean == pytest.approx(float(values.mean()), abs=1e-12)
