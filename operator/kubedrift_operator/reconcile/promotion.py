"""Promotion: pick the model that goes to production, copy it with a Job, record it.

The pending promotion is recorded in status before its Job exists (like a run), and
the production model only once the copy Job has succeeded.
"""

from __future__ import annotations

from pydantic import ValidationError

from kubedrift.decisions import Production, Reevaluation, promotion_verdict
from kubedrift.models.driftcheck import DataSource
from kubedrift.models.resources import ANNOTATION_PROMOTE, handled_trigger_key
from kubedrift.models.status import (
    HISTORY_LIMIT,
    ExperimentStatus,
    PendingPromotion,
    ProductionModel,
    PromotionRecord,
    RunStatus,
)
from kubedrift.models.windows import TimeWindow, Window
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
        trained = draft.experiment_status(pending.experiment)
        production = ProductionModel(
            experiment=pending.experiment,
            objective=pending.objective,
            uri=pending.uri,
            promoted_at=at,
            training_data=training_data(draft, pending.experiment),
            training_data_version=trained.train_data_version if trained is not None else None,
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


def training_data(draft: Draft, experiment: str) -> DataSource | None:
    """The promoted trial's training data as its Experiment records it: the uri and the resolved
    window, read with the spec's time layout (the DriftCheck's reference when followProduction)."""
    exp = draft.children.experiments.get(experiment)
    retrain = draft.check.spec.retrain
    if exp is None or retrain is None:
        return None
    spec = exp.get("spec") or {}
    try:
        window = TimeWindow.model_validate(spec["trainWindow"]) if spec.get("trainWindow") else None
        uri = str(spec["trainUri"])
    except (KeyError, ValidationError):
        return None
    if window is None:
        return DataSource(uri=uri)
    return DataSource(uri=uri, time=retrain.train.time, window=Window(from_=window.start, to=window.end))


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


def promotion_inputs(
    run: RunStatus, production: ProductionModel | None
) -> tuple[Production | None, Reevaluation | None]:
    """The recorded production model and this run's re-evaluation of it, as the shared verdict reads them."""
    recorded = Production(production.experiment, production.objective) if production else None
    baseline = run.baseline
    if baseline is None:
        return recorded, None
    failure = f"{baseline.reason}: {baseline.message}" if baseline.phase == "Failed" else None
    return recorded, Reevaluation(baseline.experiment, baseline.objective, failure)


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
    production, reevaluation = promotion_inputs(run, draft.status.production)
    verdict = promotion_verdict(
        best_experiment=run.best_experiment,
        best_objective=run.best_objective,
        metric=retrain.objective.metric,
        goal=retrain.objective.goal,
        policy=policy.policy,
        min_improvement=policy.min_improvement,
        production=production,
        reevaluation=reevaluation,
    )
    if not verdict.promote:
        draft.promoted_condition = ("True", verdict.reason, verdict.message)
        draft.event("Normal", "PromotionSkipped", verdict.message)
        return
    parsed = draft.experiment_status(run.best_experiment)
    if parsed is None or not parsed.model_uri:
        return
    _start(draft, run.best_experiment, parsed, "Auto", f"auto={run.name}", verdict.message)


def mark_promoted_experiments(draft: Draft) -> None:
    """Exactly the production Experiment carries `promoted: true`."""
    production = draft.status.production.experiment if draft.status.production else None
    for name in draft.children.experiments:
        status = draft.experiment_status(name) or ExperimentStatus()
        if status.promoted != (name == production):
            draft.plan.experiment_status[name] = status.model_copy(update={"promoted": name == production})
