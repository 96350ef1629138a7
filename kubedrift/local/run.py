"""`kubedrift run FILE.yaml`: the whole loop of one DriftCheck on this machine.

The same steps the cluster takes, in-process: the drift check (what the check
Job runs), then — when the retrain trigger fires — every grid index in a process
pool (what the Indexed Job runs), then the promotion decision the operator makes.
Reports, artifacts and the promoted model land under the spec's reportsUri,
exactly where the cluster would put them; a later run evaluates the promoted
model as its baseline, like the `main` row of `dvc exp show`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from rich.console import Console

from kubedrift import decisions, storage
from kubedrift.datasets import source_window
from kubedrift.errors import EmptyWindow, TrainingError
from kubedrift.history import record
from kubedrift.local.grid_runner import Interrupted, LocalRun, print_table, run_grid
from kubedrift.local.progress import progress_bar
from kubedrift.local.render import print_drift
from kubedrift.models.driftcheck import DataSource, DriftCheckSpec
from kubedrift.models.jobconfig import CheckJobConfig, TrainJobConfig
from kubedrift.models.report import DriftReport
from kubedrift.models.resources import DriftCheck
from kubedrift.models.results import CheckSkipped, CheckSummary, FailedTrial, TrialSummary
from kubedrift.table.trials import experiment_name
from kubedrift_jobs.drift.job import publish, report_folder
from kubedrift_jobs.drift.summary import check_summary
from kubedrift_jobs.promote import copy_model
from kubedrift_jobs.train.trial import TrialResult

PRODUCTION_RECORD = "production.json"
INTERRUPTED_RECORD = "interrupted.json"


@dataclass
class Promotion:
    promoted: bool
    message: str
    experiment: str | None = None
    objective: float | None = None
    uri: str | None = None


@dataclass
class LocalOutcome:
    check: CheckSummary | CheckSkipped
    retrain_reason: str | None
    run: LocalRun | None
    promotion: Promotion | None

    def to_wire(self) -> dict[str, Any]:
        out: dict[str, Any] = {"check": self.check.to_wire(), "retrainReason": self.retrain_reason}
        if self.run is not None:
            out["run"] = {
                "id": self.run.config.run,
                "trials": [s.to_wire() for s in self.run.summaries if isinstance(s, TrialSummary)],
                "failed": [
                    {"index": f.index, "reason": f.reason, "message": f.message} for f in self.run.failed
                ],
            }
        if self.promotion is not None:
            out["promotion"] = {k: v for k, v in vars(self.promotion).items() if v is not None}
        return out


def run_local(
    check: DriftCheck,
    console: Console,
    *,
    workers: int | None = None,
    force_retrain: bool = False,
    progress: bool = True,
    at: datetime | None = None,
    backfill: bool = False,
) -> LocalOutcome:
    """One check of the windows of `at` (default: now), and the retrain its trigger asks for.

    Its outcome joins the history under reportsUri once per scheduled time; a scheduled time the
    history has is skipped, as is an empty window (no retrain then). A backfill's checks
    (`backfill`) print one line each and retrain only when `force_retrain` asks."""
    name, namespace, spec = check.metadata.name, check.metadata.namespace or "default", check.spec
    scheduled = at or datetime.now(UTC)
    destination = decisions.promotion_destination(spec, name)
    plain = CheckJobConfig.from_spec(name, namespace, spec)
    production = _production(destination, plain)
    config = CheckJobConfig.from_spec(name, namespace, spec, reference=_followed(spec, production))
    result = _drift_check(config, console, progress and not backfill, scheduled)
    if isinstance(result, CheckSkipped):
        console.print(f"{scheduled:%Y-%m-%d %H:%M %Z}: skipped ({result.skipped}): {result.message}")
        return LocalOutcome(result, None, None, None)
    report = result
    summary = check_summary(report)
    if backfill:
        console.print(
            f"{scheduled:%Y-%m-%d %H:%M %Z}: drift share {summary.drift_share:.2f}"
            f"{' (dataset drift)' if summary.dataset_drift else ''}",
            highlight=False,
        )
    else:
        print_drift(report, console)

    reason = (
        "Manual"
        if force_retrain
        else None
        if backfill
        else decisions.retrain_reason(
            spec.retrain.trigger if spec.retrain else "Manual", summary.dataset_drift
        )
    )
    if spec.retrain is None or reason is None:
        why = "no retrain section" if spec.retrain is None else f"trigger {spec.retrain.trigger}"
        if backfill and spec.retrain is not None:
            why = "a backfill retrains only with --retrain"
        if not backfill:
            console.print(f"no retrain run ({why}; dataset drift: {summary.dataset_drift})")
        return LocalOutcome(summary, None, None, None)

    run_id = new_run_id(spec.storage.reports_uri, name, config)
    train_config = TrainJobConfig.from_spec(
        name,
        namespace,
        run_id,
        spec,
        baseline_model_uri=destination if production else None,
        scheduled_at=scheduled,
    )
    artifacts = storage.join(spec.storage.reports_uri, name, run_id)
    console.print(f"retrain run {run_id} ({reason}): artifacts under {artifacts}", soft_wrap=True)
    try:
        run = run_grid(train_config, workers=workers, console=console, progress=progress)
    except Interrupted as interrupted:
        mark_interrupted(artifacts, interrupted, config)
        interrupted.folder = artifacts
        raise
    print_table(run, console)
    trials = [
        o.summary for o in run.outcomes.values() if isinstance(o, TrialResult) and not o.summary.baseline
    ]
    if not trials:
        raise TrainingError(f"every trial of run {run_id} failed; see the table above")
    promotion = _promote(check, run, trials, destination, config, production)
    console.print(promotion.message, soft_wrap=True, highlight=False)
    return LocalOutcome(summary, reason, run, promotion)


def new_run_id(reports_uri: str, check: str, config: CheckJobConfig) -> str:
    """`local-<UTC time to the microsecond>`, unique among this check's run folders.

    Two runs started within one second (or, on a coarse clock, one microsecond)
    must not share a folder: a taken id gets a counter.
    """
    base = "local-" + datetime.now(UTC).strftime("%Y%m%dt%H%M%S-%f")
    candidate, counter = base, 1
    while storage.exists(storage.join(reports_uri, check, candidate), config.storage):
        counter += 1
        candidate = f"{base}-{counter}"
    return candidate


def mark_interrupted(folder: str, interrupted: Interrupted, config: CheckJobConfig) -> None:
    """Leave `interrupted.json` in the run's folder: a reader knows the run is incomplete, and why."""
    record = {
        "run": interrupted.run.config.run,
        "state": "Interrupted",
        "interruptedAt": datetime.now(UTC).isoformat(),
        "finished": sorted(interrupted.run.outcomes),
        "stopped": interrupted.stopped,
        "neverStarted": interrupted.cancelled,
    }
    storage.write_text(storage.join(folder, INTERRUPTED_RECORD), json.dumps(record, indent=1), config.storage)


def _followed(spec: DriftCheckSpec, production: dict[str, Any] | None) -> DataSource | None:
    """With reference.followProduction, the promoted model's training data (as its promotion
    recorded it); before any promotion, None: the reference as written."""
    if not spec.reference.follow_production or production is None or "trainingData" not in production:
        return None
    return DataSource.from_wire(production["trainingData"])


def _drift_check(
    config: CheckJobConfig, console: Console, progress: bool, at: datetime
) -> DriftReport | CheckSkipped:
    from kubedrift_jobs.drift.engine import run_check
    from kubedrift_jobs.drift.job import history_entry, skipped_check

    skipped = skipped_check(config, at)
    if skipped is not None:
        return skipped
    bar = progress_bar("checking", console, enabled=progress, unit="columns")
    try:
        with bar:
            task = bar.add_task("", total=None)  # the column count is known once the data is open

            def advance(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            report = run_check(config, report_folder(config, at), on_column=advance, scheduled_at=at)
    except EmptyWindow as error:
        return CheckSkipped(
            skipped="EmptyWindow",
            message=error.message,
            scheduled_at=at,
            window=source_window(config.current, at, config.zone),
        )
    written = publish(report, config)
    record(
        history_entry(written, check_summary(written)),
        config.storage.reports_uri,
        config.check,
        config.storage,
    )
    return written


def _production(destination: str, config: CheckJobConfig) -> dict[str, Any] | None:
    record = storage.join(destination, PRODUCTION_RECORD)
    if not storage.exists(record, config.storage):
        return None
    document: dict[str, Any] = json.loads(storage.read_bytes(record, config.storage))
    return document


def reevaluation(run: LocalRun, production: dict[str, Any] | None) -> decisions.Reevaluation | None:
    """The run's baseline row as the shared verdict reads it: the production model on this run's data."""
    if production is None:
        return None
    for outcome in run.outcomes.values():
        if isinstance(outcome, TrialResult) and outcome.summary.baseline:
            return decisions.Reevaluation(production["experiment"], outcome.summary.objective)
        if isinstance(outcome, FailedTrial) and outcome.baseline:
            return decisions.Reevaluation(
                production["experiment"], failure=f"{outcome.reason}: {outcome.message}"
            )
    return None


def _promote(
    check: DriftCheck,
    run: LocalRun,
    trials: list[TrialSummary],
    destination: str,
    config: CheckJobConfig,
    production: dict[str, Any] | None,
) -> Promotion:
    retrain, policy = check.spec.retrain, check.spec.promotion
    assert retrain is not None
    objective = retrain.objective
    best_index = decisions.best(
        {t.index: t.objective for t in sorted(trials, key=lambda t: t.index)}, objective.goal
    )
    best = next((t for t in trials if t.index == best_index), None)
    label = experiment_name(best.trial_id) if best is not None else "none"
    verdict = decisions.promotion_verdict(
        best_experiment=label,
        best_objective=best.objective if best is not None else None,
        metric=objective.metric,
        goal=objective.goal,
        policy=policy.policy,
        min_improvement=policy.min_improvement,
        production=(
            decisions.Production(production["experiment"], production.get("objective"))
            if production
            else None
        ),
        reevaluation=reevaluation(run, production),
    )
    if best is None or best.objective is None:
        return Promotion(False, verdict.message)
    if not verdict.promote:
        kept = "; production kept" if verdict.reason == "NotImproved" else ""
        return Promotion(False, verdict.message + kept, label, best.objective)
    target = copy_model(best.model_uri, destination, config.storage)
    record = {
        "experiment": label,
        "run": run.config.run,
        # what the model learned from: a followProduction reference compares with it
        "trainingData": run.config.retrain.train.to_wire(),
        "trainingDataVersion": best.train_data_version,
        "index": best.index,
        "objective": best.objective,
        "metric": objective.metric,
        "params": best.params,
        "source": best.model_uri,
        "promotedAt": datetime.now(UTC).isoformat(),
    }
    storage.write_text(
        storage.join(destination, PRODUCTION_RECORD), json.dumps(record, indent=1), config.storage
    )
    return Promotion(True, f"promoted {label} ({verdict.message}) to {target}", label, best.objective, target)
