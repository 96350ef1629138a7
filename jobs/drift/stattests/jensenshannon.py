"""Jensen–Shannon distance (natural log): Evidently's default for large categorical columns."""

from __future__ import annotations

import numpy as np
from scipy.spatial import distance

from kubedrift.jobs.drift.binning import shares
from kubedrift.jobs.drift.registry import ColumnType, StatTest, register


def _jensenshannon(reference: np.ndarray, current: np.ndarray, column_type: ColumnType) -> float:
    ref_shares, cur_shares = shares(reference, current, column_type, fill_zeroes=False)
    return float(distance.jensenshannon(ref_shares, cur_shares))


JENSENSHANNON = register(
    StatTest(
        name="jensenshannon",
        display_name="Jensen-Shannon distance",
        column_types=("categorical", "numerical"),
        kind="distance",
        default_threshold=0.1,
        drift_when=">=",
        score=_jensenshannon,
    )
)
