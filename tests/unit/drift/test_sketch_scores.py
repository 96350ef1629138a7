"""Scores from sketches: exact sides read the exact path's bins, sketched ones stay within
their bounds, and a p-value is given only when the sketch can resolve it."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from scipy import stats

from kubedrift_jobs.drift import sketch as kll
from kubedrift_jobs.drift import sketch_scores
from kubedrift_jobs.drift.binning import sturges_counts
from kubedrift_jobs.drift.profile import build
from kubedrift_jobs.drift.registry import get

RNG = np.random.default_rng(5)
REFERENCE = np.sort(RNG.normal(0, 1, 200_000))
CURRENT = np.sort(RNG.normal(0.2, 1.1, 150_000))


def _sketched(values: np.ndarray) -> sketch_scores.Side:
    return sketch_scores.profile_side(build("x", pa.chunked_array([pa.array(values)]), exact_limit=0))


def test_exact_sides_read_the_exact_paths_bins() -> None:
    ref, cur = sketch_scores.exact_side(REFERENCE), sketch_scores.exact_side(CURRENT)
    binned = sketch_scores.sturges_shares(ref, cur)
    ref_counts, cur_counts = sturges_counts(REFERENCE, CURRENT)
    assert np.array_equal(binned.reference, ref_counts / REFERENCE.size)
    assert np.array_equal(binned.current, cur_counts / CURRENT.size)
    assert not binned.reference_error.any() and not binned.current_error.any()
    psi = get("psi").run(REFERENCE, CURRENT, "numerical")[0]
    assert sketch_scores.psi(ref, cur).score == pytest.approx(psi)
    js = get("jensenshannon").run(REFERENCE, CURRENT, "numerical")[0]
    assert sketch_scores.jensenshannon(ref, cur).score == pytest.approx(js)
    # Exact on both sides the only error left is the grid's, and it is small.
    wasserstein = sketch_scores.wasserstein_normed(ref, cur, float(np.std(REFERENCE)))
    exact = get("wasserstein").run(REFERENCE, CURRENT, "numerical")[0]
    assert abs(wasserstein.score - exact) <= wasserstein.error < 1e-3


@pytest.mark.parametrize("sketch_current", [False, True])
def test_sketched_scores_are_within_their_bounds(sketch_current: bool) -> None:
    ref = _sketched(REFERENCE)
    cur = _sketched(CURRENT) if sketch_current else sketch_scores.exact_side(CURRENT)
    std = float(np.std(REFERENCE))
    names = ("wasserstein", "psi", "jensenshannon")
    exact = {name: get(name).run(REFERENCE, CURRENT, "numerical", None, std)[0] for name in names}
    for name, estimate in (
        ("wasserstein", sketch_scores.wasserstein_normed(ref, cur, std)),
        ("psi", sketch_scores.psi(ref, cur)),
        ("jensenshannon", sketch_scores.jensenshannon(ref, cur)),
    ):
        assert abs(estimate.score - exact[name]) <= estimate.error, name
    statistic = sketch_scores.ks_statistic(ref, cur)
    assert abs(statistic.score - stats.ks_2samp(REFERENCE, CURRENT).statistic) <= statistic.error
    assert statistic.error <= (2 if sketch_current else 1) * kll.EPSILON * 1.05


def test_ties_are_read_on_both_sides_of_their_jump() -> None:
    ref_values = np.sort(RNG.integers(0, 40, 100_000).astype(np.float64))
    cur_values = np.sort(RNG.integers(1, 41, 100_000).astype(np.float64))
    statistic = sketch_scores.ks_statistic(_sketched(ref_values), sketch_scores.exact_side(cur_values))
    exact = stats.ks_2samp(ref_values, cur_values).statistic
    assert abs(statistic.score - exact) <= statistic.error <= kll.EPSILON * 1.05


def test_a_ks_p_value_only_where_the_sketch_resolves_it() -> None:
    ref = _sketched(REFERENCE)
    # A coarser sketch (or millions of rows a side): D's error beyond the 0.0047 that decides p.
    coarse_ref = sketch_scores.profile_side(build("x", pa.chunked_array([pa.array(REFERENCE)]), 0), 0.01)
    coarse = sketch_scores.ks_p_value(coarse_ref, sketch_scores.exact_side(CURRENT), 0.05)
    assert coarse.estimate is None
    assert coarse.reason is not None and "no p-value" in coarse.reason
    few = np.sort(RNG.normal(0.2, 1.1, 2_000))  # the resolution at 2,000 values is ~0.03 of D
    fine = sketch_scores.ks_p_value(ref, sketch_scores.exact_side(few), 0.05)
    assert fine.estimate is not None and fine.reason is None
    exact = stats.ks_2samp(REFERENCE, few, method="asymp").pvalue
    assert abs(fine.estimate.score - exact) <= fine.estimate.error + 1e-3


def test_a_sketch_reads_its_tails_exactly_and_its_body_within_epsilon() -> None:
    values = np.sort(RNG.lognormal(0, 1, 200_000))
    side = _sketched(values)
    assert side.tails is not None
    inside_low = side.tails[0][[0, 100, -2]]
    inside_high = side.tails[1][[1, 100, -1]]
    body = np.quantile(values, [0.3, 0.5, 0.7])
    points = np.concatenate([inside_low, body, inside_high])
    for inclusive in (True, False):
        shares, errors = side.read(points, inclusive)
        exact = np.searchsorted(values, points, side="right" if inclusive else "left") / values.size
        assert np.allclose(shares[:3], exact[:3], rtol=0, atol=1e-12) and not errors[:3].any()
        assert np.allclose(shares[-3:], exact[-3:], rtol=0, atol=1e-12) and not errors[-3:].any()
        assert np.all(np.abs(shares[3:6] - exact[3:6]) <= errors[3:6]) and np.all(errors[3:6] == kll.EPSILON)
