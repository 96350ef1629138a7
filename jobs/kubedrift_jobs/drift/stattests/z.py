"""Z-test for the difference of two proportions: Evidently's default for small binary columns."""

from __future__ import annotations

import numpy as np

from kubedrift_jobs.drift.binning import aligned_counts
from kubedrift_jobs.drift.column_types import ColumnType
from kubedrift_jobs.drift.descriptor import StatTest, register


def _z(reference: np.ndarray, current: np.ndarray, column_type: ColumnType) -> float:
    return _z_counts(*aligned_counts(reference, current))


def _z_counts(ref_counts: np.ndarray, cur_counts: np.ndarray) -> float:
    from scipy import stats  # imported on first use: it costs half a second of start-up

    if ref_counts.size == 1:
        return 1.0  # one and the same value on both sides
    # The share of rows that are not the smallest value, as Evidently counts it.
    n1, n2 = int(ref_counts.sum()), int(cur_counts.sum())
    p1 = (n1 - ref_counts[0]) / n1
    p2 = (n2 - cur_counts[0]) / n2
    pooled = (p1 * n1 + p2 * n2) / (n1 + n2)
    z = (p1 - p2) / np.sqrt(pooled * (1 - pooled) * (1.0 / n1 + 1.0 / n2))
    return float(2 * (1 - stats.norm.cdf(np.abs(z))))


Z = register(
    StatTest(
        name="z",
        display_name="Z-test p-value",
        column_types=("categorical", "numerical"),
        kind="p_value",
        default_threshold=0.05,
        drift_when="<",
        score=_z,
        score_counts=_z_counts,
    )
)
