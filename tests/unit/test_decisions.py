"""The loop's shared decisions: retrain trigger, best trial, promotion margin, destination."""

from __future__ import annotations

import pytest

from kubedrift import decisions
from kubedrift.models.driftcheck import DriftCheckSpec


@pytest.mark.parametrize(
    ("trigger", "drift", "expected"),
    [
        ("OnDrift", True, "Drift"),
        ("OnDrift", False, None),
        ("OnDrift", None, None),
        ("Always", False, "Always"),
        ("Always", True, "Drift"),
        ("Manual", True, None),
    ],
)
def test_retrain_reason(trigger: str, drift: bool | None, expected: str | None) -> None:
    assert decisions.retrain_reason(trigger, drift) == expected  # type: ignore[arg-type]


def test_best_follows_the_goal_and_breaks_ties_by_order() -> None:
    objectives = {3: 0.8, 1: 0.9, 2: 0.9, 4: None}
    assert decisions.best(objectives, "maximize") == 1
    assert decisions.best(objectives, "minimize") == 3
    assert decisions.best({0: None}, "maximize") is None
    assert decisions.best({}, "minimize") is None


@pytest.mark.parametrize(
    ("candidate", "production", "goal", "margin", "expected"),
    [
        (0.9, None, "maximize", 0.0, True),
        (0.9, 0.8, "maximize", 0.0, True),
        (0.9, 0.8, "maximize", 0.1, False),  # must beat by more than the margin
        (0.8, 0.8, "maximize", 0.0, False),
        (0.1, 0.2, "minimize", 0.05, True),
        (0.2, 0.1, "minimize", 0.0, False),
    ],
)
def test_improves(
    candidate: float, production: float | None, goal: str, margin: float, expected: bool
) -> None:
    assert decisions.improves(candidate, production, goal, margin) is expected  # type: ignore[arg-type]


def test_promotion_destination_defaults_beside_the_reports() -> None:
    spec = DriftCheckSpec.model_validate(
        {
            "reference": {"uri": "s3://bikes/ref"},
            "current": {"uri": "s3://bikes/cur"},
            "storage": {"reportsUri": "s3://bikes/reports/"},
        }
    )
    assert decisions.promotion_destination(spec, "bikes") == "s3://bikes/reports/bikes/production"
    explicit = spec.model_copy(update={"promotion": spec.promotion.model_copy(update={"uri": "s3://m/prod"})})
    assert decisions.promotion_destination(explicit, "bikes") == "s3://m/prod"


OLD = decisions.Production("bikes-r1-4", recorded_objective=0.80)


def verdict(
    best: float | None = 0.90,
    production: decisions.Production | None = OLD,
    reevaluation: decisions.Reevaluation | None = None,
    policy: str = "Auto",
) -> decisions.PromotionVerdict:
    return decisions.promotion_verdict(
        best_experiment="bikes-r2-0",
        best_objective=best,
        metric="r2",
        goal="maximize",
        policy=policy,  # type: ignore[arg-type]
        min_improvement=0.05,
        production=production,
        reevaluation=reevaluation,
    )


def test_a_manual_policy_never_promotes() -> None:
    result = verdict(policy="Manual", production=None)
    assert (result.promote, result.reason) == (False, "ManualPolicy")
    assert "promotion policy is Manual" in result.message


def test_no_objective_means_nothing_to_promote() -> None:
    result = verdict(best=None, production=None)
    assert (result.promote, result.reason) == (False, "NoObjective")


def test_without_production_the_best_is_promoted() -> None:
    result = verdict(production=None)
    assert (result.promote, result.reason) == (True, "NoBenchmark")
    assert "no production model" in result.message


def test_the_re_evaluated_production_is_the_benchmark() -> None:
    beaten = verdict(reevaluation=decisions.Reevaluation("bikes-r1-4", objective=0.70))
    assert (beaten.promote, beaten.reason) == (True, "Improved")
    assert "0.7 on this run's test data" in beaten.message
    # 0.90 beats the recorded 0.80 by the margin, but not the 0.88 measured on this run's data
    kept = verdict(reevaluation=decisions.Reevaluation("bikes-r1-4", objective=0.88))
    assert (kept.promote, kept.reason) == (False, "NotImproved")
    assert "0.88 on this run's test data" in kept.message


@pytest.mark.parametrize(
    ("reevaluation", "why"),
    [
        (
            decisions.Reevaluation("bikes-r1-4", failure="DataUnreadable: no hum"),
            "failed: DataUnreadable: no hum",
        ),
        (decisions.Reevaluation("bikes-r1-4"), "has no value for the objective"),
        (
            decisions.Reevaluation("bikes-r0-2", objective=0.99),
            "bikes-r0-2, which is no longer in production",
        ),
        (None, "this run has no baseline"),
    ],
)
def test_without_a_re_evaluation_the_recorded_objective_is_the_benchmark(
    reevaluation: decisions.Reevaluation | None, why: str
) -> None:
    promoted = verdict(reevaluation=reevaluation)
    assert (promoted.promote, promoted.reason) == (True, "Improved")
    assert "0.8 recorded at its promotion" in promoted.message and why in promoted.message
    kept = verdict(production=decisions.Production("bikes-r1-4", 0.88), reevaluation=reevaluation)
    assert (kept.promote, kept.reason) == (False, "NotImproved")
    assert "0.88 recorded at its promotion" in kept.message and why in kept.message


def test_a_production_without_a_recorded_objective_is_no_benchmark() -> None:
    failed = decisions.Reevaluation("bikes-r1-4", failure="DataUnreadable: no hum")
    result = verdict(production=decisions.Production("bikes-r1-4", None), reevaluation=failed)
    assert (result.promote, result.reason) == (True, "NoBenchmark")
