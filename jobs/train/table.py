"""The comparison table of a run, like `dvc exp show`: one row per trial, the baseline on top.

Pure: rows are built from trial summaries and failures, then rendered with rich.
Readable at 100 columns: each grid param gets its own narrow column while there
are few of them (values are short, headers fold), and one folded `params`
column when there are many; metrics are shown with 4 significant decimals.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from rich import box
from rich.table import Table
from rich.text import Text

from kubedrift.jobs.train.metrics import better
from kubedrift.models.results import TrialSummary

MAX_PARAM_COLUMNS = 3
HEADER_WIDTH = 12
BEST_MARK = "★"
UNDEFINED = "n/a"


@dataclass(frozen=True)
class FailedTrial:
    index: int
    reason: str
    message: str
    exit_code: int = 1


@dataclass(frozen=True)
class Row:
    name: str
    index: str
    params: dict[str, str]
    metrics: dict[str, float | None]
    data_version: str
    state: str
    best: bool = False
    baseline: bool = False
    notes: list[str] = field(default_factory=list)


def experiment_name(trial_id: str) -> str:
    return f"exp-{trial_id}"


def _short(value: object) -> str:
    text = str(value)
    return text if len(text) <= 24 else text[:21] + "..."


def build_rows(
    trials: Sequence[TrialSummary | FailedTrial],
    metrics: Sequence[str],
    grid_names: Sequence[str],
    objective: str,
    goal: str,
    sort_by: str | None = None,
) -> list[Row]:
    """Rows in display order: baseline first, then trials sorted by `sort_by` (best first), then failures.

    The best trial (by the objective, among trials with a value) is marked; the
    baseline is never marked best, it is what the best has to beat.
    """
    ok = [t for t in trials if isinstance(t, TrialSummary)]
    failed = sorted((t for t in trials if isinstance(t, FailedTrial)), key=lambda t: t.index)
    key = sort_by or objective
    wins = better(objective, goal)
    best: TrialSummary | None = None
    for trial in sorted((t for t in ok if not t.baseline), key=lambda t: t.index):
        value = trial.metrics.get(objective)
        if value is not None and (best is None or wins(value, best.metrics[objective])):
            best = trial
    key_goal = goal if key == objective else None
    descending = not better(key, key_goal)(0.0, 1.0)
    with_value = [t for t in ok if not t.baseline and t.metrics.get(key) is not None]
    without = [t for t in ok if not t.baseline and t.metrics.get(key) is None]
    with_value.sort(key=lambda t: (-t.metrics[key] if descending else t.metrics[key], t.index))
    ordered = [t for t in ok if t.baseline] + with_value + sorted(without, key=lambda t: t.index)

    rows = []
    for trial in ordered:
        rows.append(
            Row(
                name="main" if trial.baseline else experiment_name(trial.trial_id),
                index="-" if trial.baseline else str(trial.index),
                params={name: _short(trial.params.get(name, "-")) for name in grid_names},
                metrics={m: trial.metrics.get(m) for m in metrics},
                data_version=trial.data_version,
                state="baseline" if trial.baseline else "done",
                best=trial is best,
                baseline=trial.baseline,
                notes=[f"{m}: {r}" for m, r in trial.undefined_metrics.items()],
            )
        )
    for failure in failed:
        rows.append(
            Row(
                name=f"index {failure.index}",
                index=str(failure.index),
                params={name: "" for name in grid_names},
                metrics={m: None for m in metrics},
                data_version="",
                state=f"failed ({failure.reason})",
                notes=[failure.message],
            )
        )
    return rows


def render(rows: Sequence[Row], metrics: Sequence[str], grid_names: Sequence[str], title: str = "") -> Table:
    table = Table(
        title=title or None, box=box.SIMPLE_HEAD, padding=(0, 0), pad_edge=False, header_style="bold"
    )
    table.add_column("Experiment", no_wrap=True)
    table.add_column("#", justify="right", no_wrap=True)
    separate = len(grid_names) <= MAX_PARAM_COLUMNS
    if separate:
        for name in grid_names:
            table.add_column(wrap_header(name), justify="right", overflow="fold", max_width=HEADER_WIDTH)
    else:
        table.add_column("params", overflow="fold", ratio=1, min_width=20)
    for metric in metrics:
        table.add_column(metric, justify="right", no_wrap=True)
    table.add_column("data", no_wrap=True)
    # Only failed trials have something to say here; without failures the column is left out.
    with_state = any(row.state.startswith("failed") for row in rows)
    if with_state:
        table.add_column("state", overflow="fold", min_width=12)
    for row in rows:
        label = Text(row.name)
        if row.best:
            label = Text(f"{BEST_MARK} {row.name}", style="bold green")
        elif row.baseline:
            label.stylize("bold")
        params = (
            list(row.params.values())
            if separate
            else [" ".join(f"{k}={v}" for k, v in row.params.items() if v)]
        )
        values = [UNDEFINED if row.metrics[m] is None else f"{row.metrics[m]:.4f}" for m in metrics]
        state = [row.state] if with_state else []
        table.add_row(label, row.index, *params, *values, row.data_version, *state)
    return table


def wrap_header(name: str, width: int | None = None) -> str:
    """Break a param name at underscores into lines of at most `width` characters (where it can)."""
    width = width or HEADER_WIDTH
    lines: list[str] = []
    for part in name.replace("_", "_ ").split(" "):
        if lines and len(lines[-1]) + len(part) <= width:
            lines[-1] += part
        else:
            lines.append(part)
    return "\n".join(lines)


def notes(rows: Sequence[Row]) -> list[str]:
    """Why metrics are undefined and why trials failed, one line each, for under the table."""
    return [f"{row.name}: {note}" for row in rows for note in row.notes]
