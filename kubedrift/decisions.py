"""The few decisions of the loop, shared by the operator and the local `kubedrift run`.

Both must agree on when a check starts a retrain run, which trial is best and
when it is good enough to promote; so those rules live here once, as plain
functions over plain values.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, TypeVar

from kubedrift.models.driftcheck import DriftCheckSpec, Goal, Trigger
from kubedrift.uris import join

K = TypeVar("K")

RetrainReason = Literal["Drift", "Always"]


def retrain_reason(trigger: Trigger, dataset_drift: bool | None) -> RetrainReason | None:
    """Why a successful check starts a run, or None. Manual runs only on request."""
    if trigger == "Manual":
        return None
    if dataset_drift:
        return "Drift"
    return "Always" if trigger == "Always" else None


def best(objectives: Mapping[K, float | None], goal: Goal) -> K | None:
    """The key with the best objective; ties go to the first key in order (the lowest index)."""
    scored = [(value, key) for key, value in objectives.items() if value is not None]
    if not scored:
        return None
    sign = -1.0 if goal == "maximize" else 1.0
    ranked = sorted(enumerate(scored), key=lambda item: (sign * item[1][0], item[0]))
    return ranked[0][1][1]


def improves(candidate: float, production: float | None, goal: Goal, margin: float) -> bool:
    """Whether `candidate` beats the production model's objective by more than `margin`."""
    if production is None:
        return True
    if goal == "maximize":
        return candidate > production + margin
    return candidate < production - margin


def promotion_destination(spec: DriftCheckSpec, check: str) -> str:
    """Where the promoted model goes: the spec's promotion.uri, or beside the check's reports."""
    return spec.promotion.uri or join(spec.storage.reports_uri, check, "production")
