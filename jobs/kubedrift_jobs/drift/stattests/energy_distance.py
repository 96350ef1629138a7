"""Energy distance between the two samples."""

from __future__ import annotations

import numpy as np

from kubedrift_jobs.drift.column_types import ColumnType
from kubedrift_jobs.drift.descriptor import StatTest, register


def _energy_distance(reference: np.ndarray, current: np.ndarray, column_type: ColumnType) -> float:
    from scipy import stats  # imported on first use: it costs half a second of start-up

    return float(stats.energy_distance(reference, current))


ENERGY_DISTANCE = register(
    StatTest(
        name="energy_distance",
        display_name="Energy distance",
        column_types=("numerical",),
        kind="distance",
        default_threshold=0.1,
        drift_when=">",
        score=_energy_distance,
    )
)
