"""Plotly figures as plain dicts (`{"data": [...], "layout": {...}}`), drawn by plotly.js in the page.

Nothing here imports plotly: a figure is data, and the browser draws it with the
plotly.min.js the server hands out. Every axis is titled with the param or metric it
shows, so a reader (and the browser tests) can tell the plots apart.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from kubedrift.models.driftcheck import ParamValue
from kubedrift.models.report import ColumnResult, DriftReport
from kubedrift.models.status import CheckRecord, PromotionRecord
from kubedrift.table.cells import param_text
from kubedrift.table.model import Row, Table

Figure = dict[str, Any]

DRIFTED = "#c0392b"
STABLE = "#2e86de"
PROMOTION = "#27ae60"
BEST = "#f39c12"
BASE_LAYOUT: dict[str, Any] = {
    "margin": {"l": 60, "r": 20, "t": 40, "b": 50},
    "height": 320,
    "hovermode": "closest",
}


def _layout(title: str, **extra: Any) -> dict[str, Any]:
    return {**BASE_LAYOUT, "title": {"text": title}, **extra}


def _time(moment: datetime) -> str:
    return moment.isoformat()


def _level(y: float, color: str) -> dict[str, Any]:
    """A dashed horizontal line across the whole plot at `y` (a threshold, a baseline)."""
    line = {"color": color, "dash": "dash"}
    return {"type": "line", "xref": "paper", "yref": "y", "x0": 0, "x1": 1, "y0": y, "y1": y, "line": line}


def _promotion_marks(promotions: Sequence[PromotionRecord], y: float = 0.0) -> tuple[dict[str, Any], list]:
    """Promotions on the time axis: one diamond per promotion, and a dotted line through the plot."""
    trace = {
        "type": "scatter",
        "mode": "markers",
        "name": "promotions",
        "x": [_time(p.promoted_at) for p in promotions],
        "y": [y for _ in promotions],
        "text": [f"promoted {p.experiment}" for p in promotions],
        "hoverinfo": "text+x",
        "marker": {"symbol": "diamond", "size": 12, "color": PROMOTION},
    }
    shapes = [
        {
            "type": "line",
            "xref": "x",
            "yref": "paper",
            "x0": _time(p.promoted_at),
            "x1": _time(p.promoted_at),
            "y0": 0,
            "y1": 1,
            "line": {"color": PROMOTION, "dash": "dot"},
        }
        for p in promotions
    ]
    return trace, shapes


def drift_share_over_time(
    history: Sequence[CheckRecord], promotions: Sequence[PromotionRecord], threshold: float | None
) -> Figure:
    """The dataset's drift share per check, oldest to newest, drifted checks in red; the
    threshold as a dashed line, promotions as green diamonds on the axis and dotted lines."""
    checks = sorted((r for r in history if r.drift_share is not None), key=lambda r: r.when)
    share = {
        "type": "scatter",
        "mode": "lines+markers",
        "name": "drift share",
        "x": [_time(r.when) for r in checks],
        "y": [r.drift_share for r in checks],
        "marker": {"size": 9, "color": [DRIFTED if r.dataset_drift else STABLE for r in checks]},
        "line": {"color": "#7f8c8d"},
    }
    marks, shapes = _promotion_marks(promotions)
    if threshold is not None:
        shapes.append(_level(threshold, DRIFTED))
    return {
        "data": [share, marks],
        "layout": _layout(
            "Drift share over time",
            xaxis={"title": {"text": "check time"}, "type": "date"},
            yaxis={"title": {"text": "drift share"}, "range": [-0.05, 1.05]},
            shapes=shapes,
        ),
    }


def _ordered(reports: dict[str, DriftReport]) -> list[tuple[str, DriftReport]]:
    return sorted(reports.items(), key=lambda item: item[1].when)


def column_heatmap(reports: dict[str, DriftReport]) -> Figure:
    """Each feature column's drift score per check (x: check time, y: column); the hover says the
    test, the threshold and the verdict, and drifted cells carry a ●."""
    ordered = _ordered(reports)
    columns = sorted({c.name for _, r in ordered for c in r.columns})
    by_check = [{c.name: c for c in r.columns} for _, r in ordered]

    def cell(result: ColumnResult | None) -> tuple[float | None, str, str]:
        if result is None or result.score is None:
            return None, "", "not tested" if result is None else (result.reason or result.status)
        how = f"{result.method} {result.score:.4g} (threshold {result.threshold})"
        return (
            result.score,
            "●" if result.drifted else "",
            f"{how}, {'drifted' if result.drifted else 'stable'}",
        )

    cells = [[cell(check.get(name)) for check in by_check] for name in columns]
    return {
        "data": [
            {
                "type": "heatmap",
                "name": "drift score",
                "x": [_time(r.when) for _, r in ordered],
                "y": columns,
                "z": [[c[0] for c in row] for row in cells],
                "text": [[c[1] for c in row] for row in cells],
                "customdata": [[c[2] for c in row] for row in cells],
                "texttemplate": "%{text}",
                "hovertemplate": "%{y} at %{x}<br>%{customdata}<extra></extra>",
                "colorscale": "YlOrRd",
                "colorbar": {"title": {"text": "score"}},
            }
        ],
        "layout": _layout(
            "Per-column drift score (● drifted)",
            height=max(260, 60 + 24 * len(columns)),
            xaxis={"title": {"text": "check time"}, "type": "category"},
            yaxis={"title": {"text": "column"}, "automargin": True},
        ),
    }


def target_drift(reports: dict[str, DriftReport], promotions: Sequence[PromotionRecord]) -> Figure:
    """The target's drift score per check, drifted checks in red, promotions marked."""
    ordered = [(i, r) for i, r in _ordered(reports) if r.target is not None and r.target.score is not None]
    targets = [r.target for _, r in ordered if r.target is not None]
    name = targets[0].name if targets else "target"
    trace = {
        "type": "scatter",
        "mode": "lines+markers",
        "name": f"target {name}",
        "x": [_time(r.when) for _, r in ordered],
        "y": [t.score for t in targets],
        "text": [f"{t.method}: {'drifted' if t.drifted else 'stable'}" for t in targets],
        "marker": {"size": 9, "color": [DRIFTED if t.drifted else STABLE for t in targets]},
    }
    marks, shapes = _promotion_marks(promotions)
    return {
        "data": [trace, marks],
        "layout": _layout(
            f"Target drift: {name}",
            xaxis={"title": {"text": "check time"}, "type": "date"},
            yaxis={"title": {"text": f"{name} drift score"}},
            shapes=shapes,
        ),
    }


def _numeric(value: ParamValue) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _axis_values(rows: Sequence[Row], param: str) -> tuple[list[Any], dict[str, Any]]:
    """A param's values for an axis: numbers as they are, anything else as its text on a category axis."""
    values = [row.params.get(param) for row in rows]
    if all(v is None or _numeric(v) for v in values):
        return values, {"type": "linear"}
    texts = [param_text(v) if v is not None else "-" for v in values]
    return texts, {"type": "category", "categoryorder": "category ascending"}


def scored_trials(table: Table) -> list[Row]:
    """The trials with at least one metric: what the plots draw (failed trials have none)."""
    return [row for row in table.rows if not row.baseline and row.metrics]


def varying_params(table: Table) -> tuple[str, ...]:
    """The params worth a plot: those whose values differ between the scored trials (a param every
    trial shares would draw one vertical line); all of them when none differs."""
    rows = scored_trials(table)
    varying = tuple(
        p
        for p in table.param_columns
        if len({param_text(r.params[p]) if p in r.params else "-" for r in rows}) > 1
    )
    return varying or table.param_columns


def metric_vs_param(table: Table, metric: str, param: str) -> Figure:
    """One metric against one param over the run's trials; the best trial is the orange star,
    the production baseline a dashed line."""
    rows = [row for row in scored_trials(table) if metric in row.metrics]
    x, axis = _axis_values(rows, param)
    trace = {
        "type": "scatter",
        "mode": "markers",
        "name": "trials",
        "x": x,
        "y": [row.metrics[metric] for row in rows],
        "text": [row.experiment for row in rows],
        "marker": {
            "size": [16 if row.best else 10 for row in rows],
            "symbol": ["star" if row.best else "circle" for row in rows],
            "color": [BEST if row.best else STABLE for row in rows],
        },
    }
    shapes = []
    baseline = next((row for row in table.rows if row.baseline and metric in row.metrics), None)
    if baseline is not None:
        value = baseline.metrics[metric]
        shapes.append(_level(value, PROMOTION))
    return {
        "data": [trace],
        "layout": _layout(
            f"{metric} vs {param}",
            height=280,
            xaxis={"title": {"text": param}, **axis},
            yaxis={"title": {"text": metric}},
            shapes=shapes,
            showlegend=False,
        ),
    }


def parallel_coordinates(table: Table) -> Figure:
    """Every param and the objective as parallel axes, one line per scored trial, coloured by the
    objective (the best at the top of the colour scale whatever the goal)."""
    rows = scored_trials(table)
    objective = table.objective
    dimensions: list[dict[str, Any]] = []
    for param in table.param_columns:
        values, axis = _axis_values(rows, param)
        if axis["type"] == "category":
            labels = sorted(set(values))
            dimensions.append(
                {
                    "label": param,
                    "values": [labels.index(v) for v in values],
                    "tickvals": list(range(len(labels))),
                    "ticktext": labels,
                }
            )
        else:
            dimensions.append({"label": param, "values": [v if v is not None else 0 for v in values]})
    line: dict[str, Any] = {}
    if objective is not None:
        scores = [row.metrics.get(objective.metric) for row in rows]
        dimensions.append({"label": objective.metric, "values": scores})
        line = {
            "color": scores,
            "colorscale": "Viridis",
            "reversescale": objective.goal == "minimize",
            "showscale": True,
        }
    return {
        "data": [{"type": "parcoords", "name": "trials", "dimensions": dimensions, "line": line}],
        "layout": _layout("Params and objective", height=380, margin={"l": 60, "r": 60, "t": 90, "b": 30}),
    }
