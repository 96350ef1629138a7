"""`kubedrift check`: run one drift check from its job config and publish the results.

Order matters for "nothing half-written": every input is read and every column
tested before anything is written; then the report, complete or not at all
(`kubedrift.reports`: the HTML, then report.json vouching for it), then the
summary to the termination message, which is how the operator learns of it.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime

from kubedrift.models.jobconfig import CheckJobConfig
from kubedrift.models.report import DriftReport
from kubedrift.models.results import CheckSummary
from kubedrift.reports import REPORT_HTML, write_report
from kubedrift.storage import join
from kubedrift_jobs.drift.engine import run_check
from kubedrift_jobs.drift.html import render_html
from kubedrift_jobs.drift.summary import check_summary, summary_message
from kubedrift_jobs.runtime import load_config, run_job, writing_reports


def report_folder(config: CheckJobConfig, now: datetime) -> str:
    return join(config.storage.reports_uri, config.check, now.strftime("%Y%m%dT%H%M%S.%fZ"))


def publish(report: DriftReport, config: CheckJobConfig) -> DriftReport:
    """Write the report complete or not at all; returns it as written (with its file digests)."""
    with writing_reports(config.storage.reports_uri):
        return write_report(report, {REPORT_HTML: render_html(report).encode()}, config.storage)


def check(config: CheckJobConfig, workers: int | None = None) -> str:
    report = run_check(config, report_folder(config, datetime.now(UTC)), workers)
    publish(report, config)
    summary = check_summary(report)
    print(outcome_line(config.check, summary), file=sys.stderr)  # what `kubectl logs` shows a person
    return summary_message(summary)


def outcome_line(check: str, summary: CheckSummary) -> str:
    drift = "dataset drift" if summary.dataset_drift else "no dataset drift"
    target = {True: ", target drifted", False: ", target stable", None: ""}[summary.target_drift]
    return (
        f"check {check}: {drift}, {summary.columns_drifted} of {summary.columns_checked} columns drifted "
        f"(share {summary.drift_share:.2f}){target}; report at {summary.report_uri}"
    )


def main(
    config_path: str | None = None, termination_path: str | None = None, workers: int | None = None
) -> int:
    def body() -> str:
        text = check(load_config(CheckJobConfig, config_path), workers)
        print(text)
        return text

    return run_job(body, termination_path)
