"""Two-sample Kolmogorov–Smirnov test (two-sided): Evidently's default for small numerical samples."""

from __future__ import annotations

import numpy as np

from kubedrift_jobs.drift.column_types import ColumnType
from kubedrift_jobs.drift.descriptor import StatTest, register


def _ks(reference: np.ndarray, current: np.ndarray, column_type: ColumnType) -> float:
    from scipy import stats  # imported on first use: it costs half a second of start-up

    return float(stats.ks_2samp(reference, current).pvalue)


KS = register(
    StatTest(
        name="ks",
        display_name="K-S p-value",
        column_types=("numerical",),
        kind="p_value",
        default_threshold=0.05,
        drift_when="<=",
        score=_ks,
    )
)
