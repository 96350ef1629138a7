"""A column whose reference profile is a sketch: a score with its bound, uncertain near the
threshold, no noisy p-value, and the exact path untouched."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from kubedrift.models.driftcheck import DriftSettings
from kubedrift_jobs.drift.column_check import ColumnPlan, check_column
from kubedrift_jobs.drift.profile import build

RNG = np.random.default_rng(3)
REFERENCE = pa.chunked_array([pa.array(np.append(RNG.normal(0, 1, 200_000), [np.inf, np.nan]))])
PLAN = ColumnPlan(name="x", role="feature", declared=None)


def _current(shift: float, size: int = 100_000) -> pa.ChunkedArray:
    return pa.chunked_array([pa.array(RNG.normal(shift, 1, size))])


def _settings(method: str | None = None, threshold: float | None = None) -> DriftSettings:
    override = {k: v for k, v in (("method", method), ("threshold", threshold)) if v is not None}
    return DriftSettings.model_validate({"numerical": override} if override else {})


def test_a_sketched_reference_gives_the_score_with_its_bound_and_the_same_verdict() -> None:
    exact_profile, sketched = build("x", REFERENCE), build("x", REFERENCE, exact_limit=0)
    assert sketched.form == "sketch"
    current = _current(0.5)
    exact = check_column(PLAN, exact_profile, current, _settings())
    read = check_column(PLAN, sketched, current, _settings())
    assert exact.method == read.method == "wasserstein"
    assert exact.score_error is None and not exact.uncertain
    assert read.score is not None and exact.score is not None and read.score_error is not None
    assert abs(read.score - exact.score) <= read.score_error
    assert read.drifted and exact.drifted and not read.uncertain
    assert read.reference_summary == exact.reference_summary  # the moments are kept exactly
    assert read.null_share_reference == exact.null_share_reference
    assert read.rows_reference == exact.rows_reference
    assert read.histogram is not None and exact.histogram is not None
    assert read.histogram.edges == exact.histogram.edges


def test_a_score_within_its_bound_of_the_threshold_is_uncertain_not_drifted() -> None:
    sketched = build("x", REFERENCE, exact_limit=0)
    current = _current(0.5)
    score = check_column(PLAN, sketched, current, _settings()).score
    assert score is not None
    near = check_column(PLAN, sketched, current, _settings(threshold=round(score, 3)))
    assert near.uncertain and not near.drifted and near.status == "tested"
    assert any(note.startswith("uncertain:") for note in near.notes)


def test_no_p_value_from_a_sketch_too_coarse_for_it() -> None:
    sketched = build("x", REFERENCE, exact_limit=0)
    # 200,000 against 150,000 values: p = 0.05 is decided by D ≈ 0.0047, the sketch reads D to
    # ±0.0014: a p-value. At 3,000,000 a side it is ±0.0014 against 0.0011: none.
    fine = check_column(PLAN, sketched, _current(0.0, 150_000), _settings("ks"))
    assert fine.score is not None and fine.score_error is not None and fine.reason is None
    coarse_reference = pa.chunked_array([pa.array(RNG.normal(0, 1, 3_000_000))])
    coarse = check_column(
        PLAN, build("x", coarse_reference, exact_limit=0), _current(0.0, 3_000_000), _settings("ks")
    )
    assert coarse.score is None and coarse.uncertain and not coarse.drifted
    assert coarse.reason is not None and "no p-value" in coarse.reason


def test_a_test_that_needs_the_values_is_not_run_on_a_sketch() -> None:
    result = check_column(PLAN, build("x", REFERENCE, exact_limit=0), _current(0.1), _settings("anderson"))
    assert result.status == "unsupported" and result.reason is not None and "sketch" in result.reason
