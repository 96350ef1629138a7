"""`kubectl drift history`: every check of a DriftCheck, oldest window first, as a trend.

Rows come from the DriftCheck's bounded `status.history` (what the operator recorded), or
with `--all` from the append-only history the check jobs write to object storage (read with
the user's own credentials, as `kubectl drift report` reads reports). Either way one row per
scheduled time, ordered by it, so reading down the table reads forward in time.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime

from rich.console import Console
from rich.table import Table
from rich.text import Text

from kubedrift.models.resources import DriftCheck
from kubedrift.models.results import HistoryEntry
from kubedrift.models.status import CheckRecord

SPARK = "▁▂▃▄▅▆▇█"
BAR_WIDTH = 10
COLUMNS_SHOWN = 3


@dataclass(frozen=True)
class Row:
    """One check as the history shows it."""

    scheduled_at: datetime | None
    window: str | None
    outcome: str  # Drift | NoDrift | Failed | EmptyWindow ...
    drift_share: float | None = None
    dataset_drift: bool | None = None
    drifted_columns: list[str] = field(default_factory=list)
    target_drift: bool | None = None
    reference_version: str | None = None
    current_version: str | None = None
    report_uri: str | None = None
    job: str | None = None
    finished_at: datetime | None = None

    @property
    def order(self) -> tuple[datetime, str]:
        when = self.scheduled_at or self.finished_at
        assert when is not None
        return when, self.job or ""


def ordered(rows: Iterable[Row]) -> list[Row]:
    """Oldest scheduled time first; one row per scheduled time (the first recorded one)."""
    seen: set[datetime] = set()
    out: list[Row] = []
    for row in sorted(rows, key=lambda r: r.order):
        if row.scheduled_at is not None:
            if row.scheduled_at in seen:
                continue
            seen.add(row.scheduled_at)
        out.append(row)
    return out


def from_record(record: CheckRecord) -> Row:
    if record.succeeded:
        outcome = "Drift" if record.dataset_drift else "NoDrift"
    else:
        outcome = record.reason or "Failed"
    return Row(
        scheduled_at=record.scheduled_at,
        window=str(record.window) if record.window else None,
        outcome=outcome,
        drift_share=record.drift_share,
        dataset_drift=record.dataset_drift,
        drifted_columns=list(record.drifted_columns),
        target_drift=record.target_drift,
        reference_version=record.reference_version,
        current_version=record.current_version,
        report_uri=record.report_uri,
        job=record.job,
        finished_at=record.time,
    )


def from_entry(entry: HistoryEntry) -> Row:
    return Row(
        scheduled_at=entry.scheduled_at,
        window=str(entry.window) if entry.window else None,
        outcome="Drift" if entry.dataset_drift else "NoDrift",
        drift_share=entry.drift_share,
        dataset_drift=entry.dataset_drift,
        drifted_columns=list(entry.drifted_columns),
        target_drift=entry.target_drift,
        reference_version=entry.reference_version,
        current_version=entry.current_version,
        report_uri=entry.report_uri,
        job=entry.job,
        finished_at=entry.checked_at,
    )


def from_status(check: DriftCheck) -> list[Row]:
    return ordered(from_record(r) for r in check.status.history)


def from_storage(check: DriftCheck) -> list[Row]:
    """The append-only history the check jobs wrote, read with the caller's credentials."""
    from kubedrift.history import read_history

    entries = read_history(check.spec.storage.reports_uri, check.metadata.name, check.spec.storage)
    return ordered(from_entry(e) for e in entries)


def sparkline(shares: Sequence[float | None]) -> str:
    """Drift shares (0..1) as one block character each; a gap for a check without one."""
    return "".join(" " if s is None else SPARK[min(int(s * len(SPARK)), len(SPARK) - 1)] for s in shares)


def bar(share: float | None, width: int = BAR_WIDTH) -> str:
    if share is None:
        return ""
    filled = round(share * width)
    return "█" * filled + "░" * (width - filled)


def _when(value: datetime | None) -> str:
    return value.isoformat(timespec="minutes") if value is not None else "-"


def _columns(columns: list[str]) -> str:
    shown = ", ".join(columns[:COLUMNS_SHOWN])
    more = len(columns) - COLUMNS_SHOWN
    return shown + (f" +{more}" if more > 0 else "")


def _flag(value: bool | None) -> str:
    return "-" if value is None else ("yes" if value else "no")


def table(check: str, rows: Sequence[Row], source: str) -> Table:
    trend = sparkline([r.drift_share for r in rows])
    out = Table(
        title=f"driftcheck/{check}: {len(rows)} checks ({source}); drift share {trend}",
        title_justify="left",
    )
    for name in (
        "SCHEDULED",
        "WINDOW",
        "REF",
        "CURRENT",
        "DRIFT SHARE",
        "",
        "DRIFTED",
        "TARGET",
        "REPORT",
    ):
        out.add_column(name, no_wrap=name in ("SCHEDULED", "DRIFT SHARE"))
    for row in rows:
        style = "red" if row.dataset_drift else ("yellow" if row.outcome not in ("Drift", "NoDrift") else "")
        share = f"{row.drift_share:.2f}" if row.drift_share is not None else row.outcome
        out.add_row(
            _when(row.scheduled_at or row.finished_at),
            row.window or "-",
            row.reference_version or "-",
            row.current_version or "-",
            Text(share, style=style),
            Text(bar(row.drift_share), style=style),
            _columns(row.drifted_columns),
            _flag(row.target_drift),
            row.report_uri or "-",
        )
    return out


def render(console: Console, check: str, rows: Sequence[Row], source: str) -> None:
    if not rows:
        console.print(f"driftcheck/{check} has no checks recorded yet ({source}).")
        return
    console.print(table(check, rows, source))


def to_json(rows: Sequence[Row]) -> str:
    def encode(value: object) -> object:
        return value.isoformat() if isinstance(value, datetime) else value

    return json.dumps([{k: encode(v) for k, v in asdict(r).items()} for r in rows], indent=1) + "\n"
