"""Promotion: pick the model that goes to production, copy it with a Job, record it.

The pending promotion is recorded in status before its Job exists (like a run), and
the production model only once the copy Job has succeeded.
"""

from __future__ import annotations

from kubedrift.decisions import improves
from kubedrift.models.resources import ANNOTATION_PROMOTE, handled_trigger_key
from kubedrift.models.status import (
    HISTORY_LIMIT,
    ExperimentStatus,
    PendingPromotion,
    ProductionModel,
    PromotionRecord,
    RunStatus,
)
from kubedrift_operator import names, observe
from kubedrift_operator.build.promotion import destination, promotion_job
from kubedrift_operator.reconcile.draft import Draft

HANDLED_PREFIX = f"{ANNOTATION_PROMOTE}/"  # the keys handled_trigger_key gives promotions


def follow_promotion(draft: Draft) -> None:
    pending = draft.status.promoting
    if pending is None:
        return
    job = draft.children.jobs.get(pending.job)
    if job is None:
        draft.plan.create.append(
            promotion_job(draft.check, draft.settings, pending.job, pending.source_uri, pending.uri)
        )
        return
    outcome = observe.job_outcome(job)
    if outcome is None:
        return
    if outcome.complete:
        at = outcome.finished_at or draft.now
        production = ProductionModel(
            experiment=pending.experiment, objective=pending.objective, uri=pending.uri, promoted_at=at
        )
        record = PromotionRecord(experiment=pending.experiment, objective=pending.objective, promoted_at=at)
        draft.update(
            production=production,
            promotions=[record, *draft.status.promotions][:HISTORY_LIMIT],
            promoting=None,
        )
        draft.promoted_condition = (
            "True",
            f"{pending.reason}Promoted",
            f"{pending.experiment} is in production at {pending.uri}",
        )
        draft.event("Normal", "Promoted", f"{pending.experiment} ({pending.reason}) copied to {pending.uri}")
        draft.count("promotions", result="succeeded")
        return
    pods = draft.children.pods_of_job(pending.job)
    pod = observe.newest(pods, "Failed")
    failure = observe.failure(observe.termination(pod)) if pod else None
    why = f"{failure.reason}: {failure.message}" if failure else f"{outcome.reason}: {outcome.message}"
    draft.update(promoting=None)
    draft.promoted_condition = (
        "True" if draft.status.production else "False",
        "PromotionFailed",
        f"copying {pending.experiment} failed: {why}",
    )
    draft.event("Warning", "PromotionFailed", f"copying {pending.experiment} to {pending.uri} failed: {why}")
    draft.count("promotions", result="failed")


def _start(
    draft: Draft, experiment: str, status: ExperimentStatus, reason: str, trigger: str, why: str = ""
) -> None:
    assert status.model_uri is not None
    job = names.promotion_job(draft.name, experiment, trigger)
    draft.update(
        promoting=PendingPromotion(
            experiment=experiment,
            job=job,
            reason=reason,
            objective=status.objective,
            source_uri=status.model_uri,
            uri=destination(draft.check),
            requested_at=draft.now,
        )
    )
    because = f": {why}" if why else ""
    draft.event("Normal", "Promoting", f"promoting {experiment} ({reason}) with Job {job}{because}")
    draft.plan.create.append(
        promotion_job(draft.check, draft.settings, job, status.model_uri, destination(draft.check))
    )


def handle_promote_annotations(draft: Draft) -> None:
    """`kubedrift.io/promote: <any new value>` on an Experiment promotes it, once per value."""
    handled = dict(draft.status.handled_triggers)
    # Forget triggers of Experiments that are gone, so the map stays bounded.
    for key in [k for k in handled if k.startswith(HANDLED_PREFIX)]:
        if key.removeprefix(HANDLED_PREFIX) not in draft.children.experiments:
            del handled[key]
    requests = sorted(
        (exp["metadata"]["name"], value, exp)
        for exp in draft.children.experiments.values()
        if (value := (exp["metadata"].get("annotations") or {}).get(ANNOTATION_PROMOTE)) is not None
        and handled.get(handled_trigger_key(ANNOTATION_PROMOTE, exp["metadata"]["name"])) != value
    )
    if requests and draft.status.promoting is None:
        name, value, exp = requests[0]  # one promotion at a time; the others wait their turn
        handled[handled_trigger_key(ANNOTATION_PROMOTE, name)] = value
        parsed = draft.experiment_status(name)
        if parsed is None or parsed.phase != "Succeeded" or not parsed.model_uri:
            draft.event(
                "Warning",
                "PromotionRejected",
                f"{name} cannot be promoted: it has not succeeded "
                f"(phase {parsed.phase if parsed else 'unknown'})",
                kind="Experiment",
                name=name,
                uid=exp["metadata"].get("uid"),
            )
        else:
            _start(draft, name, parsed, "Manual", f"manual={value}")
    if handled != draft.status.handled_triggers:
        draft.update(handled_triggers=handled)


def production_benchmark(run: RunStatus, production: ProductionModel | None) -> tuple[float | None, str]:
    """The production objective a run's best trial must beat, and how to say where it comes from.

    The production model re-evaluated on this run's test data (the run's baseline index)
    when that succeeded; otherwise the objective recorded at its promotion, measured on
    older test data, with the reason for the fallback.
    """
    if production is None:
        return None, "no production model"
    baseline = run.baseline
    recorded = production.objective
    if (
        baseline is not None
        and baseline.experiment == production.experiment
        and baseline.objective is not None
    ):
        return baseline.objective, (
            f"production {production.experiment} ({baseline.objective:.4g} on this run's test data)"
        )
    if baseline is None:
        why = "this run has no baseline"
    elif baseline.experiment != production.experiment:
        why = f"this run re-evaluated {baseline.experiment}, which is no longer in production"
    elif baseline.phase == "Failed":
        why = f"its re-evaluation on this run's test data failed: {baseline.reason}: {baseline.message}"
    else:
        why = "its re-evaluation on this run's test data has no value for the objective"
    shown = f"{recorded:.4g}" if recorded is not None else "none"
    return recorded, f"production {production.experiment} ({shown} recorded at its promotion; {why})"


def auto_promote(draft: Draft) -> None:
    """After a run ended: promote its best trial when it beats production by the margin.

    Production is measured on the same test data as the trials (the run's baseline).
    """
    run = draft.status.run
    policy = draft.check.spec.promotion
    if (
        policy.policy != "Auto"
        or run is None
        or run.best_experiment is None
        or draft.status.promoting is not None
    ):
        return
    retrain = draft.check.spec.retrain
    assert retrain is not None
    best = run.best_objective
    against, benchmark = production_benchmark(run, draft.status.production)
    margin = policy.min_improvement
    if (
        against is not None
        and best is not None
        and not improves(best, against, retrain.objective.goal, margin)
    ):
        message = (
            f"best {run.best_experiment} {retrain.objective.metric}={best:.4g} does not beat "
            f"{benchmark} by more than {margin}"
        )
        draft.promoted_condition = ("True", "NotImproved", message)
        draft.event("Normal", "PromotionSkipped", message)
        return
    parsed = draft.experiment_status(run.best_experiment)
    if parsed is None or not parsed.model_uri:
        return
    shown = f"{best:.4g}" if best is not None else "none"
    why = f"{retrain.objective.metric}={shown} against {benchmark}"
    _start(draft, run.best_experiment, parsed, "Auto", f"auto={run.name}", why)


def mark_promoted_experiments(draft: Draft) -> None:
    """Exactly the production Experiment carries `promoted: true`."""
    production = draft.status.production.experiment if draft.status.production else None
    for name in draft.children.experiments:
        status = draft.experiment_status(name) or ExperimentStatus()
        if status.promoted != (name == production):
            draft.plan.experiment_status[name] = status.model_copy(update={"promoted": name == production})
