"""Bonferroni and Benjamini–Hochberg adjusted p-values."""

from __future__ import annotations

import pytest

from kubedrift_jobs.drift.correction import adjust


def test_none_leaves_p_values_alone() -> None:
    assert adjust([0.01, 0.2], "none") == [0.01, 0.2]


def test_bonferroni_multiplies_by_the_family_size_capped_at_one() -> None:
    assert adjust([0.01, 0.2, 0.5], "bonferroni") == pytest.approx([0.03, 0.6, 1.0])


def test_benjamini_hochberg_matches_the_textbook_example() -> None:
    # p sorted: 0.01, 0.02, 0.03, 0.04, 0.20 → p·k/rank = 0.05, 0.05, 0.05, 0.05, 0.20
    p = [0.04, 0.01, 0.20, 0.03, 0.02]
    assert adjust(p, "benjamini-hochberg") == pytest.approx([0.05, 0.05, 0.2, 0.05, 0.05])


def test_benjamini_hochberg_is_monotone_in_rank() -> None:
    p = [0.001, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205]
    adjusted = adjust(p, "benjamini-hochberg")
    assert adjusted == sorted(adjusted)
    assert adjusted[0] == pytest.approx(0.008)  # min over ranks ≥ 1 of p·8/rank = 0.008·8/2
