"""Every stat test against scipy (1e-9 relative) or a reference implementation written here."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pytest
from scipy import stats
from scipy.spatial import distance

from kubedrift_jobs.drift import registry
from kubedrift_jobs.drift.binning import aligned_counts
from kubedrift_jobs.drift.stattests.wasserstein import wasserstein_distance

RNG = np.random.default_rng(7)
SIZES = [(5, 9), (40, 40), (300, 1200), (5000, 3000)]


def samples(n: int, m: int) -> tuple[np.ndarray, np.ndarray]:
    return RNG.normal(0, 1, n), RNG.normal(0.2, 1.3, m)


def codes(n: int, m: int, k: int = 4) -> tuple[np.ndarray, np.ndarray]:
    return RNG.integers(0, k, n), RNG.choice(k, m, p=np.arange(1, k + 1) / (k * (k + 1) / 2))


def test_all_thirteen_are_registered_with_descriptors() -> None:
    assert registry.names() == sorted(
        ["ks", "chisquare", "z", "wasserstein", "jensenshannon", "psi", "kl_div", "hellinger",
         "energy_distance", "anderson", "cramer_von_mises", "mannwhitney", "t_test"]
    )  # fmt: skip
    for name in registry.names():
        test = registry.get(name)
        assert test.kind in ("p_value", "distance") and test.default_threshold > 0 and test.column_types


def test_unknown_test_is_a_clear_error() -> None:
    with pytest.raises(KeyError, match="unknown stat test 'nope'"):
        registry.get("nope")


@pytest.mark.parametrize(("n", "m"), SIZES)
@pytest.mark.parametrize(
    ("name", "scipy_value"),
    [
        ("ks", lambda a, b: stats.ks_2samp(a, b).pvalue),
        ("energy_distance", stats.energy_distance),
        ("cramer_von_mises", lambda a, b: stats.cramervonmises_2samp(a, b).pvalue),
        ("mannwhitney", lambda a, b: stats.mannwhitneyu(a, b, alternative="two-sided").pvalue),
        ("t_test", lambda a, b: stats.ttest_ind(a, b).pvalue),
        ("anderson", lambda a, b: stats.anderson_ksamp([a, b], variant="midrank").pvalue),
        ("wasserstein", lambda a, b: stats.wasserstein_distance(a, b) / max(np.std(a), 0.001)),
    ],
)
def test_numerical_tests_equal_scipy(name: str, scipy_value, n: int, m: int) -> None:  # type: ignore[no-untyped-def]
    a, b = samples(n, m)
    # scipy warns whenever it caps Anderson-Darling's p-value to [0.001, 0.25]; nothing else may
    # warn, and our own run never does (a capped p-value is the test's documented behaviour).
    with no_warnings(but=r"p-value (capped|floored)"):
        expected = float(scipy_value(a, b))
    with no_warnings():
        score, _ = registry.get(name).run(a, b, "numerical")
    assert score == pytest.approx(expected, rel=1e-9, abs=1e-300)


@contextmanager
def no_warnings(but: str | None = None) -> Iterator[None]:
    """Turn every warning raised inside into an error (except those whose message matches `but`)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        if but is not None:
            warnings.filterwarnings("ignore", message=but)  # inserted first, so it wins
        yield


def test_no_warnings_turns_a_warning_into_a_failure() -> None:
    with pytest.raises(UserWarning, match="boom"), no_warnings():
        warnings.warn("boom", UserWarning, stacklevel=1)
    with no_warnings(but="p-value capped"):
        warnings.warn("p-value capped: true value larger than 0.25", UserWarning, stacklevel=1)


@pytest.mark.parametrize(("n", "m"), [(7, 3), (1000, 1500), (1_000_003, 999_999)])
def test_wasserstein_merge_equals_scipy_on_sorted_and_unsorted_input(n: int, m: int) -> None:
    a, b = RNG.exponential(1, n), RNG.normal(1, 2, m)
    expected = stats.wasserstein_distance(a, b)
    assert wasserstein_distance(a, b) == pytest.approx(expected, rel=1e-9)
    assert wasserstein_distance(np.sort(a), np.sort(b)) == pytest.approx(expected, rel=1e-9)


def test_wasserstein_is_normed_by_the_reference_std_floored_at_a_thousandth() -> None:
    constant, shifted = np.zeros(50), np.full(60, 0.5)
    score, drifted = registry.get("wasserstein").run(constant, shifted, "numerical")
    assert score == pytest.approx(0.5 / 0.001) and drifted


def test_chisquare_equals_scipy_goodness_of_fit_against_reference_shares() -> None:
    a, b = codes(400, 250)
    ref, cur = np.bincount(a, minlength=4), np.bincount(b, minlength=4)
    expected = stats.chisquare(cur, ref * (b.size / a.size)).pvalue
    assert registry.get("chisquare").run(a, b, "categorical")[0] == pytest.approx(expected, rel=1e-9)


def test_chisquare_with_a_category_unseen_in_the_reference_is_p_zero() -> None:
    score, drifted = registry.get("chisquare").run(np.array([0, 1, 1]), np.array([1, 2, 2]), "categorical")
    assert score == 0.0 and drifted


def reference_z(a: np.ndarray, b: np.ndarray) -> float:
    key = min(set(a) | set(b))
    p1, p2 = np.mean(a != key), np.mean(b != key)
    pooled = (p1 * a.size + p2 * b.size) / (a.size + b.size)
    z = (p1 - p2) / np.sqrt(pooled * (1 - pooled) * (1 / a.size + 1 / b.size))
    return float(2 * (1 - stats.norm.cdf(abs(z))))


def test_z_test_equals_the_two_proportion_formula() -> None:
    a, b = RNG.integers(0, 2, 500), (RNG.random(300) < 0.6).astype(np.int64)
    assert registry.get("z").run(a, b, "categorical")[0] == pytest.approx(reference_z(a, b), rel=1e-9)


def test_z_test_of_one_and_the_same_value_is_p_one() -> None:
    assert registry.get("z").run(np.zeros(5, np.int64), np.zeros(9, np.int64), "categorical") == (1.0, False)


def test_jensenshannon_equals_scipy_over_the_union_of_categories() -> None:
    a, b = codes(2000, 3000, k=6)
    shares_a, shares_b = np.bincount(a, minlength=6) / a.size, np.bincount(b, minlength=6) / b.size
    expected = distance.jensenshannon(shares_a, shares_b)
    assert registry.get("jensenshannon").run(a, b, "categorical")[0] == pytest.approx(expected, rel=1e-9)


def test_jensenshannon_of_disjoint_categories_is_sqrt_ln2() -> None:
    score, drifted = registry.get("jensenshannon").run(
        np.zeros(10, np.int64), np.ones(10, np.int64), "categorical"
    )
    assert score == pytest.approx(np.sqrt(np.log(2))) and drifted


def test_numerical_jensenshannon_uses_sturges_bins_over_both_samples() -> None:
    a, b = samples(3000, 2000)
    edges = np.histogram_bin_edges(np.concatenate([a, b]), bins="sturges")
    expected = distance.jensenshannon(np.histogram(a, edges)[0] / a.size, np.histogram(b, edges)[0] / b.size)
    assert registry.get("jensenshannon").run(a, b, "numerical")[0] == pytest.approx(expected, rel=1e-9)


def filled(share: np.ndarray) -> np.ndarray:
    smallest = share[share != 0].min()
    return np.where(share == 0, smallest / 1e6 if smallest <= 1e-4 else 1e-4, share)


def test_psi_and_kl_div_equal_their_formulas_with_empty_bins_filled() -> None:
    a, b = RNG.integers(0, 5, 800), RNG.integers(1, 6, 900)  # 0 only in a, 5 only in b
    ref = filled(np.bincount(a, minlength=6) / a.size)
    cur = filled(np.bincount(b, minlength=6) / b.size)
    psi = float(np.sum((ref - cur) * np.log(ref / cur)))
    assert registry.get("psi").run(a, b, "categorical")[0] == pytest.approx(psi, rel=1e-9)
    assert registry.get("kl_div").run(a, b, "categorical")[0] == pytest.approx(
        stats.entropy(ref, cur), rel=1e-9
    )


def test_hellinger_categorical_equals_its_formula() -> None:
    a, b = codes(700, 500)
    p, q = np.bincount(a, minlength=4) / a.size, np.bincount(b, minlength=4) / b.size
    expected = np.sqrt(1 - np.sum(np.sqrt(p * q)))
    assert registry.get("hellinger").run(a, b, "categorical")[0] == pytest.approx(expected, rel=1e-9)


def test_hellinger_numerical_follows_evidentlys_density_bins() -> None:
    a, b = np.round(samples(400, 300)[0], 2), np.round(samples(400, 300)[1], 2)
    keys = np.union1d(a, b)
    edges = np.histogram_bin_edges(keys, bins="sturges")
    h1, h2 = np.histogram(a, edges, density=True)[0], np.histogram(b, edges, density=True)[0]
    width = (edges.max() - edges.min()) / (len(edges) - 1)
    expected = np.sqrt(1 - np.clip(np.sum(np.sqrt(h1 * h2) * width), 0, 1))
    assert registry.get("hellinger").run(a, b, "numerical")[0] == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize(
    ("name", "score", "threshold", "drifted"),
    [
        ("ks", 0.05, 0.05, True),  # KS: p ≤ threshold
        ("chisquare", 0.05, 0.05, False),  # chi-square: p < threshold
        ("wasserstein", 0.1, 0.1, True),  # distances: ≥
        ("energy_distance", 0.1, 0.1, False),  # energy distance: >
        ("cramer_von_mises", 0.1, 0.1, True),
    ],
)
def test_threshold_comparisons_are_evidentlys(
    name: str, score: float, threshold: float, drifted: bool
) -> None:
    assert registry.get(name).drifted(score, threshold) is drifted


def test_a_test_refuses_a_column_type_it_does_not_accept() -> None:
    with pytest.raises(ValueError, match="ks does not accept categorical"):
        registry.get("ks").run(np.arange(3), np.arange(3), "categorical")


def test_anderson_silences_scipys_p_value_cap_and_nothing_else(monkeypatch: pytest.MonkeyPatch) -> None:
    real = stats.anderson_ksamp

    def deprecated(*args, **kwargs):  # type: ignore[no-untyped-def]
        warnings.warn("`midrank` will be removed", DeprecationWarning, stacklevel=2)
        return real(*args, **kwargs)

    a, b = np.arange(300.0), np.arange(300.0) + 150  # far apart: scipy floors p at 0.001 and says so
    with no_warnings():
        assert registry.get("anderson").run(a, b, "numerical") == (0.001, True)
    monkeypatch.setattr(stats, "anderson_ksamp", deprecated)
    with pytest.warns(DeprecationWarning, match="midrank"):
        registry.get("anderson").run(a, b, "numerical")


@pytest.mark.parametrize("name", registry.names())
def test_no_stat_test_warns_on_ordinary_samples_of_any_type_it_accepts(name: str) -> None:
    test = registry.get(name)
    for column_type in test.column_types:
        a, b = samples(400, 300) if column_type == "numerical" else codes(400, 300)
        with no_warnings():
            score, _ = test.run(a, b, column_type)
        assert np.isfinite(score), (name, column_type)


DEGENERATE_NUMERICAL = {
    "zeros-vs-ones": (np.zeros(50), np.ones(50)),
    "one-shared-constant": (np.full(50, 3.0), np.full(50, 3.0)),
    "one-current-value": (np.arange(50.0), np.array([7.0])),
    "one-value-each": (np.array([1.0]), np.array([2.0])),
    "one-same-value-each": (np.array([1.0]), np.array([1.0])),
    "near-float-max": (np.array([-1e308, 0.0, 1e308]), np.array([-1e307, 5.0, 1e308])),
}


REGISTERED = {name: registry.get(name) for name in registry.names()}


@pytest.mark.parametrize("name", sorted(n for n, t in REGISTERED.items() if "numerical" in t.column_types))
@pytest.mark.parametrize("case", sorted(DEGENERATE_NUMERICAL))
def test_degenerate_samples_never_warn_or_raise(name: str, case: str) -> None:
    """Constant, tiny or extreme samples: a defined score or NaN (undefined, never drift), no warning."""
    test = REGISTERED[name]
    reference, current = (np.sort(v) for v in DEGENERATE_NUMERICAL[case])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        score, drifted = test.run(reference, current, "numerical")
    if case in ("one-shared-constant", "one-same-value-each"):
        assert score == (1.0 if test.kind == "p_value" else 0.0) and not drifted
    if np.isnan(score):
        assert not drifted
    if case == "zeros-vs-ones" and test.kind == "p_value":
        assert drifted


@pytest.mark.parametrize("name", sorted(n for n, t in REGISTERED.items() if "categorical" in t.column_types))
def test_degenerate_categorical_samples_never_warn_or_raise(name: str) -> None:
    test = REGISTERED[name]
    cases = [
        (np.zeros(50, dtype=np.int64), np.zeros(50, dtype=np.int64)),
        (np.zeros(50, dtype=np.int64), np.ones(50, dtype=np.int64)),
        (np.array([0, 1, 1, 0]), np.array([1])),
    ]
    for reference, current in cases:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            score, drifted = test.run(reference, current, "categorical")
        assert not (np.isnan(score) and drifted)
    assert test.run(*cases[0], "categorical") == ((1.0 if test.kind == "p_value" else 0.0), False)


CATEGORICAL_CASES = {
    "ordinary": ([0, 0, 1, 2, 2, 2, 3], [0, 1, 1, 2, 4, 4]),
    "unseen in the reference": ([0, 0, 1, 1], [0, 1, 2, 2]),
    "one and the same value": ([3, 3, 3], [3, 3]),
    "two different constants": ([1, 1, 1], [2, 2]),
    "two different single values": ([1], [2]),
    "binary": ([0, 1, 1, 0, 1], [1, 1, 1, 0]),
}


@pytest.mark.parametrize("case", sorted(CATEGORICAL_CASES))
@pytest.mark.parametrize("name", sorted(n for n, t in REGISTERED.items() if "categorical" in t.column_types))
def test_each_categorical_test_scores_counts_as_it_scores_the_values_they_count(name: str, case: str) -> None:
    reference, current = (np.array(side, dtype=np.int64) for side in CATEGORICAL_CASES[case])
    test = REGISTERED[name]
    ref_counts, cur_counts = aligned_counts(reference, current)
    by_values = test.run(reference, current, "categorical", 0.1)
    by_counts = test.run_counts(ref_counts, cur_counts, 0.1)
    assert by_counts[1] == by_values[1]
    assert by_counts[0] == by_values[0] or (np.isnan(by_counts[0]) and np.isnan(by_values[0]))


def test_a_numerical_only_test_refuses_counts() -> None:
    with pytest.raises(ValueError, match="does not accept categorical"):
        registry.get("ks").run_counts(np.array([1, 2]), np.array([2, 1]))
