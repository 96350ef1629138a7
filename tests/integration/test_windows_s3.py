"""A windowed check against the real S3 server: it reads only its window (issue 13, test 7: bytes
read, counted from what the server sent through a byte-for-byte relay), records the scheduled window
once, and ends an empty window skipped, not failed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from kubedrift.cli import main
from kubedrift.models.report import DriftReport
from kubedrift.storage import filesystem, read_bytes
from tests.fixtures.faultproxy import FaultProxy
from tests.fixtures.s3 import S3Server

pytestmark = pytest.mark.s3
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "bike-sharing"
DAILY = EXAMPLE / "data" / "daily"


@pytest.fixture(scope="module")
def daily() -> Path:
    """The example's 731 daily partitions (made by prepare.py --daily; git-ignored)."""
    if not (DAILY / "dt=2012-12-31" / "part-0.parquet").exists():
        subprocess.run(
            [sys.executable, str(EXAMPLE / "prepare.py"), "--daily"], check=True, capture_output=True
        )
    return DAILY


def upload(s3: S3Server, bucket: str, daily: Path) -> int:
    """The daily dataset under s3://bucket/daily/ and a reference elsewhere; the dataset's bytes."""
    fs = filesystem(f"s3://{bucket}", s3.storage(f"s3://{bucket}/reports"))
    fs.put(str(daily) + "/", f"{bucket}/daily/", recursive=True)
    fs.put_file(str(EXAMPLE / "data" / "reference.parquet"), f"{bucket}/ref/reference.parquet")
    return sum(p.stat().st_size for p in daily.rglob("*.parquet"))


def run_check(
    tmp_path: Path, bucket: str, endpoint: str, at: str, monkeypatch: pytest.MonkeyPatch
) -> tuple[int, dict]:
    config = {
        "check": "bikes",
        "reference": {"uri": f"s3://{bucket}/ref/reference.parquet"},
        "current": {
            "uri": f"s3://{bucket}/daily/",
            "time": {"partition": "dt=%Y-%m-%d"},
            "window": {"last": "7d"},
        },
        "columns": {"target": "high_demand", "exclude": ["dteday", "casual", "registered", "cnt"]},
        "storage": {"reportsUri": f"s3://{bucket}/reports", "endpoint": endpoint, "region": "us-east-1"},
    }
    (tmp_path / "config.json").write_text(json.dumps(config))
    termination = tmp_path / "termination-log"
    monkeypatch.setenv("KUBEDRIFT_SCHEDULED_AT", at)
    code = main(
        ["check", "--config", str(tmp_path / "config.json"), "--termination-message-path", str(termination)]
    )
    return code, json.loads(termination.read_text())


def data_bytes(proxy: FaultProxy, since: int) -> tuple[int, int]:
    """Body bytes the server sent for the daily dataset's objects, and how many such GETs, since `since`."""
    gets = [
        s
        for s in proxy.seen[since:]
        if s.method == "GET" and "/daily/" in s.target and "list-type" not in s.target
    ]
    return sum(s.body_bytes for s in gets), len(gets)


def test_a_seven_day_window_reads_under_two_percent_of_two_years(
    s3: S3Server,
    fault_proxy: FaultProxy,
    tmp_path: Path,
    daily: Path,
    monkeypatch: pytest.MonkeyPatch,
    record_property: pytest.RecordProperty,
) -> None:
    bucket = s3.create_bucket()
    total = upload(s3, bucket, daily)
    code, message = run_check(tmp_path, bucket, fault_proxy.url, "2012-06-04T00:00:00Z", monkeypatch)
    assert code == 0, message
    read, gets = data_bytes(fault_proxy, 0)
    share = read / total
    record_property("bytes_read", read)
    record_property("dataset_bytes", total)
    print(f"read {read} of {total} bytes ({share:.2%}) in {gets} GETs")
    assert read > 0 and share <= 0.02, f"read {read} of {total} bytes ({share:.2%})"

    # the report names the scheduled window and exactly its seven files
    storage = s3.storage(f"s3://{bucket}/reports")
    report = DriftReport.model_validate_json(read_bytes(f"{message['reportUri']}/report.json", storage))
    assert str(report.current.window) == "2012-05-28T00:00+00:00..2012-06-04T00:00+00:00"
    assert report.files_read["current"] == [
        f"dt=2012-{d}/part-0.parquet" for d in ("05-28", "05-29", "05-30", "05-31", "06-01", "06-02", "06-03")
    ]
    assert report.current.rows == sum(
        pq.read_metadata(daily / name).num_rows for name in report.files_read["current"]
    )
    assert message["scheduledAt"].startswith("2012-06-04T00:00:00")

    # a second start of the same scheduled time records nothing and reads no data
    seen = len(fault_proxy.seen)
    code, again = run_check(tmp_path, bucket, fault_proxy.url, "2012-06-04T00:00:00Z", monkeypatch)
    assert code == 0 and again["skipped"] == "AlreadyRecorded", again
    assert data_bytes(fault_proxy, seen) == (0, 0)
    history = filesystem(f"s3://{bucket}", storage).ls(f"{bucket}/reports/bikes/history/")
    assert [h.rsplit("/", 1)[-1] for h in history] == ["20120604T000000Z.json"]


def test_a_windowed_checks_requests_do_not_grow_with_the_partitions_outside_its_window(
    s3: S3Server, fault_proxy: FaultProxy, tmp_path: Path, daily: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same 7-day window over two years of partitions and over the 6 weeks around it alone:
    the same requests, the same bytes (the benchmark times it: bench/README.md)."""
    full = s3.create_bucket()
    upload(s3, full, daily)
    around = s3.create_bucket()
    fs = filesystem(f"s3://{around}", s3.storage(f"s3://{around}/reports"))
    for part in sorted(daily.glob("dt=2012-0[56]-*")):
        fs.put(str(part / "part-0.parquet"), f"{around}/daily/{part.name}/part-0.parquet")
    fs.put_file(str(EXAMPLE / "data" / "reference.parquet"), f"{around}/ref/reference.parquet")

    def requests(bucket: str) -> list[tuple[str, str, int]]:
        since = len(fault_proxy.seen)
        code, message = run_check(tmp_path, bucket, fault_proxy.url, "2012-06-04T00:00:00Z", monkeypatch)
        assert code == 0, message
        # each request: method, target (the bucket named alike) and bytes sent; the reports aside
        return sorted(
            (s.method, s.target.replace(bucket, "BUCKET"), s.body_bytes)
            for s in fault_proxy.seen[since:]
            if "/reports/" not in s.target and "reports%2F" not in s.target
        )

    over_two_years, over_six_weeks = requests(full), requests(around)
    assert len(list(daily.glob("dt=*"))) == 731
    assert over_two_years == over_six_weeks


def test_an_empty_window_is_skipped_not_failed(
    s3: S3Server, tmp_path: Path, daily: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bucket = s3.create_bucket()
    upload(s3, bucket, daily)
    code, message = run_check(tmp_path, bucket, s3.endpoint, "2013-02-01T00:00:00Z", monkeypatch)
    assert code == 0, message
    assert message["skipped"] == "EmptyWindow"
    assert "2013-01-25T00:00+00:00..2013-02-01T00:00+00:00" in message["message"]
    assert message["window"]["start"].startswith("2013-01-25")
