"""k-sample Anderson–Darling test (two samples); scipy caps its p-value to [0.001, 0.25]."""

from __future__ import annotations

import warnings

import numpy as np

from kubedrift_jobs.drift.column_types import ColumnType
from kubedrift_jobs.drift.descriptor import StatTest, register


def _anderson(reference: np.ndarray, current: np.ndarray, column_type: ColumnType) -> float:
    from scipy import stats  # imported on first use: it costs half a second of start-up

    with warnings.catch_warnings():
        # The cap is the test's documented behaviour (and Evidently's), not news for every column;
        # any other warning (a deprecation, say) still reaches the caller.
        warnings.filterwarnings("ignore", message=r"p-value (capped|floored)", category=UserWarning)
        return float(stats.anderson_ksamp([reference, current], variant="midrank").pvalue)


ANDERSON = register(
    StatTest(
        name="anderson",
        display_name="Anderson-Darling p-value",
        column_types=("numerical",),
        kind="p_value",
        default_threshold=0.1,
        drift_when="<",
        score=_anderson,
    )
)
