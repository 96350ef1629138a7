"""Mann–Whitney U test, two-sided.

Evidently 0.7's "mannw" asks scipy for alternative="less", which only notices a
current sample that shifted upwards; a drift check must notice both directions,
so this one is two-sided (a deliberate difference, listed in the report docs).
"""

from __future__ import annotations

import numpy as np

from kubedrift_jobs.drift.column_types import ColumnType
from kubedrift_jobs.drift.descriptor import StatTest, register


def _mannwhitney(reference: np.ndarray, current: np.ndarray, column_type: ColumnType) -> float:
    from scipy import stats  # imported on first use: it costs half a second of start-up

    return float(stats.mannwhitneyu(reference, current, alternative="two-sided").pvalue)


MANNWHITNEY = register(
    StatTest(
        name="mannwhitney",
        display_name="Mann-Whitney U p-value",
        column_types=("numerical",),
        kind="p_value",
        default_threshold=0.05,
        drift_when="<",
        score=_mannwhitney,
    )
)
