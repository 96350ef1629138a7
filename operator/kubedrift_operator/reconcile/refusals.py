"""A child the apiserver refused, told in the DriftCheck's own words.

The apiserver names the child's field (`spec.template.spec.containers[0].resources.limits[memory]`)
in a JSON Status. The person who wrote the DriftCheck needs the DriftCheck's field
(`spec.retrain.resources.limits.memory`), the reason, and what to change: one line, no JSON.
Most of these are refused at apply time already; this is for the rest (an admission policy,
a quota, a rule the CRD could not carry, a DriftCheck stored before a rule existed).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from kubedrift.models.resources import LABEL_RUN
from kubedrift.models.status import DriftCheckStatus
from kubedrift.text import shorten

JSON = dict[str, Any]
REASON = "ChildRejected"
CAUSE_LIMIT = 300

_CONTAINER = r"spec\.template\.spec\.(?:initContainers|containers)\[\d+\]"
_CRON_CONTAINER = r"spec\.jobTemplate\.spec\.template\.spec\.(?:initContainers|containers)\[\d+\]"


def _resources(match: re.Match[str]) -> str:
    return f"spec.retrain.resources.{match.group('kind')}.{match.group('name')}"


# A child's field → the DriftCheck's field that made it.
_FIELDS: list[tuple[str, str | Callable[[re.Match[str]], str]]] = [
    (
        rf"^(?:{_CONTAINER}|{_CRON_CONTAINER})\.resources\.(?P<kind>limits|requests)\[(?P<name>[^\]]+)\]",
        _resources,
    ),
    (r"\.secretKeyRef\.name$", "spec.storage.secretRef.name"),
    (r"\.secretKeyRef\.key$", "spec.storage.secretRef"),
    (r"^spec\.maxFailedIndexes$", "spec.retrain.maxFailedIndexes"),
    (r"^spec\.backoffLimitPerIndex$", "spec.retrain.backoffLimitPerIndex"),
    (r"^spec\.(?:parallelism|completions)$", "spec.retrain"),
    (r"^spec\.timeZone$", "spec.timeZone"),
    (r"^spec\.schedule$", "spec.schedule"),
    (r"^metadata\.(?:name|labels)", "metadata.name"),
]


def driftcheck_field(child_field: str) -> str | None:
    for pattern, target in _FIELDS:
        match = re.search(pattern, child_field)
        if match:
            return target if isinstance(target, str) else target(match)
    return None


def _causes(body: str) -> tuple[str, list[JSON]]:
    try:
        status = json.loads(body)
    except ValueError:
        return body.strip(), []
    if not isinstance(status, dict):
        return body.strip(), []
    causes = (status.get("details") or {}).get("causes") or []
    return str(status.get("message") or ""), [c for c in causes if isinstance(c, dict)]


def _cause_text(cause: JSON) -> str:
    """A cause's message without the child's field path the apiserver sometimes repeats in it."""
    text = str(cause.get("message") or cause.get("reason") or "")
    field = str(cause.get("field") or "")
    return text.removeprefix(f"{field}: ") if field else text


def refusal_message(manifest: JSON, body: str) -> str:
    """One line: the DriftCheck's field, the apiserver's reason, and what to change."""
    kind, name = manifest["kind"], manifest["metadata"]["name"]
    message, causes = _causes(body)
    refused = f"the apiserver refused {kind} {name}"
    for cause in causes:
        target = driftcheck_field(str(cause.get("field") or ""))
        if target is not None:
            return shorten(f"{target}: {_cause_text(cause)} ({refused}); change {target}", 1000)
    # No field of ours to point at (a quota, an admission policy): the reason is the sentence itself.
    reason = _cause_text(causes[0]) if causes else message.split(": ", 1)[-1] if ":" in message else message
    return shorten(f"{refused}: {shorten(reason, CAUSE_LIMIT)}", 1000)


def refused_status(status: DriftCheckStatus, manifest: JSON, message: str, now: datetime) -> DriftCheckStatus:
    """The status once a run's or promotion's child was refused: that run or promotion has ended.

    Ending it is what stops the retry loop: nothing is created again for it, and the
    next run (or promotion) starts from a fresh decision.
    """
    run, promoting = status.run, status.promoting
    if run is not None and run.phase == "Running" and _belongs_to_run(manifest, run.name, run.job):
        ended = run.model_copy(
            update={"phase": "Failed", "finished_at": now, "trials_running": 0, "refused": message}
        )
        return status.model_copy(update={"run": ended})
    if promoting is not None and manifest["kind"] == "Job" and manifest["metadata"]["name"] == promoting.job:
        return status.model_copy(update={"promoting": None})
    empty = status.empty_window
    if empty is not None and manifest["kind"] == "Job" and "-recheck-" in manifest["metadata"]["name"]:
        return status.model_copy(update={"empty_window": empty.model_copy(update={"next_recheck_at": None})})
    return status


def _belongs_to_run(manifest: JSON, run: str, job: str) -> bool:
    labels = manifest["metadata"].get("labels") or {}
    return manifest["metadata"]["name"] == job or labels.get(LABEL_RUN) == run
