"""The binning helpers reproduce numpy's Sturges histogram exactly."""

from __future__ import annotations

import numpy as np
import pytest

from kubedrift_jobs.drift.binning import aligned_counts, distinct_count, sturges_counts, sturges_edges

RNG = np.random.default_rng(3)


@pytest.mark.parametrize("size", [2, 3, 8, 16, 1024, 1000, 4097])
def test_sturges_edges_equal_numpys_including_powers_of_two(size: int) -> None:
    sample = RNG.normal(size=size)
    expected = np.histogram_bin_edges(sample, bins="sturges")
    np.testing.assert_array_equal(sturges_edges(sample.min(), sample.max(), size), expected)


def test_sturges_edges_of_a_constant_sample_equal_numpys() -> None:
    np.testing.assert_array_equal(
        sturges_edges(3.0, 3.0, 10), np.histogram_bin_edges(np.full(10, 3.0), "sturges")
    )


def test_sturges_counts_equal_np_histogram_with_values_on_the_edges() -> None:
    a, b = RNG.integers(0, 40, 500).astype(float), RNG.integers(5, 45, 300).astype(float)
    edges = np.histogram_bin_edges(np.concatenate([a, b]), bins="sturges")
    ref, cur = sturges_counts(a, b)
    np.testing.assert_array_equal(ref, np.histogram(a, edges)[0])
    np.testing.assert_array_equal(cur, np.histogram(b, edges)[0])


def test_aligned_counts_for_codes_and_for_floats() -> None:
    ref, cur = aligned_counts(np.array([0, 0, 3]), np.array([3, 5]))
    assert (ref.tolist(), cur.tolist()) == ([2, 1, 0], [0, 1, 1])
    ref, cur = aligned_counts(np.array([0.5, 0.5, -1.0]), np.array([2.0]))
    assert (ref.tolist(), cur.tolist()) == ([1, 2, 0], [0, 0, 1])


def test_distinct_count_of_sorted_values() -> None:
    assert distinct_count(np.array([])) == 0
    assert distinct_count(np.array([1.0, 1.0, 2.0, 3.0, 3.0])) == 3
