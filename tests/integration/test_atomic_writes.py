"""Writes are never half-done (issue 11, proof 6): against the real S3 server and on local disk.

A report is complete or absent: a failure between the HTML and report.json leaves no report that
claims to be complete, and the earlier report stays readable. A promotion copy that fails leaves
the previous production model in place and readable, and no partial object (or multipart upload)
behind. The copy streams: the promotion job's memory stays far below the model's size.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from kubedrift import reports, storage
from kubedrift.cli import main
from kubedrift.errors import DataNotFound, DataUnreadable, TransientError
from kubedrift.models.jobconfig import ENV_TERMINATION_MESSAGE_PATH
from kubedrift.models.report import DriftReport
from kubedrift.models.resources import DriftCheck
from kubedrift.models.results import history_key
from kubedrift.plugin import report as plugin_report
from kubedrift_jobs.promote import promote_copy
from kubedrift_jobs.train import artifacts
from tests.fixtures.reports import sample_report
from tests.fixtures.s3 import Account, S3Server, upload_file
from tests.unit.plugin.factories import driftcheck_wire

BIKES = Path(__file__).resolve().parents[2] / "examples" / "bike-sharing" / "data"
MIB = 2**20


def check_config(tmp_path: Path, reports_uri: str, data: str, endpoint: str | None) -> Path:
    config: dict[str, Any] = {
        "check": "bikes",
        "namespace": "ml",
        "reference": {"uri": f"{data}/reference.parquet"},
        "current": {"uri": f"{data}/current/"},
        "storage": {"reportsUri": reports_uri},
    }
    if endpoint:
        config["storage"] |= {"endpoint": endpoint, "region": "us-east-1"}
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    return path


def run_check(tmp_path: Path, config: Path) -> tuple[int, dict[str, Any]]:
    termination = tmp_path / f"termination-{uuid.uuid4().hex[:6]}"
    code = main(["check", "--config", str(config), "--termination-message-path", str(termination)])
    return code, json.loads(termination.read_text())


def upload_bikes(s3: S3Server, bucket: str) -> str:
    client = s3.client()
    upload_file(client, BIKES / "reference.parquet", bucket, "data/reference.parquet")
    upload_file(client, BIKES / "current" / "week-2.parquet", bucket, "data/current/part-0.parquet")
    return f"s3://{bucket}/data"


def report_objects(s3: S3Server, bucket: str) -> dict[str, set[str]]:
    """Every report folder under reports/bikes/ and the names of the objects in it (the history's
    entries under the key "history", the reference profile's files under "profile")."""
    listing = s3.client().list_objects_v2(Bucket=bucket, Prefix="reports/bikes/").get("Contents", [])
    folders: dict[str, set[str]] = {}
    for item in listing:
        folder, name = item["Key"].rsplit("/", 1)
        where = "history" if folder.endswith("/history") else f"s3://{bucket}/{folder}"
        if "/profiles/" in folder:  # the first check's reference profile: a cache, kept whole
            where, name = "profile", "profile.json" if name == "profile.json" else "<column files>"
        folders.setdefault(where, set()).add(name)
    return folders


def history_name(summary: dict[str, Any]) -> str:
    """The history entry a successful check wrote: named by its scheduled time."""
    return history_key(datetime.fromisoformat(summary["scheduledAt"].replace("Z", "+00:00")))


def download_latest(check_body: dict[str, Any], folder: str, output: Path) -> bytes:
    """What `kubectl drift report -o` downloads for a DriftCheck whose last check wrote `folder`."""
    last = {"time": "2025-03-01T12:00:00Z", "job": "bikes-1", "succeeded": True, "reportUri": folder}
    check_body["status"] = {"lastCheck": last}
    plugin_report.download(DriftCheck.from_wire(check_body), output)
    return output.read_bytes()


def _policy(bucket: str, account: Account, deny_report_json: bool) -> str:
    principal = {"AWS": [account.access_key]}
    statements: list[dict[str, Any]] = [
        {
            "Effect": "Allow",
            "Principal": principal,
            "Action": ["s3:*"],
            "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
        }
    ]
    if deny_report_json:
        statements.append(
            {
                "Effect": "Deny",
                "Principal": principal,
                "Action": ["s3:PutObject"],
                "Resource": [f"arn:aws:s3:::{bucket}/reports/*/report.json"],
            }
        )
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


# -- reports ----------------------------------------------------------------------------------


@pytest.mark.s3
def test_a_report_json_the_bucket_refuses_leaves_no_report_and_keeps_the_earlier_one(
    s3: S3Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server itself refuses the second write: a bucket policy denies report.json to the job's key."""
    bucket = s3.create_bucket()
    data = upload_bikes(s3, bucket)
    writer = s3.add_account(Account(f"kd-writer-{uuid.uuid4().hex[:8]}", "kd-writer-secret"), "user")
    s3.client().put_bucket_policy(Bucket=bucket, Policy=_policy(bucket, writer, deny_report_json=False))
    for key, value in writer.env().items():
        monkeypatch.setenv(key, value)
    config = check_config(tmp_path, f"s3://{bucket}/reports", data, s3.endpoint)
    settings = s3.storage(f"s3://{bucket}/reports")

    code, first = run_check(tmp_path, config)
    assert code == 0, first
    earlier = first["reportUri"]
    earlier_html = reports.read_report_file(earlier, reports.REPORT_HTML, settings)

    s3.client().put_bucket_policy(Bucket=bucket, Policy=_policy(bucket, writer, deny_report_json=True))
    code, failed = run_check(tmp_path, config)

    assert code == 8, failed
    assert failed["error"]["reason"] == "AccessDenied"
    assert "report.json" in failed["error"]["message"] and "PutObject" in failed["error"]["message"]
    # The failed attempt's HTML was written (the policy allows it) and then removed; it recorded
    # nothing in the history, which has the earlier check alone.
    assert report_objects(s3, bucket) == {
        earlier: {"report.html", "report.json"},
        "history": {history_name(first)},
        "profile": {"profile.json", "<column files>"},
    }
    assert reports.read_report_file(earlier, reports.REPORT_HTML, settings) == earlier_html
    body = driftcheck_wire("bikes", reports_uri=f"s3://{bucket}/reports")
    body["spec"]["storage"] |= {"endpoint": s3.endpoint, "region": "us-east-1"}
    assert download_latest(body, earlier, tmp_path / "latest.html") == earlier_html


@pytest.mark.s3
def test_a_report_json_whose_response_is_lost_is_removed_with_the_html(
    s3: S3Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """report.json reaches the server but the job never hears back: neither file stays."""
    bucket = s3.create_bucket()
    config = check_config(tmp_path, f"s3://{bucket}/reports", upload_bikes(s3, bucket), s3.endpoint)
    code, first = run_check(tmp_path, config)
    assert code == 0, first
    write_bytes = storage.write_bytes
    landed: list[str] = []

    def lose_the_response(uri: str, data: bytes, settings: Any = None, **options: Any) -> str:
        write_bytes(uri, data, settings, **options)
        if uri.endswith("/report.json"):
            landed.append(uri)
            raise TransientError(f"{uri}: storage unreachable (ReadTimeoutError)")
        return uri

    monkeypatch.setattr(storage, "write_bytes", lose_the_response)
    code, failed = run_check(tmp_path, config)

    assert code == 75 and failed["error"]["reason"] == "Transient"
    assert landed and not landed[0].startswith(first["reportUri"])
    assert report_objects(s3, bucket) == {
        first["reportUri"]: {"report.html", "report.json"},
        "history": {history_name(first)},  # none for the failed check
        "profile": {"profile.json", "<column files>"},
    }


def test_a_local_report_json_that_fails_leaves_nothing_but_the_earlier_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reports_dir = tmp_path / "reports"
    config = check_config(tmp_path, str(reports_dir), str(BIKES), None)
    code, first = run_check(tmp_path, config)
    assert code == 0, first
    write_bytes = storage.write_bytes

    def disk_full_at_report_json(uri: str, data: bytes, settings: Any = None, **options: Any) -> str:
        if uri.endswith("/report.json"):
            raise DataUnreadable(f"{uri}: [Errno 28] No space left on device")
        return write_bytes(uri, data, settings, **options)

    monkeypatch.setattr(storage, "write_bytes", disk_full_at_report_json)
    code, failed = run_check(tmp_path, config)

    assert code == 2 and failed["error"]["reason"] == "ReportsUnwritable", failed
    assert "No space left on device" in failed["error"]["message"]
    files = sorted(
        p.relative_to(reports_dir).as_posix()
        for p in reports_dir.rglob("*")
        if p.is_file() and "profiles" not in p.parts  # the first check's reference profile stays
    )
    earlier = Path(first["reportUri"]).relative_to(reports_dir).as_posix()
    # no lone HTML, no partial file, and no history entry for the failed check
    assert files == [
        f"{earlier}/report.html",
        f"{earlier}/report.json",
        f"bikes/history/{history_name(first)}",
    ]


def test_readers_trust_only_a_report_json_that_vouches_for_the_file(tmp_path: Path) -> None:
    folder = str(tmp_path / "c1")
    written = reports.write_report(sample_report(folder), {reports.REPORT_HTML: b"<html>drift</html>"}, None)
    assert written.files[reports.REPORT_HTML].size == len(b"<html>drift</html>")
    assert reports.read_report_file(folder, reports.REPORT_HTML, None) == b"<html>drift</html>"
    body = driftcheck_wire("bikes", reports_uri=str(tmp_path))
    assert download_latest(body, folder, tmp_path / "out.html") == b"<html>drift</html>"
    assert DriftReport.model_validate_json(download_latest(body, folder, tmp_path / "out.json")) == written

    (tmp_path / "c1" / "report.html").write_bytes(b"<html>changed</html>")
    differs = r"report\.html: its SHA-256 differs from the one report\.json records"
    with pytest.raises(DataUnreadable, match=differs):
        download_latest(body, folder, tmp_path / "out.html")

    (tmp_path / "lone").mkdir()
    (tmp_path / "lone" / "report.html").write_bytes(b"<html>half</html>")
    missing = r"no complete report here \(report\.json, written last, is missing\)"
    with pytest.raises(DataNotFound, match=missing):
        download_latest(body, str(tmp_path / "lone"), tmp_path / "out.html")


def test_a_report_is_never_written_over_an_earlier_one(tmp_path: Path) -> None:
    folder = str(tmp_path / "c1")
    reports.write_report(sample_report(folder), {reports.REPORT_HTML: b"<html>first</html>"}, None)
    with pytest.raises(TransientError, match="already holds a report"):
        reports.write_report(sample_report(folder), {reports.REPORT_HTML: b"<html>second</html>"}, None)
    assert reports.read_report_file(folder, reports.REPORT_HTML, None) == b"<html>first</html>"


def test_a_report_written_before_report_json_listed_its_files_is_still_read(tmp_path: Path) -> None:
    """Schema version 1 wrote report.json last too, without digests: its presence still vouches."""
    folder = tmp_path / "old"
    folder.mkdir()
    old = sample_report(str(folder)).model_copy(update={"schema_version": 1})
    (folder / "report.html").write_bytes(b"<html>old</html>")
    (folder / "report.json").write_text(old.model_dump_json(by_alias=True))
    assert reports.read_report_file(str(folder), reports.REPORT_HTML, None) == b"<html>old</html>"


# -- promotion --------------------------------------------------------------------------------


def promotion_config(tmp_path: Path, reports_uri: str, endpoint: str | None) -> Path:
    return check_config(tmp_path, reports_uri, "s3://unused/data", endpoint)


def a_model(seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(40, 2))
    return artifacts.dump_model(LogisticRegression().fit(x, (x[:, 0] > 0).astype(int)))


def promote(source: str, destination: str, config: Path, tmp_path: Path) -> tuple[int, dict[str, Any]]:
    termination = tmp_path / f"promote-{uuid.uuid4().hex[:6]}"
    os.environ[ENV_TERMINATION_MESSAGE_PATH] = str(termination)
    try:
        code = promote_copy(source, destination, str(config))
    finally:
        del os.environ[ENV_TERMINATION_MESSAGE_PATH]
    return code, json.loads(termination.read_text())


@pytest.mark.s3
def test_promotion_copies_server_side_whole_objects_small_and_in_parts(
    s3: S3Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(storage, "COPY_PART_BYTES", 5 * MIB)  # S3's smallest part: a 12 MiB model in 3
    bucket = s3.create_bucket()
    client = s3.client()
    config = promotion_config(tmp_path, f"s3://{bucket}/reports", s3.endpoint)
    small, large = a_model(1), np.random.default_rng(2).bytes(12 * MIB + 12345)
    client.put_object(Bucket=bucket, Key="runs/r1/0/model.skops", Body=small)
    client.put_object(Bucket=bucket, Key="runs/r1/1/model.skops", Body=large)

    for index, expected in ((0, small), (1, large)):
        source = f"s3://{bucket}/runs/r1/{index}/model.skops"
        code, message = promote(source, f"s3://{bucket}/prod", config, tmp_path)
        assert code == 0, message
        assert message["destination"] == f"s3://{bucket}/prod/model.skops"
        assert client.get_object(Bucket=bucket, Key="prod/model.skops")["Body"].read() == expected
    assert client.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


@pytest.mark.s3
def test_a_promotion_copy_that_fails_part_way_keeps_the_previous_model_readable(
    s3: S3Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The multipart copy fails after its first part reached the server; it is aborted, and the
    production key still holds the previous model, whole and loadable."""
    import s3fs

    monkeypatch.setattr(storage, "COPY_PART_BYTES", 5 * MIB)
    bucket = s3.create_bucket()
    client = s3.client()
    config = promotion_config(tmp_path, f"s3://{bucket}/reports", s3.endpoint)
    previous = a_model(1)
    client.put_object(Bucket=bucket, Key="prod/model.skops", Body=previous)
    new_model = np.random.default_rng(3).bytes(12 * MIB)
    client.put_object(Bucket=bucket, Key="runs/r2/0/model.skops", Body=new_model)
    call_s3 = s3fs.S3FileSystem.call_s3
    in_flight: list[int] = []

    def drop_the_second_part(self: Any, method: str, *args: Any, **kwargs: Any) -> Any:
        if method == "upload_part_copy" and kwargs["PartNumber"] == 2:
            in_flight.append(len(client.list_multipart_uploads(Bucket=bucket).get("Uploads", [])))
            raise ConnectionResetError("injected: the connection dropped mid-copy")
        return call_s3(self, method, *args, **kwargs)

    monkeypatch.setattr(s3fs.S3FileSystem, "call_s3", drop_the_second_part)
    code, message = promote(f"s3://{bucket}/runs/r2/0/model.skops", f"s3://{bucket}/prod", config, tmp_path)

    assert code != 0 and f"s3://{bucket}/prod/model.skops" in message["error"]["message"]
    assert in_flight and all(n == 1 for n in in_flight)  # a real upload had a part on the server
    assert client.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []  # and was aborted
    assert client.get_object(Bucket=bucket, Key="prod/model.skops")["Body"].read() == previous
    model = artifacts.read_model(f"s3://{bucket}/prod", s3.storage(f"s3://{bucket}/reports"))
    assert list(model.classes_) == [0, 1]


def test_a_local_promotion_copy_that_fails_part_way_keeps_the_previous_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    production = tmp_path / "production"
    production.mkdir()
    (production / "model.skops").write_bytes(previous := a_model(1))
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "model.skops").write_bytes(np.random.default_rng(4).bytes(3 * MIB))
    copyfile = shutil.copyfile

    def fail_half_way(source: str, target: str) -> None:
        with open(source, "rb") as inp, open(target, "wb") as out:
            out.write(inp.read(MIB))
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(shutil, "copyfile", fail_half_way)
    with pytest.raises(DataUnreadable, match="No space left on device"):
        storage.copy(str(tmp_path / "run" / "model.skops"), str(production / "model.skops"))
    assert (production / "model.skops").read_bytes() == previous
    assert [p.name for p in production.iterdir()] == ["model.skops"]  # the partial copy is gone
    artifacts.load_model((production / "model.skops").read_bytes(), "production")

    monkeypatch.setattr(shutil, "copyfile", copyfile)
    storage.copy(str(tmp_path / "run" / "model.skops"), str(production / "model.skops"))
    assert (production / "model.skops").read_bytes() == (tmp_path / "run" / "model.skops").read_bytes()


# The job's own high-water mark (VmHWM, the mm's peak RSS). A child's ru_maxrss would not do:
# Linux carries the forking parent's peak (here pytest's) over exec into it.
PEAK_RSS_WRAPPER = """
import sys
from kubedrift.cli import main
code = main(sys.argv[1:])
sys.stderr.write(next(line for line in open("/proc/self/status") if line.startswith("VmHWM")))
sys.exit(code)
"""


@pytest.mark.s3
def test_the_promotion_job_does_not_hold_the_model_in_memory(s3: S3Server, tmp_path: Path) -> None:
    """A 256 MiB model goes through `kubedrift promote-copy` in a process that stays far below it."""
    bucket = s3.create_bucket()
    model = tmp_path / "model.skops"
    with model.open("wb") as out:
        for _ in range(256):
            out.write(os.urandom(MIB))
    upload_file(s3.client(), model, bucket, "runs/r1/0/model.skops", part_size=64 << 20)
    config = promotion_config(tmp_path, f"s3://{bucket}/reports", s3.endpoint)
    env = {**os.environ, ENV_TERMINATION_MESSAGE_PATH: str(tmp_path / "termination")}
    result = subprocess.run(
        [sys.executable, "-c", PEAK_RSS_WRAPPER, "promote-copy", "--from", f"s3://{bucket}/runs/r1/0/model.skops",
         "--to", f"s3://{bucket}/prod", "--config", str(config)],
        env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    peak_mib = int(result.stderr.rsplit("VmHWM:", 1)[1].split()[0]) / 1024  # kB
    assert peak_mib < 200, f"promote-copy peaked at {peak_mib:.0f} MiB for a 256 MiB model"
    head = s3.client().head_object(Bucket=bucket, Key="prod/model.skops")
    assert head["ContentLength"] == 256 * MIB
