"""A stat test's descriptor and its registration: what every module in `stattests/` imports.

A stat test is one small module in `stattests/`: a private function (reference
values, current values, column type → score), a `StatTest` descriptor (name,
column types, p-value or distance, default threshold, how the threshold is
compared) and one `register()` call. Adding a test is adding one file (and its
name in `stattests/__init__.py`). Lookups go through `registry`, which imports
every built-in test first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np

from kubedrift_jobs.drift.column_types import ColumnType

Kind = Literal["p_value", "distance"]
# Evidently compares most p-values with `<` but KS and Cramér-von Mises with `<=`,
# and most distances with `>=` but energy distance with `>`; we keep each as it is.
Comparison = Literal["<", "<=", ">=", ">"]

# Reference values, current values (both without nulls or ±inf) and the column type → score.
ScoreFunction = Callable[[np.ndarray, np.ndarray, ColumnType], float]


@dataclass(frozen=True)
class StatTest:
    name: str
    display_name: str
    column_types: tuple[ColumnType, ...]
    kind: Kind
    default_threshold: float
    drift_when: Comparison
    score: ScoreFunction

    def drifted(self, score: float, threshold: float) -> bool:
        if np.isnan(score):
            return False
        if self.drift_when == "<":
            return score < threshold
        if self.drift_when == "<=":
            return score <= threshold
        if self.drift_when == ">=":
            return score >= threshold
        return score > threshold

    def run(
        self,
        reference: np.ndarray,
        current: np.ndarray,
        column_type: ColumnType,
        threshold: float | None = None,
    ) -> tuple[float, bool]:
        """Score two samples and decide drift; the threshold defaults to the test's own."""
        if column_type not in self.column_types:
            raise ValueError(f"{self.name} does not accept {column_type} columns")
        limit = self.default_threshold if threshold is None else threshold
        with np.errstate(divide="ignore", invalid="ignore"):
            score = float(self.score(reference, current, column_type))
        return score, self.drifted(score, limit)


REGISTERED: dict[str, StatTest] = {}


def register(test: StatTest) -> StatTest:
    if test.name in REGISTERED:
        raise ValueError(f"stat test {test.name!r} is registered twice")
    REGISTERED[test.name] = test
    return test
