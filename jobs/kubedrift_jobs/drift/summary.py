"""The compact summary for the termination message (< 4 KiB, always valid JSON)."""

from __future__ import annotations

from typing import Any

from kubedrift.models.report import DriftReport
from kubedrift.models.results import CheckSummary
from kubedrift_jobs.runtime import fit_message


def check_summary(report: DriftReport) -> CheckSummary:
    return CheckSummary(
        finished_at=report.finished_at,
        dataset_drift=report.dataset.drifted,
        drift_share=report.dataset.drift_share,
        columns_checked=report.dataset.columns_tested,
        columns_drifted=report.dataset.columns_drifted,
        drifted_columns=report.dataset.drifted_columns,
        columns_uncertain=report.dataset.columns_uncertain,
        uncertain_columns=report.dataset.uncertain_columns,
        target_drift=report.target.drifted if report.target and report.target.status == "tested" else None,
        report_uri=report.report_uri,
        reference=report.reference,
        current=report.current,
        scheduled_at=report.scheduled_at,
        window=report.current.window,
        reference_window=report.reference.window,
    )


def summary_message(summary: CheckSummary) -> str:
    return fit_message(summary.to_wire(), _shrink)


def _shrink(document: dict[str, Any]) -> dict[str, Any] | None:
    """Halve the drifted-column list (keeping its head, which is sorted), then the uncertain one,
    then drop fingerprints. The counts stay whole."""
    smaller = dict(document, truncated=True)
    for key in ("driftedColumns", "uncertainColumns"):
        columns = document.get(key, [])
        if columns:
            smaller[key] = columns[: len(columns) // 2]
            return smaller
    # A fingerprint is all or nothing: the operator must be able to read what is left.
    for side in ("reference", "current"):
        if side in smaller:
            del smaller[side]
            return smaller
    return None
