"""Same per-column methods, scores (1e-6) and verdicts as Evidently 0.7, run live in its own venv.

Evidently runs as a subprocess in .venv-evidently, made by the setup step (`make evidently`,
a prerequisite of `make test`); nothing here imports it, and every Evidently verdict compared
here is one Evidently itself reported (see evidently_runner.py).
"""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from kubedrift.models.jobconfig import CheckJobConfig
from kubedrift.models.report import DriftReport
from kubedrift_jobs.drift.engine import run_check
from tests.compat.run_evidently import EvidentlyMissing, evidently_drift, evidently_python

BIKES = Path(__file__).resolve().parents[2] / "examples" / "bike-sharing" / "data"


def test_a_missing_or_stale_evidently_venv_fails_and_says_how_to_make_it(tmp_path: Path) -> None:
    with pytest.raises(EvidentlyMissing, match=r"is missing: run `make evidently`"):
        evidently_python(tmp_path / "nowhere")
    (tmp_path / "old" / "bin").mkdir(parents=True)
    (tmp_path / "old" / "bin" / "python").touch()
    (tmp_path / "old" / ".installed").write_text("evidently==0.6.0\n")
    with pytest.raises(EvidentlyMissing, match=r"has 'evidently==0.6.0', not 'evidently==0.7"):
        evidently_python(tmp_path / "old")


def ours(reference: Path, current: Path, tmp_path: Path, drift: dict[str, Any] | None = None) -> DriftReport:
    config = CheckJobConfig.from_wire(
        {
            "check": "compat",
            "reference": {"uri": str(reference)},
            "current": {"uri": str(current)},
            "drift": drift or {},
            "storage": {"reportsUri": str(tmp_path / "reports")},
        }
    )
    return run_check(config, str(tmp_path / "reports"))


def assert_same(report: DriftReport, theirs: dict[str, Any]) -> None:
    tested = {c.name: c for c in report.columns if c.status == "tested"}
    assert sorted(tested) == sorted(theirs["columns"]), "different columns tested"
    for name, expected in theirs["columns"].items():
        mine = tested[name]
        assert (mine.column_type, mine.method) == (expected["type"], expected["method"]), name
        assert mine.score == pytest.approx(expected["score"], rel=1e-6, abs=1e-9), name
        assert mine.drifted == expected["drifted"], name
    drifted = sum(c["drifted"] for c in theirs["columns"].values())
    assert report.dataset.columns_drifted == drifted
    assert report.dataset.drift_share == pytest.approx(drifted / len(theirs["columns"]))
    if not any("inf" in name for name in theirs["columns"]):
        # Evidently's own DriftedColumnsCount counts ±inf columns on a path that keeps the
        # infinities (their Wasserstein becomes NaN, "not drifted") while its ValueDrift drops
        # them; we follow ValueDrift, so only data without ±inf can agree with both.
        assert (report.dataset.columns_drifted, report.dataset.drift_share) == (
            theirs["count"],
            pytest.approx(theirs["share"]),
        )


@pytest.mark.parametrize("week", [1, 2, 3])
def test_bike_sharing_weeks_match_evidently(week: int, tmp_path: Path) -> None:
    reference, current = BIKES / "reference.parquet", BIKES / "current" / f"week-{week}.parquet"
    report = ours(reference, current, tmp_path)
    assert_same(report, evidently_drift(reference, current))
    assert [c.name for c in report.columns if c.status != "tested"] == ["dteday"]  # a date: not tested


def boundary_table(rows: int, seed: int, shift: float) -> pa.Table:
    """Columns on both sides of every size and cardinality boundary of the default selection."""
    rng = np.random.default_rng(seed)
    few = rng.integers(0, 6, rows)  # 6 values: u > 5 with a shift that adds none
    return pa.table(
        {
            "normal": rng.normal(shift, 1, rows),
            "steady": rng.normal(0, 1, rows),
            "six_values": (few + (rng.random(rows) < shift)).astype(np.float64),
            "five_values": rng.integers(0, 5, rows).astype(np.float64) + (rng.random(rows) < shift / 2),
            "three_values": rng.choice([0.5, 1.5, 2.5], rows, p=[0.5 - shift / 4, 0.3, 0.2 + shift / 4]),
            "two_values": rng.choice([0.0, 1.0], rows, p=[0.6 - shift / 4, 0.4 + shift / 4]),
            "int_ten": rng.integers(0, 10, rows),
            "int_eleven": rng.integers(0, 11, rows) + (rng.random(rows) < shift).astype(np.int64),
            "colour": rng.choice(["red", "green", "blue"], rows, p=[0.5, 0.3 - shift / 4, 0.2 + shift / 4]),
            "flag": rng.random(rows) < 0.3 + shift / 3,
            "yes_no": rng.choice(["yes", "no"], rows),
            "with_gaps": np.where(rng.random(rows) < 0.1, np.nan, rng.lognormal(shift, 1, rows)),
            "with_inf": np.where(rng.random(rows) < 0.05, np.inf, rng.exponential(1 + shift, rows)),
        }
    )


@pytest.mark.parametrize("rows", [999, 1000, 1001, 5000])
def test_generated_shifts_across_the_boundaries_match_evidently(rows: int, tmp_path: Path) -> None:
    reference, current = tmp_path / "reference.parquet", tmp_path / "current.parquet"
    pq.write_table(boundary_table(rows, seed=rows, shift=0.0), reference)
    pq.write_table(boundary_table(rows + 37, seed=rows + 1, shift=0.3), current)
    report = ours(reference, current, tmp_path)
    assert_same(report, evidently_drift(reference, current))
    methods = {c.name: c.method for c in report.columns}
    small = rows <= 1000
    assert methods["normal"] == ("ks" if small else "wasserstein")
    assert methods["two_values"] == ("z" if small else "jensenshannon")
    assert methods["three_values"] == ("chisquare" if small else "jensenshannon")


def test_overridden_methods_match_evidently(tmp_path: Path) -> None:
    reference, current = tmp_path / "reference.parquet", tmp_path / "current.parquet"
    # Without ±inf: Evidently's preset keeps infinities on one of its paths and crashes on PSI.
    pq.write_table(boundary_table(3000, seed=1, shift=0.0).drop_columns(["with_inf"]), reference)
    pq.write_table(boundary_table(2500, seed=2, shift=0.2).drop_columns(["with_inf"]), current)
    drift = {
        "numerical": {"method": "psi"},
        "categorical": {"method": "hellinger", "threshold": 0.05},
        "perColumn": {
            "normal": {"method": "kl_div"},
            "steady": {"method": "t_test"},
            "with_gaps": {"method": "ks"},
        },
    }
    options = {
        "num_method": "psi",
        "cat_method": "hellinger",
        "cat_threshold": 0.05,
        "per_column_method": {"normal": "kl_div", "steady": "t_test", "with_gaps": "ks"},
    }
    assert_same(ours(reference, current, tmp_path, drift), evidently_drift(reference, current, options))


# Issue 13, test 3 (the Evidently part): checks over weekly windows of the partitioned example
# (`prepare.py --daily`) agree with Evidently on the same two windows, materialised here from the
# partitions a window covers by plain date arithmetic (not by kubedrift's window code).
DAILY = BIKES / "daily"
JANUARY = (date(2011, 1, 1), date(2011, 2, 1))  # the example's reference window, before any promotion
MONDAYS = [date(2011, 3, 7), date(2011, 6, 27), date(2012, 1, 2)]  # late winter, summer, across a year


@pytest.fixture(scope="module")
def daily() -> Path:
    if not (DAILY / "dt=2012-12-31" / "part-0.parquet").exists():
        subprocess.run(
            [sys.executable, str(BIKES.parent / "prepare.py"), "--daily"], check=True, capture_output=True
        )
    return DAILY


def materialised(daily: Path, first: date, end: date, out: Path) -> tuple[Path, list[str]]:
    """The rows of the days [first, end) as one file, and the partition files they came from."""
    days = [first + timedelta(days=n) for n in range((end - first).days)]
    files = [f"dt={d.isoformat()}/part-0.parquet" for d in days]
    pq.write_table(pa.concat_tables([pq.read_table(daily / f) for f in files]), out)
    return out, files


@pytest.mark.parametrize("monday", MONDAYS, ids=str)
def test_a_weekly_window_of_the_daily_example_matches_evidently_on_the_same_two_windows(
    daily: Path, monday: date, tmp_path: Path
) -> None:
    partitioned = {"uri": str(daily), "time": {"partition": "dt=%Y-%m-%d"}}
    config = CheckJobConfig.from_wire(
        {
            "check": "compat",
            "reference": partitioned
            | {"window": {"from": f"{JANUARY[0]}T00:00:00Z", "to": f"{JANUARY[1]}T00:00:00Z"}},
            "current": partitioned | {"window": {"last": "7d"}},
            "storage": {"reportsUri": str(tmp_path / "reports")},
        }
    )
    at = datetime.combine(monday, time.min, tzinfo=UTC)
    report = run_check(config, str(tmp_path / "reports"), scheduled_at=at)
    reference, reference_files = materialised(daily, *JANUARY, tmp_path / "reference.parquet")
    current, current_files = materialised(
        daily, monday - timedelta(days=7), monday, tmp_path / "current.parquet"
    )
    assert report.files_read == {"reference": reference_files, "current": current_files}
    assert report.current.window is not None and report.current.window.end == at
    assert (report.reference.rows, report.current.rows) == (
        pq.read_metadata(reference).num_rows,
        pq.read_metadata(current).num_rows,
    )
    assert_same(report, evidently_drift(reference, current))
