"""Drift checks: record each finished check Job once per scheduled time, and run a check on request.

Every check Job belongs to a scheduled time: the CronJob's annotation on its Jobs, the time the
operator gave the Jobs it made, else what the pod reports. The history holds one record per
scheduled time, newest first. A second outcome for a recorded time replaces the record only when
it says more: a result beats a failure, a failure beats an empty window, and among equals the later
one wins, except that a window's first result is never replaced (two starts of one window record
once). That order is strict, so re-reading the same Jobs on every reconcile changes nothing.

A check that found its window empty (`CheckSkipped(EmptyWindow)`) is recorded as such, not as a
failure: no retrain, no Stalled; `windows.py` looks at the window again. A check that found its
window already in the object-storage history (`AlreadyRecorded`, a second start of it) records
nothing.

A sharded check is two Jobs: the Indexed Job whose indexes write partial profiles, then, once it
is complete, the merge Job this module makes for it, whose pod reports as a single-pod check
does. The outcome is read from the merge Job and recorded under the Indexed Job's name, so status
and history look the same either way. A failed index fails the check as ShardFailed, naming it;
indexes that all found the window empty or recorded are read as one such pod (no merge).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from kubedrift.models.resources import ANNOTATION_CHECK_NOW
from kubedrift.models.results import CheckSkipped
from kubedrift.models.status import CHECK_HISTORY_LIMIT, CheckRecord, LastCheck
from kubedrift_operator import names, observe
from kubedrift_operator.build.check import check_now_job, merge_job
from kubedrift_operator.build.common import COMPONENT_CHECK, JSON
from kubedrift_operator.reconcile import windows
from kubedrift_operator.reconcile.draft import Children, Draft
from kubedrift_operator.reconcile.windows import Empty

# A finished Job's pods may reach the cache a moment after the Job; wait this long for
# them before recording the check as failed with an unavailable result.
POD_GRACE = timedelta(seconds=30)
DRIFTED_COLUMNS_IN_MESSAGE = 8
DRIFTED_COLUMNS_IN_RECORD = 10
EMPTY_WINDOW = "EmptyWindow"
SHARD_FAILED = "ShardFailed"


Outcome = LastCheck | Empty


def scheduled_key(outcome: Outcome | CheckRecord) -> datetime:
    return outcome.scheduled_at or outcome.time


def _rank(record: CheckRecord) -> tuple[int, datetime]:
    level = 2 if record.succeeded else (0 if record.reason == EMPTY_WINDOW else 1)
    return level, record.time


def _replaces(new: CheckRecord, old: CheckRecord) -> bool:
    if new.job == old.job:
        return False
    if new.succeeded and old.succeeded:
        return False  # the window's first result stands
    return _rank(new) > _rank(old)


def record_finished_checks(draft: Draft) -> list[LastCheck]:
    """Record every finished check Job's outcome under its scheduled time; the results (and
    failures) that are new in the history, oldest scheduled time first."""
    status = draft.status
    by_time: dict[datetime, CheckRecord] = {scheduled_key(r): r for r in status.history}
    recorded = {r.job for r in status.history}
    if status.last_check:
        recorded.add(status.last_check.job)
    outcomes: list[Outcome] = []
    mismatches: dict[str, str] = {}  # job -> what its pod checked instead; said once, when recorded
    for job in draft.children.jobs_of(COMPONENT_CHECK):
        if observe.merge_of(job) is not None:
            continue  # read through the sharded Job it merges
        outcome = observe.job_outcome(job)
        if outcome is None or job["metadata"]["name"] in recorded:
            continue
        if observe.job_shards(job) > 1:
            result = _read_sharded(draft, job, outcome, mismatches)
        else:
            result = _read(draft, job, outcome, mismatches)
        if result is not None:
            outcomes.append(result)
    new: list[Outcome] = []
    for result in sorted(outcomes, key=lambda o: (o.time, o.job)):
        record = _record(result)
        old = by_time.get(scheduled_key(record))
        if old is None or _replaces(record, old):
            by_time[scheduled_key(record)] = record
            new.append(result)
    if not new:
        return []
    history = sorted(by_time.values(), key=lambda r: (scheduled_key(r), r.time), reverse=True)
    history = history[:CHECK_HISTORY_LIMIT]
    kept = {r.job for r in history}
    new = sorted((o for o in new if o.job in kept), key=lambda o: (scheduled_key(o), o.time))
    checks = [o for o in new if isinstance(o, LastCheck)]
    last = status.last_check
    for check in checks:
        if last is None or (scheduled_key(check), check.time) >= (scheduled_key(last), last.time):
            last = check
    draft.update(last_check=last, history=history)
    for done in new:
        if done.job in mismatches:
            draft.event("Warning", "ScheduledTimeMismatch", mismatches[done.job])
        _announce(draft, done)
    windows.note_outcomes(draft, new)
    # Only a result for the newest window can start a run: re-checks and backfills of older
    # windows are recorded, not acted on.
    return [c for c in checks if c is last]


def _read_sharded(
    draft: Draft, job: JSON, outcome: observe.JobOutcome, mismatches: dict[str, str]
) -> Outcome | None:
    """A sharded check Job: its failed index, or its merge Job's result (making that Job first)."""
    name, shards = job["metadata"]["name"], observe.job_shards(job)
    if not outcome.complete:
        return _shard_failure(draft, job, outcome, shards)
    if _shards_skipped(draft.children, name):
        return _read(draft, job, outcome, mismatches)  # nothing to merge: skipped, as one pod skips
    merge = draft.children.jobs.get(names.merge_job(name))
    if merge is None:
        made = merge_job(draft.check, draft.settings, job)
        draft.plan.create_first.append(made)
        draft.event(
            "Normal",
            "MergingShards",
            f"check {name}: all {shards} shards profiled their share; "
            f"merging in Job {made['metadata']['name']}",
        )
        return None
    merged = observe.job_outcome(merge)
    if merged is None:
        return None
    return _read(draft, merge, merged, mismatches, recorded_as=name)


def _shards_skipped(children: Children, name: str) -> bool:
    """The sharded Job's indexes found the window empty or recorded (each finds the same)."""
    pod = observe.newest(children.pods_of_job(name), "Succeeded")
    term = observe.termination(pod) if pod is not None else None
    return term is not None and isinstance(observe.check_result(term), CheckSkipped)


def deciding_job(children: Children, job: JSON | None) -> JSON | None:
    """The Job whose end is the check's end, for whoever waits on a check Job (check-at, backfill):
    a complete sharded Job's merge Job (the Job itself, not ended, until the merge exists), or
    the Job itself (one pod, a failed index, indexes that skipped)."""
    if job is None or observe.job_shards(job) <= 1:
        return job
    outcome = observe.job_outcome(job)
    name = job["metadata"]["name"]
    if outcome is None or not outcome.complete or _shards_skipped(children, name):
        return job
    merge = children.jobs.get(names.merge_job(name))
    return merge if merge is not None else {"metadata": job["metadata"], "status": {}}


def _shard_failure(draft: Draft, job: JSON, outcome: observe.JobOutcome, shards: int) -> LastCheck | None:
    name = job["metadata"]["name"]
    finished = outcome.finished_at if outcome.finished_at is not None else draft.now
    pod = observe.newest(draft.children.pods_of_job(name), "Failed")
    if pod is None and draft.now - finished < POD_GRACE:
        draft.requeue(5)
        return None
    if pod is None:
        why = f"{outcome.reason}: {outcome.message}".strip(": ")
        message = (
            f"the Job failed ({why}); its pods are gone, so which of the {shards} indexes failed is unknown"
        )
    else:
        failure = observe.failure(observe.termination(pod))
        index = observe.pod_index(pod)
        which = f"index {index} of {shards}" if index is not None else f"an index of {shards}"
        message = f"{which} failed: {failure.reason}: {failure.message}"
    return LastCheck(
        time=finished,
        job=name,
        succeeded=False,
        reason=SHARD_FAILED,
        message=message,
        scheduled_at=observe.job_scheduled_at(job),
    )


def _read(
    draft: Draft,
    job: JSON,
    outcome: observe.JobOutcome,
    mismatches: dict[str, str],
    recorded_as: str | None = None,
) -> Outcome | None:
    """A check Job's outcome; `recorded_as`: the sharded Job that `job` merges, whose name and
    scheduled time it is recorded under."""
    name = recorded_as or job["metadata"]["name"]
    scheduled_at = observe.job_scheduled_at(draft.children.jobs.get(name) or job)
    finished = outcome.finished_at if outcome.finished_at is not None else draft.now
    pods = draft.children.pods_of_job(job["metadata"]["name"])
    pod = observe.newest(pods, "Succeeded" if outcome.complete else "Failed")
    if pod is None:
        if draft.now - finished < POD_GRACE:
            draft.requeue(5)
            return None
        reason = "ResultUnavailable" if outcome.complete else (outcome.reason or "CheckFailed")
        message = outcome.message or "the check pod is gone, so its result cannot be read"
        return LastCheck(
            time=finished,
            job=name,
            succeeded=False,
            reason=reason,
            message=message,
            scheduled_at=scheduled_at,
        )
    term = observe.termination(pod)
    if not outcome.complete or term is None:
        failure = observe.failure(term)
        return LastCheck(
            time=(term.finished_at if term and term.finished_at else finished),
            job=name,
            succeeded=False,
            reason=failure.reason,
            message=failure.message,
            scheduled_at=scheduled_at,
        )
    result = observe.check_result(term)
    if result is None:
        return LastCheck(
            time=finished,
            job=name,
            succeeded=False,
            reason="ResultUnreadable",
            message="the check pod's termination message is not a check summary",
            scheduled_at=scheduled_at,
        )
    if isinstance(result, CheckSkipped):
        if result.skipped != EMPTY_WINDOW:
            return None  # AlreadyRecorded: the window's result is recorded (or will be) from its first start
        at = scheduled_at or result.scheduled_at or finished
        return Empty(job=name, time=finished, scheduled_at=at, window=result.window, message=result.message)
    if scheduled_at is not None and result.scheduled_at is not None and result.scheduled_at != scheduled_at:
        mismatches[name] = (
            f"check {name} was scheduled for {scheduled_at.isoformat()} but checked the window of "
            f"{result.scheduled_at.isoformat()}; recorded under the Job's time"
        )
    return LastCheck(
        time=result.finished_at,
        job=name,
        succeeded=True,
        dataset_drift=result.dataset_drift,
        drift_share=result.drift_share,
        drifted_columns=result.drifted_columns,
        uncertain_columns=result.uncertain_columns,
        target_drift=result.target_drift,
        report_uri=result.report_uri,
        reference=result.reference,
        current=result.current,
        scheduled_at=scheduled_at or result.scheduled_at,
        window=result.window,
    )


def _record(outcome: Outcome) -> CheckRecord:
    if isinstance(outcome, Empty):
        return CheckRecord(
            time=outcome.time,
            job=outcome.job,
            succeeded=False,
            reason=EMPTY_WINDOW,
            scheduled_at=outcome.scheduled_at,
            window=outcome.window,
        )
    return CheckRecord(
        time=outcome.time,
        job=outcome.job,
        succeeded=outcome.succeeded,
        reason=outcome.reason,
        dataset_drift=outcome.dataset_drift,
        drift_share=outcome.drift_share,
        report_uri=outcome.report_uri,
        scheduled_at=outcome.scheduled_at,
        window=outcome.window,
        drifted_columns=outcome.drifted_columns[:DRIFTED_COLUMNS_IN_RECORD],
        target_drift=outcome.target_drift,
        reference_version=outcome.reference.version if outcome.reference else None,
        current_version=outcome.current.version if outcome.current else None,
    )


def drift_message(check: LastCheck) -> str:
    verdict = "dataset drift" if check.dataset_drift else "no dataset drift"
    text = f"{verdict}: drift share {check.drift_share or 0:.2f}"
    if check.window is not None:
        text += f" in {check.window}"
    if check.drifted_columns:
        text += f"; drifted: {_some(check.drifted_columns)}"
    if check.uncertain_columns:
        uncertain = _some(check.uncertain_columns)
        text += f"; uncertain (read from a sketch, within its error of the threshold): {uncertain}"
    if check.target_drift:
        text += "; the target drifted"
    if check.report_uri:
        text += f"; report: {check.report_uri}"
    return text


def _some(names: list[str]) -> str:
    shown = names[:DRIFTED_COLUMNS_IN_MESSAGE]
    more = len(names) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def _announce(draft: Draft, outcome: Outcome) -> None:
    if isinstance(outcome, Empty):
        return  # windows.note_outcomes says it once per window
    check = outcome
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
