"""`kubedrift ui DIR` reads a local run's folder into the cluster's shapes (status, the run's table)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kubedrift import reports
from kubedrift.errors import DataNotFound
from kubedrift.models.jobconfig import TrainJobConfig
from kubedrift.models.localrun import RUN_RECORD, FailedIndex, LocalRunRecord
from kubedrift.models.results import TrialSummary
from kubedrift.ui.folder import FolderSource
from tests.fixtures.reports import sample_report
from tests.unit.plugin.factories import driftcheck

RUN = "local-20250302t070000-000001"


def trial(index: int, avg_prec: float, baseline: bool = False) -> dict[str, object]:
    summary = TrialSummary(
        index=index,
        trial_id=f"t{index}",
        params={"max_depth": 2 + index, "n_estimators": 50},
        metrics={"avg_prec": avg_prec},
        objective=avg_prec,
        model_uri="x",
        data_version="d",
        fit_seconds=0,
        total_seconds=0,
        baseline=baseline,
    )
    return {"summary": summary.to_wire()}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "out"
    check = root / "bikes"
    for day, share in ((1, 0.2), (2, 0.9)):
        when = datetime(2025, 3, day, 6, tzinfo=UTC)
        uri = str(check / when.strftime("%Y%m%dT%H%M%S.%fZ"))
        report = sample_report(uri).model_copy(update={"finished_at": when})
        report = report.model_copy(
            update={"dataset": report.dataset.model_copy(update={"drift_share": share})}
        )
        reports.write_report(report, {reports.REPORT_HTML: b"<html>r</html>"}, None)
    run = check / RUN
    for index, value in ((0, 0.7), (1, 0.8)):
        (run / str(index)).mkdir(parents=True)
        (run / str(index) / "trial.json").write_text(json.dumps(trial(index, value)))
    (run / "baseline").mkdir()
    (run / "baseline" / "trial.json").write_text(json.dumps(trial(3, 0.75, baseline=True)))
    config = TrainJobConfig.from_spec("bikes", "default", RUN, driftcheck().spec)
    record = LocalRunRecord(
        config=config,
        finished_at=datetime(2025, 3, 2, 7, 5, tzinfo=UTC),
        failed=[
            FailedIndex(
                index=2, reason="TrainingFailed", message="max_depth=4: boom", params={"max_depth": 4}
            )
        ],
    )
    (run / RUN_RECORD).write_text(json.dumps(record.to_wire()))
    (check / "production").mkdir()
    promoted = datetime(2025, 3, 2, 7, 6, tzinfo=UTC) + timedelta(seconds=1)
    (check / "production" / "production.json").write_text(
        json.dumps(
            {
                "experiment": "exp-t1",
                "objective": 0.8,
                "metric": "avg_prec",
                "promotedAt": promoted.isoformat(),
            }
        )
    )
    return root


def test_the_folder_reads_as_a_status_with_history_and_production(folder: Path) -> None:
    source = FolderSource(folder)
    (info,) = source.checks("default")
    assert info.name == "bikes" and info.objective is not None and info.objective.metric == "avg_prec"
    assert [r.drift_share for r in info.status.history] == [0.9, 0.2]  # newest first, as in the cluster
    assert info.status.last_check is not None and info.status.last_check.drift_share == 0.9
    assert info.status.production is not None and info.status.production.experiment == "exp-t1"
    assert len(info.status.promotions) == 1
    rid = "20250302T060000.000000Z"
    assert source.report_file(info, rid, reports.REPORT_HTML) == b"<html>r</html>"


def test_a_runs_table_has_the_main_row_the_best_and_the_failed_index(folder: Path) -> None:
    source = FolderSource(folder)
    (run,) = source.runs("default", "bikes")
    assert (run.name, run.trials, run.succeeded, run.failed, run.best) == (RUN, 3, 2, 1, "exp-t1")
    assert run.started_at == datetime(2025, 3, 2, 7, 0, 0, 1, tzinfo=UTC)
    table = source.run_table("default", "bikes", RUN, None, None)
    assert [r.experiment for r in table.rows] == ["main", "exp-t1", "exp-t0", "index 2"]
    failed = table.rows[-1]
    assert (failed.phase, failed.reason, failed.message) == ("Failed", "TrainingFailed", "max_depth=4: boom")


def test_names_outside_the_folder_are_not_found(folder: Path) -> None:
    source = FolderSource(folder)
    with pytest.raises(DataNotFound):
        source.check("default", "..")
    with pytest.raises(DataNotFound):
        source.run_table("default", "bikes", "../bikes", None, None)
    with pytest.raises(DataNotFound):
        source.check("other", "bikes")
