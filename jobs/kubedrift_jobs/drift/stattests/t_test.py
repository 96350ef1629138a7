"""Two-sample Student's t-test (equal variances, as Evidently's t_test)."""

from __future__ import annotations

import numpy as np

from kubedrift_jobs.drift.column_types import ColumnType
from kubedrift_jobs.drift.descriptor import StatTest, register


def _t_test(reference: np.ndarray, current: np.ndarray, column_type: ColumnType) -> float:
    from scipy import stats  # imported on first use: it costs half a second of start-up

    return float(stats.ttest_ind(reference, current).pvalue)


T_TEST = register(
    StatTest(
        name="t_test",
        display_name="t-test p-value",
        column_types=("numerical",),
        kind="p_value",
        default_threshold=0.05,
        drift_when="<",
        score=_t_test,
    )
)
