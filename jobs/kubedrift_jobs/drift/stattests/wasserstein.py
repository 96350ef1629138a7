"""Wasserstein (earth mover's) distance divided by the reference's standard deviation.

scipy's `wasserstein_distance` merges and sorts both samples and searches one in
the other, several passes at O(n log n) each. Here W1 is the integral of
|Q_ref(t) - Q_cur(t)| over the quantile functions: with both samples sorted
(the check job sorts each column once, up front) that is one linear pass over
the breakpoints of both quantile functions, in blocks so memory stays small.
"""

from __future__ import annotations

import numpy as np

from kubedrift_jobs.drift.binning import sorted_copy
from kubedrift_jobs.drift.column_types import ColumnType
from kubedrift_jobs.drift.descriptor import StatTest, register

BLOCK = 1 << 20


def wasserstein_distance(reference: np.ndarray, current: np.ndarray) -> float:
    u = sorted_copy(reference)
    v = sorted_copy(current)
    n, m = u.size, v.size
    if n == m:
        differences = u - v
        np.abs(differences, out=differences)  # in place: one 8-byte-per-value buffer, not two
        return float(np.mean(differences))
    # In units of 1/(n·m), Q_u steps at i·m and Q_v at j·n. Every segment of the merged
    # steps starts at one of them: sum the segments that start at a step of u, then
    # those that start at a step of v that is not also a step of u. No sort needed.
    total = _segments(u, v, n, m, skip_shared=False) + _segments(v, u, m, n, skip_shared=True)
    return total / (n * m)


def _segments(own: np.ndarray, other: np.ndarray, n_own: int, n_other: int, skip_shared: bool) -> float:
    exact_in_floats = n_own * n_other < 1 << 50
    total = 0.0
    for start in range(0, n_own, BLOCK):
        stop = min(start + BLOCK, n_own)
        t: np.ndarray
        next_other: np.ndarray
        if exact_in_floats:
            # Every step position is an integer below 2**50: float64 holds them exactly, and float
            # arithmetic (one division instead of integer division, no casts) is several times
            # faster. The widths are the same integers either way, so the sum is the same.
            t = np.arange(start, stop, dtype=np.float64) * n_other  # where own's i-th step starts
            j_floor = np.floor(t / n_own)  # the other's quantile index there
            next_other = (j_floor + 1) * n_own
            j = j_floor.astype(np.int64)
        else:
            t = np.arange(start, stop, dtype=np.int64) * n_other
            j = t // n_own
            next_other = (j + 1) * n_own
        widths = np.minimum(t + n_other, next_other) - t  # up to the next step of either
        if skip_shared:
            widths[next_other - n_own == t] = 0  # already counted as a step of the other sample
        differences = own[start:stop] - other[j]
        np.abs(differences, out=differences)
        total += float(np.dot(widths.astype(np.float64, copy=False), differences))
    return total


def _normed_wasserstein(reference: np.ndarray, current: np.ndarray, column_type: ColumnType) -> float:
    return _normed_by(reference, current, column_type, float(np.std(reference)))


def _normed_by(reference: np.ndarray, current: np.ndarray, column_type: ColumnType, std: float) -> float:
    return wasserstein_distance(reference, current) / max(std, 0.001)


WASSERSTEIN = register(
    StatTest(
        name="wasserstein",
        display_name="Wasserstein distance (normed)",
        column_types=("numerical",),
        kind="distance",
        default_threshold=0.1,
        drift_when=">=",
        score=_normed_wasserstein,
        score_with_std=_normed_by,
    )
)
