"""Status conditions, computed from the status the reconcile has built.

`Ready`, `Reconciling` and `Stalled` follow kstatus, so `kubectl wait
--for=condition=Ready`, Flux and Argo CD read them; `Drifted`, `Retraining` and
`Promoted` tell the DriftCheck's own story. A condition's lastTransitionTime only
moves when its status does.
"""

from __future__ import annotations

from datetime import datetime

from kubedrift.models.conditions import Condition
from kubedrift.models.status import DriftCheckStatus
from kubedrift.text import shorten
from kubedrift_operator.reconcile.checks import drift_message
from kubedrift_operator.reconcile.windows import data_available

CONDITION_MESSAGE_LIMIT = 2000
REFUSED = "ChildRejected"  # the apiserver refused a child (see refusals.py)


def set_condition(
    conditions: list[Condition],
    type_: str,
    status: str,
    reason: str,
    message: str,
    generation: int | None,
    now: datetime,
) -> list[Condition]:
    old = next((c for c in conditions if c.type == type_), None)
    changed_at = old.last_transition_time if old is not None and old.status == status else now
    new = Condition(
        type=type_,
        status=status,
        reason=reason,
        message=shorten(message, CONDITION_MESSAGE_LIMIT),
        last_transition_time=changed_at,
        observed_generation=generation,
    )
    return [c for c in conditions if c.type != type_] + [new]


def get(conditions: list[Condition], type_: str) -> Condition | None:
    return next((c for c in conditions if c.type == type_), None)


def compute(
    status: DriftCheckStatus,
    *,
    generation: int | None,
    now: datetime,
    schedule: str,
    suspended: bool,
    stalled: tuple[str, str] | None = None,
    reconciling: tuple[str, str] | None = None,
    promoted: tuple[str, str, str] | None = None,
) -> list[Condition]:
    conds = list(status.conditions)

    def put(type_: str, value: str, reason: str, message: str) -> None:
        nonlocal conds
        conds = set_condition(conds, type_, value, reason, message, generation, now)

    last = status.last_check
    run = status.run
    if stalled is None and run is not None and run.refused and run.generation == generation:
        stalled = (REFUSED, run.refused)  # the spec must change; a new generation clears it
    if stalled is None and last is not None and not last.succeeded:
        stalled = (last.reason or "CheckFailed", f"the last check ({last.job}) failed: {last.message or ''}")
    if stalled is not None:
        put("Stalled", "True", *stalled)
    else:
        put("Stalled", "False", "Healthy", "nothing blocks progress")
    if reconciling is not None:
        put("Reconciling", "True", *reconciling)
    else:
        put("Reconciling", "False", "Reconciled", "the children match the spec")
    if stalled is not None:
        put("Ready", "False", *stalled)
    elif reconciling is not None:
        put("Ready", "False", *reconciling)
    else:
        when = "suspended" if suspended else f"scheduled {schedule}"
        put("Ready", "True", "Reconciled", f"checks are {when}")

    if last is None:
        put("Drifted", "Unknown", "NotChecked", "no check has finished yet")
    elif not last.succeeded:
        put("Drifted", "Unknown", "CheckFailed", f"the last check failed: {last.reason}")
    elif last.dataset_drift:
        put("Drifted", "True", "DatasetDrift", drift_message(last))
    else:
        put("Drifted", "False", "NoDrift", drift_message(last))

    put("DataAvailable", *data_available(status.empty_window, last))

    if run is None:
        put("Retraining", "False", "NoRun", "no retrain run has started")
    elif run.refused:
        put("Retraining", "False", REFUSED, f"run {run.name} did not start: {run.refused}")
    elif run.phase == "Running":
        done = run.trials_succeeded + run.trials_failed
        waiting = (
            "; re-evaluating production"
            if run.baseline is not None and run.baseline.phase not in ("Succeeded", "Failed")
            else ""
        )
        put(
            "Retraining",
            "True",
            run.reason,
            f"run {run.name}: {done} of {run.trials_total} trials ended{waiting}",
        )
    else:
        best = (
            f"; best {run.best_experiment} ({run.best_objective:.4g})"
            if run.best_experiment and run.best_objective is not None
            else ""
        )
        put(
            "Retraining",
            "False",
            f"Run{run.phase}",
            f"run {run.name}: {run.trials_succeeded} of {run.trials_total} trials succeeded, "
            f"{run.trials_failed} failed{best}"
            + (f"; the failed trials: {run.trials_failure}" if run.trials_failure else ""),
        )

    if status.promoting is not None:
        p = status.promoting
        put("Promoted", "Unknown", "Promoting", f"copying {p.experiment} to {p.uri} (Job {p.job})")
    elif promoted is not None:
        put("Promoted", *promoted)
    elif get(conds, "Promoted") is None or get(conds, "Promoted").reason == "Promoting":  # type: ignore[union-attr]
        if status.production:
            put(
                "Promoted",
                "True",
                "Promoted",
                f"{status.production.experiment} is in production at {status.production.uri}",
            )
        else:
            put("Promoted", "False", "NoProductionModel", "no model has been promoted yet")
    order = ["Ready", "Reconciling", "Stalled", "Drifted", "DataAvailable", "Retraining", "Promoted"]
    return sorted(conds, key=lambda c: order.index(c.type) if c.type in order else len(order))
