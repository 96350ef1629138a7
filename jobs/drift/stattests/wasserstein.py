"""Wasserstein (earth mover's) distance divided by the reference's standard deviation.

scipy's `wasserstein_distance` merges and sorts both samples and searches one in
the other, several passes at O(n log n) each. Here W1 is the integral of
|Q_ref(t) - Q_cur(t)| over the quantile functions: with both samples sorted
(the check job sorts each column once, up front) that is one merge of two
arithmetic progressions of breakpoints, done in blocks so memory stays small.
"""

from __future__ import annotations

import numpy as np

from kubedrift.jobs.drift.binning import sorted_copy
from kubedrift.jobs.drift.registry import ColumnType, StatTest, register

BLOCK = 1 << 20


def wasserstein_distance(reference: np.ndarray, current: np.ndarray) -> float:
    u = sorted_copy(reference)
    v = sorted_copy(current)
    n, m = u.size, v.size
    if n == m:
        return float(np.mean(np.abs(u - v)))
    # Q_u steps at t = i/n, Q_v at t = j/m; in units of 1/(n·m) the steps are i·m and j·n.
    total = 0.0
    for start in range(0, n, BLOCK):
        stop = min(start + BLOCK, n)
        j_start = -(-start * m // n)  # first j with j·n ≥ start·m
        j_stop = -(-stop * m // n)
        steps = np.concatenate([np.arange(start, stop, dtype=np.int64) * m, np.arange(j_start, j_stop) * n])
        steps.sort()
        widths = np.diff(steps, append=np.int64(stop * m))
        total += float(np.dot(widths, np.abs(u[steps // m] - v[steps // n])))
    return total / (n * m)


def _normed_wasserstein(reference: np.ndarray, current: np.ndarray, column_type: ColumnType) -> float:
    norm = max(float(np.std(reference)), 0.001)
    return wasserstein_distance(reference, current) / norm


WASSERSTEIN = register(
    StatTest(
        name="wasserstein",
        display_name="Wasserstein distance (normed)",
        column_types=("numerical",),
        kind="distance",
        default_threshold=0.1,
        drift_when=">=",
        score=_normed_wasserstein,
    )
)
