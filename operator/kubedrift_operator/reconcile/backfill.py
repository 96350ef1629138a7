"""Past windows: `kubedrift.io/check-at` checks one past scheduled time, `kubedrift.io/backfill`
every scheduled time of a range, a few at a time.

Both create the scheduled check's Job with the past time in KUBEDRIFT_SCHEDULED_AT; what a
check Job reports is recorded like any other check's (checks.py), so the history gets one entry
per scheduled time, ordered by it. The job itself skips a time the history already holds.

Restart safety, as for check-now: the Jobs' names are functions of the annotation value and the
scheduled time, they are created before the status that counts them is written (`create_first`),
and every status write is conditional on the resourceVersion it was computed from. A crash
between the two repeats the same creates (AlreadyExists); a Job is counted once, when the
status moves its time out of `inFlight`. The range's times are not stored: they are the
schedule's in [start, end] (pinned in status at the start), so `started` is a cursor into them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from kubedrift import cron
from kubedrift.backfill import (
    Backfill,
    InvalidValue,
    parse_backfill,
    parse_check_at,
    rfc3339,
    scheduled_times,
)
from kubedrift.models.conditions import Condition
from kubedrift.models.resources import ANNOTATION_BACKFILL, ANNOTATION_CHECK_AT
from kubedrift.models.status import BackfillStatus, CheckAtStatus, LastCheck
from kubedrift_operator import names, observe
from kubedrift_operator.build.check import ANNOTATION_RETRAIN, past_window_job
from kubedrift_operator.build.common import JSON
from kubedrift_operator.reconcile.checks import deciding_job
from kubedrift_operator.reconcile.conditions import set_condition
from kubedrift_operator.reconcile.draft import Draft

CONDITION = "Rerunning"
GONE = "its Job is gone before its outcome was read"


def handle_check_at(draft: Draft) -> None:
    """A new check-at value: create its Job (or refuse the value), acknowledge it; then follow it."""
    value = draft.check.metadata.annotations.get(ANNOTATION_CHECK_AT)
    if value is not None and draft.status.handled_triggers.get(ANNOTATION_CHECK_AT) != value:
        handled = {**draft.status.handled_triggers, ANNOTATION_CHECK_AT: value}
        try:
            request = parse_check_at(value, draft.now)
        except InvalidValue as error:
            refused = CheckAtStatus(
                value=value, phase="Refused", message=str(error), started_at=draft.now, finished_at=draft.now
            )
            draft.update(check_at=refused, handled_triggers=handled)
            draft.event("Warning", "CheckAtRefused", str(error))
            return
        job_name = names.check_at_job(draft.name, value)
        job = past_window_job(draft.check, draft.settings, job_name, request.at, retrain=request.retrain)
        draft.plan.create_first.append(job)
        started = CheckAtStatus(
            value=value,
            scheduled_at=request.at,
            retrain=request.retrain,
            job=job_name,
            phase="Running",
            started_at=draft.now,
        )
        draft.update(check_at=started, handled_triggers=handled)
        draft.event(
            "Normal", "CheckAtStarted", f"checking the window of {rfc3339(request.at)}: Job {job_name}"
        )
        return
    _follow_check_at(draft)


def _follow_check_at(draft: Draft) -> None:
    status = draft.status.check_at
    if status is None or status.phase != "Running" or status.job is None:
        return
    job = deciding_job(draft.children, draft.children.jobs.get(status.job))
    ended = _ended(job)
    if ended is None:
        return
    failed, message = ended
    draft.update(
        check_at=status.model_copy(
            update={
                "phase": "Failed" if failed else "Succeeded",
                "message": message,
                "finished_at": draft.now,
            }
        )
    )


def _ended(job: JSON | None) -> tuple[bool, str | None] | None:
    """(failed, why) once a past window's Job has ended or is gone; None while it runs."""
    if job is None:
        return True, GONE
    outcome = observe.job_outcome(job)
    if outcome is None:
        return None
    if outcome.complete:
        return False, None
    return True, f"{outcome.reason}: {outcome.message}".strip(": ")


def handle_backfill(draft: Draft) -> None:
    """A new backfill value: enumerate its times (or refuse it), acknowledge it; then advance it."""
    value = draft.check.metadata.annotations.get(ANNOTATION_BACKFILL)
    if value is not None and draft.status.handled_triggers.get(ANNOTATION_BACKFILL) != value:
        _start_backfill(draft, value)
    status = draft.status.backfill
    if status is None or status.phase != "Running":
        return
    times = _times(status)
    jobs = {
        t: deciding_job(
            draft.children, draft.children.jobs.get(names.backfill_job(draft.name, status.value, t))
        )
        for t in status.in_flight
    }
    step = advance(status, times, jobs, draft.settings.backfill_concurrency, draft.now)
    for at in step.create:
        job_name = names.backfill_job(draft.name, status.value, at)
        draft.plan.create_first.append(
            past_window_job(draft.check, draft.settings, job_name, at, retrain=status.retrain)
        )
    if step.status != status:
        draft.update(backfill=step.status)
    if step.status.phase != "Running" and status.phase == "Running":
        kind = "Normal" if step.status.phase == "Succeeded" else "Warning"
        draft.event(kind, f"Backfill{step.status.phase}", progress(step.status))


def _start_backfill(draft: Draft, value: str) -> None:
    handled = {**draft.status.handled_triggers, ANNOTATION_BACKFILL: value}
    spec = draft.check.spec
    previous = draft.status.backfill
    try:
        request = parse_backfill(value, draft.now)
        times = scheduled_times(request, spec.schedule, spec.time_zone, cron.scheduled_times)
    except InvalidValue as error:
        refused = BackfillStatus(
            value=value, phase="Refused", message=str(error), started_at=draft.now, finished_at=draft.now
        )
        draft.update(backfill=refused, handled_triggers=handled)
        draft.event("Warning", "BackfillRefused", str(error))
        return
    started = BackfillStatus(
        value=value,
        start=request.start,
        end=request.end,
        retrain=request.retrain,
        schedule=spec.schedule,
        time_zone=spec.time_zone,
        phase="Running",
        total=len(times),
        started_at=draft.now,
    )
    draft.update(backfill=started, handled_triggers=handled)
    replaces = ""
    if previous is not None and previous.phase == "Running":
        # Its Jobs in flight finish and are recorded; no more of its times start.
        replaces = (
            f"; it replaces the backfill {previous.value!r} after {previous.started} of {previous.total}"
        )
    retrain = "; its checks may start a retrain" if request.retrain else "; no retrain"
    draft.event(
        "Normal",
        "BackfillStarted",
        f"backfill {request}: {len(times)} scheduled times of {spec.schedule!r}, "
        f"{draft.settings.backfill_concurrency} at a time{retrain}{replaces}",
    )


def _times(status: BackfillStatus) -> list[datetime]:
    assert status.start is not None and status.end is not None and status.schedule is not None
    request = Backfill(status.start, status.end, status.retrain)
    return scheduled_times(request, status.schedule, status.time_zone, cron.scheduled_times)


@dataclass(frozen=True)
class Step:
    status: BackfillStatus
    create: list[datetime]  # scheduled times whose Jobs to create now


def advance(
    status: BackfillStatus,
    times: list[datetime],
    jobs: dict[datetime, JSON | None],
    concurrency: int,
    now: datetime,
) -> Step:
    """The backfill's next step, pure: count the Jobs in flight that ended (`jobs` maps each
    in-flight time to its Job, None when it is gone), then start the next times up to
    `concurrency` in flight. Ends the backfill when every time has started and none is in flight.
    """
    in_flight: list[datetime] = []
    done, failed = status.done, status.failed
    failures: list[str] = []
    for at in status.in_flight:
        ended = _ended(jobs.get(at))
        if ended is None:
            in_flight.append(at)
        elif ended[0]:
            failed += 1
            failures.append(f"{rfc3339(at)}: {ended[1]}")
        else:
            done += 1
    started = status.started
    create: list[datetime] = []
    while len(in_flight) < concurrency and started < min(status.total, len(times)):
        create.append(times[started])
        in_flight.append(times[started])
        started += 1
    message = status.message
    if failures:
        message = "; ".join([*([message] if message else []), *failures])[-1000:]
    update: dict[str, object] = {
        "in_flight": in_flight,
        "started": started,
        "done": done,
        "failed": failed,
        "message": message,
    }
    if not in_flight and started >= min(status.total, len(times)):
        update |= {"phase": "Failed" if failed else "Succeeded", "finished_at": now}
    return Step(status=status.model_copy(update=update), create=create)


def progress(status: BackfillStatus) -> str:
    """One line for the condition, the Event and the plugin."""
    what = (
        f"backfill {rfc3339(status.start)}..{rfc3339(status.end)}"
        if status.start and status.end
        else "backfill"
    )
    if status.phase == "Refused":
        return f"{what} refused: {status.message}"
    text = f"{what}: {status.done} of {status.total} windows checked, {status.failed} failed"
    if status.in_flight:
        text += f", {len(status.in_flight)} in flight"
    if status.failed and status.message:
        text += f" ({status.message})"
    return text


def may_retrain(draft: Draft, new_checks: list[LastCheck]) -> list[LastCheck]:
    """The new checks whose results may start a retrain: a past window's Job says whether it may."""
    jobs = draft.children.jobs

    def allowed(check: LastCheck) -> bool:
        annotations = (jobs.get(check.job) or {}).get("metadata", {}).get("annotations") or {}
        return annotations.get(ANNOTATION_RETRAIN, "true") == "true"

    return [c for c in new_checks if allowed(c)]


def with_condition(
    conditions: list[Condition], draft: Draft, generation: int | None, now: datetime
) -> list[Condition]:
    """`Rerunning`, once a check-at or backfill has been asked for: True while one runs; its
    message says how far it got, or why a value was refused."""
    check_at, backfill = draft.status.check_at, draft.status.backfill
    if check_at is None and backfill is None:
        return conditions
    running = [s for s in (check_at, backfill) if s is not None and s.phase == "Running"]
    latest = max((s for s in (check_at, backfill) if s is not None), key=lambda s: s.started_at)
    parts = []
    if check_at is not None:
        parts.append(_check_at_line(check_at))
    if backfill is not None:
        parts.append(progress(backfill))
    if running:
        reason = (
            "Backfilling" if backfill is not None and backfill.phase == "Running" else "CheckingPastWindow"
        )
        return set_condition(conditions, CONDITION, "True", reason, "; ".join(parts), generation, now)
    kind = "Backfill" if latest is backfill else "CheckAt"
    return set_condition(
        conditions, CONDITION, "False", f"{kind}{latest.phase}", "; ".join(parts), generation, now
    )


def _check_at_line(status: CheckAtStatus) -> str:
    if status.phase == "Refused":
        return f"check-at refused: {status.message}"
    at = rfc3339(status.scheduled_at) if status.scheduled_at else "?"
    text = f"check of the window of {at} ({status.job}): {status.phase}"
    return f"{text}: {status.message}" if status.message else text
