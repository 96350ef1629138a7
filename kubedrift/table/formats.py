"""The comparison table as CSV, Markdown and JSON: for scripts, notebooks and pull requests."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

from kubedrift.table.cells import metric_cell, metric_text, param_cell
from kubedrift.table.model import Row, Table

FIXED_CSV_COLUMNS = ("check", "experiment", "run", "phase", "baseline", "best", "promoted")


def to_json(tables: Sequence[Table]) -> str:
    """A list with one object per check; rows carry raw values, undefined metrics as null."""
    return json.dumps([table_json(table) for table in tables], indent=2) + "\n"


def table_json(table: Table) -> dict[str, Any]:
    objective = table.objective
    return {
        "check": table.check,
        "objective": {"metric": objective.metric, "goal": objective.goal} if objective else None,
        "estimator": table.estimator,
        "metricColumns": list(table.metric_columns),
        "paramColumns": list(table.param_columns),
        "rows": [_row_json(row, table) for row in table.rows],
    }


def _row_json(row: Row, table: Table) -> dict[str, Any]:
    return {
        "experiment": row.experiment,
        "run": row.run,
        "index": row.index,
        "phase": row.phase,
        "baseline": row.baseline,
        "best": row.best,
        "promoted": row.promoted,
        "metrics": {name: row.metrics.get(name) for name in table.metric_columns},
        "undefinedMetrics": dict(row.undefined_metrics),
        "params": {name: row.params[name] for name in table.param_columns if name in row.params},
        "dataVersion": row.data_version,
        "reason": row.reason,
        "message": row.message,
    }


def to_csv(tables: Sequence[Table], precision: int | None = None) -> str:
    """One CSV for all checks: the union of their columns, empty where a value is missing.

    Metrics keep full precision unless `precision` is given, so that the CSV
    round-trips; a param named like a metric or a fixed column is prefixed with
    `param.` so no value overwrites another.
    """
    metrics = _union(table.metric_columns for table in tables)
    taken = {*FIXED_CSV_COLUMNS, *metrics, "data_version", "reason"}
    params = _union(table.param_columns for table in tables)
    param_headers = [f"param.{name}" if name in taken else name for name in params]

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*FIXED_CSV_COLUMNS, *metrics, *param_headers, "data_version", "reason"])
    for table in tables:
        for row in table.rows:
            writer.writerow(
                [
                    table.check,
                    row.experiment,
                    row.run,
                    row.phase,
                    _flag(row.baseline),
                    _flag(row.best),
                    _flag(row.promoted),
                    *(_csv_metric(row, name, precision) for name in metrics),
                    *(param_cell(row, name) if name in row.params else "" for name in params),
                    row.data_version or "",
                    row.reason or "",
                ]
            )
    return out.getvalue()


def _csv_metric(row: Row, name: str, precision: int | None) -> str:
    if name not in row.metrics:
        return ""
    value = row.metrics[name]
    return metric_text(value, precision) if precision else repr(value)


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _union(column_lists: Any) -> list[str]:
    seen: dict[str, None] = {}
    for columns in column_lists:
        seen.update(dict.fromkeys(columns))
    return list(seen)


def to_markdown(tables: Sequence[Table], precision: int = 5) -> str:
    """GitHub-flavoured tables; a heading per check when there is more than one."""
    parts = []
    for table in tables:
        lines = []
        if len(tables) > 1:
            lines += [f"### {table.check}", ""]
        show_run = len(table.runs) > 1
        header = ["Experiment", *(["Run"] if show_run else []), "Phase", *table.metric_columns]
        header += [*table.param_columns, "Data"]
        lines.append(_md_line(header))
        align = ["---", *(["---"] if show_run else []), "---"]
        align += ["---:"] * len(table.metric_columns) + ["---"] * (len(table.param_columns) + 1)
        lines.append(_md_line(align))
        for row in table.rows:
            cells = [_md_name(row), *([row.run] if show_run else []), row.phase]
            cells += [metric_cell(row, name, precision) for name in table.metric_columns]
            cells += [param_cell(row, name) for name in table.param_columns]
            cells.append(row.data_version or "-")
            lines.append(_md_line(cells))
        if table.objective is not None:
            lines += ["", f"★ best by {table.objective.metric} ({table.objective.goal})"]
        parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"


def _md_name(row: Row) -> str:
    if row.baseline:
        return f"{row.experiment} (production)"
    if row.best:
        return f"**{row.experiment}** ★"
    return row.experiment


def _md_line(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"
