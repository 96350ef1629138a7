"""Empty windows: say so once, look at the window again, and clear it when the data lands.

A check whose window held no data (the partition has not landed yet) ends with
`CheckSkipped(EmptyWindow)`: its Job succeeds, nothing retrains, nothing is Stalled. The newest
such window is followed in `status.emptyWindow` (the DataAvailable condition says so, with the
window) and re-checked every `empty_window_recheck_seconds` by a Job pinned to the same
scheduled time, at most `empty_window_rechecks` times and not once the next scheduled check is
due (it reads its own, newer window). When a re-check (or any later check) finds data, the
result is recorded like any other and `emptyWindow` is cleared.

Each re-check is decided in status first (`rechecks`, `nextRecheckAt`) and its Job is created
after, under a name made of the scheduled time and the attempt, so a crash repeats at most an
AlreadyExists.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from kubedrift.cron import scheduled_times
from kubedrift.models.status import EmptyWindow, LastCheck
from kubedrift.models.windows import TimeWindow
from kubedrift_operator import names, observe
from kubedrift_operator.build.check import recheck_job, rfc3339
from kubedrift_operator.reconcile.draft import Draft


@dataclass(frozen=True)
class Empty:
    """A check whose window held no data."""

    job: str
    time: datetime
    scheduled_at: datetime
    window: TimeWindow | None
    message: str


def note_outcomes(draft: Draft, new: list[LastCheck | Empty]) -> None:
    """Follow a newly empty window (one Event per window); clear it once a result covers it."""
    followed = draft.status.empty_window
    last = draft.status.last_check
    for outcome in new:  # oldest scheduled time first
        if isinstance(outcome, Empty):
            if followed is not None and outcome.scheduled_at == followed.scheduled_at:
                followed = followed.model_copy(update={"job": outcome.job, "message": outcome.message})
                continue  # a re-check found it still empty: nothing new to say
            draft.event("Warning", "EmptyWindow", f"check {outcome.job}: {outcome.message}")
            newer_checked = (
                last is not None
                and last.scheduled_at is not None
                and last.scheduled_at > outcome.scheduled_at
            )
            if newer_checked or (followed is not None and followed.scheduled_at > outcome.scheduled_at):
                continue  # an older window (e.g. a backfill's): recorded, not looked at again
            followed = EmptyWindow(
                scheduled_at=outcome.scheduled_at,
                window=outcome.window,
                message=outcome.message,
                job=outcome.job,
                since=draft.now,
                next_recheck_at=_next(draft) if draft.settings.empty_window_rechecks > 0 else None,
            )
        elif followed is not None and outcome.succeeded and outcome.scheduled_at is not None:
            if outcome.scheduled_at == followed.scheduled_at:
                draft.event(
                    "Normal",
                    "WindowFilled",
                    f"check {outcome.job}: the window {followed.window or outcome.window} has data now",
                )
            if outcome.scheduled_at >= followed.scheduled_at:
                followed = None
    if followed != draft.status.empty_window:
        draft.update(empty_window=followed)


def _next(draft: Draft) -> datetime:
    return draft.now + timedelta(seconds=draft.settings.empty_window_recheck_seconds)


def recheck_name(draft: Draft, followed: EmptyWindow, attempt: int) -> str:
    return names.recheck_job(draft.name, rfc3339(followed.scheduled_at), attempt)


def follow_empty_window(draft: Draft) -> None:
    """Start the next re-check of the followed empty window when it is due, or give up on it."""
    followed = draft.status.empty_window
    if followed is None or followed.next_recheck_at is None:
        return
    if followed.rechecks > 0:
        name = recheck_name(draft, followed, followed.rechecks)
        job = draft.children.jobs.get(name)
        if job is None:  # decided, not yet created (or its TTL ran out): create it (again)
            draft.plan.create.append(
                recheck_job(draft.check, draft.settings, followed.scheduled_at, followed.rechecks)
            )
            return
        if observe.job_outcome(job) is None:
            return  # still looking
    if draft.now < followed.next_recheck_at:
        draft.requeue((followed.next_recheck_at - draft.now).total_seconds())
        return
    why = _give_up_reason(draft, followed)
    if why is not None:
        draft.update(empty_window=followed.model_copy(update={"next_recheck_at": None}))
        draft.event(
            "Warning",
            "EmptyWindowGaveUp",
            f"no more re-checks of {followed.window or followed.scheduled_at}: {why}",
        )
        return
    attempt = followed.rechecks + 1
    draft.update(
        empty_window=followed.model_copy(update={"rechecks": attempt, "next_recheck_at": _next(draft)})
    )
    draft.plan.create.append(recheck_job(draft.check, draft.settings, followed.scheduled_at, attempt))
    draft.requeue(draft.settings.empty_window_recheck_seconds)


def _give_up_reason(draft: Draft, followed: EmptyWindow) -> str | None:
    if followed.rechecks >= draft.settings.empty_window_rechecks:
        return f"it was checked again {followed.rechecks} times"
    spec = draft.check.spec
    if not spec.suspend:
        later = scheduled_times(
            spec.schedule, spec.time_zone, followed.scheduled_at + timedelta(seconds=1), draft.now
        )
        if later:
            return f"the next scheduled check ({later[0].isoformat()}) reads its own window"
    return None


def data_available(empty: EmptyWindow | None, last: LastCheck | None) -> tuple[str, str, str]:
    """The DataAvailable condition: (status, reason, message)."""
    if empty is not None and (
        last is None or last.scheduled_at is None or empty.scheduled_at >= last.scheduled_at
    ):
        if empty.next_recheck_at is not None:
            then = f"looking again at {empty.next_recheck_at.isoformat(timespec='seconds')}"
        else:
            at = rfc3339(empty.scheduled_at)
            then = f"no more automatic re-checks; kubectl drift run NAME --at {at} checks it again"
        done = f" ({empty.rechecks} re-checks so far)" if empty.rechecks else ""
        return "False", "EmptyWindow", f"{empty.message}; {then}{done}"
    if last is None:
        return "Unknown", "NotChecked", "no check has finished yet"
    if not last.succeeded:
        return "Unknown", "CheckFailed", f"the last check failed: {last.reason}"
    what = f"the window {last.window}" if last.window is not None else "its data"
    rows = f" ({last.current.rows} rows)" if last.current is not None else ""
    return "True", "DataRead", f"the last check read {what}{rows}"
