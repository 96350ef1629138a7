"""Hellinger distance: over value shares for categorical columns, over Sturges densities for numerical.

The numerical variant follows Evidently 0.7: the bins come from the distinct
values of both sides (not from every row), and the densities are summed with the
mean bin width.
"""

from __future__ import annotations

import numpy as np

from kubedrift_jobs.drift.binning import (
    aligned_counts,
    count_shares,
    histogram_of_sorted,
    sorted_copy,
    sturges_edges,
)
from kubedrift_jobs.drift.column_types import ColumnType
from kubedrift_jobs.drift.descriptor import StatTest, register


def _hellinger(reference: np.ndarray, current: np.ndarray, column_type: ColumnType) -> float:
    if column_type == "categorical":
        return _hellinger_counts(*aligned_counts(reference, current))
    ref, cur = sorted_copy(reference), sorted_copy(current)
    distinct = np.union1d(ref, cur)
    edges = sturges_edges(float(distinct[0]), float(distinct[-1]), distinct.size)
    widths = np.diff(edges)
    ref_density = histogram_of_sorted(ref, edges) / ref.size / widths
    cur_density = histogram_of_sorted(cur, edges) / cur.size / widths
    mean_width = (edges.max() - edges.min()) / (edges.size - 1)
    return _of_overlap(float(np.sum(np.sqrt(ref_density * cur_density) * mean_width)))


def _hellinger_counts(ref_counts: np.ndarray, cur_counts: np.ndarray) -> float:
    ref_shares, cur_shares = count_shares(ref_counts, cur_counts, fill_zeroes=False)
    return _of_overlap(float(np.sum(np.sqrt(ref_shares * cur_shares))))


def _of_overlap(overlap: float) -> float:
    return float(np.sqrt(1 - np.clip(overlap, 0, 1)))


HELLINGER = register(
    StatTest(
        name="hellinger",
        display_name="Hellinger distance",
        column_types=("categorical", "numerical"),
        kind="distance",
        default_threshold=0.1,
        drift_when=">=",
        score=_hellinger,
        score_counts=_hellinger_counts,
    )
)
