"""Turning two samples into aligned shares, the way Evidently 0.7's `get_binned_data` does.

Numerical columns with more than 20 distinct reference values are cut into
Sturges bins over both samples together; everything else is counted per value
over the union of values. PSI and KL divergence replace empty shares by a tiny
number so that their logarithms stay finite; Jensen-Shannon does not need to.
"""

from __future__ import annotations

import numpy as np

from kubedrift_jobs.drift.column_types import ColumnType

DISTINCT_VALUES_FOR_BINS = 20


def sorted_copy(values: np.ndarray) -> np.ndarray:
    """`values` sorted; free when they already are (the check job sorts once, up front)."""
    if values.size < 2 or bool(np.all(values[1:] >= values[:-1])):
        return values
    return np.sort(values)


def distinct_count(sorted_values: np.ndarray) -> int:
    if sorted_values.size == 0:
        return 0
    return int(np.count_nonzero(sorted_values[1:] != sorted_values[:-1])) + 1


def aligned_counts(reference: np.ndarray, current: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Counts of every value seen on either side, in the same (sorted) order for both."""
    if _small_codes(reference) and _small_codes(current):
        # Category codes (the check job's form of categorical columns): one counting pass each.
        size = int(max(reference.max(initial=0), current.max(initial=0))) + 1
        ref_counts = np.bincount(reference, minlength=size)
        cur_counts = np.bincount(current, minlength=size)
        seen = (ref_counts + cur_counts) > 0
        return ref_counts[seen], cur_counts[seen]
    keys = np.union1d(reference, current)
    ref_counts = np.bincount(np.searchsorted(keys, reference), minlength=keys.size)
    cur_counts = np.bincount(np.searchsorted(keys, current), minlength=keys.size)
    return ref_counts, cur_counts


def _small_codes(values: np.ndarray) -> bool:
    return values.dtype.kind in "iu" and (values.size == 0 or (values.min() >= 0 and values.max() < 1 << 24))


def sturges_counts(reference: np.ndarray, current: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Histogram counts over `np.histogram_bin_edges(both, "sturges")`, identical to np.histogram."""
    ref = sorted_copy(reference)
    cur = sorted_copy(current)
    edges = sturges_edges(float(min(ref[0], cur[0])), float(max(ref[-1], cur[-1])), ref.size + cur.size)
    return histogram_of_sorted(ref, edges), histogram_of_sorted(cur, edges)


def sturges_edges(low: float, high: float, size: int) -> np.ndarray:
    """numpy's Sturges edges for a sample of `size` values in [low, high], without the sample.

    Mirrors numpy's `_get_bin_edges` step by step (including its float rounding),
    so the bins are exactly those of `np.histogram_bin_edges(sample, "sturges")`.
    """
    width = (high - low) / (np.log2(size) + 1.0)
    first, last = (low - 0.5, high + 0.5) if low == high else (low, high)
    bins = int(np.ceil((last - first) / width)) if width else 1
    return np.linspace(first, last, bins + 1, endpoint=True, dtype=np.float64)


def histogram_of_sorted(sorted_values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    # np.histogram's own rule: left-closed bins, the last one closed on both sides.
    left = np.searchsorted(sorted_values, edges[:-1], side="left")
    cuts = np.concatenate([left, [np.searchsorted(sorted_values, edges[-1], side="right")]])
    return np.diff(cuts)


def shares(
    reference: np.ndarray, current: np.ndarray, column_type: ColumnType, fill_zeroes: bool
) -> tuple[np.ndarray, np.ndarray]:
    if column_type == "numerical" and distinct_count(sorted_copy(reference)) > DISTINCT_VALUES_FOR_BINS:
        ref_counts, cur_counts = sturges_counts(reference, current)
    else:
        ref_counts, cur_counts = aligned_counts(reference, current)
    return count_shares(ref_counts, cur_counts, fill_zeroes)


def count_shares(
    ref_counts: np.ndarray, cur_counts: np.ndarray, fill_zeroes: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Each side's counts (per value or bin, aligned) as shares of its total."""
    ref_shares = ref_counts / int(ref_counts.sum())
    cur_shares = cur_counts / int(cur_counts.sum())
    if fill_zeroes:
        ref_shares = zeroes_filled(ref_shares)
        cur_shares = zeroes_filled(cur_shares)
    return ref_shares, cur_shares


def zeroes_filled(share: np.ndarray) -> np.ndarray:
    smallest = share[share != 0].min()
    filler = smallest / 10**6 if smallest <= 0.0001 else 0.0001
    return np.where(share == 0, filler, share)
