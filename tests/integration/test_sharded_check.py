"""A sharded check end to end on local Parquet: the indexes' partials, merged, give the single
pod's report; a partial that is missing or made from other data fails the merge with the reason."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from kubedrift.errors import DataNotFound, DataUnreadable
from kubedrift.models.jobconfig import ENV_JOB_NAME, ENV_SCHEDULED_AT, CheckJobConfig
from kubedrift.models.report import DriftReport
from kubedrift.storage import open_parquet
from kubedrift_jobs.drift import job as check_job
from kubedrift_jobs.drift.engine import run_check
from kubedrift_jobs.drift.partials import assign, partials_folder
from kubedrift_jobs.drift.shard import profile_share
from tests.integration.test_reference_profiles import DRIFT_SETTINGS, table, verdicts

AT = datetime(2026, 12, 7, 4, 0, tzinfo=UTC)
JOB = "sharded-check-29900000"


def write_sides(folder: Path, rows: int) -> tuple[Path, Path]:
    """A reference of one file; a current of three files in hive folders, with row groups of
    uneven sizes and one file without `i_wide`, so every index reads something different."""
    reference, current = folder / "reference.parquet", folder / "current"
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(table(rows, 1, 0.0), reference)
    whole = table(rows, 2, 0.4)
    cuts = [0, rows // 2, rows * 3 // 4, rows]
    for number, (start, end) in enumerate(itertools.pairwise(cuts)):
        part = whole.slice(start, end - start)
        if number == 1:
            part = part.drop_columns(["i_wide"])
        (current / f"day={number}").mkdir(parents=True)
        pq.write_table(part, current / f"day={number}" / "part-0.parquet", row_group_size=rows // 7 + number)
    return reference, current


def config(
    tmp_path: Path, reference: Path, current: Path, shards: int, drift: dict[str, Any]
) -> CheckJobConfig:
    return CheckJobConfig.from_wire(
        {
            "check": "sharded",
            "reference": {"uri": str(reference)},
            "current": {"uri": str(current)},
            "columns": {"target": "target"},
            "drift": drift,
            "storage": {"reportsUri": str(tmp_path / "reports")},
            "shards": shards,
        }
    )


def sharded(settings: CheckJobConfig, job: str = JOB) -> DriftReport:
    for index in range(settings.shards):
        profile_share(settings, index, job, AT)
    folder = partials_folder(settings.storage.reports_uri, settings.check, job)
    return run_check(settings, "report", scheduled_at=AT, partials=(folder, job))


@pytest.mark.parametrize("drift", DRIFT_SETTINGS[:4])
def test_four_shards_give_the_single_pods_verdicts(tmp_path: Path, drift: dict[str, Any]) -> None:
    reference, current = write_sides(tmp_path / "data", 3000)
    shards = config(tmp_path, reference, current, 4, drift)
    # Each index has rows to read: the split is not one index doing it all.
    assert all(share for share in assign(open_parquet(str(current)).row_groups, 4))

    single = run_check(config(tmp_path, reference, current, 1, drift), "report", scheduled_at=AT)
    merged = sharded(shards)

    assert verdicts(merged) == verdicts(single)
    assert merged.dataset == single.dataset
    assert merged.current == single.current and merged.files_read == single.files_read
    wide = next(c for c in merged.columns if c.name == "i_wide")
    assert wide.rows_absent_current == 750 and any("2 of 3 current files" in n for n in wide.notes)


def test_more_shards_than_row_groups_still_merge(tmp_path: Path) -> None:
    reference, current = write_sides(tmp_path / "data", 70)
    single = run_check(config(tmp_path, reference, current, 1, {}), "report", scheduled_at=AT)
    merged = sharded(config(tmp_path, reference, current, 64, {}))
    assert verdicts(merged) == verdicts(single)


def test_a_missing_partial_fails_the_merge_naming_the_index(tmp_path: Path) -> None:
    reference, current = write_sides(tmp_path / "data", 400)
    settings = config(tmp_path, reference, current, 4, {})
    for index in (0, 1, 3):
        profile_share(settings, index, JOB, AT)
    folder = partials_folder(settings.storage.reports_uri, settings.check, JOB)
    with pytest.raises(DataNotFound, match="the partial of index 2 of 4 is missing"):
        run_check(settings, "report", scheduled_at=AT, partials=(folder, JOB))


def test_partials_of_other_data_are_refused(tmp_path: Path) -> None:
    reference, current = write_sides(tmp_path / "data", 400)
    settings = config(tmp_path, reference, current, 2, {})
    for index in range(2):
        profile_share(settings, index, JOB, AT)
    # A late file lands in the current data after the indexes read it.
    pq.write_table(table(40, 5, 0.0), current / "day=0" / "part-1.parquet")
    folder = partials_folder(settings.storage.reports_uri, settings.check, JOB)
    with pytest.raises(DataUnreadable, match="the data changed while the check ran"):
        run_check(settings, "report", scheduled_at=AT, partials=(folder, JOB))


def test_the_merge_step_publishes_as_one_pod_does_and_removes_the_partials(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reference, current = write_sides(tmp_path / "data", 600)
    settings = config(tmp_path, reference, current, 3, {})
    config_file = tmp_path / "config.json"
    config_file.write_text(settings.model_dump_json(by_alias=True))
    monkeypatch.setenv(ENV_JOB_NAME, JOB)
    monkeypatch.setenv(ENV_SCHEDULED_AT, AT.isoformat())
    messages = []
    for index in range(3):
        monkeypatch.setenv(check_job.ENV_COMPLETION_INDEX, str(index))
        termination = tmp_path / f"shard-{index}.json"
        assert check_job.main(str(config_file), str(termination), step="shard") == 0
        messages.append(json.loads(termination.read_text()))
    assert [m["index"] for m in messages] == [0, 1, 2] and sum(m["rows"] for m in messages) == 600

    termination = tmp_path / "merge.json"
    assert check_job.main(str(config_file), str(termination), step="merge") == 0
    summary = json.loads(termination.read_text())
    report = json.loads(Path(summary["reportUri"], "report.json").read_text())
    history = list((tmp_path / "reports" / "sharded" / "history").glob("*.json"))
    assert len(history) == 1 and json.loads(history[0].read_text())["job"] == JOB
    assert summary["driftShare"] == report["dataset"]["driftShare"]
    folder = Path(partials_folder(settings.storage.reports_uri, settings.check, JOB))
    assert not [p for p in folder.rglob("*") if p.is_file()]

    # A second start of the merge finds the check recorded: it reads nothing, needs no partials.
    assert check_job.main(str(config_file), str(termination), step="merge") == 0
    assert json.loads(termination.read_text())["skipped"] == "AlreadyRecorded"


def test_a_window_over_a_timestamp_column_is_sharded_on_the_windows_rows(tmp_path: Path) -> None:
    """Row groups are split by their footer rows, but each index reads only the window's rows of them."""
    hours = [datetime(2026, 11, 1) + timedelta(hours=h) for h in range(24 * 40)]
    rng = np.random.default_rng(3)
    current = tmp_path / "current"
    current.mkdir()
    for month, part in enumerate((slice(0, 24 * 30), slice(24 * 30, None))):
        piece = pa.table({"ts": hours[part], "x": rng.normal(month, 1, len(hours[part]))})
        pq.write_table(piece, current / f"{month}.parquet", row_group_size=24 * 3)
    pq.write_table(pa.table({"x": rng.normal(0, 1, 500)}), tmp_path / "reference.parquet")
    wire = {
        "check": "windowed",
        "reference": {"uri": str(tmp_path / "reference.parquet")},
        "current": {"uri": str(current), "time": {"column": "ts"}, "window": {"last": "10d"}},
        "columns": {"exclude": ["ts"]},
        "storage": {"reportsUri": str(tmp_path / "reports")},
    }
    single = run_check(CheckJobConfig.from_wire(wire), "report", scheduled_at=AT)
    merged = sharded(CheckJobConfig.from_wire({**wire, "shards": 3}))
    assert merged.current.rows == single.current.rows == 24 * 10
    assert verdicts(merged) == verdicts(single) and merged.dataset == single.dataset
