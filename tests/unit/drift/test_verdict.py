"""The dataset verdict counts tested feature columns only; correction re-decides p-value tests."""

from __future__ import annotations

import pytest

from kubedrift.models.driftcheck import DriftSettings
from kubedrift.models.report import ColumnResult
from kubedrift_jobs.drift.verdict import apply_correction, dataset_verdict, report_order


def a_tested_column(name: str, drifted: bool, score: float = 0.5, method: str = "ks") -> ColumnResult:
    kind = "p_value" if method in ("ks", "chisquare", "z") else "distance"
    return ColumnResult(
        name=name, role="feature", status="tested", method=method, method_kind=kind,
        threshold=0.05 if kind == "p_value" else 0.1, score=score, drifted=drifted,
    )  # fmt: skip


def test_share_counts_tested_columns_and_reaching_the_threshold_is_drift() -> None:
    columns = [
        a_tested_column("a", True),
        a_tested_column("b", False),
        ColumnResult(name="c", role="feature", status="all_null", reason="every current value is null"),
    ]
    verdict = dataset_verdict(columns, DriftSettings())
    assert (verdict.drift_share, verdict.drifted) == (0.5, True)  # 1 of 2 tested, ≥ 0.5
    assert verdict.skipped_columns == ["c"] and verdict.drifted_columns == ["a"]
    assert dataset_verdict(columns, DriftSettings(dataset_drift_share=0.6)).drifted is False


def test_nothing_tested_is_no_drift() -> None:
    assert dataset_verdict([], DriftSettings()).drifted is False


def test_report_order_puts_drifted_first_then_tested_then_skipped() -> None:
    columns = [
        ColumnResult(name="a", role="feature", status="missing"),
        a_tested_column("b", False),
        a_tested_column("c", True),
    ]
    assert [c.name for c in report_order(columns)] == ["c", "b", "a"]


def test_benjamini_hochberg_redecides_only_p_value_tests() -> None:
    columns = [
        a_tested_column("a", True, 0.01),
        a_tested_column("b", True, 0.04),
        a_tested_column("w", True, 0.5, method="wasserstein"),
    ]
    corrected = apply_correction(columns, DriftSettings(correction="benjamini-hochberg"))
    assert [c.adjusted_score for c in corrected[:2]] == pytest.approx([0.02, 0.04])
    assert [c.drifted for c in corrected] == [True, True, True]
    bonferroni = apply_correction(columns, DriftSettings(correction="bonferroni"))
    assert [c.drifted for c in bonferroni] == [True, False, True]  # 0.04 · 2 > 0.05
    assert bonferroni[2].adjusted_score is None


def test_uncertain_columns_are_tested_not_drifted_and_flag_a_verdict_they_could_flip() -> None:
    uncertain = a_tested_column("u", False, 0.09, method="wasserstein").model_copy(
        update={"uncertain": True, "score_error": 0.02}
    )
    columns = [a_tested_column("a", True), a_tested_column("b", False), uncertain]
    verdict = dataset_verdict(columns, DriftSettings())
    assert (verdict.columns_tested, verdict.columns_drifted, verdict.drift_share) == (3, 1, 1 / 3)
    assert (verdict.drifted, verdict.uncertain) == (False, True)  # 2 of 3 would be ≥ 0.5
    assert (verdict.columns_uncertain, verdict.uncertain_columns) == (1, ["u"])
    # Drifted already: the uncertain column cannot flip it.
    settled = dataset_verdict([a_tested_column("a", True), uncertain], DriftSettings())
    assert (settled.drifted, settled.uncertain) == (True, False)
    # Not drifted even if it drifted: 1 of 3 < 0.5.
    undrifted = [a_tested_column("a", False), a_tested_column("b", False)]
    calm = dataset_verdict([*undrifted, uncertain], DriftSettings())
    assert (calm.drifted, calm.uncertain) == (False, False)
