"""Merging partial profiles: exact forms give the profile of all rows, in any order; sketches
keep their bound; a sketch among the parts makes the merge a sketch."""

from __future__ import annotations

import itertools

import numpy as np
import pyarrow as pa
import pytest

from kubedrift_jobs.drift import sketch as kll
from kubedrift_jobs.drift.merge import merge
from kubedrift_jobs.drift.profile import ColumnProfile, build, from_bytes, to_bytes
from tests.unit.drift.test_profile import EVERY_KIND, NULLS

RNG = np.random.default_rng(11)


def _shares(column: pa.ChunkedArray, cuts: tuple[int, ...]) -> list[pa.ChunkedArray]:
    flat = column.combine_chunks()
    bounds = [0, *cuts, len(flat)]
    return [pa.chunked_array([flat.slice(a, b - a)], column.type) for a, b in itertools.pairwise(bounds)]


def _same(left: ColumnProfile, right: ColumnProfile) -> None:
    assert to_bytes(left) == to_bytes(right)  # form, values, counts, summary: bit for bit


@pytest.mark.parametrize("name", sorted(EVERY_KIND))
def test_exact_shares_merge_into_the_profile_of_all_rows_in_any_order(name: str) -> None:
    column = EVERY_KIND[name]
    whole = build("c", column)
    n = len(column)
    parts = [build("c", share) for share in _shares(column, (n // 5, n // 2, n - 1))]
    for order in itertools.permutations(parts):
        _same(merge(order), whole)


def test_all_null_shares_add_their_rows_to_the_others() -> None:
    numbers = pa.chunked_array([pa.array([1.5, None, 2.5, np.inf])])
    merged = merge([build("c", NULLS), build("c", numbers)])
    assert (merged.rows, merged.nulls, merged.infinite, merged.form) == (6, 3, 1, "sorted")
    assert merged.values.to_pylist() == [1.5, 2.5]
    only_nulls = merge([build("c", NULLS), build("c", NULLS)])
    assert (only_nulls.form, only_nulls.rows, only_nulls.nulls) == ("none", 4, 4)


def test_shares_of_different_columns_or_types_are_refused() -> None:
    with pytest.raises(ValueError, match="different columns"):
        merge([build("a", NULLS), build("b", NULLS)])
    ints = pa.chunked_array([pa.array([1, 2], pa.int64())])
    with pytest.raises(ValueError, match="different types"):
        merge([build("a", ints), build("a", pa.chunked_array([pa.array([1.0, 2.0])]))])
    with pytest.raises(ValueError, match="no profiles"):
        merge([])


def test_past_the_limit_a_profile_is_a_sketch_with_the_exact_summary() -> None:
    column = pa.chunked_array([pa.array(RNG.normal(3, 2, 50_000))])
    exact, sketched = build("c", column), build("c", column, exact_limit=10_000)
    assert sketched.form == "sketch" and len(sketched.values) == 0
    assert sketched.arrow_type == pa.float64()
    assert sketched.summary == exact.summary
    back = from_bytes(to_bytes(sketched))
    assert back.form == "sketch" and back.arrow_type == pa.float64() and back.summary == exact.summary
    assert back.kll().n == 50_000
    values = exact.numerical().values
    for x in (-1.0, 3.0, 5.5):
        true_rank = np.searchsorted(values, x, side="right") / values.size
        assert abs(back.kll().get_rank(x, True) - true_rank) <= kll.EPSILON
    with pytest.raises(ValueError, match="sketch"):
        back.numerical()


def test_a_counts_form_past_the_limit_is_sketched_with_its_repeats() -> None:
    column = pa.chunked_array([pa.array(RNG.integers(0, 3_000, 40_000), pa.int64())])
    sketched = build("c", column, exact_limit=1_000)
    assert sketched.form == "sketch" and sketched.kll().n == 40_000
    assert sketched.finite_distinct == build("c", column).finite_distinct


def test_exact_and_sketch_merge_into_a_sketch_of_all_rows_in_any_order() -> None:
    values = np.concatenate([RNG.normal(0, 1, 30_000), RNG.lognormal(1, 1, 20_000), [np.inf, np.nan]])
    column = pa.chunked_array([pa.array(values)])
    whole = build("c", column)
    shares = _shares(column, (10_000, 25_000, 40_000))
    parts = [build("c", shares[0], exact_limit=5_000)] + [build("c", s) for s in shares[1:]]
    assert [p.form for p in parts] == ["sketch", "sorted", "sorted", "sorted"]
    assert whole.summary is not None
    finite = whole.numerical().values
    for order in itertools.permutations(parts):
        merged = merge(order)
        assert merged.form == "sketch" and merged.kll().n == finite.size
        assert (merged.rows, merged.nulls, merged.infinite) == (whole.rows, whole.nulls, whole.infinite)
        summary = merged.summary
        assert summary is not None and summary.count == whole.summary.count
        assert (summary.min, summary.max) == (whole.summary.min, whole.summary.max)
        assert summary.mean == pytest.approx(whole.summary.mean, rel=1e-12)
        assert summary.std == pytest.approx(whole.summary.std, rel=1e-12)
        for q, quartile in ((0.25, summary.p25), (0.5, summary.median), (0.75, summary.p75)):
            rank = np.searchsorted(finite, quartile) / finite.size
            assert abs(rank - q) <= 2 * kll.EPSILON
        # The moments do not depend on the order the parts came in (the sketch's quartiles may).
        again = merge(parts).summary
        assert again is not None
        exact_fields = ("count", "mean", "std", "min", "max")
        assert [getattr(summary, f) for f in exact_fields] == [getattr(again, f) for f in exact_fields]


def test_exact_shares_past_the_limit_together_merge_into_a_sketch() -> None:
    column = pa.chunked_array([pa.array(RNG.normal(size=3_000))])
    parts = [build("c", share) for share in _shares(column, (1_000, 2_000))]
    merged = merge(parts, exact_limit=2_500)
    assert merged.form == "sketch" and merged.kll().n == 3_000
    assert merge(parts).form == "sorted"


def test_a_sketch_keeps_its_tails_exactly_through_bytes_and_merges() -> None:
    values = RNG.lognormal(0, 1, 3 * kll.TAIL)
    whole = np.sort(values)
    column = pa.chunked_array([pa.array(values)])
    sketched = from_bytes(to_bytes(build("c", column, exact_limit=0)))
    assert sketched.tails is not None
    low, high = sketched.tails
    assert np.array_equal(low, whole[: kll.TAIL]) and np.array_equal(high, whole[-kll.TAIL :])
    parts = [build("c", share, exact_limit=0) for share in _shares(column, (5_000, 40_000))]
    parts[1] = build("c", _shares(column, (5_000, 40_000))[1])  # an exact part among sketches
    merged = merge(parts)
    assert merged.tails is not None
    assert np.array_equal(merged.tails[0], low) and np.array_equal(merged.tails[1], high)


def test_the_tails_of_counts_are_those_of_their_repeats() -> None:
    values = np.arange(500, dtype=np.float64)
    counts = RNG.integers(1, 200, 500)
    repeated = np.repeat(values, counts)
    low, high = kll.tails_of_counts(values, counts)
    assert np.array_equal(low, repeated[: kll.TAIL]) and np.array_equal(high, repeated[-kll.TAIL :])
    few = kll.tails_of_counts(np.array([1.0, 2.0, 3.0]), np.array([10**9, 5, 10**9]))
    assert few[0].size == few[1].size == kll.TAIL
    assert set(few[0]) == {1.0} and set(few[1]) == {3.0}


def test_a_sketch_of_counts_takes_every_repeat_a_block_at_a_time() -> None:
    values = np.array([1.0, 2.0, 3.0, 4.0])
    counts = np.array([3_000_000, 1, 5_000_000, 2])
    sketch = kll.of_counts(values, counts)
    assert sketch.n == int(counts.sum())
    assert (sketch.get_min_value(), sketch.get_max_value()) == (1.0, 4.0)
    assert abs(sketch.get_rank(1.0, True) - 3_000_000 / sketch.n) <= kll.EPSILON
