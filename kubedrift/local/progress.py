"""The one progress bar of the local commands: `checking 11/11 columns`, `training 6/6`."""

from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


def progress_bar(verb: str, console: Console, *, enabled: bool = True, unit: str = "") -> Progress:
    """A bar that stays on screen when done; its task description says what just finished."""
    return Progress(
        TextColumn(f"[bold]{verb}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(unit),
        TimeElapsedColumn(),
        TextColumn("{task.description}"),
        console=console,
        disable=not enabled,
        transient=False,
    )
