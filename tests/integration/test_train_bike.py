"""The bike-sharing example: 2011 → train, 2012 → test, a 12-combination RandomForest grid, locally."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from kubedrift.cli import main
from kubedrift.local.grid_runner import print_table, run_grid
from kubedrift.models.jobconfig import TrainJobConfig
from kubedrift.table.terminal import BEST_MARK, PRODUCTION_MARK
from kubedrift_jobs.train.trial import TrialResult, run_trial
from tests.fixtures.train_data import BIKE_COLUMNS, BIKE_DATA, write_config

# The seed workflow's grid had n_est 350…500 and min_split 28…64; the trees are fewer here to keep the
# test fast (see bench/train_bench.py for the full-size numbers).
GRID = {"n_estimators": [5, 10, 20], "min_samples_split": [28, 40, 52, 64]}


def bike_config(reports: Path, run: str = "r1", **extra: Any) -> dict[str, Any]:
    return {
        "check": "bikes",
        "run": run,
        "columns": BIKE_COLUMNS,
        "storage": {"reportsUri": str(reports)},
        "retrain": {
            "train": {"uri": str(BIKE_DATA / "2011.parquet")},
            "test": {"uri": str(BIKE_DATA / "2012.parquet")},
            "model": {"estimator": "RandomForestClassifier", "params": {"n_jobs": 1}},
            "grid": GRID,
            "metrics": ["avg_prec", "roc_auc", "accuracy", "f1", "log_loss"],
            "objective": {"metric": "avg_prec", "goal": "maximize"},
        },
        **extra,
    }


def test_bike_grid_runs_locally_with_baseline_and_prints_the_table(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    production = run_trial(TrainJobConfig.model_validate(bike_config(reports, run="r0")), index=0)
    config = TrainJobConfig.model_validate(
        bike_config(reports, baselineModelUri=production.summary.model_uri)
    )

    run = run_grid(config, workers=2, progress=False)

    assert sorted(run.outcomes) == list(range(13))  # 12 combinations + the baseline at index 12
    results = [o for o in run.outcomes.values() if isinstance(o, TrialResult)]
    assert len(results) == 13, run.failed
    trials = [r.summary for r in results if not r.summary.baseline]
    assert len({t.trial_id for t in trials}) == 12
    assert all(0.5 < (t.objective or 0) <= 1 for t in trials)
    for index in range(12):
        assert (reports / "bikes" / "r1" / str(index) / "model.skops").exists()
    baseline = run.outcomes[12]
    assert isinstance(baseline, TrialResult) and baseline.summary.baseline
    assert baseline.summary.metrics == production.summary.metrics  # the same model on the same 2012 data

    console = Console(width=100, record=True, color_system=None)
    print_table(run, console)
    text = console.export_text()
    print(text)
    best = max(trials, key=lambda t: t.objective or 0)
    assert f"exp-{best.trial_id} {BEST_MARK}" in text
    assert f"main {PRODUCTION_MARK}" in text and "13 of 13 ran" in text
    assert "min_samples_split" in text  # a whole header, never folded
    assert max(len(line) for line in text.splitlines()) <= 100


def test_train_all_command_prints_the_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = bike_config(tmp_path / "reports")
    config["retrain"]["grid"] = {"n_estimators": [5], "min_samples_split": [28, 64]}
    path = write_config(tmp_path / "bikes.yaml", config)
    assert main(["train", "--all", "--config", path, "--workers", "1", "--sort-by", "log_loss"]) == 0
    out = capsys.readouterr().out
    title = "driftcheck/bikes · run r1 · RandomForestClassifier · objective avg_prec (maximize)"
    assert title in " ".join(out.split())  # the title may wrap
    assert out.count("exp-") == 2 and BEST_MARK in out
