"""Distance scores of two sides of which either may be a sketch, each with a bound on its error.

Every score here is a function of the two CDFs F_r (reference) and F_c (current) of the finite
values. A side is exact (sorted values: its CDF is exact) or a KLL sketch whose CDF values are
each within ε of the truth and whose bin shares within ε₂ (`sketch.EPSILON` = 0.14% and
`sketch.EPSILON_SHARE` = 0.19% at K = 2000, 99% confidence; ε₂ < 2ε, DataSketches' own bound
for a difference of two ranks; both 0 on an exact side). Min, max and sizes are exact on both,
and so is a sketched side's CDF in its tails (below its `sketch.TAIL`-th smallest value and
above its TAIL-th largest, kept exactly): there its error is 0 as well.

Both CDFs are read on a grid G: the quantiles of each side at GRID_RANKS evenly spaced ranks,
plus both sides' min and max. At each grid point g both F(g) (share ≤ g) and F(g⁻) (share < g)
are read. Between two grid points g_i < g_{i+1} a CDF is monotone, so on the gap
F(x) ∈ [F(g_i), F(g_{i+1}⁻)]; widened by ε on a sketched side and clipped to [0, 1]. That gives,
for every point and gap, an interval that surely holds |F_r(x) − F_c(x)| (given ε), and from it
an interval that surely holds the score. The estimate is taken from the read values; the
error bound is how far the estimate lies from the farther end of the interval. Ties cost
nothing: an atom is a grid point, read on both sides of its jump.

  KS statistic D = sup_x |F_r − F_c|. D̂ is the largest |F̂_r − F̂_c| read at a grid point
  (either side of it). Bound: max(D̂ − D_lo, D_hi − D̂), where D_lo, D_hi are the largest
  lower and upper ends over all points and gaps; about ε_r + ε_c plus the grid's rank step
  (1/GRID_RANKS on each side).

  Wasserstein W1 = ∫ |F_r − F_c| dx (= ∫ |Q_r − Q_c| dt, the project's form), normed by the
  reference's standard deviation as `stattests/wasserstein.py` does (max(std, 0.001); the std
  of a sketch profile is exact: its moments are kept). Ŵ is the trapezoid rule over the gaps
  on the read values; W_lo and W_hi integrate the gaps' lower and upper ends. Since ε holds
  for every x between the exact tails, the bound is about (ε_r + ε_c)·(spread between the
  tails)/std: 0.0084 for a normal at 10M rows (the body spans ±2.9σ), 0.014 for a lognormal
  (whose 100-σ range would have cost 0.15 without exact tails).

  PSI and Jensen-Shannon over the project's Sturges bins (`binning.py`): the edges depend only
  on min, max and the sizes, all exact, so the bins are the exact path's bins. A bin's share
  is a difference of two CDF values: within ε₂ of the truth on a sketched side (ε with one
  end in a tail, 0 with both, so the outer bins with their tiny shares are exact). PSI and the
  Jensen-Shannon divergence are sums of per-bin terms f(p, q), each convex, zero on p = q,
  falling towards the diagonal: over a box of shares its largest value is at a corner and its
  smallest is 0 when the box meets the diagonal, else at the corner nearest it. Summing the
  per-bin ends bounds the score (the shares' sum of 1 is not used: conservative). PSI's empty
  bins get `binning`'s filler, taken from the read shares; a box reaching 0 is clipped to it,
  so where a true share may be 0 the PSI bound is practical rather than rigorous.

p-values are not computed from a sketch when the statistic's error exceeds the test's
resolution (`ks_p_value`): no noisy p-value, a reason instead.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np

from kubedrift_jobs.drift import sketch as kll
from kubedrift_jobs.drift.binning import (
    DISTINCT_VALUES_FOR_BINS,
    histogram_of_sorted,
    sturges_edges,
    zeroes_filled,
)
from kubedrift_jobs.drift.profile import ColumnProfile

GRID_RANKS = 20_000  # a rank step of 0.005% per side: small beside ε = 0.19%


class _Kll(Protocol):
    def get_cdf(self, split_points: list[float], inclusive: bool = False) -> list[float]: ...
    def get_quantiles(self, ranks: list[float], inclusive: bool = False) -> list[float]: ...


class _Term(Protocol):
    def __call__(self, p: np.ndarray, q: np.ndarray) -> np.ndarray: ...


@dataclass(frozen=True)
class Side:
    """One side's finite values as the scores read them: sorted values, or a sketch within ε
    (exact in its tails)."""

    size: int
    low: float
    high: float
    error: float  # ε: how far each CDF value read off the sketch may be from the truth
    share_error: float  # ε₂: how far each share between two values read off it may be
    values: np.ndarray | None = None  # exact: sorted finite float64
    sketch: _Kll | None = None
    tails: kll.Tails | None = None  # a sketch's smallest and largest values, exact

    def read(self, points: np.ndarray, inclusive: bool) -> tuple[np.ndarray, np.ndarray]:
        """Share of values ≤ each point (inclusive) or < it, and how far each may be off;
        points sorted and distinct."""
        side: Literal["left", "right"] = "right" if inclusive else "left"
        if self.values is not None:
            found = np.searchsorted(self.values, points, side=side)
            return np.asarray(found / self.size, dtype=np.float64), np.zeros(points.size)
        assert self.sketch is not None
        shares = np.asarray(self.sketch.get_cdf(points.tolist(), inclusive)[:-1], dtype=np.float64)
        errors = np.full(points.size, self.error)
        if self.tails is not None:
            # Below the TAIL-th smallest value every value ≤ x is in the low tail; above the
            # TAIL-th largest every value > x (or ≥ x) is in the high tail: exact there.
            low, high = self.tails
            in_low = points < low[-1] if inclusive else points <= low[-1]
            in_high = (points >= high[0] if inclusive else points > high[0]) & ~in_low
            shares[in_low] = np.searchsorted(low, points[in_low], side=side) / self.size
            above = high.size - np.searchsorted(high, points[in_high], side=side)
            shares[in_high] = 1.0 - above / self.size
            errors[in_low | in_high] = 0.0
        return shares, errors

    def quantiles(self, ranks: np.ndarray) -> np.ndarray:
        if self.values is not None:
            return self.values[np.minimum((ranks * self.size).astype(np.int64), self.size - 1)]
        assert self.sketch is not None
        return np.asarray(self.sketch.get_quantiles(ranks.tolist()), dtype=np.float64)


def exact_side(sorted_values: np.ndarray) -> Side:
    return Side(
        size=sorted_values.size,
        low=float(sorted_values[0]),
        high=float(sorted_values[-1]),
        error=0.0,
        share_error=0.0,
        values=sorted_values,
    )


def profile_side(
    profile: ColumnProfile, epsilon: float = kll.EPSILON, share_epsilon: float = kll.EPSILON_SHARE
) -> Side:
    """A profile's finite values: its sketch (within the epsilons), or its exact values."""
    if profile.form != "sketch":
        return exact_side(profile.numerical().values)
    summary = profile.summary
    assert summary is not None and summary.min is not None and summary.max is not None
    return Side(
        size=summary.count,
        low=summary.min,
        high=summary.max,
        error=epsilon,
        share_error=share_epsilon,
        sketch=profile.kll(),
        tails=profile.tails,
    )


@dataclass(frozen=True)
class Estimate:
    """A score read from sketches and how far it may be from the exact one."""

    score: float
    error: float


@dataclass(frozen=True)
class _Cdf:
    """One side's CDF on the grid: at each point (≤) and just below it (<), each ± its error."""

    at: np.ndarray
    at_error: np.ndarray
    below: np.ndarray
    below_error: np.ndarray

    @classmethod
    def of(cls, side: Side, points: np.ndarray) -> _Cdf:
        return cls(*side.read(points, inclusive=True), *side.read(points, inclusive=False))

    def at_points(self) -> tuple[np.ndarray, np.ndarray]:
        return _interval(self.at, self.at, self.at_error, self.at_error)

    def below_points(self) -> tuple[np.ndarray, np.ndarray]:
        return _interval(self.below, self.below, self.below_error, self.below_error)

    def gaps(self) -> tuple[np.ndarray, np.ndarray]:
        """Where the CDF may be inside each gap: from its value at the gap's start to its
        value just below the gap's end (monotone), each widened by its error."""
        return _interval(self.at[:-1], self.below[1:], self.at_error[:-1], self.below_error[1:])


def _grid(reference: Side, current: Side) -> tuple[np.ndarray, _Cdf, _Cdf]:
    ranks = (np.arange(GRID_RANKS) + 0.5) / GRID_RANKS
    ends = [reference.low, reference.high, current.low, current.high]
    points = np.unique(np.concatenate([reference.quantiles(ranks), current.quantiles(ranks), ends]))
    return points, _Cdf.of(reference, points), _Cdf.of(current, points)


def _interval(
    low: np.ndarray, high: np.ndarray, low_error: np.ndarray, high_error: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    return np.clip(low - low_error, 0.0, 1.0), np.clip(high + high_error, 0.0, 1.0)


def _distance_range(
    a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """Smallest and largest |A − B| for A, B anywhere in their intervals."""
    (a_lo, a_hi), (b_lo, b_hi) = a, b
    lowest = np.maximum(0.0, np.maximum(a_lo - b_hi, b_lo - a_hi))
    return lowest, np.maximum(a_hi - b_lo, b_hi - a_lo)


def _bounded(estimate: float, lowest: float, highest: float) -> Estimate:
    return Estimate(score=estimate, error=max(estimate - lowest, highest - estimate, 0.0))


def ks_statistic(reference: Side, current: Side) -> Estimate:
    _, ref, cur = _grid(reference, current)
    estimate = float(max(np.max(np.abs(ref.at - cur.at)), np.max(np.abs(ref.below - cur.below))))
    cells = [
        _distance_range(ref.at_points(), cur.at_points()),
        _distance_range(ref.below_points(), cur.below_points()),
        _distance_range(ref.gaps(), cur.gaps()),
    ]
    lowest = max(float(lo.max(initial=0.0)) for lo, _ in cells)
    highest = max(float(hi.max(initial=0.0)) for _, hi in cells)
    return _bounded(estimate, lowest, highest)


def wasserstein_normed(reference: Side, current: Side, reference_std: float) -> Estimate:
    """W1 over the reference's std, as `stattests/wasserstein.py` norms it."""
    points, ref, cur = _grid(reference, current)
    widths = np.diff(points)
    left = np.abs(ref.at[:-1] - cur.at[:-1])  # just right of each gap's start
    right = np.abs(ref.below[1:] - cur.below[1:])  # just left of its end
    estimate = float(np.dot((left + right) / 2, widths))
    gaps_lo, gaps_hi = _distance_range(ref.gaps(), cur.gaps())
    scale = max(reference_std, 0.001)
    lowest, highest = float(np.dot(gaps_lo, widths)), float(np.dot(gaps_hi, widths))
    return _bounded(estimate / scale, lowest / scale, highest / scale)


@dataclass(frozen=True)
class Binned:
    """Both sides' shares over the exact path's Sturges bins, each share ± its error."""

    reference: np.ndarray
    reference_error: np.ndarray
    current: np.ndarray
    current_error: np.ndarray


def sturges_shares(reference: Side, current: Side) -> Binned:
    low, high = min(reference.low, current.low), max(reference.high, current.high)
    edges = sturges_edges(low, high, reference.size + current.size)
    return Binned(*_shares(reference, edges), *_shares(current, edges))


def _shares(side: Side, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if side.values is not None:  # counts, then shares: the exact path's very floats
        return histogram_of_sorted(side.values, edges) / side.size, np.zeros(edges.size - 1)
    # np.histogram's bins: left-closed, the last closed on both sides (as `histogram_of_sorted`).
    below, below_error = side.read(edges[:-1], inclusive=False)
    last, last_error = side.read(edges[-1:], inclusive=True)
    cuts, errors = np.concatenate([below, last]), np.concatenate([below_error, last_error])
    # A share between two sketched ranks is within ε₂ (< 2ε); one exact end leaves the other's ε.
    share_errors = np.where((errors[:-1] > 0) & (errors[1:] > 0), side.share_error, errors[:-1] + errors[1:])
    return np.clip(np.diff(cuts), 0.0, 1.0), share_errors


def psi(reference: Side, current: Side) -> Estimate:
    binned_shares = sturges_shares(reference, current)
    ref_shares, cur_shares = zeroes_filled(binned_shares.reference), zeroes_filled(binned_shares.current)
    estimate = float(np.sum(_psi_terms(ref_shares, cur_shares)))
    floors = (float(ref_shares.min()), float(cur_shares.min()))
    boxes = _boxes(ref_shares, binned_shares.reference_error, cur_shares, binned_shares.current_error, floors)
    return _summed_bound(estimate, _psi_terms, boxes)


def jensenshannon(reference: Side, current: Side) -> Estimate:
    binned_shares = sturges_shares(reference, current)
    ref_shares = binned_shares.reference / binned_shares.reference.sum()
    cur_shares = binned_shares.current / binned_shares.current.sum()
    divergence = float(np.sum(_js_terms(ref_shares, cur_shares)))
    boxes = _boxes(
        ref_shares, binned_shares.reference_error, cur_shares, binned_shares.current_error, (0.0, 0.0)
    )
    bound = _summed_bound(divergence, _js_terms, boxes)
    # The distance is sqrt(divergence / 2): monotone, so the ends map through it.
    estimate = math.sqrt(divergence / 2)
    lowest = math.sqrt(max(divergence - bound.error, 0.0) / 2)
    highest = math.sqrt((divergence + bound.error) / 2)
    return _bounded(estimate, lowest, highest)


def _psi_terms(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    return (p - q) * np.log(p / q)


def _js_terms(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    m = (p + q) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(p > 0, p * np.log(p / m), 0.0) + np.where(q > 0, q * np.log(q / m), 0.0)


Box = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]  # p_lo, p_hi, q_lo, q_hi per bin


def _boxes(
    p: np.ndarray, p_error: np.ndarray, q: np.ndarray, q_error: np.ndarray, floors: tuple[float, float]
) -> Box:
    return (
        np.clip(p - p_error, floors[0], 1.0),
        np.clip(p + p_error, floors[0], 1.0),
        np.clip(q - q_error, floors[1], 1.0),
        np.clip(q + q_error, floors[1], 1.0),
    )


def _summed_bound(estimate: float, term: _Term, box: Box) -> Estimate:
    """Bound a sum of per-bin terms over each bin's box of shares."""
    p_lo, p_hi, q_lo, q_hi = box
    corners = np.stack([term(p_lo, q_lo), term(p_lo, q_hi), term(p_hi, q_lo), term(p_hi, q_hi)])
    highest = float(np.sum(corners.max(axis=0)))
    # Below the diagonal the nearest corner is (p_hi, q_lo), above it (p_lo, q_hi); a box that
    # meets the diagonal can reach 0.
    nearest = np.where(p_hi < q_lo, term(p_hi, q_lo), np.where(q_hi < p_lo, term(p_lo, q_hi), 0.0))
    return _bounded(estimate, float(np.sum(nearest)), highest)


def binned(reference_distinct: int | None) -> bool:
    """Whether the exact path bins this column (Sturges) rather than counting its values: more
    than 20 distinct reference values. A sketch's count is a lower bound, enough to say so."""
    return (reference_distinct or 0) > DISTINCT_VALUES_FOR_BINS


@dataclass(frozen=True)
class PValue:
    """A p-value read from sketches, or the reason there is none."""

    estimate: Estimate | None
    reason: str | None = None


def ks_p_value(reference: Side, current: Side, threshold: float) -> PValue:
    """The two-sample K-S p-value from the statistic read off sketches (asymptotic Kolmogorov
    distribution, as scipy's `ks_2samp` uses for large samples), only if the statistic's error
    is below the test's resolution: the D at which p crosses the threshold."""
    from scipy import stats  # imported on first use: it costs half a second of start-up

    d = ks_statistic(reference, current)
    n, m = reference.size, current.size
    scale = math.sqrt(n * m / (n + m))
    resolution = float(stats.kstwobign.isf(threshold)) / scale
    if d.error >= resolution:
        return PValue(
            None,
            f"the reference is a sketch: the K-S statistic is {d.score:.4f} ± {d.error:.4f}, coarser "
            f"than the {resolution:.4f} that decides p at {threshold:g} for these sizes; no p-value",
        )
    p = float(stats.kstwobign.sf(d.score * scale))
    lowest = float(stats.kstwobign.sf((d.score + d.error) * scale))
    highest = float(stats.kstwobign.sf(max(d.score - d.error, 0.0) * scale))
    return PValue(_bounded(p, lowest, highest))


# The tests a sketched reference can take: what they read is a function of the CDFs.
SKETCH_TESTS = ("wasserstein", "psi", "jensenshannon", "ks")


def read(
    test: str,
    reference: Side,
    current: Side,
    reference_std: float,
    reference_distinct: int | None,
    threshold: float,
) -> Estimate | str:
    """Test `test`'s score (one of SKETCH_TESTS) with its bound, or why it cannot be read."""
    if test == "wasserstein":
        return wasserstein_normed(reference, current, reference_std)
    if test in ("psi", "jensenshannon"):
        if not binned(reference_distinct):
            return f"{test} counts each of the few distinct values, which a sketch does not keep"
        return psi(reference, current) if test == "psi" else jensenshannon(reference, current)
    if test == "ks":
        p_value = ks_p_value(reference, current, threshold)
        return p_value.estimate if p_value.estimate is not None else str(p_value.reason)
    raise ValueError(f"{test} is not read from sketches (only {', '.join(SKETCH_TESTS)})")


def histogram_shares(side: Side, edges: np.ndarray) -> np.ndarray:
    """The side's shares over any sorted edges (np.histogram's bins)."""
    return _shares(side, edges)[0]
