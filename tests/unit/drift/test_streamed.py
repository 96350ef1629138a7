"""Profiles read one row group at a time (streamed.py): exact while the whole column fits the exact
limit, a sketch past it that never holds more than a row group's worth of values, and the
reference of a check read that way once it is past the limit."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from kubedrift import storage
from kubedrift.models.driftcheck import DriftSettings
from kubedrift.storage import RowGroup
from kubedrift_jobs.drift import merge as merge_module
from kubedrift_jobs.drift.column_check import ColumnPlan, CurrentProfile, check_column
from kubedrift_jobs.drift.profile import ColumnProfile, build, to_bytes
from kubedrift_jobs.drift.streamed import column_profile, running_limit, streamed_profile

EXACT, RUNNING = 10_000, 3_000
GROUP = 2_000


@pytest.fixture(autouse=True)
def small_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("kubedrift_jobs.drift.profile.EXACT_LIMIT_ROWS", EXACT)
    monkeypatch.setattr("kubedrift_jobs.drift.streamed.RUNNING_EXACT_LIMIT", RUNNING)


def row_groups(values: np.ndarray) -> tuple[list[RowGroup], dict[int, np.ndarray]]:
    pieces = dict(enumerate(np.array_split(values, -(-len(values) // GROUP))))
    return [RowGroup(file="f.parquet", index=i, rows=len(p)) for i, p in pieces.items()], pieces


def reader(pieces: dict[int, np.ndarray]):  # type: ignore[no-untyped-def]
    def read(wanted: Sequence[RowGroup]) -> pa.ChunkedArray:
        return pa.chunked_array([pa.array(pieces[g.index]) for g in wanted], pa.float64())

    return read


def test_the_limit_of_a_running_profile_follows_the_whole_columns_rows() -> None:
    assert running_limit(EXACT) == EXACT  # the whole stays exact: so does every part of it
    assert running_limit(EXACT + 1) == RUNNING  # the whole is a sketch: parts become one early


def test_a_share_of_a_column_past_the_limit_is_a_sketch_even_when_the_share_is_small() -> None:
    values = np.random.default_rng(1).normal(0, 1, 6_000)
    groups, pieces = row_groups(values)
    alone = streamed_profile("x", groups, reader(pieces))
    assert to_bytes(alone) == to_bytes(build("x", pa.chunked_array([values])))  # 6,000 rows: exact
    share = streamed_profile("x", groups, reader(pieces), rows=40_000)  # one share of 40,000 rows
    assert share.form == "sketch" and share.rows == 6_000
    assert share.summary is not None and share.summary.mean == pytest.approx(values.mean(), abs=1e-12)


def test_a_running_profile_never_merges_more_than_its_limit_and_a_row_group(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    values = np.random.default_rng(2).normal(0, 1, 50_000)
    groups, pieces = row_groups(values)
    largest: list[int] = []
    real_merge = merge_module.merge

    def counting(profiles: Sequence[ColumnProfile], exact_limit: int | None = None) -> ColumnProfile:
        largest.append(sum(len(p.values) for p in profiles))
        return real_merge(profiles, exact_limit)

    monkeypatch.setattr("kubedrift_jobs.drift.streamed.merge", counting)
    profile = streamed_profile("x", groups, reader(pieces))
    assert profile.form == "sketch" and profile.rows == 50_000
    assert len(largest) == len(groups) - 1
    assert max(largest) <= RUNNING + GROUP


def test_numbers_with_few_distinct_values_are_exact_counts_under_the_limit_and_a_sketch_past_it() -> None:
    values = np.random.default_rng(3).integers(0, 50, 40_000).astype(np.float64)
    small, small_pieces = row_groups(values[:EXACT])
    exact = streamed_profile("x", small, reader(small_pieces))
    assert exact.form == "counts"
    assert to_bytes(exact) == to_bytes(build("x", pa.chunked_array([values[:EXACT]])))
    # Past the limit, counts of 50 values would still be expanded to a value per row by the tests.
    groups, pieces = row_groups(values)
    sketched = streamed_profile("x", groups, reader(pieces))
    assert sketched.form == "sketch" and sketched.rows == 40_000
    assert sketched.summary is not None and sketched.summary.count == 40_000
    assert (sketched.summary.min, sketched.summary.max) == (values.min(), values.max())


def write(path: Path, values: np.ndarray) -> storage.ParquetData:
    pq.write_table(pa.table({"x": values}), path, row_group_size=GROUP)
    return storage.open_parquet(str(path))


def test_a_reference_under_the_limit_is_read_whole_and_past_it_one_row_group_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = np.random.default_rng(4)
    small = write(tmp_path / "small.parquet", rng.normal(0, 1, EXACT))
    large = write(tmp_path / "large.parquet", rng.normal(0, 1, 5 * EXACT))
    reads: list[tuple[str, int | None]] = []
    column, column_of = storage.ParquetData.column, storage.ParquetData.column_of

    def whole(self: storage.ParquetData, name: str) -> pa.ChunkedArray:
        reads.append((self.uri, None))
        return column(self, name)

    def some(self: storage.ParquetData, name: str, groups: Sequence[RowGroup]) -> pa.ChunkedArray:
        reads.append((self.uri, len(groups)))
        return column_of(self, name, groups)

    monkeypatch.setattr(storage.ParquetData, "column", whole)
    monkeypatch.setattr(storage.ParquetData, "column_of", some)

    exact = column_profile(small, "x")
    assert exact.form == "sorted" and reads == [(small.uri, None)]
    reads.clear()
    sketched = column_profile(large, "x")
    assert sketched.form == "sketch" and sketched.rows == 5 * EXACT
    assert reads == [(large.uri, 1)] * (5 * EXACT // GROUP)


def test_integers_few_enough_to_be_categories_stay_counts_past_the_limit() -> None:
    values = np.random.default_rng(5).integers(0, 7, 40_000)
    groups, pieces = row_groups(values)

    def read(wanted: Sequence[RowGroup]) -> pa.ChunkedArray:
        return pa.chunked_array([pa.array(pieces[g.index]) for g in wanted], pa.int64())

    profile = streamed_profile("x", groups, read)
    assert profile.form == "counts"  # every test of a category counts: no value per row is made
    assert to_bytes(profile) == to_bytes(build("x", pa.chunked_array([values])))


@pytest.mark.parametrize(
    ("distinct", "column_type", "sketched"),
    [(10**6, "numerical", True), (7, "categorical", False)],
    ids=["wide integers", "integer categories"],
)
def test_a_merged_current_of_integers_past_the_limit_is_typed_and_tested(
    distinct: int, column_type: str, sketched: bool
) -> None:
    rng = np.random.default_rng(6)
    sides = []
    for _ in ("reference", "current"):
        groups, pieces = row_groups(rng.integers(0, distinct, 40_000))

        def read(wanted: Sequence[RowGroup], pieces: dict[int, np.ndarray] = pieces) -> pa.ChunkedArray:
            return pa.chunked_array([pa.array(pieces[g.index]) for g in wanted], pa.int64())

        sides.append(streamed_profile("x", groups, read))
    reference, current = sides
    assert (reference.form == "sketch") == sketched and (current.form == "sketch") == sketched
    plan = ColumnPlan(name="x", role="feature", declared=None)
    # A sharded check's merge pod: the current side is the merged profile (it used to fail to
    # infer the type of a sketch, asking it for distinct values it does not keep).
    result = check_column(plan, reference, CurrentProfile(current, pa.int64()), DriftSettings())
    assert result.status == "tested" and result.column_type == column_type
    assert result.score is not None and (result.score_error is not None) == sketched
