"""Two-sample Cramér–von Mises test (exact up to 20 rows a side, asymptotic beyond)."""

from __future__ import annotations

import numpy as np

from kubedrift_jobs.drift.column_types import ColumnType
from kubedrift_jobs.drift.descriptor import StatTest, register


def _cramer_von_mises(reference: np.ndarray, current: np.ndarray, column_type: ColumnType) -> float:
    from scipy import stats  # imported on first use: it costs half a second of start-up

    return float(stats.cramervonmises_2samp(reference, current, method="auto").pvalue)


CRAMER_VON_MISES = register(
    StatTest(
        name="cramer_von_mises",
        display_name="Cramer-von Mises p-value",
        column_types=("numerical",),
        kind="p_value",
        default_threshold=0.1,
        drift_when="<=",
        score=_cramer_von_mises,
    )
)
