"""What the jobs hand back: data fingerprints and the compact summaries that
the check and training jobs write to their termination message.

The operator never reads data; these summaries, read from pod status, are all
it learns from a job. They must stay small (< 4 KiB) and always valid JSON.
A local run (`kubedrift run`, `kubedrift train --all`) gets a `TrialSummary`
or a `FailedTrial` back from each index, as the operator gets one from a pod.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from pydantic import Field

from kubedrift.models.base import Model
from kubedrift.models.driftcheck import ParamValue
from kubedrift.models.windows import TimeWindow

# The kubelet truncates termination messages at 4096 bytes; we stay below it.
TERMINATION_MESSAGE_LIMIT = 4096


class DataFingerprint(Model):
    """Identifies the exact bytes a job read: the data version, like a .dvc file."""

    uri: str = Field(description="What was read (file, directory or glob).")
    files: int = Field(ge=0, description="How many Parquet files matched.")
    size: int = Field(ge=0, description="Total bytes of those files.")
    rows: int = Field(ge=0, description="Total rows.")
    content_hash: str = Field(
        description="Hash over each file's name within the dataset, size and Parquet footer; the "
        "same bytes give the same hash however they were uploaded, and where the dataset lives "
        "does not count."
    )
    schema_hash: str = Field(description="Hash of the Arrow schema.")
    window: TimeWindow | None = Field(
        default=None, description="The time window that was read; absent when the whole dataset was."
    )

    @property
    def version(self) -> str:
        """A short data version for tables and names."""
        return self.content_hash[:8]


class JobFailure(Model):
    """The one-line reason a job wrote before exiting non-zero."""

    reason: str = Field(description="A CamelCase reason, e.g. DataNotFound.")
    message: str = Field(description="What went wrong, for people.")


class CheckSummary(Model):
    """The drift check job's compact result."""

    finished_at: datetime = Field(description="When the check finished.")
    dataset_drift: bool = Field(description="Whether the dataset drifted.")
    drift_share: float = Field(ge=0, le=1, description="Share of checked columns that drifted.")
    columns_checked: int = Field(ge=0, description="Columns that were tested.")
    columns_drifted: int = Field(ge=0, description="Columns that drifted.")
    drifted_columns: list[str] = Field(
        default_factory=list, description="Names of drifted columns (may be truncated)."
    )
    columns_uncertain: int = Field(
        default=0,
        ge=0,
        description="Tested columns with no verdict: a score read from a sketch within its error of the "
        "threshold (sharded checks and sketched reference profiles only).",
    )
    uncertain_columns: list[str] = Field(
        default_factory=list, description="Names of the uncertain columns (may be truncated)."
    )
    target_drift: bool | None = Field(
        default=None, description="Whether the target drifted; absent without a target."
    )
    report_uri: str = Field(description="Where the full JSON and HTML reports are.")
    reference: DataFingerprint | None = Field(default=None, description="Reference data version.")
    current: DataFingerprint | None = Field(default=None, description="Current data version.")
    truncated: bool = Field(default=False, description="Whether lists were cut to fit 4 KiB.")
    scheduled_at: datetime | None = Field(
        default=None, description="The scheduled time whose windows were checked."
    )
    window: TimeWindow | None = Field(default=None, description="The current data's window, when windowed.")
    reference_window: TimeWindow | None = Field(
        default=None, description="The reference data's window, when windowed."
    )


SkipReason = Literal["EmptyWindow", "AlreadyRecorded"]


class CheckSkipped(Model):
    """A check that ended without a verdict, on purpose: the job exits 0 with this as its message.

    EmptyWindow: a window has no data yet (not a failure, so no retry storm and no retrain).
    AlreadyRecorded: the history in object storage already has this scheduled time (a retried pod
    or a second start of the same window), so nothing is read and nothing recorded twice.
    """

    skipped: SkipReason = Field(description="EmptyWindow or AlreadyRecorded.")
    message: str = Field(description="What happened, with the window, for people.")
    scheduled_at: datetime | None = Field(default=None, description="The scheduled time of the check.")
    window: TimeWindow | None = Field(default=None, description="The window that was empty or recorded.")


def parse_check_message(text: str) -> CheckSummary | CheckSkipped:
    """A check job's termination message: its summary, or why it skipped. Raises ValueError else."""
    data = json.loads(text)
    if isinstance(data, dict) and "skipped" in data:
        return CheckSkipped.model_validate(data)
    return CheckSummary.model_validate(data)


class HistoryEntry(Model):
    """One check's outcome in the append-only history in object storage:
    <reportsUri>/<check>/history/<scheduled %Y%m%dT%H%M%SZ>.json, written once."""

    scheduled_at: datetime = Field(description="The scheduled time the check ran for (its key).")
    checked_at: datetime = Field(description="When the check finished.")
    window: TimeWindow | None = Field(default=None, description="The current data's window.")
    reference_window: TimeWindow | None = Field(default=None, description="The reference data's window.")
    reference_version: str | None = Field(default=None, description="The reference data version.")
    current_version: str | None = Field(default=None, description="The current data version.")
    dataset_drift: bool = Field(description="Whether the dataset drifted.")
    drift_share: float = Field(ge=0, le=1, description="Share of checked columns that drifted.")
    drifted_columns: list[str] = Field(default_factory=list, description="Columns that drifted.")
    target_drift: bool | None = Field(default=None, description="Whether the target drifted.")
    report_uri: str = Field(description="Where the full report is.")
    job: str | None = Field(default=None, description="The Job that ran it (absent for a local run).")

    @property
    def key(self) -> str:
        return history_key(self.scheduled_at)


def history_key(scheduled_at: datetime) -> str:
    """The file name of a scheduled time's history entry (UTC, so names sort in time order).

    A schedule fires on whole minutes; a check started by hand is "scheduled" at the moment it
    started, to the microsecond, so two of them within one second are two entries, not one
    recorded and one skipped."""
    utc = scheduled_at.astimezone(UTC)
    return utc.strftime("%Y%m%dT%H%M%S.%fZ" if utc.microsecond else "%Y%m%dT%H%M%SZ") + ".json"


class TrialSummary(Model):
    """The training job's compact result for one grid index."""

    index: int = Field(ge=0, description="The completion index.")
    trial_id: str = Field(description="Stable id of estimator + params + data version.")
    params: dict[str, ParamValue] = Field(description="The full params the model was fitted with.")
    metrics: dict[str, float] = Field(description="The metrics that are defined on the test data.")
    undefined_metrics: dict[str, str] = Field(
        default_factory=dict, description="Metric name to why it is undefined on this data."
    )
    objective: float | None = Field(default=None, description="The objective metric's value.")
    model_uri: str = Field(description="Where the model artifact was written.")
    data_version: str = Field(description="Short version of the train and test data.")
    train_data_version: str | None = Field(default=None, description="Short version of the training data.")
    test_data_version: str | None = Field(default=None, description="Short version of the test data.")
    train_window: TimeWindow | None = Field(default=None, description="The training data's window.")
    test_window: TimeWindow | None = Field(default=None, description="The test data's window.")
    fit_seconds: float = Field(ge=0, description="Time spent fitting.")
    total_seconds: float = Field(ge=0, description="Time from start to finish.")
    baseline: bool = Field(
        default=False, description="Whether this is the production model evaluated on the test data."
    )


@dataclass(frozen=True)
class FailedTrial:
    """An index of a local run that raised: what a failed pod's termination message and exit code say."""

    index: int
    reason: str
    message: str
    exit_code: int = 1
    params: dict[str, ParamValue] = field(default_factory=dict)  # what it was to fit with
    baseline: bool = False  # the production model's evaluation failed, not a trial
