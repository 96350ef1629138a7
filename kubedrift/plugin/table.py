"""The comparison table of `kubectl drift exp show`, like `dvc exp show`.

Pure functions from Experiment (and DriftCheck) objects to a `Table`: one row
per Experiment, one column per metric and per param, the production model as a
baseline row pinned on top, the best trial marked by the objective's goal.
Nothing here talks to the API or prints.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from kubedrift.models.driftcheck import Goal, ParamValue
from kubedrift.models.resources import DriftCheck, Experiment

SortOrder = Literal["asc", "desc"]

# Used only when no DriftCheck says which way its objective goes (e.g. it was
# deleted) and for metrics other than the objective: lower is better for these.
LOWER_IS_BETTER = frozenset({"log_loss", "rmse", "mae"})


@dataclass(frozen=True)
class ObjectiveRef:
    metric: str
    goal: Goal


@dataclass(frozen=True)
class Row:
    experiment: str
    run: str
    phase: str
    params: Mapping[str, ParamValue] = field(default_factory=dict)
    metrics: Mapping[str, float] = field(default_factory=dict)
    undefined_metrics: Mapping[str, str] = field(default_factory=dict)
    data_version: str | None = None
    reason: str | None = None
    promoted: bool = False
    baseline: bool = False
    best: bool = False


@dataclass(frozen=True)
class Table:
    check: str
    objective: ObjectiveRef | None
    metric_columns: tuple[str, ...]
    param_columns: tuple[str, ...]
    rows: tuple[Row, ...]  # the baseline first, when there is one

    @property
    def runs(self) -> tuple[str, ...]:
        return tuple(sorted({row.run for row in self.rows if not row.baseline}))


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


def metric_goal(metric: str, objective: ObjectiveRef | None = None) -> Goal:
    if objective is not None and metric == objective.metric:
        return objective.goal
    return "minimize" if metric in LOWER_IS_BETTER else "maximize"


def metric_columns(rows: Iterable[Row], objective: ObjectiveRef | None) -> tuple[str, ...]:
    """Every metric any row has (defined or not), the objective first, then by name."""
    names = {name for row in rows for name in (*row.metrics, *row.undefined_metrics)}
    if objective is not None:
        names.add(objective.metric)
    first = [objective.metric] if objective is not None else []
    return (*first, *sorted(names - set(first)))


def param_columns(rows: Sequence[Row], only_changed: bool = False) -> tuple[str, ...]:
    """Every param of the trials: those that vary first, then the fixed ones, each by name.

    Whether a param varies is decided over the trials alone: the baseline may come
    from another run with other fixed params and would make everything look changed.
    """
    trials = [row for row in rows if not row.baseline] or list(rows)
    names = sorted({name for row in rows for name in row.params})
    varying = [name for name in names if len({_param_key(row, name) for row in trials}) > 1]
    if only_changed:
        return tuple(varying)
    return (*varying, *(name for name in names if name not in varying))


def _param_key(row: Row, name: str) -> str:
    return json.dumps(row.params[name], sort_keys=True) if name in row.params else "\0missing"


def best_trial(rows: Iterable[Row], objective: ObjectiveRef | None) -> str | None:
    """The Succeeded trial with the best objective value; the first by name on a tie."""
    if objective is None:
        return None
    scored = [
        row
        for row in rows
        if not row.baseline and row.phase == "Succeeded" and objective.metric in row.metrics
    ]
    if not scored:
        return None
    sign = -1 if objective.goal == "maximize" else 1
    return min(scored, key=lambda row: (sign * row.metrics[objective.metric], row.experiment)).experiment


def sort_key(name: str, table_objective: ObjectiveRef | None, order: SortOrder | None) -> Any:
    """A key that sorts rows by a metric or a param; rows without a value always go last.

    Without an explicit order, metrics sort best first (by their goal) and params
    ascending.
    """

    def key(row: Row) -> tuple[int, Any, str]:
        if name in row.metrics:
            value: Any = row.metrics[name]
            descending = (order or _best_first(name, table_objective)) == "desc"
            return (0, -value if descending else value, row.experiment)
        if name in row.params:
            comparable = _comparable(row.params[name])
            return (0, _Reversed(comparable) if order == "desc" else comparable, row.experiment)
        return (1, 0, row.experiment)

    return key


def _best_first(metric: str, objective: ObjectiveRef | None) -> SortOrder:
    return "desc" if metric_goal(metric, objective) == "maximize" else "asc"


def _comparable(value: ParamValue) -> tuple[int, Any]:
    if isinstance(value, bool):
        return (1, int(value))
    if isinstance(value, int | float):
        return (0, value)
    if isinstance(value, str):
        return (2, value)
    return (3, json.dumps(value, sort_keys=True))


@dataclass(frozen=True)
class _Reversed:
    value: Any

    def __lt__(self, other: _Reversed) -> bool:
        return bool(other.value < self.value)


class UnknownColumn(ValueError):
    pass


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

    Rows sort by `sort_by` (a metric or param name), by default the objective,
    best first; the baseline row stays on top whatever the order. `production`
    is the promoted Experiment when it is not among `experiments` (another run).
    """
    objective = objective_of(check, experiments)
    trials = [experiment_row(e) for e in experiments]
    candidates = [*experiments, *([production] if production is not None else [])]
    baseline = baseline_row(check, candidates, objective) if check is not None else None
    everything = [baseline, *trials] if baseline is not None else trials

    metrics = metric_columns(everything, objective)
    params = param_columns(everything, only_changed)
    all_params = param_columns(everything)
    key_name = sort_by or (objective.metric if objective is not None else None)
    if sort_by is not None and sort_by not in metrics and sort_by not in all_params:
        known = ", ".join((*metrics, *all_params)) or "none"
        raise UnknownColumn(f"cannot sort by {sort_by!r}: no such metric or param (known: {known})")

    if key_name is not None:
        trials.sort(key=sort_key(key_name, objective, sort_order))
    else:
        trials.sort(key=lambda row: row.experiment)
    best = best_trial(trials, objective)
    trials = [replace(row, best=row.experiment == best) for row in trials]
    rows = [baseline, *trials] if baseline is not None else trials
    return Table(
        check=check_name,
        objective=objective,
        metric_columns=metrics,
        param_columns=params,
        rows=tuple(rows),
    )


def group_by_check(experiments: Iterable[Experiment]) -> dict[str, list[Experiment]]:
    groups: dict[str, list[Experiment]] = {}
    for experiment in experiments:
        groups.setdefault(experiment.spec.check, []).append(experiment)
    return dict(sorted(groups.items()))
