"""The comparison table: order, best mark, baseline row, failures, and 100-column readability."""

from __future__ import annotations

from typing import Any

from rich.console import Console

from kubedrift.jobs.train.table import BEST_MARK, FailedTrial, build_rows, notes, render, wrap_header
from kubedrift.models.results import TrialSummary

METRICS = ["avg_prec", "log_loss"]
GRID = ["min_samples_split", "n_estimators"]


def summary(index: int, avg_prec: float | None, log_loss: float, **extra: Any) -> TrialSummary:
    metrics = {"log_loss": log_loss} | ({} if avg_prec is None else {"avg_prec": avg_prec})
    undefined = {} if avg_prec is not None else {"avg_prec": "no positive labels"}
    return TrialSummary(
        index=index,
        trial_id=f"id{index:06d}",
        params={"min_samples_split": 28 + index, "n_estimators": 350, "n_jobs": 1},
        metrics=metrics,
        undefined_metrics=undefined,
        objective=avg_prec,
        model_uri=f"/r/{index}/model.skops",
        data_version="v1",
        fit_seconds=1.0,
        total_seconds=2.0,
        **extra,
    )


TRIALS: list[TrialSummary | FailedTrial] = [
    summary(0, 0.80, 0.50),
    summary(1, 0.90, 0.60),
    summary(2, None, 0.40),
    FailedTrial(3, "TrainingFailed", "RandomForestClassifier(max_samples=0.5) failed to fit", 5),
    summary(4, 0.85, 0.30),
    summary(5, 0.95, 0.70, baseline=True),
]


def test_rows_sorted_by_objective_with_baseline_first_and_failures_last() -> None:
    rows = build_rows(TRIALS, METRICS, GRID, "avg_prec", "maximize")
    assert [r.name for r in rows] == [
        "main",
        "exp-id000001",
        "exp-id000004",
        "exp-id000000",
        "exp-id000002",
        "index 3",
    ]
    assert [r.best for r in rows] == [False, True, False, False, False, False]  # baseline is never "best"
    assert rows[-1].state == "failed (TrainingFailed)"
    assert rows[1].params == {"min_samples_split": "29", "n_estimators": "350"}


def test_sort_by_another_metric_uses_its_direction_and_keeps_the_best_mark() -> None:
    rows = build_rows(TRIALS, METRICS, GRID, "avg_prec", "maximize", sort_by="log_loss")
    assert [r.name for r in rows][1:5] == ["exp-id000004", "exp-id000002", "exp-id000000", "exp-id000001"]
    assert next(r for r in rows if r.best).name == "exp-id000001"


def test_minimized_objective_picks_the_lowest() -> None:
    rows = build_rows(TRIALS, METRICS, GRID, "log_loss", "minimize")
    assert next(r for r in rows if r.best).name == "exp-id000004"


def test_notes_explain_undefined_metrics_and_failures() -> None:
    lines = notes(build_rows(TRIALS, METRICS, GRID, "avg_prec", "maximize"))
    assert "exp-id000002: avg_prec: no positive labels" in lines
    assert "index 3: RandomForestClassifier(max_samples=0.5) failed to fit" in lines


def test_rendered_table_fits_100_columns_and_shows_everything() -> None:
    console = Console(width=100, record=True, color_system=None)
    rows = build_rows(
        TRIALS, ["avg_prec", "roc_auc", "accuracy", "f1", "log_loss"], GRID, "avg_prec", "maximize"
    )
    console.print(render(rows, ["avg_prec", "roc_auc", "accuracy", "f1", "log_loss"], GRID, title="t"))
    text = console.export_text()
    assert max(len(line) for line in text.splitlines()) <= 100
    assert f"{BEST_MARK} exp-id000001" in text
    assert "0.9000" in text and "n/a" in text and "failed" in text and "main" in text
    lines = text.splitlines()
    main_line = next(i for i, line in enumerate(lines) if " main " in line)
    assert "exp-id000001" in lines[main_line + 1]  # the best trial right under the baseline


def test_many_grid_params_share_one_folded_column() -> None:
    grid = ["a_long_param_name", "another_long_param", "third_param_here", "fourth_param"]
    trial = summary(0, 0.5, 0.5).model_copy(update={"params": dict.fromkeys(grid, "some-value")})
    console = Console(width=100, record=True, color_system=None)
    console.print(render(build_rows([trial], METRICS, grid, "avg_prec", "maximize"), METRICS, grid))
    text = console.export_text()
    assert "params" in text and max(len(line) for line in text.splitlines()) <= 100


def test_headers_break_at_underscores() -> None:
    assert wrap_header("min_samples_split") == "min_samples_\nsplit"
    assert wrap_header("n_estimators") == "n_estimators"
