"""`kubedrift run`: the bike-sharing DriftCheck end to end on this machine, as a newcomer runs it."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "bike-sharing"


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kubedrift", "run", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={"COLUMNS": "100", "PATH": "/usr/bin:/bin"},
        timeout=600,
    )


@pytest.fixture
def example(tmp_path: Path) -> Path:
    """The example manifest and its data in a fresh folder, so outputs start empty."""
    shutil.copytree(EXAMPLE / "data", tmp_path / "data")
    shutil.copy(EXAMPLE / "driftcheck-local.yaml", tmp_path / "driftcheck.yaml")
    return tmp_path / "driftcheck.yaml"


def test_the_example_finds_drift_retrains_ranks_and_promotes(example: Path) -> None:
    first = run(str(example), "--json")
    assert first.returncode == 0, first.stderr
    outcome = json.loads(first.stdout)
    assert outcome["check"]["datasetDrift"] is True
    assert outcome["check"]["targetDrift"] is True
    assert outcome["retrainReason"] == "Drift"
    trials = outcome["run"]["trials"]
    assert len(trials) == 6 and outcome["run"]["failed"] == []
    best = max(trials, key=lambda t: (t["objective"], -t["index"]))
    assert outcome["promotion"]["promoted"] is True
    assert outcome["promotion"]["experiment"] == f"exp-{best['trialId']}"
    production = example.parent / "out" / "bikes" / "production"
    assert (production / "model.skops").is_file()
    assert json.loads((production / "production.json").read_text())["objective"] == best["objective"]
    report = Path(outcome["check"]["reportUri"])
    assert (report / "report.html").is_file() and (report / "report.json").is_file()

    # The second run evaluates the promoted model on the same test data: the `main` row.
    second = run(str(example))
    assert second.returncode == 0, second.stderr
    assert "main" in second.stdout and "★" in second.stdout
    assert "production kept" in second.stdout  # the same grid cannot beat itself
    table = [
        line for line in second.stdout.splitlines() if line.strip().startswith(("main", "★ exp-", "exp-"))
    ]
    assert len(table) == 7 and max(len(line) for line in table) <= 100


def test_the_table_is_ranked_by_the_objective(example: Path) -> None:
    result = run(str(example))
    assert result.returncode == 0, result.stderr
    assert "11/11 columns" in result.stdout and "6/6" in result.stdout  # the progress bars' last frames
    rows = [line for line in result.stdout.splitlines() if line.startswith("exp-")]
    assert len(rows) == 6
    assert "★" in rows[0] and not any("★" in row for row in rows[1:])
    objectives = [float(row.replace("★", "").split()[2]) for row in rows]  # name, index, objective
    assert objectives == sorted(objectives, reverse=True)


def test_no_drift_means_no_run(example: Path) -> None:
    manifest = yaml.safe_load(example.read_text())
    manifest["spec"]["current"]["uri"] = manifest["spec"]["reference"]["uri"]
    example.write_text(yaml.safe_dump(manifest))
    result = run(str(example), "--json")
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout)
    assert outcome["check"]["datasetDrift"] is False
    assert "run" not in outcome and outcome["retrainReason"] is None


def test_an_invalid_manifest_gets_the_apiservers_message(example: Path) -> None:
    manifest = yaml.safe_load(example.read_text())
    manifest["spec"]["schedule"] = "* *"
    manifest["spec"]["retrain"]["parallelism"] = 0
    example.write_text(yaml.safe_dump(manifest))
    result = run(str(example))
    assert result.returncode == 2
    assert 'The DriftCheck "bikes" is invalid:' in result.stderr
    assert (
        "spec.retrain.parallelism: Invalid value: 0: spec.retrain.parallelism in body should be "
        "greater than or equal to 1" in result.stderr
    )
    assert "spec.schedule: Invalid value: schedule must be a cron expression" in result.stderr


def test_missing_data_is_a_clear_error(example: Path) -> None:
    (example.parent / "data" / "2012.parquet").unlink()
    result = run(str(example))
    assert result.returncode == 3
    assert "2012.parquet" in result.stderr and "no such file" in result.stderr
    assert not (example.parent / "out").exists() or not any((example.parent / "out").rglob("report.json"))


def test_a_missing_manifest_is_a_clear_error(tmp_path: Path) -> None:
    result = run(str(tmp_path / "nope.yaml"))
    assert result.returncode == 2
    assert "cannot read" in result.stderr and "nope.yaml" in result.stderr


def test_promotion_follows_the_operators_verdict(example: Path) -> None:
    first = json.loads(run(str(example), "--json").stdout)
    production = example.parent / "out" / "bikes" / "production"
    assert first["promotion"]["promoted"] is True and "no production model" in first["promotion"]["message"]

    # The same grid on the same data, against its own best re-evaluated on this run's test data: kept.
    again = json.loads(run(str(example), "--json").stdout)["promotion"]
    assert again["promoted"] is False and "on this run's test data" in again["message"]
    assert "does not beat" in again["message"] and again["message"].endswith("; production kept")

    # The production model cannot be re-evaluated: the recorded objective is the benchmark, as in-cluster.
    (production / "model.skops").write_bytes(b"not a model")
    unreadable = json.loads(run(str(example), "--json").stdout)["promotion"]
    assert unreadable["promoted"] is False  # the same grid cannot beat its own recorded best
    assert "recorded at its promotion" in unreadable["message"]
    assert "re-evaluation on this run's test data failed: DataUnreadable" in unreadable["message"]
    assert (production / "model.skops").read_bytes() == b"not a model"

    # ... and a recorded objective the best beats by the margin promotes, saying which number it beat.
    record = json.loads((production / "production.json").read_text())
    (production / "production.json").write_text(json.dumps({**record, "objective": 0.1}))
    fallback = json.loads(run(str(example), "--json").stdout)["promotion"]
    assert fallback["promoted"] is True, fallback
    assert (
        "0.1 recorded at its promotion" in fallback["message"]
        and "failed: DataUnreadable" in fallback["message"]
    )
    assert (production / "model.skops").read_bytes() != b"not a model"

    # A worse production model, re-evaluated on this run's data, is beaten.
    worst = min(first["run"]["trials"], key=lambda t: t["objective"])
    shutil.copy(worst["modelUri"].removeprefix("file://"), production / "model.skops")
    beaten = json.loads(run(str(example), "--json").stdout)["promotion"]
    assert beaten["promoted"] is True and "on this run's test data" in beaten["message"]

    manifest = yaml.safe_load(example.read_text())
    manifest["spec"]["promotion"]["policy"] = "Manual"
    example.write_text(yaml.safe_dump(manifest))
    manual = json.loads(run(str(example), "--json").stdout)["promotion"]
    assert manual["promoted"] is False and "promotion policy is Manual" in manual["message"]


def test_trials_without_an_objective_promote_nothing(example: Path) -> None:
    """The verdict's NoObjective branch, at the function level: the example's data defines the
    objective for every trial, and data that defines it for none would cost a whole run."""
    from types import SimpleNamespace

    from kubedrift import decisions, storage
    from kubedrift.local.manifest import load_driftcheck
    from kubedrift.local.run import PRODUCTION_RECORD, Promotion, _promote
    from kubedrift.models.jobconfig import CheckJobConfig
    from kubedrift.models.results import TrialSummary

    check = load_driftcheck(example)
    config = CheckJobConfig.from_spec("bikes", "default", check.spec)
    destination = decisions.promotion_destination(check.spec, "bikes")
    trials = [
        TrialSummary(
            index=i,
            trial_id=f"t{i}",
            params={},
            metrics={},
            undefined_metrics={"avg_prec": "the test data has one class"},
            model_uri=str(example.parent / f"{i}.skops"),
            data_version="d",
            fit_seconds=0,
            total_seconds=0,
        )
        for i in range(2)
    ]
    production = {"experiment": "exp-old", "objective": 0.5}
    promotion = _promote(check, SimpleNamespace(outcomes={}), trials, destination, config, production)  # type: ignore[arg-type]
    assert promotion == Promotion(False, "nothing to promote: no trial has a value for avg_prec")
    assert not storage.exists(storage.join(destination, PRODUCTION_RECORD), config.storage)
