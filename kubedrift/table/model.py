"""The comparison table, like `dvc exp show`: rows, columns, order and the best mark.

One row per trial, one column per metric and per param, the production model as
a baseline row pinned on top, the best trial marked by the objective's goal.
Where rows come from is someone else's business (`experiments`, `trials`);
everything here works on rows alone. Nothing here talks to the API or prints.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from kubedrift import decisions
from kubedrift.models.driftcheck import Goal, ParamValue
from kubedrift.models.metrics import LOWER_IS_BETTER

SortOrder = Literal["asc", "desc"]


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
    message: str | None = None
    index: int | None = None  # the completion index in its run; breaks ties, as the operator does
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
    estimator: str | None = None  # when every trial used the same one
    # Cluster Experiment names end in their index; local ones (exp-<trial id>) do not,
    # and the index is where a local trial's artifacts are.
    show_index: bool = False

    @property
    def runs(self) -> tuple[str, ...]:
        return tuple(sorted({row.run for row in self.rows if not row.baseline}))


def metric_goal(metric: str, objective: ObjectiveRef | None = None) -> Goal:
    if objective is not None and metric == objective.metric:
        return objective.goal
    return "minimize" if metric in LOWER_IS_BETTER else "maximize"


def metric_columns(
    rows: Iterable[Row], objective: ObjectiveRef | None, declared: Sequence[str] = ()
) -> tuple[str, ...]:
    """Every metric any row has (defined or not): the objective first, then the `declared`
    ones in their order (the spec's `metrics`), then any others by name."""
    names = {name for row in rows for name in (*row.metrics, *row.undefined_metrics)}
    first = list(dict.fromkeys([*([objective.metric] if objective is not None else []), *declared]))
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
    scored = sorted(
        (
            row
            for row in rows
            if not row.baseline and row.phase == "Succeeded" and objective.metric in row.metrics
        ),
        key=_tiebreak,
    )
    return decisions.best({row.experiment: row.metrics[objective.metric] for row in scored}, objective.goal)


def sort_key(name: str, table_objective: ObjectiveRef | None, order: SortOrder | None) -> Any:
    """A key that sorts rows by a metric or a param; rows without a value always go last.

    Without an explicit order, metrics sort best first (by their goal) and params
    ascending.
    """

    def key(row: Row) -> tuple[int, Any, tuple[int, str]]:
        if name in row.metrics:
            value: Any = row.metrics[name]
            descending = (order or _best_first(name, table_objective)) == "desc"
            return (0, -value if descending else value, _tiebreak(row))
        if name in row.params:
            comparable = _comparable(row.params[name])
            return (0, _Reversed(comparable) if order == "desc" else comparable, _tiebreak(row))
        return (1, 0, _tiebreak(row))

    return key


def _tiebreak(row: Row) -> tuple[int, str]:
    """Equal rows go by index, then by name: the lowest index wins a tie, as in `decisions.best`."""
    return (row.index if row.index is not None else -1, row.experiment)


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


def assemble(
    check_name: str,
    trials: Sequence[Row],
    baseline: Row | None,
    objective: ObjectiveRef | None,
    *,
    sort_by: str | None = None,
    sort_order: SortOrder | None = None,
    only_changed: bool = False,
    declared_metrics: Sequence[str] = (),
    estimator: str | None = None,
    show_index: bool = False,
) -> Table:
    """The table of these rows: columns, order (baseline on top) and the best mark.

    Rows sort by `sort_by` (a metric or param name), by default the objective,
    best first; the baseline row stays on top whatever the order.
    """
    everything = [baseline, *trials] if baseline is not None else list(trials)
    metrics = metric_columns(everything, objective, declared_metrics)
    params = param_columns(everything, only_changed)
    all_params = param_columns(everything)
    key_name = sort_by or (objective.metric if objective is not None else None)
    if sort_by is not None and sort_by not in metrics and sort_by not in all_params:
        known = ", ".join((*metrics, *all_params)) or "none"
        raise UnknownColumn(f"cannot sort by {sort_by!r}: no such metric or param (known: {known})")

    if key_name is not None:
        ordered = sorted(trials, key=sort_key(key_name, objective, sort_order))
    else:
        ordered = sorted(trials, key=_tiebreak)
    best = best_trial(ordered, objective)
    ordered = [replace(row, best=row.experiment == best) for row in ordered]
    rows = [baseline, *ordered] if baseline is not None else ordered
    return Table(
        check=check_name,
        objective=objective,
        metric_columns=metrics,
        param_columns=params,
        rows=tuple(rows),
        estimator=estimator,
        show_index=show_index,
    )


def notes(table: Table) -> list[str]:
    """Why metrics are undefined and why trials failed, one line each, for under the table."""
    lines = []
    for row in table.rows:
        lines += [f"{row.experiment}: {metric}: {why}" for metric, why in row.undefined_metrics.items()]
        if row.message:
            lines.append(f"{row.experiment}: {row.reason or row.phase}: {row.message}")
    return lines
