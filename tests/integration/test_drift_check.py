"""`kubedrift check` end to end on local Parquet: reports, summary, exit codes and bad input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from kubedrift.cli import main
from kubedrift.models.report import DriftReport
from kubedrift.models.results import TERMINATION_MESSAGE_LIMIT, CheckSummary

BIKES = Path(__file__).resolve().parents[2] / "examples" / "bike-sharing" / "data"


def write_config(tmp_path: Path, reference: str, current: str, **extra: Any) -> Path:
    config = {
        "check": "bikes",
        "reference": {"uri": reference},
        "current": {"uri": current},
        "storage": {"reportsUri": str(tmp_path / "reports")},
        **extra,
    }
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    return path


def run(tmp_path: Path, reference: str, current: str, **extra: Any) -> tuple[int, dict[str, Any]]:
    config = write_config(tmp_path, reference, current, **extra)
    termination = tmp_path / "termination-log"
    code = main(["check", "--config", str(config), "--termination-message-path", str(termination)])
    return code, json.loads(termination.read_text())


def report_files(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "reports").rglob("report.*")) if (tmp_path / "reports").exists() else []


def load_report(tmp_path: Path) -> DriftReport:
    (path,) = (p for p in report_files(tmp_path) if p.suffix == ".json")
    return DriftReport.model_validate_json(path.read_text())


def test_bike_check_writes_reports_and_a_compact_summary(tmp_path: Path) -> None:
    code, message = run(
        tmp_path,
        str(BIKES / "reference.parquet"),
        str(BIKES / "current" / "week-1.parquet"),
        columns={"target": "cnt", "exclude": ["dteday"]},
    )
    assert code == 0
    summary = CheckSummary.model_validate(message)
    report = load_report(tmp_path)
    assert summary.dataset_drift is report.dataset.drifted is True
    assert summary.report_uri == report.report_uri and summary.report_uri.startswith(
        str(tmp_path / "reports/bikes/")
    )
    assert report.target is not None and report.target.name == "cnt" and summary.target_drift is False
    assert "cnt" not in [c.name for c in report.columns]  # the target is its own verdict, not in the share
    assert report.dataset.columns_tested == 13 and summary.columns_drifted == report.dataset.columns_drifted
    drifted = [c.drifted for c in report.columns]
    assert drifted == sorted(drifted, reverse=True)  # drifted first
    weathersit = next(c for c in report.columns if c.name == "weathersit")
    assert weathersit.null_share_reference == pytest.approx(37 / 618)
    assert report.reference.rows == 618 and report.current.rows == 211
    assert {p.name for p in report_files(tmp_path)} == {"report.json", "report.html"}


def test_exit_zero_without_drift(tmp_path: Path) -> None:
    code, message = run(tmp_path, str(BIKES / "reference.parquet"), str(BIKES / "reference.parquet"))
    assert code == 0 and message["datasetDrift"] is False and message["columnsDrifted"] == 0


def test_summary_is_truncated_deterministically_below_4_kib(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    names = [f"a_rather_long_feature_column_name_{i:03d}" for i in range(200)]
    pq.write_table(pa.table({n: rng.normal(0, 1, 300) for n in names}), tmp_path / "r.parquet")
    pq.write_table(pa.table({n: rng.normal(3, 1, 300) for n in names}), tmp_path / "c.parquet")
    code, message = run(tmp_path, str(tmp_path / "r.parquet"), str(tmp_path / "c.parquet"))
    text = (tmp_path / "termination-log").read_bytes()
    assert code == 0 and len(text) < TERMINATION_MESSAGE_LIMIT
    assert message["truncated"] is True and message["columnsDrifted"] == 200
    assert message["driftedColumns"] == names[: len(message["driftedColumns"])]


def table(**columns: Any) -> pa.Table:
    return pa.table(columns)


def write(path: Path, data: pa.Table) -> str:
    pq.write_table(data, path)
    return str(path)


# --- bad input: a clear message, the documented exit code, nothing half-written ---


def assert_failed(
    tmp_path: Path, code: int, message: dict[str, Any], exit_code: int, reason: str, words: str
) -> None:
    assert code == exit_code
    assert message["error"]["reason"] == reason
    assert words in message["error"]["message"]
    assert report_files(tmp_path) == []


def test_missing_reference_object(tmp_path: Path) -> None:
    current = write(tmp_path / "c.parquet", table(x=[1.0, 2.0]))
    code, message = run(tmp_path, str(tmp_path / "nope.parquet"), current)
    assert_failed(tmp_path, code, message, 3, "DataNotFound", "nope.parquet")


def test_missing_current_object(tmp_path: Path) -> None:
    reference = write(tmp_path / "r.parquet", table(x=[1.0, 2.0]))
    code, message = run(tmp_path, reference, str(tmp_path / "gone" / "*.parquet"))
    assert_failed(tmp_path, code, message, 3, "DataNotFound", "matches no Parquet files")


def test_corrupt_parquet(tmp_path: Path) -> None:
    reference = write(tmp_path / "r.parquet", table(x=[1.0, 2.0]))
    (tmp_path / "c.parquet").write_bytes(b"PAR1 this is not parquet at all")
    code, message = run(tmp_path, reference, str(tmp_path / "c.parquet"))
    assert_failed(tmp_path, code, message, 4, "DataUnreadable", "not a readable Parquet dataset")


def test_spec_column_missing_on_one_side(tmp_path: Path) -> None:
    reference = write(tmp_path / "r.parquet", table(x=[1.0, 2.0], y=[1, 2]))
    current = write(tmp_path / "c.parquet", table(x=[1.0, 2.0]))
    code, message = run(tmp_path, reference, current, columns={"target": "y"})
    assert_failed(
        tmp_path, code, message, 4, "DataUnreadable", "'y' named in the spec is missing from the current"
    )


def test_unnamed_column_missing_on_one_side_is_reported_not_fatal(tmp_path: Path) -> None:
    reference = write(tmp_path / "r.parquet", table(x=[1.0, 2.0, 3.0], extra=[1, 2, 3]))
    current = write(tmp_path / "c.parquet", table(x=[1.0, 2.0, 3.0]))
    code, _ = run(tmp_path, reference, current)
    extra = next(c for c in load_report(tmp_path).columns if c.name == "extra")
    assert code == 0 and extra.status == "missing" and extra.reason == "not in the current data"


def test_type_mismatch_between_sides(tmp_path: Path) -> None:
    reference = write(tmp_path / "r.parquet", table(x=[1.0, 2.0]))
    current = write(tmp_path / "c.parquet", table(x=["a", "b"]))
    code, message = run(tmp_path, reference, current)
    assert_failed(tmp_path, code, message, 4, "DataUnreadable", "type double in the reference but string")


def test_empty_current_window(tmp_path: Path) -> None:
    reference = write(tmp_path / "r.parquet", table(x=[1.0, 2.0]))
    current = write(tmp_path / "c.parquet", pa.table({"x": pa.array([], pa.float64())}))
    code, message = run(tmp_path, reference, current)
    assert_failed(tmp_path, code, message, 3, "DataNotFound", "the current data has no rows")


def test_all_null_column_gets_a_status_not_a_crash(tmp_path: Path) -> None:
    reference = write(tmp_path / "r.parquet", table(x=[1.0, 2.0, 3.0], gone=[1.0, 2.0, 3.0]))
    current = write(tmp_path / "c.parquet", table(x=[1.0, 2.0, 3.0], gone=pa.array([None] * 3, pa.float64())))
    code, message = run(tmp_path, reference, current)
    gone = next(c for c in load_report(tmp_path).columns if c.name == "gone")
    assert code == 0 and gone.status == "all_null" and "current" in (gone.reason or "")
    assert message["columnsChecked"] == 1


def test_only_unseen_categories_drift_and_are_listed(tmp_path: Path) -> None:
    reference = write(tmp_path / "r.parquet", table(colour=["red", "blue"] * 20))
    current = write(tmp_path / "c.parquet", table(colour=["green", "pink"] * 20))
    code, _ = run(tmp_path, reference, current, columns={"categorical": ["colour"]})
    (colour,) = load_report(tmp_path).columns
    assert code == 0 and colour.drifted and colour.method == "chisquare" and colour.score == 0.0
    assert colour.unseen_categories == ["green", "pink"] and colour.unseen_share_current == 1.0


def test_single_row_on_each_side(tmp_path: Path) -> None:
    reference = write(tmp_path / "r.parquet", table(x=[1.5], c=["a"]))
    current = write(tmp_path / "c.parquet", table(x=[2.5], c=["a"]))
    code, _ = run(tmp_path, reference, current, columns={"categorical": ["c"]})
    results = {c.name: c for c in load_report(tmp_path).columns}
    assert code == 0 and results["x"].method == "z" and results["x"].drifted is False  # p = 0.157
    assert results["c"].score == 1.0 and "constant" in results["c"].notes[0]


def test_huge_cardinality_string_is_skipped_with_a_reason(tmp_path: Path) -> None:
    ids = [f"user-{i}" for i in range(5000)]
    reference = write(tmp_path / "r.parquet", table(user=ids, x=np.arange(5000.0)))
    current = write(tmp_path / "c.parquet", table(user=ids[::-1], x=np.arange(5000.0)))
    code, message = run(tmp_path, reference, current)
    user = next(c for c in load_report(tmp_path).columns if c.name == "user")
    assert code == 0 and user.status == "high_cardinality" and "5000 distinct values" in (user.reason or "")
    assert message["columnsChecked"] == 1


def test_invalid_config_is_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"check": "x", "reference": {"uri": "a"}}))
    termination = tmp_path / "t"
    assert main(["check", "--config", str(path), "--termination-message-path", str(termination)]) == 2
    assert json.loads(termination.read_text())["error"]["reason"] == "InvalidConfig"


def test_correction_recomputes_verdicts_on_adjusted_p_values(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    reference = write(tmp_path / "r.parquet", table(**{f"x{i}": rng.normal(0, 1, 200) for i in range(10)}))
    current = write(
        tmp_path / "c.parquet", table(**{f"x{i}": rng.normal(0.25 * (i == 0), 1, 200) for i in range(10)})
    )
    run(tmp_path, reference, current, drift={"correction": "bonferroni"})
    columns = load_report(tmp_path).columns
    for c in columns:
        assert c.adjusted_score == pytest.approx(min(1.0, (c.score or 0) * 10))
        assert c.drifted == ((c.adjusted_score or 1) <= 0.05)


def test_prediction_gets_its_own_verdict_beside_the_target(tmp_path: Path) -> None:
    code, message = run(
        tmp_path,
        str(BIKES / "reference.parquet"),
        str(BIKES / "current" / "week-2.parquet"),
        columns={"target": "high_demand", "prediction": "cnt"},
    )
    report = load_report(tmp_path)
    assert code == 0 and report.prediction is not None and report.target is not None
    assert (report.prediction.name, report.prediction.role, report.prediction.status) == (
        "cnt",
        "prediction",
        "tested",
    )
    assert report.target.method == "z" and message["targetDrift"] == report.target.drifted
    assert {"cnt", "high_demand"}.isdisjoint(c.name for c in report.columns)
