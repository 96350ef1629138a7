"""The training job end to end on real Parquet files: artifacts, baseline, and every exit code."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from kubedrift import storage
from kubedrift.models.results import TrialSummary
from kubedrift_jobs.train import artifacts
from kubedrift_jobs.train.features import FeatureRoles
from kubedrift_jobs.train.job import main_index
from kubedrift_jobs.train.metrics import Predictions, evaluate
from kubedrift_jobs.train.pipeline import prepare_frame
from tests.fixtures.train_data import train_config, write_config, write_synthetic

ROLES = FeatureRoles("y", ("x1", "x2"), ("color",))


def run(
    tmp_path: Path, config: dict[str, Any], index: int | None = 0, **kwargs: Any
) -> tuple[int, dict[str, Any]]:
    path = write_config(tmp_path / "config.yaml", config)
    termination = tmp_path / "termination-log"
    code = main_index(path, index, termination_path=str(termination), **kwargs)
    return code, json.loads(termination.read_text())


@pytest.fixture
def data(tmp_path: Path) -> tuple[str, str]:
    return write_synthetic(tmp_path / "data")


def test_trial_writes_artifacts_that_reproduce_its_metrics(tmp_path: Path, data: tuple[str, str]) -> None:
    reports = str(tmp_path / "reports")
    code, message = run(tmp_path, train_config(*data, reports), index=1)
    assert code == 0
    summary = TrialSummary.model_validate(message)
    assert summary.index == 1
    assert summary.params == {"n_estimators": 5, "max_depth": 4, "random_state": 0}
    folder = tmp_path / "reports" / "synthetic" / "r1" / "1"
    assert sorted(p.name for p in folder.iterdir()) == [
        "data.json",
        "metrics.json",
        "model.skops",
        "params.json",
        "trial.json",
    ]
    assert summary.model_uri == str(folder / "model.skops")

    model = artifacts.read_model(str(folder), None)
    x, y = prepare_frame(pq.read_table(data[1]).to_pandas(), ROLES)
    again = evaluate(
        list(summary.metrics), Predictions(y, model.predict(x), model.predict_proba(x), model.classes_)
    )
    metrics_file = json.loads((folder / "metrics.json").read_text())
    assert again.values == metrics_file["metrics"] == summary.metrics

    fingerprints = json.loads((folder / "data.json").read_text())
    assert fingerprints["train"]["rows"] == 300 and fingerprints["test"]["rows"] == 200
    assert fingerprints["version"] == summary.data_version
    assert json.loads((folder / "params.json").read_text())["estimator"] == "RandomForestClassifier"


def test_same_trial_on_same_data_gets_the_same_id_and_new_data_a_new_one(
    tmp_path: Path, data: tuple[str, str]
) -> None:
    config = train_config(*data, str(tmp_path / "reports"))
    first = run(tmp_path, config)[1]["trialId"]
    assert run(tmp_path, config)[1]["trialId"] == first
    pq.write_table(pq.read_table(data[0]).slice(0, 250), data[0])
    assert run(tmp_path, config)[1]["trialId"] != first


def test_container_command_reads_index_and_config_from_the_environment(
    tmp_path: Path, data: tuple[str, str]
) -> None:
    config = write_config(tmp_path / "config.yaml", train_config(*data, str(tmp_path / "reports")))
    termination = tmp_path / "termination-log"
    env = os.environ | {
        "KUBEDRIFT_CONFIG": config,
        "JOB_COMPLETION_INDEX": "1",
        "KUBEDRIFT_TERMINATION_MESSAGE_PATH": str(termination),
    }
    done = subprocess.run(
        [sys.executable, "-m", "kubedrift", "train"], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert TrialSummary.model_validate_json(termination.read_text()).params["max_depth"] == 4


def test_baseline_evaluates_the_production_model_on_the_same_test_data(
    tmp_path: Path, data: tuple[str, str]
) -> None:
    reports = str(tmp_path / "reports")
    trial = TrialSummary.model_validate(run(tmp_path, train_config(*data, reports), index=0)[1])
    production = str(tmp_path / "reports" / "synthetic" / "r1" / "0")
    config = train_config(*data, reports, baselineModelUri=production)
    # The index after the grid (2 combinations here) is the baseline ...
    code, message = run(tmp_path, config, index=2)
    assert code == 0
    baseline = TrialSummary.model_validate(message)
    assert baseline.baseline and baseline.index == 2
    assert baseline.metrics == trial.metrics  # same model, same test data
    assert baseline.model_uri == production + "/model.skops"
    assert (tmp_path / "reports" / "synthetic" / "r1" / "baseline" / "metrics.json").exists()
    # ... and --baseline asks for it directly.
    assert TrialSummary.model_validate(run(tmp_path, config, index=None, baseline=True)[1]).baseline


def test_untrusted_model_types_are_refused(tmp_path: Path, data: tuple[str, str]) -> None:
    from sklearn.preprocessing import FunctionTransformer

    evil = tmp_path / "evil.skops"
    evil.write_bytes(artifacts.dump_model(FunctionTransformer(func=os.system)))
    config = train_config(*data, str(tmp_path / "r"), baselineModelUri=str(evil))
    code, message = run(tmp_path, config, index=None, baseline=True)
    assert code == 2
    assert message["error"]["reason"] == "InvalidConfig"
    assert "does not trust" in message["error"]["message"] and "system" in message["error"]["message"]


def _corrupt(tmp_path: Path, data: tuple[str, str]) -> dict[str, Any]:
    Path(data[1]).write_bytes(b"PAR1 this is not parquet PAR1")
    return train_config(*data, str(tmp_path / "r"))


BAD_INPUTS: dict[str, tuple[Any, int, str, str]] = {
    "missing data": (
        lambda tmp, data: train_config(str(tmp / "nowhere.parquet"), data[1], str(tmp / "r")),
        3,
        "DataNotFound",
        "nowhere.parquet: no such file, directory or prefix",
    ),
    "missing column": (
        lambda tmp, data: train_config(*data, str(tmp / "r"), columns={"target": "y", "numerical": ["x9"]}),
        4,
        "DataUnreadable",
        "no column 'x9' (columns.numerical)",
    ),
    "bad param": (
        lambda tmp, data: train_config(*data, str(tmp / "r"), grid={"max_depth": [2, "deep"]}),
        2,
        "InvalidConfig",
        'retrain.grid.max_depth[1]: Invalid value: "deep": '
        "The 'max_depth' parameter of RandomForestClassifier must be",
    ),
    "fit failure": (
        # Each value is valid alone; together they only fail inside fit().
        lambda tmp, data: train_config(
            *data, str(tmp / "r"), params={"bootstrap": False, "max_samples": 0.5}
        ),
        5,
        "TrainingFailed",
        "RandomForestClassifier(bootstrap=False, max_depth=2, max_samples=0.5) failed to fit: ValueError:",
    ),
    "corrupt parquet": (_corrupt, 4, "DataUnreadable", "test.parquet"),
    "index outside the grid": (
        lambda tmp, data: train_config(*data, str(tmp / "r"), grid={"max_depth": [2]}),
        2,
        "InvalidConfig",
        "index 5 is outside the grid of 1 combination(s)",
    ),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_gives_its_exit_code_and_one_line_reason(
    case: str, tmp_path: Path, data: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    make, exit_code, reason, text = BAD_INPUTS[case]
    index = 5 if case == "index outside the grid" else 0
    code, message = run(tmp_path, make(tmp_path, data), index=index)
    assert code == exit_code
    assert message["error"]["reason"] == reason
    assert text in message["error"]["message"]
    assert "\n" not in message["error"]["message"]
    assert capsys.readouterr().err.startswith(f"error: {reason}: ")
    assert not (tmp_path / "r" / "synthetic" / "r1" / str(index) / "model.skops").exists()


def test_no_index_anywhere_is_a_config_error(
    tmp_path: Path, data: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("JOB_COMPLETION_INDEX", raising=False)
    code, message = run(tmp_path, train_config(*data, str(tmp_path / "r")), index=None)
    assert code == 2 and "JOB_COMPLETION_INDEX" in message["error"]["message"]


@pytest.mark.s3
def test_s3_round_trip(tmp_path: Path, data: tuple[str, str], s3: Any) -> None:
    bucket = s3.create_bucket()
    settings = s3.storage(f"s3://{bucket}/reports")
    for name, local in (("train", data[0]), ("test", data[1])):
        storage.write_bytes(f"s3://{bucket}/data/{name}/part-0.parquet", Path(local).read_bytes(), settings)
    config = train_config(
        f"s3://{bucket}/data/train/",
        f"s3://{bucket}/data/test/*.parquet",
        f"s3://{bucket}/reports",
        storage={"endpoint": s3.endpoint, "region": "us-east-1"},
    )
    code, message = run(tmp_path, config, index=1)
    assert code == 0, message
    summary = TrialSummary.model_validate(message)
    assert summary.model_uri == f"s3://{bucket}/reports/synthetic/r1/1/model.skops"
    model = artifacts.read_model(summary.model_uri, settings)
    x, y = prepare_frame(pq.read_table(data[1]).to_pandas(), ROLES)
    again = evaluate(
        list(summary.metrics), Predictions(y, model.predict(x), model.predict_proba(x), model.classes_)
    )
    assert again.values == summary.metrics
    stored = json.loads(storage.read_bytes(f"s3://{bucket}/reports/synthetic/r1/1/data.json", settings))
    assert stored["train"]["uri"] == f"s3://{bucket}/data/train/" and stored["train"]["rows"] == 300


@pytest.mark.s3
def test_unreachable_storage_is_transient(tmp_path: Path, s3: Any) -> None:
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = train_config(
        "s3://bucket/train.parquet",
        "s3://bucket/test.parquet",
        "s3://bucket/reports",
        storage={"endpoint": f"http://127.0.0.1:{port}"},
    )
    code, message = run(tmp_path, config, index=0)
    assert code == 75
    assert message["error"]["reason"] == "Transient"
