"""Scores read from a 10M-row sketched reference lie within their stated bounds of the exact
scores of the same rows, for several shapes of data (no cluster; 17 s for the four, 650 MB)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pytest

from kubedrift_jobs.drift import sketch_scores
from kubedrift_jobs.drift.merge import merge
from kubedrift_jobs.drift.profile import build
from kubedrift_jobs.drift.registry import get

ROWS = 10_000_000
SHARDS = 4

Shape = Callable[[np.random.Generator, int, bool], np.ndarray]
SHAPES: dict[str, Shape] = {
    "shifted_normal": lambda rng, n, drift: rng.normal(0.1 if drift else 0.0, 1.0, n),
    "lognormal": lambda rng, n, drift: rng.lognormal(0.05 if drift else 0.0, 1.0, n),
    "ties": lambda rng, n, drift: np.round(rng.gamma(2.1 if drift else 2.0, 3.0, n)),
    "no_drift": lambda rng, n, drift: rng.normal(5.0, 2.0, n),
}


def exact_ks_statistic(a: np.ndarray, b: np.ndarray) -> float:
    worst = 0.0
    for points in (a, b):  # the supremum is reached at a value of one sample or the other
        gap = np.searchsorted(a, points, "right") / a.size - np.searchsorted(b, points, "right") / b.size
        worst = max(worst, float(np.max(np.abs(gap))))
    return worst


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_sketch_scores_lie_within_their_bounds_of_the_exact_ones(shape: str) -> None:
    rng = np.random.default_rng(sorted(SHAPES).index(shape))
    reference = np.sort(SHAPES[shape](rng, ROWS, False))
    current = np.sort(SHAPES[shape](rng, ROWS, True))
    # The reference as a sharded check builds it: each share sketched, then merged.
    shares = np.array_split(reference, SHARDS)
    profile = merge([build("x", pa.chunked_array([pa.array(s)]), exact_limit=0) for s in shares])
    assert profile.form == "sketch" and profile.summary is not None
    assert profile.summary.std == pytest.approx(float(np.std(reference)), rel=1e-9)
    ref_side, cur_side = sketch_scores.profile_side(profile), sketch_scores.exact_side(current)

    estimates = {
        "ks": sketch_scores.ks_statistic(ref_side, cur_side),
        "wasserstein": sketch_scores.wasserstein_normed(ref_side, cur_side, profile.summary.std),
        "psi": sketch_scores.psi(ref_side, cur_side),
        "jensenshannon": sketch_scores.jensenshannon(ref_side, cur_side),
    }
    exact = {"ks": exact_ks_statistic(reference, current)} | {
        name: get(name).run(reference, current, "numerical", None, float(np.std(reference)))[0]
        for name in ("wasserstein", "psi", "jensenshannon")
    }
    for name, estimate in estimates.items():
        assert abs(estimate.score - exact[name]) <= estimate.error, (name, estimate, exact[name])
    # The bounds are tight enough to decide most columns (measured: K-S 0.0014, Wasserstein
    # ≤ 0.015, PSI ≤ 0.043, Jensen-Shannon ≤ 0.035; the distances' default thresholds are 0.1).
    ceilings = {"ks": sketch_scores.kll.EPSILON * 1.05, "wasserstein": 0.02, "psi": 0.05}
    ceilings["jensenshannon"] = 0.04
    for name, ceiling in ceilings.items():
        assert estimates[name].error < ceiling, (name, estimates[name])
