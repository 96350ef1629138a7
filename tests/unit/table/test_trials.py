"""The table of a local run (TrialSummary/FailedTrial → rows): order, best mark, baseline row `main`,
failures, notes, and 100-column readability through the same renderer as `kubectl drift exp show`."""

from __future__ import annotations

from typing import Any

import pytest
from rich.cells import cell_len

from kubedrift.models.jobconfig import TrainJobConfig
from kubedrift.models.results import FailedTrial, TrialSummary
from kubedrift.table import formats, terminal
from kubedrift.table.model import UnknownColumn, notes
from kubedrift.table.trials import trial_table

METRICS = ["avg_prec", "log_loss"]
GRID = {"min_samples_split": [28, 29, 30, 31, 32], "n_estimators": [350]}


def config(
    metrics: list[str] | None = None, metric: str = "avg_prec", goal: str = "maximize"
) -> TrainJobConfig:
    return TrainJobConfig.model_validate(
        {
            "check": "bikes",
            "run": "local-1",
            "storage": {"reportsUri": "/r"},
            "retrain": {
                "train": {"uri": "/d/2011.parquet"},
                "test": {"uri": "/d/2012.parquet"},
                "model": {"estimator": "RandomForestClassifier", "params": {"n_jobs": 1}},
                "grid": GRID,
                "metrics": METRICS if metrics is None else metrics,
                "objective": {"metric": metric, "goal": goal},
            },
        }
    )


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


def baseline() -> TrialSummary:
    """The production model: its params are everything `get_params()` says, defaults included."""
    production = summary(5, 0.95, 0.70, baseline=True)
    params = {**production.params, "bootstrap": True, "ccp_alpha": 0.0, "max_features": "sqrt"}
    return production.model_copy(update={"params": params, "data_version": "v0"})


FAILED = FailedTrial(
    3,
    "TrainingFailed",
    "RandomForestClassifier(max_samples=0.5) failed to fit",
    5,
    params={"min_samples_split": 31, "n_estimators": 350, "n_jobs": 1},
)
TRIALS: list[TrialSummary | FailedTrial] = [
    summary(0, 0.80, 0.50),
    summary(1, 0.90, 0.60),
    summary(2, None, 0.40),
    FAILED,
    summary(4, 0.85, 0.30),
    baseline(),
]


def names(table) -> list[str]:
    return [row.experiment for row in table.rows]


def test_rows_sorted_by_objective_with_baseline_first_and_failures_last() -> None:
    table = trial_table(config(), TRIALS)

    assert names(table) == ["main", "exp-id000001", "exp-id000004", "exp-id000000", "exp-id000002", "index 3"]
    assert [r.best for r in table.rows] == [False, True, False, False, False, False]  # baseline never "best"
    failed = table.rows[-1]
    assert failed.phase == "Failed" and failed.reason == "TrainingFailed" and failed.index == 3
    assert table.rows[1].params == {"min_samples_split": 29, "n_estimators": 350, "n_jobs": 1}
    assert [r.index for r in table.rows] == [None, 1, 4, 0, 2, 3]


def test_the_baseline_is_main_with_only_the_params_the_trials_set() -> None:
    main = trial_table(config(), TRIALS).rows[0]

    assert main.baseline and main.promoted and main.experiment == "main" and main.phase == "Promoted"
    assert set(main.params) == {"min_samples_split", "n_estimators", "n_jobs"}
    assert main.metrics == {"avg_prec": 0.95, "log_loss": 0.70} and main.data_version == "v0"


def test_title_facts_and_columns_come_from_the_run() -> None:
    table = trial_table(config(metrics=["log_loss", "f1"]), TRIALS)

    assert table.check == "bikes" and table.estimator == "RandomForestClassifier" and table.show_index
    assert table.objective is not None and (table.objective.metric, table.objective.goal) == (
        "avg_prec",
        "maximize",
    )
    assert table.runs == ("local-1",)
    assert table.metric_columns == ("avg_prec", "log_loss", "f1")  # objective, then as declared
    assert table.param_columns[0] == "min_samples_split"  # what varies comes first


def test_sort_by_another_metric_uses_its_direction_and_keeps_the_best_mark() -> None:
    table = trial_table(config(), TRIALS, sort_by="log_loss")

    assert names(table)[1:5] == ["exp-id000004", "exp-id000002", "exp-id000000", "exp-id000001"]
    assert next(r for r in table.rows if r.best).experiment == "exp-id000001"


def test_sort_by_a_param_or_an_unknown_name() -> None:
    table = trial_table(config(), TRIALS, sort_by="min_samples_split", sort_order="desc")
    assert names(table)[1:4] == ["exp-id000004", "index 3", "exp-id000002"]

    with pytest.raises(UnknownColumn, match=r"'roc_auc'.*avg_prec.*min_samples_split"):
        trial_table(config(), TRIALS, sort_by="roc_auc")


def test_minimized_objective_picks_the_lowest() -> None:
    table = trial_table(config(metric="log_loss", goal="minimize"), TRIALS)

    assert next(r for r in table.rows if r.best).experiment == "exp-id000004"


def test_a_tie_goes_to_the_lowest_index_as_in_the_promotion() -> None:
    tied = [summary(7, 0.9, 0.5).model_copy(update={"trial_id": "aaa"}), summary(2, 0.9, 0.5)]

    table = trial_table(config(), tied)

    assert [r.experiment for r in table.rows if r.best] == ["exp-id000002"]
    assert names(table) == ["exp-id000002", "exp-aaa"]


def test_notes_explain_undefined_metrics_and_failures() -> None:
    lines = notes(trial_table(config(), TRIALS))

    assert "exp-id000002: avg_prec: no positive labels" in lines
    assert "index 3: TrainingFailed: RandomForestClassifier(max_samples=0.5) failed to fit" in lines


def test_a_failed_baseline_is_a_failed_main_row_on_top() -> None:
    broken = FailedTrial(5, "DataUnreadable", "the test data lacks column(s) the baseline model needs: hr", 3)
    table = trial_table(config(), [summary(0, 0.8, 0.5), replace_baseline(broken)])

    assert names(table) == ["main", "exp-id000000"]
    assert table.rows[0].baseline and table.rows[0].phase == "Failed"
    assert "main: DataUnreadable: the test data lacks column(s) the baseline model needs: hr" in notes(table)


def replace_baseline(failure: FailedTrial) -> FailedTrial:
    return FailedTrial(failure.index, failure.reason, failure.message, failure.exit_code, baseline=True)


def lines(text: str) -> list[str]:
    return text.rstrip("\n").split("\n")


def test_rendered_table_fits_100_columns_and_shows_everything() -> None:
    many = config(metrics=["avg_prec", "roc_auc", "accuracy", "f1", "log_loss"])
    text = terminal.render_text([trial_table(many, TRIALS)], width=100)

    assert max(cell_len(line) for line in lines(text)) <= 100
    assert f"exp-id000001 {terminal.BEST_MARK}" in text
    assert "0.9" in text and "n/a" in text and "Failed" in text and f"main {terminal.PRODUCTION_MARK}" in text
    assert (
        "driftcheck/bikes · run local-1 · RandomForestClassifier · objective avg_prec (maximize)"
        in " ".join(text.split())
    )
    rows = lines(text)
    main_line = next(i for i, line in enumerate(rows) if line.startswith("main "))
    assert "exp-id000001" in rows[main_line + 1]  # the best trial right under the baseline
    assert any("index 3: TrainingFailed: RandomForestClassifier" in line for line in rows)  # the notes


def test_param_names_are_never_broken_at_100_columns() -> None:
    """The old renderer folded `min_samples_split` into a three-line header at 100 columns."""
    text = terminal.render_text([trial_table(config(), TRIALS)], width=100)

    assert "min_samples_split" in text
    assert "min_sampl\n" not in text and "min_samples_\n" not in text


def test_a_bike_sized_run_keeps_one_line_per_row_at_100_columns() -> None:
    """Four metrics, two grid params with long names: the case `kubedrift run` prints most."""
    grid = [(split, trees) for split in (28, 46, 64) for trees in (100, 200)]
    trials = [
        summary(i, 0.87 - i / 1000, 0.3).model_copy(
            update={
                "params": {"min_samples_split": split, "n_estimators": trees, "n_jobs": 1, "random_state": 0},
                "metrics": {"avg_prec": 0.87 - i / 1000, "roc_auc": 0.8732, "accuracy": 0.7411, "f1": 0.6315},
                "trial_id": f"{i:08x}",
            }
        )
        for i, (split, trees) in enumerate(grid)
    ]
    production = trials[0].model_copy(update={"baseline": True, "index": 6, "params": baseline().params})
    four = config(metrics=["avg_prec", "roc_auc", "accuracy", "f1"])
    text = terminal.render_text([trial_table(four, [*trials, production])], width=100)

    assert max(cell_len(line) for line in lines(text)) <= 100
    for trial in trials:
        line = next(line for line in lines(text) if f"exp-{trial.trial_id}" in line)
        assert f"min_samples_split={trial.params['min_samples_split']}" in line
        assert f"n_estimators={trial.params['n_estimators']}" in line


def test_many_grid_params_fold_into_one_params_column_at_100_columns() -> None:
    grid = ["a_long_param_name", "another_long_param", "third_param_here", "fourth_param"]
    trials = [
        summary(i, 0.5 + i / 10, 0.5).model_copy(update={"params": {g: f"some-value-{i}" for g in grid}})
        for i in range(3)
    ]
    text = terminal.render_text([trial_table(config(), trials)], width=100)

    assert "Params" in text and max(cell_len(line) for line in lines(text)) <= 100
    assert "a_long_param_name=some-value-2" in " ".join(text.split())


def test_the_local_table_has_every_format_of_the_plugin() -> None:
    table = trial_table(config(), TRIALS)

    assert "| main (production) |" in formats.to_markdown([table])
    assert "index 3" in formats.to_csv([table])
    assert '"index": 3' in formats.to_json([table])
