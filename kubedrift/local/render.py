"""The drift check's result on a terminal: the verdict first, then the columns, drifted first."""

from __future__ import annotations

from rich import box
from rich.console import Console
from rich.table import Table

from kubedrift.models.report import ColumnResult, DriftReport

MAX_ROWS = 15


def _score(column: ColumnResult) -> str:
    if column.score is None:
        return "-"
    return f"{column.score:.3g}"


def _verdict(column: ColumnResult) -> str:
    if column.status != "tested":
        return f"[dim]{column.status}[/dim]"
    return "[bold red]drift[/bold red]" if column.drifted else "[green]ok[/green]"


def columns_table(report: DriftReport, limit: int = MAX_ROWS) -> Table:
    table = Table(box=box.SIMPLE_HEAD, title="columns", title_justify="left", pad_edge=False)
    for header, justify in (
        ("column", "left"),
        ("type", "left"),
        ("test", "left"),
        ("score", "right"),
        ("threshold", "right"),
        ("verdict", "left"),
    ):
        table.add_column(header, justify=justify)  # type: ignore[arg-type]
    special = [c for c in (report.target, report.prediction) if c is not None]
    for column in [*special, *report.columns][:limit]:
        label = f"{column.name} ({column.role})" if column.role != "feature" else column.name
        threshold = "-" if column.threshold is None else f"{column.threshold:g}"
        table.add_row(
            label,
            column.column_type or "-",
            column.method or "-",
            _score(column),
            threshold,
            _verdict(column),
        )
    hidden = len(special) + len(report.columns) - limit
    if hidden > 0:
        table.caption = f"… and {hidden} more columns in the report"
    return table


def print_drift(report: DriftReport, console: Console) -> None:
    dataset = report.dataset
    verdict = "[bold red]dataset drift[/bold red]" if dataset.drifted else "[green]no dataset drift[/green]"
    console.print(
        f"{verdict}: {dataset.columns_drifted} of {dataset.columns_tested} columns drifted "
        f"({dataset.drift_share:.0%}, threshold {dataset.threshold:.0%})"
    )
    if dataset.columns_uncertain:
        could = ", which could make it drift" if dataset.uncertain else ""
        console.print(
            f"[yellow]{dataset.columns_uncertain} uncertain[/yellow] (read from a sketch, within their "
            f"error of the threshold{could}): {', '.join(dataset.uncertain_columns)}"
        )
    if report.target is not None:
        target = report.target
        state = "drifted" if target.drifted else ("not tested" if target.status != "tested" else "stable")
        console.print(f"target {target.name}: {state}")
    console.print(columns_table(report))
    console.print(f"report: {report.report_uri}/report.html", highlight=False, soft_wrap=True)
