"""`kubectl drift run --at` and `kubectl drift backfill`: the annotation values, and following
what the operator does with them (status.checkAt, status.backfill).

The times on the command line may be dates or times without an offset: they are read in the
DriftCheck's spec.timeZone (the schedule's zone), UTC without one, and written to the annotation
as RFC 3339 in UTC. The values are checked here with the operator's own parser
(kubedrift.backfill) so that a bad one is refused before anything is annotated.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from kubedrift import backfill, cron
from kubedrift.backfill import Backfill, InvalidValue, rfc3339
from kubedrift.errors import ConfigError
from kubedrift.models.resources import DriftCheck
from kubedrift.models.status import BackfillStatus, CheckAtStatus, DriftCheckStatus

POLL_SECONDS = 1.0


def _zone(check: DriftCheck) -> ZoneInfo:
    return ZoneInfo(check.spec.time_zone or "UTC")


def check_at_value(check: DriftCheck, at: str, *, retrain: bool, token: str | None, now: datetime) -> str:
    """The check-at value for `--at`; ConfigError (exit 2) when the time is not one to check."""
    try:
        value = backfill.check_at_value(backfill.parse_time(at, _zone(check)), retrain=retrain, token=token)
        backfill.parse_check_at(value, now)
    except InvalidValue as error:
        raise ConfigError(f"--at: {error}") from None
    return value


def backfill_value(
    check: DriftCheck, start: str, end: str, *, retrain: bool, token: str | None, now: datetime
) -> tuple[str, int]:
    """The backfill value for `--from`/`--to` and how many scheduled times it covers."""
    zone = _zone(check)
    try:
        request = Backfill(backfill.parse_time(start, zone), backfill.parse_time(end, zone), retrain)
        value = backfill.backfill_value(request, token=token)
        backfill.parse_backfill(value, now)
        times = backfill.scheduled_times(
            request, check.spec.schedule, check.spec.time_zone, cron.scheduled_times
        )
    except InvalidValue as error:
        raise ConfigError(str(error)) from None
    return value, len(times)


def check_at_of(status: DriftCheckStatus, value: str) -> CheckAtStatus | None:
    return status.check_at if status.check_at is not None and status.check_at.value == value else None


def backfill_of(status: DriftCheckStatus, value: str) -> BackfillStatus | None:
    return status.backfill if status.backfill is not None and status.backfill.value == value else None


def wait_check_at(
    read_status: Callable[[], DriftCheckStatus],
    value: str,
    timeout: float,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> CheckAtStatus | None:
    """Poll until the check of `value` has ended (or was refused); None on timeout."""
    deadline = clock() + timeout
    while True:
        found = check_at_of(read_status(), value)
        if found is not None and found.phase != "Running":
            return found
        if clock() >= deadline:
            return None
        sleep(min(POLL_SECONDS, max(deadline - clock(), 0.0)))


def check_at_outcome(check: DriftCheck, found: CheckAtStatus) -> list[str]:
    """What the check of a past window came to: its phase and, once recorded, its result."""
    if found.phase == "Refused":
        return [f"refused by the operator: {found.message}"]
    at = rfc3339(found.scheduled_at) if found.scheduled_at else "?"
    lines = [f"check of the window of {at}: {found.phase} (Job {found.job})"]
    if found.message:
        lines.append(found.message)
    status = check.status
    records = [r for r in status.history if r.job == found.job]
    last = status.last_check if status.last_check is not None and status.last_check.job == found.job else None
    if last is not None and last.succeeded:
        drift = "drift" if last.dataset_drift else "no drift"
        share = f", drift share {last.drift_share:.0%}" if last.drift_share is not None else ""
        lines.append(f"{drift}{share}; report: {last.report_uri}")
    elif records and records[0].succeeded:
        record = records[0]
        drift = "drift" if record.dataset_drift else "no drift"
        share = f", drift share {record.drift_share:.0%}" if record.drift_share is not None else ""
        lines.append(f"{drift}{share}; report: {record.report_uri}")
    elif found.phase == "Succeeded":
        lines.append("nothing new recorded (the window was already in the history, or had no data)")
    return lines


def follow_backfill(
    read_status: Callable[[], DriftCheckStatus],
    value: str,
    timeout: float,
    on_progress: Callable[[BackfillStatus], None],
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> BackfillStatus | None:
    """Poll status.backfill of `value`, calling `on_progress` with each reading, until it ends;
    None on timeout."""
    deadline = clock() + timeout
    while True:
        found = backfill_of(read_status(), value)
        if found is not None:
            on_progress(found)
            if found.phase != "Running":
                return found
        if clock() >= deadline:
            return None
        sleep(min(POLL_SECONDS, max(deadline - clock(), 0.0)))


def backfill_outcome(found: BackfillStatus) -> list[str]:
    if found.phase == "Refused":
        return [f"refused by the operator: {found.message}"]
    lines = [
        f"backfill {found.phase}: {found.done} of {found.total} windows checked, {found.failed} failed"
        + (" (retrain allowed)" if found.retrain else "")
    ]
    if found.failed and found.message:
        lines.append(f"failed windows: {found.message}")
    return lines


def now() -> datetime:
    return datetime.now(UTC)
