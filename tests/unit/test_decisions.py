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
