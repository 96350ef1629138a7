"""`kubedrift ui DIR` over the output folder of two local `kubedrift run`s, in headless Chromium."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures.browser import browser, served
from tests.fixtures.ui_walk import Expected, get_json, walk

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "bike-sharing"
# The three source roots, as the wheel installs them: this checkout's code, whatever is installed.
ENV = {
    "PATH": "/usr/bin:/bin",
    "PYTHONPATH": os.pathsep.join(str(ROOT / p) for p in ("", "operator", "jobs")),
}


@pytest.fixture(scope="module")
def runs_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example run twice: two checks in the history, a promotion, a run with the `main` row."""
    folder = tmp_path_factory.mktemp("local-ui")
    shutil.copytree(EXAMPLE / "data", folder / "data")
    shutil.copy(EXAMPLE / "driftcheck-local.yaml", folder / "driftcheck.yaml")
    for _ in range(2):
        result = subprocess.run(
            [sys.executable, "-m", "kubedrift", "run", str(folder / "driftcheck.yaml")],
            capture_output=True,
            text=True,
            env=ENV,
            timeout=600,
        )
        assert result.returncode == 0, result.stderr
    return folder / "out"


def test_every_page_over_local_runs(runs_folder: Path, tmp_path: Path) -> None:
    shots = tmp_path / "screenshots"
    command = [sys.executable, "-m", "kubedrift", "ui", str(runs_folder)]
    with served(command, env=ENV) as base, browser(shots) as b:
        expected = Expected(
            namespace="default",
            check="bikes",
            objective="avg_prec",
            grid_params=("n_estimators", "min_samples_split"),
            metrics=("avg_prec", "roc_auc", "accuracy", "f1"),
            columns=("temp", "season", "hr"),
        )
        run = walk(b, base, expected, sort_metric="f1")
        # the newest run evaluated production on its test data: the `main` row is the baseline
        assert [r["experiment"] for r in run["table"]["rows"] if r["baseline"]] == ["main"]
        assert len(get_json(f"{base}checks/default/bikes.json")["status"]["history"]) == 2
        missing = b.open(f"{base}checks/default/nope", plotted=False)
        assert missing.status == 404 and "no local runs of a DriftCheck named nope" in b.text("main")
    print(f"screenshots: {shots}")
    assert {p.name for p in shots.iterdir()} >= {"overview.png", "check.png", "run.png", "run-sorted.png"}
