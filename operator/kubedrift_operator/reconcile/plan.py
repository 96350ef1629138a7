"""One reconcile of one DriftCheck, decided without side effects."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pydantic import ValidationError

from kubedrift.models.driftcheck import DriftCheckSpec
from kubedrift.models.resources import DriftCheck, ObjectMeta
from kubedrift.models.status import DriftCheckStatus
from kubedrift.models.validation import spec_problem
from kubedrift_operator.build import check as build_check
from kubedrift_operator.build.common import ANNOTATION_HASH, JSON, job_service_account
from kubedrift_operator.reconcile import backfill, checks, conditions, locations, promotion, runs, windows
from kubedrift_operator.reconcile.draft import Children, Draft, Event, Plan
from kubedrift_operator.settings import Settings


@dataclass(frozen=True)
class InvalidDriftCheck:
    """A stored DriftCheck the operator can't act on: its spec no longer validates (e.g. written
    before a CEL rule existed), or it names data that no pod can read (a local path)."""

    metadata: ObjectMeta
    status: DriftCheckStatus
    schedule: str  # as stored, for the Ready message
    message: str  # the first problem
    reason: str = "InvalidSpec"


def parse_status(body: JSON) -> DriftCheckStatus:
    try:
        return DriftCheckStatus.model_validate(body.get("status") or {})
    except ValidationError:
        return DriftCheckStatus()  # an unreadable status is rebuilt from the children


def parse(body: JSON) -> DriftCheck | InvalidDriftCheck:
    """The raw DriftCheck as the model: done once, at the start of a reconcile."""
    meta = ObjectMeta.model_validate(body["metadata"])
    status = parse_status(body)
    raw_spec = body.get("spec") or {}
    try:
        spec = DriftCheckSpec.model_validate(raw_spec)
    except ValidationError as error:
        return InvalidDriftCheck(meta, status, str(raw_spec.get("schedule", "")), spec_problem(error))
    local = locations.local_path_problem(spec)
    if local is not None:
        return InvalidDriftCheck(meta, status, spec.schedule, local, reason=locations.REASON)
    return DriftCheck(metadata=meta, spec=spec, status=status)


def plan(
    check: DriftCheck | InvalidDriftCheck, children: Children, settings: Settings, now: datetime
) -> Plan:
    if isinstance(check, InvalidDriftCheck):
        return _invalid(check, now)
    meta, spec = check.metadata, check.spec
    draft = Draft(check=check, children=children, settings=settings, now=now, status=check.status)

    _static_children(draft)
    new_checks = checks.record_finished_checks(draft)
    checks.handle_check_now(draft)
    backfill.handle_check_at(draft)
    backfill.handle_backfill(draft)
    windows.follow_empty_window(draft)
    runs.maybe_start_run(draft, backfill.may_retrain(draft, new_checks))
    promotion.follow_promotion(draft)
    if runs.follow_run(draft):
        promotion.auto_promote(draft)
    promotion.handle_promote_annotations(draft)
    promotion.mark_promoted_experiments(draft)

    computed = conditions.compute(
        draft.status,
        generation=meta.generation,
        now=now,
        schedule=spec.schedule,
        suspended=spec.suspend,
        promoted=draft.promoted_condition,
    )
    draft.update(
        observed_generation=meta.generation,
        conditions=backfill.with_condition(computed, draft, meta.generation, now),
    )
    _finish(draft.plan, check.status, draft.status)
    return draft.plan


def _static_children(draft: Draft) -> None:
    """ConfigMap and CronJob follow the spec; applied only when their hash differs."""
    wanted = [build_check.config_map(draft.check), build_check.cron_job(draft.check, draft.settings)]
    existing = {**draft.children.config_maps, **draft.children.cron_jobs}
    for manifest in wanted:
        current = existing.get(manifest["metadata"]["name"])
        current_hash = ((current or {}).get("metadata", {}).get("annotations") or {}).get(ANNOTATION_HASH)
        if current_hash != manifest["metadata"]["annotations"][ANNOTATION_HASH]:
            draft.plan.apply.append(manifest)
    if draft.settings.manage_job_service_account and not draft.children.service_account:
        draft.plan.apply.insert(
            0, job_service_account(draft.settings, draft.check.metadata.namespace or "default")
        )


def _invalid(check: InvalidDriftCheck, now: datetime) -> Plan:
    """A spec the operator can't act on: Stalled, and its children are left as they are."""
    out = Plan()
    status, generation = check.status, check.metadata.generation
    was = conditions.get(status.conditions, "Stalled")
    new = status.model_copy(
        update={
            "observed_generation": generation,
            "conditions": conditions.compute(
                status,
                generation=generation,
                now=now,
                schedule=check.schedule,
                suspended=True,
                stalled=(check.reason, check.message),
            ),
        }
    )
    if was is None or was.reason != check.reason or was.message != check.message:
        out.events.append(Event("Warning", check.reason, check.message))
    _finish(out, status, new)
    return out


def _finish(out: Plan, old: DriftCheckStatus, new: DriftCheckStatus) -> None:
    if new != old:
        out.status = new


def apply_failed_status(
    check: DriftCheck, message: str, *, rejected: bool, now: datetime
) -> DriftCheckStatus:
    """The status to show when a child could not be applied.

    Rejected (a 4xx, e.g. an unknown timeZone the CronJob validation refuses) is the
    user's to fix: Stalled. Anything else (5xx, timeouts) is retried: Reconciling.
    """
    status, generation = check.status, check.metadata.generation
    reason = ("ChildRejected", message) if rejected else ("ApplyFailed", message)
    return status.model_copy(
        update={
            "observed_generation": generation,
            "conditions": conditions.compute(
                status,
                generation=generation,
                now=now,
                schedule=check.spec.schedule,
                suspended=check.spec.suspend,
                stalled=reason if rejected else None,
                reconciling=None if rejected else reason,
            ),
        }
    )
