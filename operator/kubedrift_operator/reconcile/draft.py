"""The mutable working state one reconcile builds up, and the Plan it turns into."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from kubedrift.models.resources import LABEL_CHECK, LABEL_RUN, DriftCheck
from kubedrift.models.status import DriftCheckStatus, ExperimentStatus
from kubedrift_operator.build.common import LABEL_COMPONENT
from kubedrift_operator.settings import Settings

JSON = dict[str, Any]


@dataclass(frozen=True)
class Event:
    """A Kubernetes Event to post about the DriftCheck or one of its Experiments."""

    type: str  # Normal | Warning
    reason: str
    message: str
    kind: str = "DriftCheck"
    name: str | None = None  # None: the DriftCheck itself
    uid: str | None = None


@dataclass
class Children:
    """What exists of a DriftCheck's children, as the cache last saw them."""

    config_maps: dict[str, JSON] = field(default_factory=dict)
    cron_jobs: dict[str, JSON] = field(default_factory=dict)
    jobs: dict[str, JSON] = field(default_factory=dict)
    pods: list[JSON] = field(default_factory=list)
    experiments: dict[str, JSON] = field(default_factory=dict)
    service_account: bool = True

    def jobs_of(self, component: str) -> list[JSON]:
        return [j for j in self.jobs.values() if _labels(j).get(LABEL_COMPONENT) == component]

    def pods_of_job(self, job: str) -> list[JSON]:
        return [
            p
            for p in self.pods
            if _labels(p).get("batch.kubernetes.io/job-name", _labels(p).get("job-name")) == job
        ]

    def experiments_of_run(self, run: str) -> list[JSON]:
        return [e for e in self.experiments.values() if _labels(e).get(LABEL_RUN) == run]

    @classmethod
    def of(cls, check: str, objects: list[JSON], service_account: bool = True) -> Children:
        """Sort a flat list of objects labelled with the check into their kinds (tests use this)."""
        out = cls(service_account=service_account)
        for obj in objects:
            if _labels(obj).get(LABEL_CHECK) != check:
                continue
            name = obj["metadata"]["name"]
            kind = obj.get("kind")
            if kind == "ConfigMap":
                out.config_maps[name] = obj
            elif kind == "CronJob":
                out.cron_jobs[name] = obj
            elif kind == "Job":
                out.jobs[name] = obj
            elif kind == "Pod":
                out.pods.append(obj)
            elif kind == "Experiment":
                out.experiments[name] = obj
        return out


def _labels(obj: JSON) -> dict[str, str]:
    return obj.get("metadata", {}).get("labels") or {}


def recorded_status(exp: JSON) -> ExperimentStatus | None:
    """An Experiment's status as stored; None when it does not parse."""
    try:
        return ExperimentStatus.model_validate(exp.get("status") or {})
    except ValidationError:
        return None


@dataclass
class Plan:
    """What the controller does, in this order. See the controller for why the order matters.

    Statuses stay models here; the controller serialises each once, when it writes it.
    """

    apply: list[JSON] = field(default_factory=list)  # server-side apply: static children
    create_first: list[JSON] = field(default_factory=list)  # deterministic names: create, then acknowledge
    experiment_status: dict[str, ExperimentStatus] = field(default_factory=dict)  # facts read from pods
    status: DriftCheckStatus | None = None  # the DriftCheck's new status; None when unchanged
    create: list[JSON] = field(default_factory=list)  # acting on decisions the status now records
    events: list[Event] = field(default_factory=list)
    counters: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    requeue_after: float | None = None


@dataclass
class Draft:
    """One reconcile's working state: the parsed object, the status being built, the plan."""

    check: DriftCheck
    children: Children
    settings: Settings
    now: datetime
    status: DriftCheckStatus
    plan: Plan = field(default_factory=Plan)
    # (status, reason, message) of the Promoted condition when a promotion decision was
    # made in this reconcile; otherwise the condition carries over.
    promoted_condition: tuple[str, str, str] | None = None
    # The Experiments' stored statuses, parsed once per reconcile (None: unreadable).
    recorded: dict[str, ExperimentStatus | None] = field(init=False)

    def __post_init__(self) -> None:
        self.recorded = {name: recorded_status(exp) for name, exp in self.children.experiments.items()}

    @property
    def name(self) -> str:
        return self.check.metadata.name

    def experiment_status(self, name: str) -> ExperimentStatus | None:
        """The Experiment's status as this reconcile leaves it: planned here, else as stored."""
        planned = self.plan.experiment_status.get(name)
        return planned if planned is not None else self.recorded.get(name)

    def update(self, **changes: Any) -> None:
        self.status = self.status.model_copy(update=changes)

    def event(self, type_: str, reason: str, message: str, **target: Any) -> None:
        self.plan.events.append(Event(type_, reason, message, **target))

    def count(self, metric: str, **labels: str) -> None:
        self.plan.counters.append((metric, labels))

    def requeue(self, seconds: float) -> None:
        current = self.plan.requeue_after
        self.plan.requeue_after = seconds if current is None else min(current, seconds)
