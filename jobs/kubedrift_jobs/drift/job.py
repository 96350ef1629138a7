"""`kubedrift check`: run one drift check from its job config and publish the results.

Order matters for "nothing half-written": every input is read and every column
tested before anything is written; then the report, complete or not at all
(`kubedrift.reports`: the HTML, then report.json vouching for it), then the
summary to the termination message, which is how the operator learns of it.

A sharded check (`check.shards` > 1) runs this in two steps: each index of an Indexed Job
(`--shard`) profiles its share of the current data (`shard.py`), then one merge pod (`--merge`)
does everything above with the current columns merged from those partials.
"""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime

from kubedrift.datasets import source_window
from kubedrift.errors import ConfigError, EmptyWindow
from kubedrift.history import record, recorded
from kubedrift.models.jobconfig import ENV_JOB_NAME, CheckJobConfig
from kubedrift.models.report import DriftReport
from kubedrift.models.results import CheckSkipped, CheckSummary, HistoryEntry
from kubedrift.reports import REPORT_HTML, write_report
from kubedrift.storage import join, retrying
from kubedrift.windows import scheduled_at as scheduled_time
from kubedrift_jobs.drift import partials
from kubedrift_jobs.drift.engine import run_check
from kubedrift_jobs.drift.html import render_html
from kubedrift_jobs.drift.shard import profile_share
from kubedrift_jobs.drift.summary import check_summary, summary_message
from kubedrift_jobs.runtime import load_config, run_job, writing_reports


def report_folder(config: CheckJobConfig, scheduled_at: datetime) -> str:
    """A check's reports, named by its scheduled time (UTC), so a re-run of a window lands beside none."""
    return join(
        config.storage.reports_uri, config.check, scheduled_at.astimezone(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    )


def publish(report: DriftReport, config: CheckJobConfig) -> DriftReport:
    """Write the report complete or not at all; returns it as written (with its file digests)."""
    with writing_reports(config.storage.reports_uri):
        return write_report(report, {REPORT_HTML: render_html(report).encode()}, config.storage)


def check(config: CheckJobConfig, workers: int | None = None, scheduled_at: datetime | None = None) -> str:
    """One check: its summary, or why it skipped, as the termination message's text."""
    return _message(checked(config, workers, scheduled_at))


def checked(
    config: CheckJobConfig,
    workers: int | None = None,
    scheduled_at: datetime | None = None,
    sharded_job: str | None = None,
) -> CheckSummary | CheckSkipped:
    """Check the windows of `scheduled_at` (default: the pod's scheduled time, see
    `kubedrift.windows.scheduled_at`) once: a scheduled time the history already has is skipped
    before any data is read, and an empty window ends skipped, not failed (no retry, no retrain).
    `sharded_job`: the merge step of that Job's shards (their partials are removed once recorded)."""
    at = scheduled_at or scheduled_time(os.environ, datetime.now(UTC))
    window = source_window(config.current, at, config.zone)
    storage, reports = config.storage, config.storage.reports_uri
    skipped = skipped_check(config, at)
    if skipped is not None:
        print(f"check {config.check}: {skipped.message}", file=sys.stderr)
        return skipped
    folder = partials.partials_folder(reports, config.check, sharded_job) if sharded_job else None
    try:
        report = run_check(
            config,
            report_folder(config, at),
            workers,
            scheduled_at=at,
            partials=(folder, sharded_job) if folder and sharded_job else None,
        )
    except EmptyWindow as error:
        skipped = CheckSkipped(skipped="EmptyWindow", message=error.message, scheduled_at=at, window=window)
        print(f"check {config.check}: skipped: {error.message}", file=sys.stderr)
        return skipped
    publish(report, config)
    summary = check_summary(report)
    record(history_entry(report, summary), reports, config.check, storage)
    if folder is not None:
        partials.remove(folder, config.shards, storage)
    print(outcome_line(config.check, summary), file=sys.stderr)  # what `kubectl logs` shows a person
    return summary


# Set by the Job controller in each pod of an Indexed Job.
ENV_COMPLETION_INDEX = "JOB_COMPLETION_INDEX"


def shard(config: CheckJobConfig, workers: int | None = None) -> str:
    """One index of a sharded check: its partial, or why the check skips (the merge step, which
    decides the check, finds the same and says it)."""
    at = scheduled_time(os.environ, datetime.now(UTC))
    skipped = skipped_check(config, at)
    if skipped is not None:
        return _message(skipped)
    try:
        written = profile_share(config, _completion_index(), _sharded_job(), at, workers)
    except EmptyWindow as error:
        window = source_window(config.current, at, config.zone)
        return _message(
            CheckSkipped(skipped="EmptyWindow", message=error.message, scheduled_at=at, window=window)
        )
    print(
        f"check {config.check}: index {written.index} of {written.shards} profiled {written.row_groups} "
        f"row groups ({written.rows} rows) into {written.uri}",
        file=sys.stderr,
    )
    return written.model_dump_json(by_alias=True)


def merge(config: CheckJobConfig, workers: int | None = None) -> str:
    """The merge step of a sharded check: the check itself, on the partials of its Job's indexes."""
    return _message(checked(config, workers, sharded_job=_sharded_job()))


def _sharded_job() -> str:
    job = os.environ.get(ENV_JOB_NAME)
    if not job:
        raise ConfigError(f"a sharded check needs {ENV_JOB_NAME}: the Job whose indexes write the partials")
    return job


def _completion_index() -> int:
    value = os.environ.get(ENV_COMPLETION_INDEX, "")
    if not value.isdigit():
        raise ConfigError(f"a shard needs {ENV_COMPLETION_INDEX} (an Indexed Job sets it), not {value!r}")
    return int(value)


def skipped_check(config: CheckJobConfig, at: datetime) -> CheckSkipped | None:
    """AlreadyRecorded when the history has `at`: nothing is read, nothing recorded twice."""
    if not retrying(lambda: recorded(config.storage.reports_uri, config.check, at, config.storage)):
        return None
    return CheckSkipped(
        skipped="AlreadyRecorded",
        message=f"the history already has the check scheduled at {at.isoformat()}; nothing read",
        scheduled_at=at,
        window=source_window(config.current, at, config.zone),
    )


def _message(result: CheckSummary | CheckSkipped) -> str:
    if isinstance(result, CheckSkipped):
        return result.model_dump_json(by_alias=True, exclude_none=True)
    return summary_message(result)


def history_entry(report: DriftReport, summary: CheckSummary) -> HistoryEntry:
    return HistoryEntry(
        scheduled_at=report.scheduled_at or report.started_at,
        checked_at=report.finished_at,
        window=report.current.window,
        reference_window=report.reference.window,
        reference_version=report.reference.version,
        current_version=report.current.version,
        dataset_drift=report.dataset.drifted,
        drift_share=report.dataset.drift_share,
        drifted_columns=report.dataset.drifted_columns,
        target_drift=summary.target_drift,
        report_uri=report.report_uri,
        job=os.environ.get(ENV_JOB_NAME),
    )


def outcome_line(check: str, summary: CheckSummary) -> str:
    drift = "dataset drift" if summary.dataset_drift else "no dataset drift"
    target = {True: ", target drifted", False: ", target stable", None: ""}[summary.target_drift]
    uncertain = f", {summary.columns_uncertain} uncertain" if summary.columns_uncertain else ""
    return (
        f"check {check}: {drift}, {summary.columns_drifted} of {summary.columns_checked} columns drifted"
        f"{uncertain} (share {summary.drift_share:.2f}){target}; report at {summary.report_uri}"
    )


def main(
    config_path: str | None = None,
    termination_path: str | None = None,
    workers: int | None = None,
    step: str = "whole",
) -> int:
    """`step`: the whole check, one index of a sharded one (`shard`), or its merge step (`merge`)."""
    run = {"whole": check, "shard": shard, "merge": merge}[step]

    def body() -> str:
        text = run(load_config(CheckJobConfig, config_path), workers)
        print(text)
        return text

    return run_job(body, termination_path)
