"""Jensen–Shannon distance (natural log): Evidently's default for large categorical columns."""

from __future__ import annotations

import numpy as np

from kubedrift_jobs.drift.binning import count_shares, shares
from kubedrift_jobs.drift.column_types import ColumnType
from kubedrift_jobs.drift.descriptor import StatTest, register


def _jensenshannon(reference: np.ndarray, current: np.ndarray, column_type: ColumnType) -> float:
    return jensenshannon_distance(*shares(reference, current, column_type, fill_zeroes=False))


def _jensenshannon_counts(ref_counts: np.ndarray, cur_counts: np.ndarray) -> float:
    return jensenshannon_distance(*count_shares(ref_counts, cur_counts, fill_zeroes=False))


def jensenshannon_distance(p: np.ndarray, q: np.ndarray) -> float:
    """scipy.spatial.distance.jensenshannon (natural log), without importing scipy.spatial."""
    p, q = p / p.sum(), q / q.sum()
    m = (p + q) / 2
    divergence = _relative_entropy(p, m) + _relative_entropy(q, m)
    return float(np.sqrt(divergence / 2))


def _relative_entropy(p: np.ndarray, m: np.ndarray) -> float:
    # scipy's rel_entr: p·log(p/m), and 0 where p is 0 (m > 0 wherever p > 0 here).
    positive = p > 0
    return float(np.sum(p[positive] * np.log(p[positive] / m[positive])))


JENSENSHANNON = register(
    StatTest(
        name="jensenshannon",
        display_name="Jensen-Shannon distance",
        column_types=("categorical", "numerical"),
        kind="distance",
        default_threshold=0.1,
        drift_when=">=",
        score=_jensenshannon,
        score_counts=_jensenshannon_counts,
    )
)
