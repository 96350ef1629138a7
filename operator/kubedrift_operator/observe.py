"""Reading what the children say: Job outcomes and the results in pod termination messages.

Pure functions over the raw Job and Pod dicts as the API returns them. A job writes
either its summary (CheckSummary / TrialSummary) or `{"error": JobFailure}` to its
termination message; the kubelet copies it into the pod status, where this reads it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import ValidationError

from kubedrift.models.resources import GROUP
from kubedrift.models.results import CheckSkipped, CheckSummary, JobFailure, TrialSummary, parse_check_message
from kubedrift.text import shorten

JSON = dict[str, Any]

LOG_TAIL_LIMIT = 500
INDEX_ANNOTATION = "batch.kubernetes.io/job-completion-index"
# Written by the CronJob controller on each Job it creates (Kubernetes >= 1.32, RFC 3339 in the
# CronJob's time zone); on the Job only, never on its pods.
SCHEDULED_ANNOTATION = "batch.kubernetes.io/cronjob-scheduled-timestamp"
# Written by the operator on each check Job it makes itself (check-now, re-checks, past windows):
# the time its pod gets as KUBEDRIFT_SCHEDULED_AT. An annotation, because the operator's cache
# keeps a Job's metadata and status, not its pod template.
OPERATOR_SCHEDULED_ANNOTATION = f"{GROUP}/scheduled-at"
# On a sharded check's Job (an Indexed Job, one index per shard): how many shards it has.
LABEL_SHARDS = f"{GROUP}/shards"
# On the merge Job the operator makes once a sharded check's Job is complete: that Job's name.
LABEL_MERGE_OF = f"{GROUP}/merge-of"


def parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def job_scheduled_at(job: JSON) -> datetime | None:
    """The scheduled time a check Job was made for: the CronJob's annotation on its Jobs, or the
    operator's on the Jobs it makes; None for any other Job."""
    annotations = job.get("metadata", {}).get("annotations") or {}
    value = annotations.get(SCHEDULED_ANNOTATION) or annotations.get(OPERATOR_SCHEDULED_ANNOTATION)
    try:
        return parse_time(value)
    except ValueError:
        return None


def job_shards(job: JSON) -> int:
    """How many shards a check Job has: 1 for a single-pod check."""
    value = (job.get("metadata", {}).get("labels") or {}).get(LABEL_SHARDS, "1")
    return int(value) if value.isdigit() else 1


def merge_of(job: JSON) -> str | None:
    """The sharded check Job whose partials this Job merges; None for any other Job."""
    return (job.get("metadata", {}).get("labels") or {}).get(LABEL_MERGE_OF)


@dataclass(frozen=True)
class JobOutcome:
    """How a Job ended: its terminal condition, when, and the Job controller's words."""

    condition: Literal["Complete", "Failed"]
    finished_at: datetime | None
    reason: str
    message: str

    @property
    def complete(self) -> bool:
        return self.condition == "Complete"


def job_outcome(job: JSON) -> JobOutcome | None:
    """The outcome once the Job has ended; None while it runs."""
    for condition in job.get("status", {}).get("conditions") or []:
        if condition.get("type") in ("Complete", "Failed") and condition.get("status") == "True":
            when = parse_time(condition.get("lastTransitionTime")) or parse_time(
                job.get("status", {}).get("completionTime")
            )
            return JobOutcome(
                condition=condition["type"],
                finished_at=when,
                reason=condition.get("reason", ""),
                message=condition.get("message", ""),
            )
    return None


def parse_indexes(text: str | None) -> set[int]:
    """'0-2,5' → {0, 1, 2, 5}, as in a Job's completedIndexes / failedIndexes."""
    out: set[int] = set()
    for part in (text or "").split(","):
        part = part.strip()
        if not part:
            continue
        low, _, high = part.partition("-")
        out.update(range(int(low), int(high or low) + 1))
    return out


@dataclass(frozen=True)
class Termination:
    exit_code: int
    message: str
    reason: str
    started_at: datetime | None
    finished_at: datetime | None
    memory_limit: str | None = None  # the container's, to say what an OOM kill hit


def pod_phase(pod: JSON) -> str:
    return str(pod.get("status", {}).get("phase") or "Pending")


def pod_index(pod: JSON) -> int | None:
    meta = pod.get("metadata", {})
    value = (meta.get("annotations") or {}).get(INDEX_ANNOTATION) or (meta.get("labels") or {}).get(
        INDEX_ANNOTATION
    )
    return int(value) if value is not None and str(value).isdigit() else None


def pod_started_at(pod: JSON) -> datetime | None:
    return parse_time(pod.get("status", {}).get("startTime"))


def termination(pod: JSON) -> Termination | None:
    limits = {
        c.get("name"): ((c.get("resources") or {}).get("limits") or {}).get("memory")
        for c in pod.get("spec", {}).get("containers") or []
    }
    for status in pod.get("status", {}).get("containerStatuses") or []:
        terminated = (status.get("state") or {}).get("terminated")
        if terminated:
            return Termination(
                exit_code=int(terminated.get("exitCode", 0)),
                message=terminated.get("message") or "",
                reason=terminated.get("reason") or "",
                started_at=parse_time(terminated.get("startedAt")),
                finished_at=parse_time(terminated.get("finishedAt")),
                memory_limit=limits.get(status.get("name")),
            )
    return None


def _document(message: str) -> JSON | None:
    try:
        value = json.loads(message)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def failure(term: Termination | None) -> JobFailure:
    """Why a pod failed: the job's own reason when it wrote one, else what the kubelet saw."""
    if term is None:
        return JobFailure(reason="PodFailed", message="the pod failed without a termination record")
    document = _document(term.message)
    if document and isinstance(document.get("error"), dict):
        try:
            return JobFailure.model_validate(document["error"])
        except ValidationError:
            pass
    tail = shorten(term.message.strip().splitlines()[-1], LOG_TAIL_LIMIT) if term.message.strip() else ""
    if term.reason == "OOMKilled":
        return JobFailure(reason="OOMKilled", message=oom_message(term.memory_limit, tail))
    reason = (
        term.reason
        if term.reason and term.reason not in ("Error", "Completed")
        else f"ExitCode{term.exit_code}"
    )
    return JobFailure(reason=reason, message=tail or f"the container exited with code {term.exit_code}")


def oom_message(limit: str | None, tail: str) -> str:
    """What an OOM kill means for the user: the limit it hit and the knob that raises it."""
    hit = f"its memory limit of {limit}" if limit else "the memory it may use"
    text = (
        f"the kernel killed the container (OOMKilled) when it exceeded {hit}; raise the limit "
        "(spec.retrain.resources for a trial, the chart's jobs.checkResources for a check)"
    )
    return f"{text}; last output: {tail}" if tail else text


def check_result(term: Termination) -> CheckSummary | CheckSkipped | None:
    """A succeeded check pod's result: its summary, or why it skipped (an empty window, a window
    already recorded); None when the message is neither."""
    try:
        return parse_check_message(term.message)
    except (ValueError, ValidationError):
        return None


def trial_summary(term: Termination) -> TrialSummary | None:
    document = _document(term.message)
    try:
        return TrialSummary.model_validate(document) if document else None
    except ValidationError:
        return None


def newest(pods: list[JSON], phase: str) -> JSON | None:
    """The pod of `phase` that ended last (retries leave several behind)."""
    matching = [p for p in pods if pod_phase(p) == phase]
    if not matching:
        return None

    def ended(pod: JSON) -> str:
        term = termination(pod)
        return term.finished_at.isoformat() if term and term.finished_at else ""

    return max(matching, key=lambda p: (ended(p), p["metadata"]["name"]))
