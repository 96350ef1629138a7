"""Manual triggers: which annotation goes on which object, and how to read the operator's answer.

A trigger is an annotation with a fresh value (a UTC timestamp). The operator
acts on each value once and records it in the DriftCheck's
`status.handledTriggers[<annotation>]`; seeing our value there is the
acknowledgement `--wait` waits for. Pure: no API calls here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from kubedrift.models.resources import (
    ANNOTATION_BACKFILL,
    ANNOTATION_CHECK_AT,
    ANNOTATION_CHECK_NOW,
    ANNOTATION_PROMOTE,
    ANNOTATION_RETRAIN_NOW,
    DRIFTCHECK,
    EXPERIMENT,
    DriftCheck,
    ResourceKind,
    handled_trigger_key,
)
from kubedrift.models.status import DriftCheckStatus


@dataclass(frozen=True)
class Trigger:
    annotation: str
    kind: ResourceKind  # the kind of object that carries the annotation
    name: str
    check: str  # the DriftCheck whose status acknowledges it
    value: str

    @property
    def short_name(self) -> str:
        return self.annotation.rsplit("/", 1)[-1]


def fresh_value(now: datetime | None = None) -> str:
    """A value never used before: the current UTC time to the microsecond."""
    return (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def check_now(check: str, value: str) -> Trigger:
    return Trigger(ANNOTATION_CHECK_NOW, DRIFTCHECK, check, check, value)


def check_at(check: str, value: str) -> Trigger:
    return Trigger(ANNOTATION_CHECK_AT, DRIFTCHECK, check, check, value)


def backfill(check: str, value: str) -> Trigger:
    return Trigger(ANNOTATION_BACKFILL, DRIFTCHECK, check, check, value)


def retrain_now(check: str, value: str) -> Trigger:
    return Trigger(ANNOTATION_RETRAIN_NOW, DRIFTCHECK, check, check, value)


def promote(experiment: str, check: str, value: str) -> Trigger:
    return Trigger(ANNOTATION_PROMOTE, EXPERIMENT, experiment, check, value)


def acknowledged(status: DriftCheckStatus, trigger: Trigger) -> bool:
    experiment = trigger.name if trigger.kind == EXPERIMENT else None
    return status.handled_triggers.get(handled_trigger_key(trigger.annotation, experiment)) == trigger.value


def outcome(trigger: Trigger, check: DriftCheck) -> list[str]:
    """What the DriftCheck's status says after the operator handled the trigger."""
    status = check.status
    lines = [f"{trigger.short_name} acknowledged by the operator ({trigger.annotation}={trigger.value})"]
    if trigger.annotation == ANNOTATION_CHECK_NOW and status.last_check is not None:
        last = status.last_check
        if last.succeeded:
            drifted = "drift" if last.dataset_drift else "no drift"
            share = f", drift share {last.drift_share:.0%}" if last.drift_share is not None else ""
            lines.append(f"last check {last.time.isoformat()}: {drifted}{share}, job {last.job}")
        else:
            lines.append(f"last check {last.time.isoformat()} failed: {last.reason}: {last.message}")
    if trigger.annotation == ANNOTATION_RETRAIN_NOW and status.run is not None:
        run = status.run
        lines.append(
            f"run {run.name} ({run.phase}): {run.trials_succeeded}/{run.trials_total} trials succeeded, "
            f"{run.trials_failed} failed, {run.trials_running} running"
            + (f"; best {run.best_experiment}" if run.best_experiment else "")
        )
    if trigger.annotation == ANNOTATION_PROMOTE and status.production is not None:
        production = status.production
        objective = f" (objective {production.objective:.5g})" if production.objective is not None else ""
        lines.append(f"production: {production.experiment}{objective} at {production.uri}")
    lines += [
        f"{condition.type}={condition.status} {condition.reason}: {condition.message}".rstrip(": ")
        for condition in status.conditions
        if condition.type in _CONDITIONS_OF[trigger.annotation]
    ]
    return lines


_CONDITIONS_OF = {
    ANNOTATION_CHECK_NOW: ("Ready", "Drifted"),
    ANNOTATION_CHECK_AT: ("Rerunning",),
    ANNOTATION_BACKFILL: ("Rerunning",),
    ANNOTATION_RETRAIN_NOW: ("Retraining",),
    ANNOTATION_PROMOTE: ("Promoted",),
}

_DURATION = re.compile(r"^(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s?)?$")


def parse_duration(text: str) -> float:
    """Seconds in a kubectl-style duration: 90, 90s, 5m, 1h30m."""
    match = _DURATION.match(text.strip())
    if not text.strip() or match is None:
        raise ValueError(f"invalid duration {text!r}; use e.g. 30s, 5m or 1h")
    hours, minutes, seconds = (float(part) if part else 0.0 for part in match.groups())
    return hours * 3600 + minutes * 60 + seconds
