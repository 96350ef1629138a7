"""`kubedrift check`: run one drift check from its job config and publish the results.

Order matters for "nothing half-written": every input is read and every column
tested before anything is written; then the HTML report, then report.json (the
document readers look for), then the summary to the termination message.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime

from kubedrift.models.jobconfig import CheckJobConfig
from kubedrift.models.report import DriftReport
from kubedrift.models.results import CheckSummary
from kubedrift.storage import join, write_text
from kubedrift_jobs.drift.engine import run_check
from kubedrift_jobs.drift.html import render_html
from kubedrift_jobs.drift.summary import check_summary, summary_message
from kubedrift_jobs.runtime import load_config, run_job, writing_reports


def report_folder(config: CheckJobConfig, now: datetime) -> str:
    return join(config.storage.reports_uri, config.check, now.strftime("%Y%m%dT%H%M%S.%fZ"))


def publish(report: DriftReport, config: CheckJobConfig) -> None:
    with writing_reports(config.storage.reports_uri):
        _write_reports(report, config)


def _write_reports(report: DriftReport, config: CheckJobConfig) -> None:
    write_text(join(report.report_uri, "report.html"), render_html(report), config.storage)
    document = report.model_dump(mode="json", by_alias=True)
    write_text(join(report.report_uri, "report.json"), json.dumps(document, indent=1), config.storage)


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
