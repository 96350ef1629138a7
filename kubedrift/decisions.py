"""The few decisions of the loop, shared by the operator and the local `kubedrift run`.

Both must agree on when a check starts a retrain run, which trial is best and
when it is good enough to promote; so those rules live here once, as plain
functions over plain values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, TypeVar

from kubedrift.models.driftcheck import DriftCheckSpec, Goal, PromotionPolicy, Trigger
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


@dataclass(frozen=True)
class Production:
    """The model in production: its name and the objective recorded when it was promoted."""

    experiment: str
    recorded_objective: float | None


@dataclass(frozen=True)
class Reevaluation:
    """The production model evaluated on this run's test data (the run's baseline)."""

    experiment: str
    objective: float | None = None
    failure: str | None = None  # "Reason: message" when the evaluation failed


PromotionReason = Literal["ManualPolicy", "NoObjective", "NoBenchmark", "Improved", "NotImproved"]


@dataclass(frozen=True)
class PromotionVerdict:
    promote: bool
    reason: PromotionReason
    message: str


def production_benchmark(
    production: Production | None, reevaluation: Reevaluation | None
) -> tuple[float | None, str]:
    """The production objective a best trial must beat, and how to say where it comes from.

    The production model re-evaluated on this run's test data when that succeeded;
    otherwise the objective recorded at its promotion (measured on older test data),
    with the reason for the fallback.
    """
    if production is None:
        return None, "no production model"
    if (
        reevaluation is not None
        and reevaluation.experiment == production.experiment
        and reevaluation.objective is not None
    ):
        return reevaluation.objective, (
            f"production {production.experiment} ({reevaluation.objective:.4g} on this run's test data)"
        )
    if reevaluation is None:
        why = "this run has no baseline"
    elif reevaluation.experiment != production.experiment:
        why = f"this run re-evaluated {reevaluation.experiment}, which is no longer in production"
    elif reevaluation.failure is not None:
        why = f"its re-evaluation on this run's test data failed: {reevaluation.failure}"
    else:
        why = "its re-evaluation on this run's test data has no value for the objective"
    recorded = production.recorded_objective
    shown = f"{recorded:.4g}" if recorded is not None else "none"
    return recorded, f"production {production.experiment} ({shown} recorded at its promotion; {why})"


def promotion_verdict(
    *,
    best_experiment: str,
    best_objective: float | None,
    metric: str,
    goal: Goal,
    policy: PromotionPolicy,
    min_improvement: float,
    production: Production | None,
    reevaluation: Reevaluation | None,
) -> PromotionVerdict:
    """Whether a run's best trial goes to production, and why; the same rule locally and in-cluster."""
    shown = f"{best_objective:.4g}" if best_objective is not None else "none"
    if policy != "Auto":
        return PromotionVerdict(
            False, "ManualPolicy", f"best {best_experiment} {metric}={shown}; promotion policy is {policy}"
        )
    if best_objective is None:
        return PromotionVerdict(
            False, "NoObjective", f"nothing to promote: no trial has a value for {metric}"
        )
    against, benchmark = production_benchmark(production, reevaluation)
    if against is None:
        return PromotionVerdict(True, "NoBenchmark", f"{metric}={shown} against {benchmark}")
    if not improves(best_objective, against, goal, min_improvement):
        return PromotionVerdict(
            False,
            "NotImproved",
            f"best {best_experiment} {metric}={shown} does not beat {benchmark} "
            f"by more than {min_improvement}",
        )
    return PromotionVerdict(True, "Improved", f"{metric}={shown} against {benchmark}")
