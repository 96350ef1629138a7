"""The comparison table for a terminal, readable at 100 columns.

Three layouts: `wide` gives every param its own column, like `dvc exp show`;
when that does not fit the console, `compact` folds the params that differ
between trials into one wrapping Params column and names the params every
trial shares once, under the table; on a console too narrow even for that,
`stacked` writes each row's params under its name. Values that are the same on every row
(the run, the data version) move into the title in both layouts.
Experiment names never wrap or shorten in the first two: they are what you
copy into `kubectl drift promote`.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Literal

from rich import box
from rich.console import Console, Group, RenderableType
from rich.measure import Measurement
from rich.table import Table as RichTable
from rich.text import Text

from kubedrift.models.driftcheck import ParamValue
from kubedrift.plugin.cells import metric_cell, param_cell, params_line
from kubedrift.plugin.table import Row, Table

Layout = Literal["wide", "compact", "stacked"]

MAX_PAIR_WIDTH = 24
BEST_MARK = "★"
PRODUCTION_MARK = "⚑"
PHASE_STYLES = {"Failed": "red", "Running": "yellow", "Pending": "dim", "Promoted": "cyan"}


def renderable(table: Table, console: Console, precision: int = 5) -> RenderableType:
    """The wide layout when it fits the console, else the compact one."""
    wide = build(table, "wide", precision)
    # Measure against an unbounded width: Measurement clamps to the width it is given.
    unbounded = console.options.update_width(100_000)
    if Measurement.get(console, unbounded, wide).maximum <= console.width:
        return wide
    compact = build(table, "compact", precision)
    if Measurement.get(console, unbounded, compact).minimum <= console.width:
        return compact
    return build(table, "stacked", precision)


def render_text(tables: Sequence[Table], width: int = 100, precision: int = 5) -> str:
    """Plain text (no colour) at a given width: what tests and pipes see."""
    console = Console(file=io.StringIO(), width=width, color_system=None, force_terminal=False)
    console.print(Group(*(renderable(table, console, precision) for table in tables)))
    output = console.file.getvalue()  # type: ignore[attr-defined]
    return str(output)


def build(table: Table, layout: Layout, precision: int = 5) -> RichTable:
    trials = [row for row in table.rows if not row.baseline]
    runs = _shared(row.run for row in trials)
    data = _shared(row.data_version for row in trials)
    shared_params = common_params(trials) if layout != "wide" else {}

    rich = RichTable(
        title=_title(table, runs, data),
        caption=_caption(table, shared_params),
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        collapse_padding=True,
        show_edge=False,
        title_justify="left",
        caption_justify="left",
    )
    if layout == "stacked":  # the last resort: a folded name beats a table cut off at the edge
        rich.add_column("Experiment", overflow="fold")
    else:
        longest_name = max((len(row.experiment) + 2 for row in table.rows), default=10)
        rich.add_column("Experiment", no_wrap=True, min_width=longest_name)
    if runs is None:
        rich.add_column("Run", no_wrap=True)
    rich.add_column("Phase", no_wrap=True)
    for metric in table.metric_columns:
        rich.add_column(metric, justify="right", no_wrap=True)
    if layout == "wide":
        for param in table.param_columns:
            rich.add_column(param, no_wrap=True)
    elif layout == "compact":
        # Wide enough for the longest name=value pair, so that pairs wrap whole.
        rich.add_column("Params", overflow="fold", ratio=1, min_width=_longest_pair(table, shared_params))
    if data is None:
        rich.add_column("Data", no_wrap=True)

    for row in table.rows:
        params = params_line(row.params, _differing(row, table.param_columns, shared_params))
        name = _name(row)
        if layout == "stacked" and params:
            name.append("\n" + params, style="dim")
        cells: list[RenderableType] = [name]
        if runs is None:
            cells.append(row.run)
        cells.append(Text(row.phase, style=PHASE_STYLES.get(row.phase, "")))
        cells += [metric_cell(row, metric, precision) for metric in table.metric_columns]
        if layout == "wide":
            cells += [param_cell(row, param) for param in table.param_columns]
        elif layout == "compact":
            cells.append(params)
        if data is None:
            cells.append(row.data_version or "-")
        rich.add_row(*cells, style=_row_style(row))
    return rich


def _longest_pair(table: Table, shared: Mapping[str, ParamValue]) -> int:
    pairs = [
        params_line(row.params, [name])
        for row in table.rows
        for name in _differing(row, table.param_columns, shared)
    ]
    return min(max((len(pair) for pair in pairs), default=6), MAX_PAIR_WIDTH)


def common_params(rows: Sequence[Row]) -> dict[str, ParamValue]:
    """The params every row sets to the same value."""
    if not rows:
        return {}
    first, *rest = rows
    return {
        name: value
        for name, value in first.params.items()
        if all(name in row.params and row.params[name] == value for row in rest)
    }


def _differing(row: Row, names: Sequence[str], shared: Mapping[str, ParamValue]) -> list[str]:
    return [name for name in names if name in row.params and shared.get(name, _ABSENT) != row.params[name]]


_ABSENT = object()


def _shared(values: object) -> str | None:
    """The one value all rows have, or None when they differ (or there are none)."""
    distinct = set(values)  # type: ignore[call-overload]
    return next(iter(distinct)) if len(distinct) == 1 else None


def _title(table: Table, run: str | None, data: str | None) -> str:
    parts = [f"driftcheck/{table.check}"]
    if table.objective is not None:
        parts.append(f"objective {table.objective.metric} ({table.objective.goal})")
    if run:
        parts.append(f"run {run}")
    if data:
        parts.append(f"data {data}")
    return " · ".join(parts)


def _caption(table: Table, shared: Mapping[str, ParamValue]) -> str | None:
    notes = []
    if any(row.best for row in table.rows):
        notes.append(f"{BEST_MARK} best")
    if any(row.baseline for row in table.rows):
        notes.append(f"{PRODUCTION_MARK} production")
    visible_shared = [name for name in table.param_columns if name in shared]
    if visible_shared:
        notes.append("every trial: " + params_line(shared, visible_shared))
    return " · ".join(notes) or None


def _name(row: Row) -> Text:
    if row.baseline:
        return Text(f"{row.experiment} {PRODUCTION_MARK}")
    if row.best:
        return Text(f"{row.experiment} {BEST_MARK}")
    return Text(row.experiment)


def _row_style(row: Row) -> str:
    if row.baseline:
        return "cyan"
    if row.best:
        return "bold green"
    return ""
