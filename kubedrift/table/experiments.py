"""Rows of the comparison table from Experiment resources: `kubectl drift exp show`.

The production model is the baseline row: its Experiment when that still
exists, else what the DriftCheck's status recorded when it was promoted.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from kubedrift.models.resources import DriftCheck, Experiment
from kubedrift.table.model import ObjectiveRef, Row, SortOrder, Table, assemble, metric_goal


def experiment_row(experiment: Experiment) -> Row:
    status = experiment.status
    return Row(
        experiment=experiment.metadata.name,
        run=experiment.spec.run,
        phase=status.phase,
        params=dict(experiment.spec.params),
        metrics=dict(status.metrics),
        undefined_metrics=dict(status.undefined_metrics),
        data_version=status.data_version,
        reason=status.reason,
        message=status.message,
        index=experiment.spec.index,
        promoted=status.promoted,
    )


def baseline_row(
    check: DriftCheck, experiments: Iterable[Experiment], objective: ObjectiveRef | None
) -> Row | None:
    """The production model as a row: its Experiment's values when that still exists,
    else the objective value the DriftCheck recorded when it was promoted."""
    production = check.status.production
    if production is None:
        return None
    source = next((e for e in experiments if e.metadata.name == production.experiment), None)
    if source is not None:
        return replace(experiment_row(source), baseline=True, promoted=True)
    metrics = {}
    if objective is not None and production.objective is not None:
        metrics[objective.metric] = production.objective
    return Row(
        experiment=production.experiment,
        run="",
        phase="Promoted",
        metrics=metrics,
        promoted=True,
        baseline=True,
    )


def objective_of(check: DriftCheck | None, experiments: Sequence[Experiment]) -> ObjectiveRef | None:
    """The objective from the DriftCheck's spec, else guessed from the Experiments' metric."""
    if check is not None and check.spec.retrain is not None:
        objective = check.spec.retrain.objective
        return ObjectiveRef(objective.metric, objective.goal)
    if not experiments:
        return None
    metric = experiments[0].spec.objective_metric
    return ObjectiveRef(metric, metric_goal(metric))


def build_table(
    check_name: str,
    experiments: Sequence[Experiment],
    check: DriftCheck | None = None,
    *,
    sort_by: str | None = None,
    sort_order: SortOrder | None = None,
    only_changed: bool = False,
    production: Experiment | None = None,
) -> Table:
    """The comparison table of one DriftCheck's Experiments.

    `production` is the promoted Experiment when it is not among `experiments`
    (another run).
    """
    objective = objective_of(check, experiments)
    retrain = check.spec.retrain if check is not None else None
    estimators = {e.spec.estimator for e in experiments}
    candidates = [*experiments, *([production] if production is not None else [])]
    baseline = baseline_row(check, candidates, objective) if check is not None else None
    return assemble(
        check_name,
        [experiment_row(e) for e in experiments],
        baseline,
        objective,
        sort_by=sort_by,
        sort_order=sort_order,
        only_changed=only_changed,
        declared_metrics=retrain.metrics if retrain is not None else (),
        estimator=estimators.pop() if len(estimators) == 1 else None,
    )


def group_by_check(experiments: Iterable[Experiment]) -> dict[str, list[Experiment]]:
    groups: dict[str, list[Experiment]] = {}
    for experiment in experiments:
        groups.setdefault(experiment.spec.check, []).append(experiment)
    return dict(sorted(groups.items()))
