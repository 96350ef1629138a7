"""Chi-square goodness of fit of current counts against reference proportions."""

from __future__ import annotations

import numpy as np

from kubedrift_jobs.drift.binning import aligned_counts
from kubedrift_jobs.drift.column_types import ColumnType
from kubedrift_jobs.drift.descriptor import StatTest, register


def _chisquare(reference: np.ndarray, current: np.ndarray, column_type: ColumnType) -> float:
    from scipy import stats  # imported on first use: it costs half a second of start-up

    ref_counts, cur_counts = aligned_counts(reference, current)
    # Expected counts scale the reference to the current size; a value unseen in the
    # reference has an expected count of 0 and makes p 0, as in Evidently.
    expected = ref_counts * (current.size / reference.size)
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
    )
)
