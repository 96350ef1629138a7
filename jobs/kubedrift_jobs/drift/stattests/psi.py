"""Population Stability Index over value counts or Sturges bins."""

from __future__ import annotations

import numpy as np

from kubedrift_jobs.drift.binning import count_shares, shares
from kubedrift_jobs.drift.column_types import ColumnType
from kubedrift_jobs.drift.descriptor import StatTest, register


def _psi(reference: np.ndarray, current: np.ndarray, column_type: ColumnType) -> float:
    return _psi_of_shares(*shares(reference, current, column_type, fill_zeroes=True))


def _psi_counts(ref_counts: np.ndarray, cur_counts: np.ndarray) -> float:
    return _psi_of_shares(*count_shares(ref_counts, cur_counts, fill_zeroes=True))


def _psi_of_shares(ref_shares: np.ndarray, cur_shares: np.ndarray) -> float:
    return float(np.sum((ref_shares - cur_shares) * np.log(ref_shares / cur_shares)))


PSI = register(
    StatTest(
        name="psi",
        display_name="PSI",
        column_types=("categorical", "numerical"),
        kind="distance",
        default_threshold=0.1,
        drift_when=">=",
        score=_psi,
        score_counts=_psi_counts,
    )
)
