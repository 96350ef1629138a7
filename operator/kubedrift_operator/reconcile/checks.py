"""Drift checks: record each finished check Job once, and run a check on request."""

from __future__ import annotations

from datetime import timedelta

from kubedrift.models.resources import ANNOTATION_CHECK_NOW
from kubedrift.models.status import HISTORY_LIMIT, CheckRecord, LastCheck
from kubedrift_operator import observe
from kubedrift_operator.build.check import check_now_job
from kubedrift_operator.build.common import COMPONENT_CHECK, JSON
from kubedrift_operator.reconcile.draft import Draft

# A finished Job's pods may reach the cache a moment after the Job; wait this long for
# them before recording the check as failed with an unavailable result.
POD_GRACE = timedelta(seconds=30)
DRIFTED_COLUMNS_IN_MESSAGE = 8


def record_finished_checks(draft: Draft) -> list[LastCheck]:
    """Turn every finished, not yet recorded check Job into a LastCheck, oldest first."""
    status = draft.status
    recorded = {r.job for r in status.history}
    if status.last_check:
        recorded.add(status.last_check.job)
    since = status.last_check.time if status.last_check else None
    new: list[LastCheck] = []
    for job in draft.children.jobs_of(COMPONENT_CHECK):
        name = job["metadata"]["name"]
        outcome = observe.job_outcome(job)
        if outcome is None or name in recorded:
            continue
        if since is not None and outcome.finished_at is not None and outcome.finished_at < since:
            continue  # older than what is recorded (e.g. rotated out of the history)
        result = _read(draft, job, outcome)
        if result is not None:
            new.append(result)
    new.sort(key=lambda c: (c.time, c.job))
    if not new:
        return []
    history = [_record(c) for c in reversed(new)] + list(status.history)
    draft.update(last_check=new[-1], history=history[:HISTORY_LIMIT])
    for result in new:
        _announce(draft, result)
    return new


def _read(draft: Draft, job: JSON, outcome: observe.JobOutcome) -> LastCheck | None:
    name = job["metadata"]["name"]
    finished = outcome.finished_at if outcome.finished_at is not None else draft.now
    pods = draft.children.pods_of_job(name)
    pod = observe.newest(pods, "Succeeded" if outcome.complete else "Failed")
    if pod is None:
        if draft.now - finished < POD_GRACE:
            draft.requeue(5)
            return None
        reason = "ResultUnavailable" if outcome.complete else (outcome.reason or "CheckFailed")
        message = outcome.message or "the check pod is gone, so its result cannot be read"
        return LastCheck(time=finished, job=name, succeeded=False, reason=reason, message=message)
    term = observe.termination(pod)
    if not outcome.complete or term is None:
        failure = observe.failure(term)
        return LastCheck(
            time=(term.finished_at if term and term.finished_at else finished),
            job=name,
            succeeded=False,
            reason=failure.reason,
            message=failure.message,
        )
    summary = observe.check_summary(term)
    if summary is None:
        return LastCheck(
            time=finished,
            job=name,
            succeeded=False,
            reason="ResultUnreadable",
            message="the check pod's termination message is not a check summary",
        )
    return LastCheck(
        time=summary.finished_at,
        job=name,
        succeeded=True,
        dataset_drift=summary.dataset_drift,
        drift_share=summary.drift_share,
        drifted_columns=summary.drifted_columns,
        target_drift=summary.target_drift,
        report_uri=summary.report_uri,
        reference=summary.reference,
        current=summary.current,
    )


def _record(check: LastCheck) -> CheckRecord:
    return CheckRecord(
        time=check.time,
        job=check.job,
        succeeded=check.succeeded,
        dataset_drift=check.dataset_drift,
        drift_share=check.drift_share,
        report_uri=check.report_uri,
    )


def drift_message(check: LastCheck) -> str:
    columns = check.drifted_columns[:DRIFTED_COLUMNS_IN_MESSAGE]
    more = len(check.drifted_columns) - len(columns)
    names = ", ".join(columns) + (f" and {more} more" if more > 0 else "")
    verdict = "dataset drift" if check.dataset_drift else "no dataset drift"
    text = f"{verdict}: drift share {check.drift_share or 0:.2f}"
    if names:
        text += f"; drifted: {names}"
    if check.target_drift:
        text += "; the target drifted"
    if check.report_uri:
        text += f"; report: {check.report_uri}"
    return text


def _announce(draft: Draft, check: LastCheck) -> None:
    if not check.succeeded:
        draft.event("Warning", "CheckFailed", f"check {check.job} failed: {check.reason}: {check.message}")
        draft.count("checks", result="failed")
        return
    draft.count("checks", result="succeeded")
    if check.dataset_drift:
        draft.count("drift_detected")
        draft.event("Warning", "DriftDetected", f"check {check.job}: {drift_message(check)}")
    else:
        draft.event("Normal", "NoDrift", f"check {check.job}: {drift_message(check)}")


def handle_check_now(draft: Draft) -> None:
    """`kubedrift.io/check-now: <any new value>` runs one check now, once per value.

    The Job's name comes from the value, so it is created first and acknowledged after:
    a crash in between only leads to an AlreadyExists on the next attempt.
    """
    value = draft.check.metadata.annotations.get(ANNOTATION_CHECK_NOW)
    if value is None or draft.status.handled_triggers.get(ANNOTATION_CHECK_NOW) == value:
        return
    job = check_now_job(draft.check, draft.settings, value, draft.now)
    draft.plan.create_first.append(job)
    draft.update(handled_triggers={**draft.status.handled_triggers, ANNOTATION_CHECK_NOW: value})
    draft.event("Normal", "CheckStarted", f"check requested by annotation: Job {job['metadata']['name']}")
