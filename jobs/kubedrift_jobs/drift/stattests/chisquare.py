"""Chi-square goodness of fit of current counts against reference proportions."""

from __future__ import annotations

import numpy as np

from kubedrift_jobs.drift.binning import aligned_counts
from kubedrift_jobs.drift.column_types import ColumnType
from kubedrift_jobs.drift.descriptor import StatTest, register


def _chisquare(reference: np.ndarray, current: np.ndarray, column_type: ColumnType) -> float:
    return _chisquare_counts(*aligned_counts(reference, current))


def _chisquare_counts(ref_counts: np.ndarray, cur_counts: np.ndarray) -> float:
    from scipy import stats  # imported on first use: it costs half a second of start-up

    # Expected counts scale the reference to the current size; a value unseen in the
    # reference has an expected count of 0 and makes p 0, as in Evidently.
    expected = ref_counts * (int(cur_counts.sum()) / int(ref_counts.sum()))
    return float(stats.chisquare(cur_counts, expected).pvalue)


CHISQUARE = register(
    StatTest(
        name="chisquare",
        display_name="chi-square p-value",
        column_types=("categorical", "numerical"),
        kind="p_value",
        default_threshold=0.05,
        drift_when="<",
        score=_chisquare,
        score_counts=_chisquare_counts,
    )
)
