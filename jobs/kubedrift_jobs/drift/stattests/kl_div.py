"""Kullback–Leibler divergence of the current shares from the reference shares."""

from __future__ import annotations

import numpy as np

from kubedrift_jobs.drift.binning import count_shares, shares
from kubedrift_jobs.drift.column_types import ColumnType
from kubedrift_jobs.drift.descriptor import StatTest, register


def _kl_div(reference: np.ndarray, current: np.ndarray, column_type: ColumnType) -> float:
    return _kl_div_of_shares(*shares(reference, current, column_type, fill_zeroes=True))


def _kl_div_counts(ref_counts: np.ndarray, cur_counts: np.ndarray) -> float:
    return _kl_div_of_shares(*count_shares(ref_counts, cur_counts, fill_zeroes=True))


def _kl_div_of_shares(ref_shares: np.ndarray, cur_shares: np.ndarray) -> float:
    from scipy import stats  # imported on first use: it costs half a second of start-up

    return float(stats.entropy(ref_shares, cur_shares))


KL_DIV = register(
    StatTest(
        name="kl_div",
        display_name="Kullback-Leibler divergence",
        column_types=("categorical", "numerical"),
        kind="distance",
        default_threshold=0.1,
        drift_when=">=",
        score=_kl_div,
        score_counts=_kl_div_counts,
    )
)
