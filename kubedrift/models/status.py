"""The status shapes of DriftCheck and Experiment: what the operator records.

Lists are capped (see HISTORY_LIMIT, CHECK_HISTORY_LIMIT) so that a status never grows without bound.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from kubedrift.models.base import Model
from kubedrift.models.conditions import Condition
from kubedrift.models.driftcheck import DataSource, ParamValue
from kubedrift.models.results import DataFingerprint
from kubedrift.models.rules import Rule, cel_rules
from kubedrift.models.windows import TimeWindow

HISTORY_LIMIT = 10
# Half a year of weekly checks (26) and some: a record is a few hundred bytes, so 32 stay ~16 KB.
# The full history is append-only in object storage (`kubectl drift history --all`).
CHECK_HISTORY_LIMIT = 32


class LastCheck(Model):
    """The most recent drift check."""

    time: datetime = Field(description="When the check finished.")
    job: str = Field(description="The Job that ran it.")
    succeeded: bool = Field(description="Whether the check ran to the end.")
    reason: str | None = Field(default=None, description="Why it failed, when it failed.")
    message: str | None = Field(default=None, description="What went wrong, when it failed.")
    dataset_drift: bool | None = Field(default=None, description="Whether the dataset drifted.")
    drift_share: float | None = Field(default=None, description="Share of columns that drifted.")
    drifted_columns: list[str] = Field(default_factory=list, description="Columns that drifted.")
    uncertain_columns: list[str] = Field(
        default_factory=list,
        description="Columns with no verdict: their score, read from a sketch, is within its error of the "
        "threshold (the report gives each score and bound).",
    )
    target_drift: bool | None = Field(default=None, description="Whether the target drifted.")
    report_uri: str | None = Field(default=None, description="Where the full report is.")
    reference: DataFingerprint | None = Field(default=None, description="Reference data version.")
    current: DataFingerprint | None = Field(default=None, description="Current data version.")
    scheduled_at: datetime | None = Field(
        default=None, description="The scheduled time it checked (its windows are resolved from it)."
    )
    window: TimeWindow | None = Field(default=None, description="The current data's window, when windowed.")


class EmptyWindow(Model):
    """A scheduled window that held no data when it was checked; the operator looks again."""

    scheduled_at: datetime = Field(description="The scheduled time whose window was empty.")
    window: TimeWindow | None = Field(default=None, description="The empty window.")
    message: str = Field(description="What the check found, with the window.")
    job: str = Field(description="The check Job that found it empty last.")
    since: datetime = Field(description="When it was first found empty.")
    rechecks: int = Field(default=0, ge=0, description="Re-check Jobs started for this window.")
    next_recheck_at: datetime | None = Field(
        default=None,
        description="When the window is looked at again; absent once the operator gave up (the re-checks "
        "ran out or the next scheduled check started).",
    )


class CheckRecord(Model):
    """One past check, for the bounded history."""

    time: datetime = Field(description="When the check finished.")
    job: str = Field(description="The Job that ran it.")
    succeeded: bool = Field(description="Whether the check ran to the end.")
    reason: str | None = Field(
        default=None,
        description="Why it has no verdict: the failure's reason, or EmptyWindow when its window held no "
        "data (replaced by the window's result once the data lands and it is checked again).",
    )
    dataset_drift: bool | None = Field(default=None, description="Whether the dataset drifted.")
    drift_share: float | None = Field(default=None, description="Share of columns that drifted.")
    report_uri: str | None = Field(
        default=None, description="Where its report is (a failed check's last check keeps none)."
    )
    scheduled_at: datetime | None = Field(
        default=None, description="The scheduled time it checked; history is ordered and deduplicated by it."
    )
    window: TimeWindow | None = Field(default=None, description="The current data's window.")
    drifted_columns: list[str] = Field(default_factory=list, description="Columns that drifted.")
    target_drift: bool | None = Field(default=None, description="Whether the target drifted.")
    reference_version: str | None = Field(default=None, description="The reference data version.")
    current_version: str | None = Field(default=None, description="The current data version.")

    @property
    def when(self) -> datetime:
        """The time the check stands for on a time axis: its scheduled time (a backfilled
        window's, not the day it ran), or when it finished."""
        return self.scheduled_at or self.time


RunPhase = Literal["Running", "Succeeded", "Failed"]
BaselinePhase = Literal["Pending", "Running", "Succeeded", "Failed"]


class BaselineStatus(Model):
    """The production model re-evaluated on the run's test data (the index after the last trial)."""

    experiment: str = Field(description="The production Experiment whose model is evaluated.")
    uri: str = Field(description="Where the production model is read from.")
    phase: BaselinePhase = Field(default="Pending", description="Pending, Running, Succeeded or Failed.")
    objective: float | None = Field(
        default=None, description="The production model's objective value on this run's test data."
    )
    reason: str | None = Field(default=None, description="Why the evaluation failed.")
    message: str | None = Field(default=None, description="What went wrong.")


class RunStatus(Model):
    """The latest retrain run."""

    name: str = Field(description="The run's id, used in Job and Experiment names.")
    job: str = Field(description="The Indexed Job of the run.")
    reason: str = Field(description="What started it: Drift, Always or Manual.")
    trigger: str | None = Field(
        default=None, description="The check Job or annotation value that started it."
    )
    generation: int | None = Field(
        default=None, description="The DriftCheck generation whose retrain spec the run uses."
    )
    phase: RunPhase = Field(description="Running, Succeeded or Failed.")
    started_at: datetime = Field(description="When the run was created.")
    finished_at: datetime | None = Field(default=None, description="When its Job ended.")
    trials_total: int = Field(ge=0, description="Combinations in the grid.")
    trials_succeeded: int = Field(default=0, ge=0, description="Trials that finished.")
    trials_failed: int = Field(default=0, ge=0, description="Trials that failed.")
    trials_running: int = Field(default=0, ge=0, description="Trials not yet ended.")
    scheduled_at: datetime | None = Field(
        default=None, description="The scheduled time the train and test windows were resolved with."
    )
    train_window: TimeWindow | None = Field(default=None, description="The training data's window.")
    test_window: TimeWindow | None = Field(default=None, description="The test data's window.")
    best_experiment: str | None = Field(default=None, description="The best Experiment so far.")
    best_objective: float | None = Field(default=None, description="Its objective value.")
    refused: str | None = Field(
        default=None,
        description="Why the run ended before its trials ran: the apiserver refused one of its children.",
    )
    trials_failure: str | None = Field(
        default=None,
        description="When every failed trial failed for the same reason: that reason and the first "
        "message, e.g. a refused credential, so the Retraining condition says why.",
    )
    baseline: BaselineStatus | None = Field(
        default=None,
        description="The production model at the run's start, evaluated on the run's test data; "
        "Auto promotion compares the best trial with it.",
    )


class ProductionModel(Model):
    """The model currently promoted."""

    experiment: str = Field(description="The Experiment it came from.")
    objective: float | None = Field(default=None, description="Its objective value.")
    uri: str = Field(description="Where the promoted artifact is.")
    promoted_at: datetime = Field(description="When it was promoted.")
    training_data: DataSource | None = Field(
        default=None,
        description="The data it was trained on, resolved (an absolute window); the reference of a "
        "DriftCheck with reference.followProduction.",
    )
    training_data_version: str | None = Field(default=None, description="That data's version.")


class PromotionRecord(Model):
    """One past promotion, for the bounded history."""

    experiment: str = Field(description="The promoted Experiment.")
    objective: float | None = Field(default=None, description="Its objective value.")
    promoted_at: datetime = Field(description="When it was promoted.")


class PendingPromotion(Model):
    """A promotion whose copy Job has been started but has not ended yet."""

    experiment: str = Field(description="The Experiment being promoted.")
    job: str = Field(description="The Job that copies its model artifact.")
    reason: str = Field(description="Auto or Manual.")
    objective: float | None = Field(default=None, description="Its objective value.")
    source_uri: str = Field(description="The model artifact being copied.")
    uri: str = Field(description="Where the artifact is being copied to.")
    requested_at: datetime = Field(description="When the promotion was started.")


MAX_BACKFILL_CONCURRENCY = 16
TriggerPhase = Literal["Running", "Succeeded", "Failed", "Refused"]


class CheckAtStatus(Model):
    """The latest check of a past scheduled time's window (the kubedrift.io/check-at annotation)."""

    value: str = Field(description="The annotation value acted on.")
    scheduled_at: datetime | None = Field(
        default=None, description="The scheduled time whose window is checked (none when refused)."
    )
    retrain: bool = Field(default=False, description="Whether its result may start a retrain.")
    job: str | None = Field(default=None, description="The check Job.")
    phase: TriggerPhase = Field(
        description="Running, Succeeded, Failed or Refused (a value the operator refused)."
    )
    message: str | None = Field(default=None, description="Why it was refused or failed.")
    started_at: datetime = Field(description="When the operator acted on the value.")
    finished_at: datetime | None = Field(default=None, description="When its Job ended.")


class BackfillStatus(Model):
    """The latest backfill (the kubedrift.io/backfill annotation): its progress. The windows' results
    are in the history; the scheduled times are the schedule's in the range, so an index into them
    says which have started."""

    value: str = Field(description="The annotation value acted on.")
    start: datetime | None = Field(default=None, description="The range's first instant (none when refused).")
    end: datetime | None = Field(default=None, description="The range's last instant, included.")
    retrain: bool = Field(default=False, description="Whether the checks may start a retrain.")
    schedule: str | None = Field(
        default=None, description="The schedule whose times in the range are checked, as it was at the start."
    )
    time_zone: str | None = Field(default=None, description="The schedule's time zone at the start.")
    phase: TriggerPhase = Field(
        description="Running, Succeeded (every window checked), Failed (some window failed) or Refused."
    )
    total: int = Field(default=0, ge=0, description="Scheduled times in the range.")
    started: int = Field(
        default=0, ge=0, description="Scheduled times whose check Job has been created, oldest first."
    )
    done: int = Field(
        default=0, ge=0, description="Checks that completed (recorded, or skipped as already recorded)."
    )
    failed: int = Field(default=0, ge=0, description="Checks whose Job failed.")
    in_flight: list[datetime] = Field(
        default_factory=list,
        max_length=MAX_BACKFILL_CONCURRENCY,
        description="The scheduled times whose check Jobs are running.",
    )
    message: str | None = Field(default=None, description="Why it was refused, or which windows failed.")
    started_at: datetime = Field(description="When the operator acted on the value.")
    finished_at: datetime | None = Field(default=None, description="When its last check ended.")


class DriftCheckStatus(Model):
    """What the operator observed and did."""

    observed_generation: int | None = Field(
        default=None, description="The spec generation the operator last acted on."
    )
    conditions: list[Condition] = Field(
        default_factory=list, description="Ready, Drifted, Retraining, Promoted, Reconciling, Stalled."
    )
    last_check: LastCheck | None = Field(default=None, description="The most recent check.")
    history: list[CheckRecord] = Field(
        default_factory=list,
        description=f"The last {CHECK_HISTORY_LIMIT} checks, newest scheduled time first, one per "
        "scheduled time.",
    )
    empty_window: EmptyWindow | None = Field(
        default=None,
        description="The latest scheduled window that held no data, while it is looked at again.",
    )
    run: RunStatus | None = Field(default=None, description="The latest retrain run.")
    production: ProductionModel | None = Field(default=None, description="The promoted model.")
    promotions: list[PromotionRecord] = Field(
        default_factory=list, description=f"The last {HISTORY_LIMIT} promotions, newest first."
    )
    promoting: PendingPromotion | None = Field(
        default=None, description="A promotion in progress, recorded before its Job is created."
    )
    handled_triggers: dict[str, str] = Field(
        default_factory=dict,
        description="Trigger annotation name to the value last acted on, so each is handled once.",
    )
    check_at: CheckAtStatus | None = Field(
        default=None, description="The latest check of a past window (kubedrift.io/check-at)."
    )
    backfill: BackfillStatus | None = Field(
        default=None, description="The latest backfill (kubedrift.io/backfill): its progress."
    )


ExperimentPhase = Literal["Pending", "Running", "Succeeded", "Failed"]


class ExperimentStatus(Model):
    """A trial's outcome: the row of `kubectl get experiments`."""

    phase: ExperimentPhase = Field(default="Pending", description="Pending, Running, Succeeded or Failed.")
    metrics: dict[str, float] = Field(default_factory=dict, description="Metric values.")
    metrics_summary: str | None = Field(
        default=None, description="The metrics as one short line, for the printer columns."
    )
    undefined_metrics: dict[str, str] = Field(
        default_factory=dict, description="Metric name to why it is undefined."
    )
    objective: float | None = Field(default=None, description="The objective metric's value.")
    model_uri: str | None = Field(default=None, description="Where the model artifact is.")
    data_version: str | None = Field(default=None, description="Short version of the data.")
    train_data_version: str | None = Field(default=None, description="Short version of the training data.")
    test_data_version: str | None = Field(default=None, description="Short version of the test data.")
    started_at: datetime | None = Field(default=None, description="When the trial started.")
    finished_at: datetime | None = Field(default=None, description="When the trial ended.")
    attempts: int = Field(default=0, ge=0, description="Pods that ran this trial.")
    reason: str | None = Field(default=None, description="Why it failed.")
    message: str | None = Field(default=None, description="What went wrong.")
    promoted: bool = Field(default=False, description="Whether this trial is in production.")


EXPERIMENT_IMMUTABLE_RULE = Rule(
    cel="self == oldSelf", message="an Experiment's spec is immutable once created; create a new run instead"
)


class ExperimentSpec(Model):
    """One combination of a retrain run. Immutable once created."""

    model_config = cel_rules(EXPERIMENT_IMMUTABLE_RULE)

    check: str = Field(description="The DriftCheck that ran it.")
    run: str = Field(description="The retrain run it belongs to.")
    index: int = Field(ge=0, description="Its completion index in the run's Indexed Job.")
    trial_id: str = Field(
        description="Stable id of estimator + params + run; the trial's own id, which also covers "
        "the data version, is in its artifacts once it has read its data."
    )
    estimator: str = Field(description="The scikit-learn estimator.")
    params: dict[str, ParamValue] = Field(description="The full params: fixed plus this combination.")
    params_summary: str = Field(description="The grid params as one short line, for printer columns.")
    train_uri: str = Field(description="The training data.")
    test_uri: str = Field(description="The evaluation data.")
    train_window: TimeWindow | None = Field(default=None, description="The training data's window, resolved.")
    test_window: TimeWindow | None = Field(default=None, description="The test data's window, resolved.")
    objective_metric: str = Field(description="The metric that ranks trials.")
