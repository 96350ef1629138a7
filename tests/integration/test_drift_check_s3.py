"""The check job against the real S3 server (versitygw over TLS with the suite's private CA)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kubedrift.cli import main
from kubedrift.models.report import DriftReport
from kubedrift.storage import filesystem, read_bytes
from tests.fixtures.s3 import S3Server

pytestmark = pytest.mark.s3
BIKES = Path(__file__).resolve().parents[2] / "examples" / "bike-sharing" / "data"


def check(tmp_path: Path, s3: S3Server, bucket: str, endpoint: str | None = None) -> tuple[int, dict]:
    config = {
        "check": "bikes",
        "namespace": "ml",
        "reference": {"uri": f"s3://{bucket}/data/reference.parquet"},
        "current": {"uri": f"s3://{bucket}/data/current/"},
        "storage": {
            "reportsUri": f"s3://{bucket}/reports",
            "endpoint": endpoint or s3.endpoint,
            "region": "us-east-1",
        },
    }
    (tmp_path / "config.json").write_text(json.dumps(config))
    termination = tmp_path / "termination-log"
    code = main(
        ["check", "--config", str(tmp_path / "config.json"), "--termination-message-path", str(termination)]
    )
    return code, json.loads(termination.read_text())


def upload(s3: S3Server, bucket: str) -> None:
    fs = filesystem(f"s3://{bucket}", s3.storage(f"s3://{bucket}/reports"))
    fs.put_file(str(BIKES / "reference.parquet"), f"{bucket}/data/reference.parquet")
    fs.put_file(str(BIKES / "current" / "week-2.parquet"), f"{bucket}/data/current/part-0.parquet")
    fs.pipe_file(f"{bucket}/data/current/_SUCCESS", b"")


def test_check_reads_and_writes_s3(s3: S3Server, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bucket = s3.create_bucket()
    upload(s3, bucket)
    code, message = check(tmp_path, s3, bucket)
    assert code == 0, message
    report_uri = message["reportUri"]
    assert report_uri.startswith(f"s3://{bucket}/reports/bikes/")
    storage = s3.storage(f"s3://{bucket}/reports")
    report = DriftReport.model_validate_json(read_bytes(f"{report_uri}/report.json", storage))
    assert report.current.files == 1 and report.current.rows == 163 and report.current.content_hash
    assert message["current"]["contentHash"] == report.current.content_hash
    assert b"Drift report: bikes" in read_bytes(f"{report_uri}/report.html", storage)
    assert report.dataset.drifted is message["datasetDrift"]
    output = capsys.readouterr()
    assert s3.env()["AWS_SECRET_ACCESS_KEY"] not in output.out + output.err  # never log credentials


def test_missing_credentials_fail_clearly(
    s3: S3Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bucket = s3.create_bucket()
    upload(s3, bucket)
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(key)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    code, message = check(tmp_path, s3, bucket)
    assert code == 2 and message["error"]["reason"] == "InvalidConfig"
    assert "no S3 credentials" in message["error"]["message"]


def test_unreachable_endpoint_is_retried_then_exit_75(s3: S3Server, tmp_path: Path) -> None:
    code, message = check(tmp_path, s3, "some-bucket", endpoint="http://127.0.0.1:9")
    assert code == 75 and message["error"]["reason"] == "Transient"
    assert "unreachable" in message["error"]["message"]
