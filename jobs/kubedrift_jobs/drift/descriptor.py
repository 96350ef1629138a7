"""A stat test's descriptor and its registration: what every module in `stattests/` imports.

A stat test is one small module in `stattests/`: a private function (reference
values, current values, column type → score), a `StatTest` descriptor (name,
column types, p-value or distance, default threshold, how the threshold is
compared) and one `register()` call. Adding a test is adding one file (and its
name in `stattests/__init__.py`). Lookups go through `registry`, which imports
every built-in test first.
"""

from __future__ import annotations

import math
import warnings
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
# The same, given the reference's standard deviation (np.std of its values, kept in its profile).
ScoreWithStd = Callable[[np.ndarray, np.ndarray, ColumnType, float], float]
# A categorical test from counts: each side's count of every value seen on either side, aligned
# (what `binning.aligned_counts` makes of the values). Every categorical test is one of counts, so
# a check never expands a column's counts back into a value per row.
ScoreCounts = Callable[[np.ndarray, np.ndarray], float]


@dataclass(frozen=True)
class StatTest:
    name: str
    display_name: str
    column_types: tuple[ColumnType, ...]
    kind: Kind
    default_threshold: float
    drift_when: Comparison
    score: ScoreFunction
    # For a test that scales by the reference's spread: the score without computing it again.
    score_with_std: ScoreWithStd | None = None
    # For a test that takes categorical columns: the score from counts (`score` counts the values).
    score_counts: ScoreCounts | None = None

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
        reference_std: float | None = None,
    ) -> tuple[float, bool]:
        """Score two samples and decide drift; the threshold defaults to the test's own.
        `reference_std`, if given, must be `np.std(reference)` (the profile's summary has it)."""
        if column_type not in self.column_types:
            raise ValueError(f"{self.name} does not accept {column_type} columns")
        limit = self.default_threshold if threshold is None else threshold
        with_std = self.score_with_std
        if reference_std is not None and with_std is not None:
            score = _guarded(lambda: with_std(reference, current, column_type, reference_std))
        else:
            score = _guarded(lambda: self.score(reference, current, column_type))
        if math.isnan(score):
            score = self.degenerate_score(reference, current)
        return score, self.drifted(score, limit)

    def run_counts(
        self, reference_counts: np.ndarray, current_counts: np.ndarray, threshold: float | None = None
    ) -> tuple[float, bool]:
        """`run` for a categorical column given as counts (`ScoreCounts`): the same score and verdict
        as `run` on the values those counts count."""
        if self.score_counts is None or "categorical" not in self.column_types:
            raise ValueError(f"{self.name} does not accept categorical columns")
        limit = self.default_threshold if threshold is None else threshold
        counts = self.score_counts
        score = _guarded(lambda: counts(reference_counts, current_counts))
        if math.isnan(score):
            ref_values, cur_values = np.flatnonzero(reference_counts), np.flatnonzero(current_counts)
            sizes = (int(reference_counts.sum()), int(current_counts.sum()))
            score = self._degenerate(
                ref_values.size == 1,
                cur_values.size == 1,
                ref_values[:1].tolist() == cur_values[:1].tolist(),
                sizes,
            )
        return score, self.drifted(score, limit)

    def degenerate_score(self, reference: np.ndarray, current: np.ndarray) -> float:
        ref_constant = reference.size > 0 and bool(np.all(reference == reference[0]))
        cur_constant = current.size > 0 and bool(np.all(current == current[0]))
        same = ref_constant and cur_constant and bool(reference[0] == current[0])
        return self._degenerate(ref_constant, cur_constant, same, (reference.size, current.size))

    def _degenerate(
        self, ref_constant: bool, cur_constant: bool, same: bool, sizes: tuple[int, int]
    ) -> float:
        """The score where the test itself is undefined: one and the same value on both sides
        is no drift; two different constants (two values or more each) are certain drift for a
        p-value; anything else stays NaN (undefined, never counted as drift)."""
        if not (ref_constant and cur_constant):
            return math.nan
        if same:
            return 1.0 if self.kind == "p_value" else 0.0
        if self.kind == "p_value" and min(sizes) >= 2:
            return 0.0
        return math.nan


def _guarded(score: Callable[[], float]) -> float:
    """The score, or NaN where the test is undefined on these samples."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"), warnings.catch_warnings():
        # Constant or tiny samples make scipy warn (precision loss, too few values) or raise
        # (anderson on one distinct value); such samples get a defined score below or NaN.
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            return float(score())
        except (ValueError, IndexError, ZeroDivisionError, FloatingPointError):
            return math.nan


REGISTERED: dict[str, StatTest] = {}


def register(test: StatTest) -> StatTest:
    if test.name in REGISTERED:
        raise ValueError(f"stat test {test.name!r} is registered twice")
    REGISTERED[test.name] = test
    return test
