"""Retrain runs: start one when a check asks for it, follow its trials, summarise it.

A run is recorded in the DriftCheck status *before* any of its children exist; the
children (config, Experiments, the Indexed Job) are then created under deterministic
names on every reconcile until they exist. So a crash can delay a run but never
duplicate or lose it.

When a production model exists at the run's start, the run records it as its baseline:
the Job gets one more index (after the last trial) that evaluates the production model
on the run's test data. It has no Experiment; its result goes to `run.baseline`.
"""

from __future__ import annotations

from datetime import datetime

from kubedrift import decisions
from kubedrift.decisions import retrain_reason
from kubedrift.models.resources import ANNOTATION_RETRAIN_NOW, LABEL_INDEX
from kubedrift.models.status import BaselineStatus, ExperimentStatus, LastCheck, RunStatus
from kubedrift.text import shorten
from kubedrift_operator import names, observe
from kubedrift_operator.build import run as build
from kubedrift_operator.build.common import JSON
from kubedrift_operator.reconcile.draft import Draft

TERMINAL = ("Succeeded", "Failed")
METRICS_SUMMARY_LIMIT = 120
FAILURE_SUMMARY_LIMIT = 600


def maybe_start_run(draft: Draft, new_checks: list[LastCheck]) -> None:
    """Start a run on drift (or after every check, or on the retrain annotation)."""
    retrain = draft.check.spec.retrain
    run = draft.status.run
    if run is not None and run.phase == "Running":
        return  # one run at a time; a pending retrain-now waits for this one to end
    value = draft.check.metadata.annotations.get(ANNOTATION_RETRAIN_NOW)
    if value is not None and draft.status.handled_triggers.get(ANNOTATION_RETRAIN_NOW) != value:
        draft.update(handled_triggers={**draft.status.handled_triggers, ANNOTATION_RETRAIN_NOW: value})
        if retrain is None:
            draft.event(
                "Warning", "RetrainNotConfigured", "retrain requested, but the spec has no retrain section"
            )
            return
        # A manual run trains on the windows of the newest check (else of now).
        last = draft.status.last_check
        at = last.scheduled_at if last is not None and last.scheduled_at is not None else draft.now
        _start(draft, reason="Manual", trigger=f"{ANNOTATION_RETRAIN_NOW}={value}", scheduled_at=at)
        return
    if retrain is None or not new_checks:
        return
    latest = new_checks[-1]
    reason = retrain_reason(retrain.trigger, latest.dataset_drift) if latest.succeeded else None
    if reason is not None:
        _start(draft, reason=reason, trigger=latest.job, scheduled_at=latest.scheduled_at or latest.time)


def _start(draft: Draft, *, reason: str, trigger: str, scheduled_at: datetime) -> None:
    """Record the run; its train and test windows are those of `scheduled_at` (the triggering
    check's scheduled time), fixed here for every index and every re-render of its config."""
    run_id = names.run_id(f"{draft.check.metadata.uid}/{trigger}")
    total = build.trials(draft.check)
    train_window, test_window = build.run_windows(draft.check, scheduled_at)
    production = draft.status.production
    baseline = BaselineStatus(experiment=production.experiment, uri=production.uri) if production else None
    draft.update(
        run=RunStatus(
            name=run_id,
            job=names.run_job(draft.name, run_id),
            reason=reason,
            trigger=trigger,
            generation=draft.check.metadata.generation,
            phase="Running",
            started_at=draft.now,
            trials_total=total,
            trials_running=total,
            baseline=baseline,
            scheduled_at=scheduled_at,
            train_window=train_window,
            test_window=test_window,
        )
    )
    evaluates = f", and production {baseline.experiment} re-evaluated as index {total}" if baseline else ""
    if train_window is not None or test_window is not None:
        evaluates += f"; train {train_window or 'as written'}, test {test_window or 'as written'}"
    draft.event(
        "Normal",
        "RetrainStarted",
        f"run {run_id} ({reason}): {total} trials in Job {names.run_job(draft.name, run_id)}{evaluates}",
    )
    draft.count("runs_started", reason=reason)


def follow_run(draft: Draft) -> bool:
    """Create what the active run lacks, update its Experiments; True when it just ended."""
    run = draft.status.run
    if run is None or run.phase != "Running" or draft.check.spec.retrain is None:
        return False
    children = draft.children
    config = build.run_config_map(
        draft.check, run.name, run.baseline.uri if run.baseline else None, run.scheduled_at
    )
    if config["metadata"]["name"] not in children.config_maps:
        draft.plan.create.append(config)
    for index in range(run.trials_total):
        exp_name = names.experiment(draft.name, run.name, index)
        if exp_name not in children.experiments:
            draft.plan.create.append(build.experiment(draft.check, run.name, index, run.scheduled_at))
    job = children.jobs.get(run.job)
    if job is None:
        draft.plan.create.append(
            build.run_job(draft.check, run.name, draft.settings, baseline=run.baseline is not None)
        )

    statuses: dict[int, ExperimentStatus] = {}
    pods = children.pods_of_job(run.job)
    for exp in children.experiments_of_run(run.name):
        index = int(exp["metadata"]["labels"].get(LABEL_INDEX, exp.get("spec", {}).get("index", -1)))
        old = draft.recorded[exp["metadata"]["name"]] or ExperimentStatus()
        new = (
            old
            if old.phase in TERMINAL
            else trial_status(old, [p for p in pods if observe.pod_index(p) == index], job, index)
        )
        statuses[index] = new
        if new != old:
            draft.plan.experiment_status[exp["metadata"]["name"]] = new
            if new.phase != old.phase:
                draft.count("experiments", phase=new.phase)
            if new.phase == "Failed":
                draft.event(
                    "Warning",
                    "ExperimentFailed",
                    f"trial {index} of run {run.name} failed: {new.reason}: {new.message}",
                    kind="Experiment",
                    name=exp["metadata"]["name"],
                    uid=exp["metadata"].get("uid"),
                )
    if run.baseline is not None and run.baseline.phase not in TERMINAL:
        index = run.trials_total
        baseline = baseline_status(
            run.baseline, [p for p in pods if observe.pod_index(p) == index], job, index
        )
        if baseline.phase == "Failed":
            draft.event(
                "Warning",
                "BaselineFailed",
                f"re-evaluating production {baseline.experiment} on the test data of run {run.name} "
                f"failed: {baseline.reason}: {baseline.message}",
            )
        run = run.model_copy(update={"baseline": baseline})
    return _summarise(draft, run, statuses, job)


def baseline_status(old: BaselineStatus, pods: list[JSON], job: JSON | None, index: int) -> BaselineStatus:
    """The baseline index, read like a trial (same pods, same termination messages)."""
    seen = trial_status(ExperimentStatus(phase=old.phase), pods, job, index)
    return old.model_copy(
        update={
            "phase": seen.phase,
            "objective": seen.objective,
            "reason": seen.reason,
            "message": seen.message,
        }
    )


def metrics_summary(metrics: dict[str, float]) -> str:
    text = " ".join(f"{k}={v:.4g}" for k, v in sorted(metrics.items()))
    return shorten(text, METRICS_SUMMARY_LIMIT)


def trial_status(old: ExperimentStatus, pods: list[JSON], job: JSON | None, index: int) -> ExperimentStatus:
    """One trial's status from its pods (retries leave several) and its Job."""
    started = [t for t in (observe.pod_started_at(p) for p in pods) if t is not None]
    attempts = len([p for p in pods if observe.pod_phase(p) != "Pending"]) or len(pods)
    base = old.model_copy(
        update={
            "attempts": max(old.attempts, attempts),
            "started_at": min(started) if started else old.started_at,
        }
    )
    succeeded = observe.newest(pods, "Succeeded")
    if succeeded is not None:
        term = observe.termination(succeeded)
        summary = observe.trial_summary(term) if term else None
        if summary is None:
            return base.model_copy(
                update={
                    "phase": "Failed",
                    "reason": "ResultUnreadable",
                    "message": "the trial's termination message is not a trial summary",
                }
            )
        return base.model_copy(
            update={
                "phase": "Succeeded",
                "metrics": summary.metrics,
                "metrics_summary": metrics_summary(summary.metrics),
                "undefined_metrics": summary.undefined_metrics,
                "objective": summary.objective,
                "model_uri": summary.model_uri,
                "data_version": summary.data_version,
                "train_data_version": summary.train_data_version,
                "test_data_version": summary.test_data_version,
                "finished_at": term.finished_at if term else None,
            }
        )
    job_status = (job or {}).get("status", {})
    failed_indexes = observe.parse_indexes(job_status.get("failedIndexes"))
    ended = observe.job_outcome(job) if job else None
    if index in failed_indexes or (
        ended and index not in observe.parse_indexes(job_status.get("completedIndexes"))
    ):
        pod = observe.newest(pods, "Failed")
        if pod is None and index not in failed_indexes:
            reason, message = (
                "NotRun",
                f"the run's Job ended ({ended.reason if ended else ''}) before this trial ran",
            )
            finished = ended.finished_at if ended else None
        else:
            term = observe.termination(pod) if pod else None
            failure = observe.failure(term)
            reason, message = failure.reason, failure.message
            finished = term.finished_at if term else None
        return base.model_copy(
            update={"phase": "Failed", "reason": reason, "message": message, "finished_at": finished}
        )
    if pods:
        return base.model_copy(update={"phase": "Running"})
    return base.model_copy(update={"phase": "Pending"})


def shared_failure(statuses: list[ExperimentStatus]) -> str | None:
    """'Reason: message' when every failed trial failed for one reason (e.g. AccessDenied), else None."""
    failed = [s for s in statuses if s.phase == "Failed"]
    if not failed or len({s.reason for s in failed}) != 1:
        return None
    return shorten(f"{failed[0].reason}: {failed[0].message or ''}", FAILURE_SUMMARY_LIMIT)


def _summarise(draft: Draft, run: RunStatus, statuses: dict[int, ExperimentStatus], job: JSON | None) -> bool:
    retrain = draft.check.spec.retrain
    assert retrain is not None
    succeeded = {i: s for i, s in statuses.items() if s.phase == "Succeeded"}
    failed = sum(1 for s in statuses.values() if s.phase == "Failed")
    best = decisions.best({i: s.objective for i, s in sorted(succeeded.items())}, retrain.objective.goal)
    best_name = names.experiment(draft.name, run.name, best) if best is not None else None
    done = (
        job is not None
        and observe.job_outcome(job) is not None
        and len(statuses) == run.trials_total
        and all(s.phase in TERMINAL for s in statuses.values())
        and (run.baseline is None or run.baseline.phase in TERMINAL)
    )
    outcome = observe.job_outcome(job) if done and job else None
    updated = run.model_copy(
        update={
            "trials_succeeded": len(succeeded),
            "trials_failed": failed,
            "trials_running": run.trials_total - len(succeeded) - failed,
            "best_experiment": best_name,
            "best_objective": succeeded[best].objective if best is not None else None,
            "trials_failure": shared_failure(list(statuses.values())),
            "phase": ("Succeeded" if succeeded else "Failed") if done else "Running",
            "finished_at": (outcome.finished_at or draft.now) if outcome else None,
        }
    )
    draft.update(run=updated)
    if not done:
        return False
    text = f"run {run.name}: {len(succeeded)} of {run.trials_total} trials succeeded, {failed} failed" + (
        f"; best {best_name} {retrain.objective.metric}={updated.best_objective:.4g}" if best_name else ""
    )
    if updated.trials_failure:
        text += f"; the failed trials: {updated.trials_failure}"
    baseline = updated.baseline
    if baseline is not None:
        text += (
            f"; production {baseline.experiment} on this test data: {baseline.objective:.4g}"
            if baseline.objective is not None
            else f"; production {baseline.experiment} not re-evaluated ({baseline.reason or 'no value'})"
        )
    if succeeded:
        draft.event("Normal", "RetrainSucceeded", text)
    else:
        draft.event("Warning", "RetrainFailed", text)
    draft.count("runs_finished", phase=updated.phase)
    return True
