"""Every page of the web view, from plain data: its JSON twin, its HTML body and its figures.

Pure: each function takes what a source handed over (models, `Table`s, reports) and
returns a `Page`; nothing here reads the cluster, the storage or the clock. The server
sends `Page.data` for the JSON twin and `layout(page)` for the browser.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from html import escape
from typing import Any
from urllib.parse import quote, urlencode

from kubedrift.models.conditions import Condition
from kubedrift.models.status import DriftCheckStatus
from kubedrift.table import formats
from kubedrift.table.cells import MISSING, metric_cell, param_cell
from kubedrift.table.model import Table, notes
from kubedrift.ui import plots
from kubedrift.ui.source import CheckInfo, ReportLoad, RunInfo, report_id, report_uris

SPARK_WIDTH, SPARK_HEIGHT = 120, 24


@dataclass(frozen=True)
class Page:
    title: str
    data: dict[str, Any]
    body: str
    figures: dict[str, plots.Figure] = field(default_factory=dict)  # element id → figure
    status: int = 200


# URLs: stable, and the same on every source.
def check_url(namespace: str, name: str) -> str:
    return f"/checks/{quote(namespace, safe='')}/{quote(name, safe='')}"


def run_url(namespace: str, name: str, run: str) -> str:
    return f"{check_url(namespace, name)}/runs/{quote(run, safe='')}"


def report_url(namespace: str, name: str, report: str) -> str:
    return f"{check_url(namespace, name)}/reports/{quote(report, safe='')}"


def _time(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%SZ") if moment is not None else MISSING


def _share(value: float | None) -> str:
    return f"{value:.2f}" if value is not None else MISSING


def ready(status: DriftCheckStatus) -> Condition | None:
    return next((c for c in status.conditions if c.type == "Ready"), None)


def trend(status: DriftCheckStatus) -> list[float]:
    """The drift shares of the history, oldest first: the overview's small trend."""
    records = sorted((r for r in status.history if r.drift_share is not None), key=lambda r: r.when)
    return [r.drift_share for r in records if r.drift_share is not None]


def sparkline(values: Sequence[float]) -> str:
    """An inline SVG polyline of shares in [0, 1]; drawn by the server, so the overview needs no JS."""
    if not values:
        return ""
    step = SPARK_WIDTH / max(len(values) - 1, 1)
    points = " ".join(
        f"{i * step:.1f},{(1 - min(max(v, 0.0), 1.0)) * (SPARK_HEIGHT - 2) + 1:.1f}"
        for i, v in enumerate(values)
    )
    return (
        f'<svg class="spark" width="{SPARK_WIDTH}" height="{SPARK_HEIGHT}" role="img" '
        f'aria-label="drift share trend"><polyline fill="none" stroke="currentColor" '
        f'stroke-width="1.5" points="{points}"/></svg>'
    )


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], css: str = "") -> str:
    head = "".join(f"<th>{h}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table class="{css}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _link(url: str, text: str) -> str:
    return f'<a href="{escape(url)}">{escape(text)}</a>'


def _production_json(status: DriftCheckStatus) -> dict[str, Any] | None:
    return status.production.to_wire() if status.production is not None else None


def overview(checks: Sequence[CheckInfo], source: str) -> Page:
    """Every DriftCheck: ready, the last check, its drift share and trend, the production model."""
    items = []
    rows = []
    for check in checks:
        status, condition = check.status, ready(check.status)
        last, production = status.last_check, status.production
        items.append(
            {
                "namespace": check.namespace,
                "name": check.name,
                "url": check_url(check.namespace, check.name),
                "ready": condition.status if condition else None,
                "readyReason": condition.reason if condition else None,
                "lastCheck": last.to_wire() if last is not None else None,
                "driftShare": last.drift_share if last is not None else None,
                "trend": trend(status),
                "production": _production_json(status),
            }
        )
        ready_text = f"{condition.status} ({condition.reason})" if condition else MISSING
        drifted = last is not None and bool(last.dataset_drift)
        rows.append(
            [
                escape(check.namespace),
                _link(check_url(check.namespace, check.name), check.name),
                escape(ready_text),
                escape(_time(last.time if last else None))
                + (" (failed)" if last is not None and not last.succeeded else ""),
                f'<span class="{"drifted" if drifted else ""}">'
                f"{_share(last.drift_share if last else None)}</span>",
                sparkline(trend(status)),
                escape(
                    f"{production.experiment} ({_share(production.objective)})" if production else MISSING
                ),
            ]
        )
    if rows:
        body = _table(
            ["Namespace", "DriftCheck", "Ready", "Last check", "Drift share", "Trend", "Production model"],
            rows,
            "checks",
        )
    else:
        body = '<p class="empty">No DriftChecks here.</p>'
    return Page("DriftChecks", {"source": source, "checks": items}, body)


def check_page(
    check: CheckInfo, runs: Sequence[RunInfo], loaded: ReportLoad, runs_problem: str | None
) -> Page:
    """One DriftCheck over time: drift share, per-column scores, the target, promotions, reports, runs."""
    status = check.status
    uris = report_uris(status)
    history = status.history
    figures: dict[str, plots.Figure] = {
        "drift-share": plots.drift_share_over_time(history, status.promotions, check.drift_share_threshold)
    }
    if loaded.reports:
        figures["column-heatmap"] = plots.column_heatmap(loaded.reports)
        if any(r.target is not None for r in loaded.reports.values()):
            figures["target-drift"] = plots.target_drift(loaded.reports, status.promotions)

    ns, name = check.namespace, check.name
    report_rows = []
    for record in sorted(history, key=lambda r: r.when, reverse=True):
        rid = report_id(record.report_uri) if record.report_uri else None
        report_rows.append(
            [
                escape(_time(record.when)),
                "yes" if record.succeeded else "failed",
                escape(_share(record.drift_share)),
                {True: "drifted", False: "no", None: MISSING}[record.dataset_drift],
                _link(report_url(ns, name, rid), "report")
                + " · "
                + _link(report_url(ns, name, rid) + ".json", "json")
                if rid
                else MISSING,
            ]
        )
    production = status.production
    condition = ready(status)
    summary = [
        ("Ready", f"{condition.status} ({condition.reason}) {condition.message}" if condition else MISSING),
        ("Schedule", check.schedule or MISSING),
        (
            "Production model",
            f"{production.experiment} (objective {_share(production.objective)}, promoted "
            f"{_time(production.promoted_at)})"
            if production
            else MISSING,
        ),
        ("Objective", f"{check.objective.metric} ({check.objective.goal})" if check.objective else MISSING),
    ]
    parts = [
        "<dl>" + "".join(f"<dt>{k}</dt><dd>{escape(v)}</dd>" for k, v in summary) + "</dl>",
        '<div class="figure" id="drift-share"></div>',
    ]
    if "column-heatmap" in figures:
        parts.append('<div class="figure" id="column-heatmap"></div>')
    if "target-drift" in figures:
        parts.append('<div class="figure" id="target-drift"></div>')
    for rid, problem in loaded.problems.items():
        parts.append(f'<p class="problem">report {escape(rid)}: {escape(problem)}</p>')
    parts.append("<h2>Checks</h2>")
    parts.append(
        _table(["Time", "Ran", "Drift share", "Dataset", "Report"], report_rows, "history")
        if report_rows
        else '<p class="empty">No check has finished yet.</p>'
    )
    parts.append("<h2>Retrain runs</h2>")
    if runs_problem:
        parts.append(f'<p class="problem forbidden">{escape(runs_problem)}</p>')
    elif runs:
        parts.append(
            _table(
                ["Run", "Started", "Trials", "Succeeded", "Failed", "Best"],
                [
                    [
                        _link(run_url(ns, name, r.name), r.name),
                        escape(_time(r.started_at)),
                        str(r.trials),
                        str(r.succeeded),
                        str(r.failed),
                        escape(r.best or MISSING),
                    ]
                    for r in runs
                ],
                "runs",
            )
        )
    else:
        parts.append('<p class="empty">No retrain run yet.</p>')
    data = {
        "namespace": ns,
        "name": name,
        "status": status.to_wire(),
        "reports": {rid: report_url(ns, name, rid) for rid in uris},
        "columnScores": {
            rid: {c.name: {"score": c.score, "drifted": c.drifted, "method": c.method} for c in r.columns}
            for rid, r in loaded.reports.items()
        },
        "targetDrift": {
            rid: {"score": r.target.score, "drifted": r.target.drifted}
            for rid, r in loaded.reports.items()
            if r.target is not None
        },
        "reportProblems": dict(loaded.problems),
        "runs": [
            {"name": r.name, "url": run_url(ns, name, r.name), "trials": r.trials, "best": r.best}
            for r in runs
        ],
        "runsProblem": runs_problem,
    }
    return Page(f"driftcheck/{name}", data, "".join(parts), figures)


def _sort_link(ns: str, name: str, run: str, column: str, current: str | None) -> str:
    order = "asc" if current == column else None
    query = urlencode({"sort": column, **({"order": order} if order else {})})
    href = f"{run_url(ns, name, run)}?{query}"
    return f'<a class="sort" data-column="{escape(column)}" href="{escape(href)}">{escape(column)}</a>'


def run_page(
    namespace: str, name: str, run: str, table: Table, sort_by: str | None, precision: int = 5
) -> Page:
    """A retrain run: the comparison table (baseline on top, best marked, sortable by any column),
    each metric against each param, parallel coordinates, and the failed trials with their reasons."""
    objective = table.objective
    headers = ["Experiment", "Phase"]
    headers += [_sort_link(namespace, name, run, m, sort_by) for m in table.metric_columns]
    headers += [_sort_link(namespace, name, run, p, sort_by) for p in table.param_columns]
    rows_html = []
    for row in table.rows:
        classes = " ".join(c for c, on in (("baseline", row.baseline), ("best", row.best)) if on)
        mark = " ★" if row.best else (" ⚑" if row.baseline else "")
        cells = [escape(row.experiment) + mark, escape(row.phase)]
        cells += [escape(metric_cell(row, m, precision)) for m in table.metric_columns]
        cells += [escape(param_cell(row, p)) for p in table.param_columns]
        rows_html.append(
            f'<tr class="{classes}" data-experiment="{escape(row.experiment)}">'
            + "".join(f"<td>{c}</td>" for c in cells)
            + "</tr>"
        )
    head = "".join(f"<th>{h}</th>" for h in headers)
    table_html = (
        f'<table class="experiments"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows_html)}</tbody></table>"
        '<p class="legend">★ best · ⚑ production (baseline) · click a column to sort by it</p>'
    )
    figures: dict[str, plots.Figure] = {}
    metrics = [m for m in table.metric_columns if any(m in row.metrics for row in plots.scored_trials(table))]
    for i, metric in enumerate(metrics):
        for j, param in enumerate(plots.varying_params(table)):
            figures[f"metric-{i}-param-{j}"] = plots.metric_vs_param(table, metric, param)
    if plots.scored_trials(table) and table.param_columns:
        figures["parallel"] = plots.parallel_coordinates(table)
    failed = [row for row in table.rows if row.phase == "Failed"]
    parts = [
        f"<p>Objective: {escape(objective.metric)} ({escape(objective.goal)})</p>" if objective else "",
        table_html,
    ]
    if failed:
        parts.append("<h2>Failed trials</h2>")
        parts.append(
            _table(
                ["Experiment", "Reason", "Message"],
                [
                    [escape(r.experiment), escape(r.reason or MISSING), escape(r.message or "")]
                    for r in failed
                ],
                "failed",
            )
        )
    other_notes = [
        line for line in notes(table) if not any(line.startswith(f"{r.experiment}: ") for r in failed)
    ]
    if other_notes:
        parts.append("<ul class='notes'>" + "".join(f"<li>{escape(n)}</li>" for n in other_notes) + "</ul>")
    if "parallel" in figures:
        parts.append('<h2>Params and objective</h2><div class="figure" id="parallel"></div>')
    if metrics:
        parts.append('<h2>Metrics against params</h2><div class="grid">')
        parts += [f'<div class="figure" id="{fid}"></div>' for fid in figures if fid.startswith("metric-")]
        parts.append("</div>")
    data = {
        "namespace": namespace,
        "check": name,
        "run": run,
        "sortBy": sort_by,
        "table": formats.table_json(table),
        "failed": [{"experiment": r.experiment, "reason": r.reason, "message": r.message} for r in failed],
    }
    return Page(f"driftcheck/{name} · run {run}", data, "".join(parts), figures)


def error_page(status: int, headline: str, detail: str = "") -> Page:
    """A refusal or a failure, said in a sentence: no stack trace, and never an empty table."""
    body = f'<div class="error"><p class="headline">{escape(headline)}</p>'
    if detail and detail != headline:
        body += f'<p class="detail">{escape(detail)}</p>'
    body += "</div>"
    return Page(headline, {"error": headline, "detail": detail, "status": status}, body, status=status)


def layout(page: Page, source: str, breadcrumbs: Sequence[tuple[str, str]] = ()) -> str:
    """The whole HTML document: header, body, figures as JSON for app.js; scripts only from /static."""
    trail = " / ".join(_link(url, text) for url, text in (("/", "DriftChecks"), *breadcrumbs))
    figures = json.dumps(page.figures).replace("</", "<\\/")
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{escape(page.title)} · kubedrift</title>"
        '<link rel="stylesheet" href="/static/style.css">'
        '<script src="/static/plotly.min.js"></script><script src="/static/app.js" defer></script>'
        "</head><body>"
        f'<header><nav>{trail}</nav><span class="source">{escape(source)}</span></header>'
        f"<main><h1>{escape(page.title)}</h1>{page.body}</main>"
        f'<script type="application/json" id="figures">{figures}</script>'
        "</body></html>"
    )
