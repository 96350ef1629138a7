"""The check and training jobs' entrypoints against the real S3 server, with storage faults.

A credential fault ends the job with its own exit code (6, 7, 8) and a one-line reason that
names the bucket; putting the right credentials back is all the next run needs. A Secret with
its two keys swapped is refused (6, or 2 when the secret has a '/') and shows no 4 characters
of the secret. Throttling is retried inside the job; if it persists, or the endpoint hangs, or
a Parquet body stalls on every read, the job exits 75 within the documented bound
(docs/troubleshooting.md). A Parquet body cut mid-read is read again or the job exits 75: never
a report computed from partial data. Every output of the credential tests is scanned for the
credentials' values.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from kubedrift import storage
from kubedrift.cli import main
from kubedrift.models.report import DriftReport
from kubedrift_jobs.train.job import main_index
from tests.fixtures.faultproxy import Fault, FaultProxy
from tests.fixtures.leaks import CredentialScan, fragments
from tests.fixtures.s3 import Account, S3Server, upload_file
from tests.fixtures.train_data import train_config, write_config, write_synthetic

pytestmark = pytest.mark.s3
BIKES = Path(__file__).resolve().parents[2] / "examples" / "bike-sharing" / "data"
ROOT = Path(__file__).resolve().parents[2]
CREDENTIAL_FAULTS = [
    ("wrong_access_key_env", 6, "InvalidAccessKeyId", "does not know the access key id"),
    ("wrong_secret_env", 7, "SignatureDoesNotMatch", "secret access key does not belong"),
    ("no_rights_env", 8, "AccessDenied", "has no right"),
]


def check_config(tmp_path: Path, bucket: str, endpoint: str, **storage_extra: Any) -> Path:
    config = {
        "check": "bikes",
        "namespace": "ml",
        "reference": {"uri": f"s3://{bucket}/data/reference.parquet"},
        "current": {"uri": f"s3://{bucket}/data/current/"},
        "storage": {"reportsUri": f"s3://{bucket}/reports", "endpoint": endpoint, "region": "us-east-1"}
        | storage_extra,
    }
    path = tmp_path / "check.json"
    path.write_text(json.dumps(config))
    return path


def run_check(tmp_path: Path, config: Path) -> tuple[int, dict[str, Any], str]:
    termination = tmp_path / "termination-log"
    termination.unlink(missing_ok=True)
    code = main(["check", "--config", str(config), "--termination-message-path", str(termination)])
    return code, json.loads(termination.read_text()), termination.read_text()


def upload_bikes(s3: S3Server) -> str:
    bucket = s3.create_bucket()
    client = s3.client()
    upload_file(client, BIKES / "reference.parquet", bucket, "data/reference.parquet")
    upload_file(client, BIKES / "current" / "week-2.parquet", bucket, "data/current/part-0.parquet")
    return bucket


def objects(s3: S3Server, bucket: str, prefix: str) -> dict[str, bytes]:
    client = s3.client()
    listed = client.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
    return {o["Key"]: client.get_object(Bucket=bucket, Key=o["Key"])["Body"].read() for o in listed}


def set_env(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)


@pytest.mark.parametrize(("fault", "exit_code", "reason", "words"), CREDENTIAL_FAULTS)
def test_a_credential_fault_ends_the_check_with_its_code_and_the_fixed_secret_just_works(
    s3: S3Server,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    credential_scan: CredentialScan,
    fault: str,
    exit_code: int,
    reason: str,
    words: str,
) -> None:
    bucket = upload_bikes(s3)
    config = check_config(tmp_path, bucket, s3.endpoint, secretRef={"name": "bikes-s3"})
    bad = getattr(s3, fault)()
    set_env(monkeypatch, bad)
    code, message, raw = run_check(tmp_path, config)
    assert code == exit_code and message["error"]["reason"] == reason, message
    text = message["error"]["message"]
    assert words in text and f"bucket {bucket}" in text and "storage.secretRef" in text
    assert "\n" not in text
    assert objects(s3, bucket, "reports/") == {}  # nothing half-written
    output = capsys.readouterr()
    assert f"error: {reason}: " in output.err  # what `kubectl logs` shows
    where = f"check with {fault}"
    outputs = {
        f"{where}: termination message": raw,
        f"{where}: stdout": output.out,
        f"{where}: stderr": output.err,
    }
    assert credential_scan.add_all(outputs) == {}

    set_env(monkeypatch, s3.env())  # the Secret, corrected: nothing else changes
    code, message, raw = run_check(tmp_path, config)
    assert code == 0, message
    report = DriftReport.model_validate_json(
        storage.read_bytes(f"{message['reportUri']}/report.json", s3.storage("s3://unused/r"))
    )
    assert report.current.rows == 163
    output = capsys.readouterr()
    written = {k: v.decode("latin-1") for k, v in objects(s3, bucket, "reports/").items()}
    # The report (JSON and HTML), the check's history entry and its reference profile (a
    # profile.json and one file per column), each scanned for the credentials.
    kinds = {
        "history" if "/history/" in k else "profiles" if "/profiles/" in k else k.rsplit("/", 1)[-1]
        for k in written
    }
    assert sorted(kinds) == ["history", "profiles", "report.html", "report.json"]
    outputs = {f"fixed check: {k}": v for k, v in written.items()}
    outputs |= {"fixed check: termination message": raw, "fixed check: stdout": output.out}
    assert credential_scan.add_all(outputs | {"fixed check: stderr": output.err}) == {}


@pytest.mark.parametrize(("fault", "exit_code", "reason", "words"), CREDENTIAL_FAULTS)
def test_a_credential_fault_ends_a_trial_with_its_code_and_the_fixed_secret_just_works(
    s3: S3Server,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    credential_scan: CredentialScan,
    fault: str,
    exit_code: int,
    reason: str,
    words: str,
) -> None:
    bucket = s3.create_bucket()
    train, test = write_synthetic(tmp_path / "data")
    client = s3.client()
    upload_file(client, train, bucket, "data/train.parquet")
    upload_file(client, test, bucket, "data/test.parquet")
    settings = {"endpoint": s3.endpoint, "region": "us-east-1", "secretRef": {"name": "bikes-s3"}}
    config = train_config(
        f"s3://{bucket}/data/train.parquet",
        f"s3://{bucket}/data/test.parquet",
        f"s3://{bucket}/reports",
        storage=settings,
    )
    path = write_config(tmp_path / "train.yaml", config)
    termination = tmp_path / "termination-log"
    bad = getattr(s3, fault)()
    set_env(monkeypatch, bad)
    code = main_index(path, 0, termination_path=str(termination))
    message = json.loads(termination.read_text())
    assert code == exit_code and message["error"]["reason"] == reason, message
    assert words in message["error"]["message"] and f"bucket {bucket}" in message["error"]["message"]
    output = capsys.readouterr()
    where = f"trial with {fault}"
    outputs = {f"{where}: termination message": termination.read_text(), f"{where}: stderr": output.err}
    assert credential_scan.add_all(outputs | {f"{where}: stdout": output.out}) == {}

    set_env(monkeypatch, s3.env())
    assert main_index(path, 0, termination_path=str(termination)) == 0, termination.read_text()
    assert json.loads(termination.read_text())["modelUri"].startswith(f"s3://{bucket}/reports/")


# Real accounts whose values share no run of 4 characters with kubedrift's words, hex hashes or
# bucket names, so a fragment of a secret found in an output is a leak, never a coincidence. In a
# swapped Secret the secret is sent as the key id: one without a '/' is a key id the server does
# not know; one with a '/' (as AWS secrets often have) breaks the request's credential scope.
SWAPPED = [
    (Account("AKIAKDSWAP7Q3ZW9XR1V", "Q7vZX2mW9pR4K8tLz0N3yB6cJ1hF5gDwUsTqYoMv"), 6, "InvalidAccessKeyId"),
    (Account("AKIAKDSWAP8R4XM2YS3W", "Q7vZ+X2mW9/R4pK8tLz0N3yB6cJ1hF5gDwUsTqYo"), 2, "InvalidConfig"),
]


@pytest.mark.parametrize(
    ("account", "exit_code", "reason"), SWAPPED, ids=["plain-secret", "secret-with-slash"]
)
def test_a_secret_with_its_two_keys_swapped_is_refused_and_shows_no_part_of_the_secret(
    s3: S3Server,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    credential_scan: CredentialScan,
    account: Account,
    exit_code: int,
    reason: str,
) -> None:
    s3.add_account(account, "admin")
    bucket = upload_bikes(s3)
    config = check_config(tmp_path, bucket, s3.endpoint, secretRef={"name": "bikes-s3"})
    set_env(
        monkeypatch, {"AWS_ACCESS_KEY_ID": account.secret_key, "AWS_SECRET_ACCESS_KEY": account.access_key}
    )
    code, message, raw = run_check(tmp_path, config)
    assert (code, message["error"]["reason"]) == (exit_code, reason), message
    text = message["error"]["message"]
    assert f"bucket {bucket}" in text and "storage.secretRef" in text and "\n" not in text
    if reason == "InvalidConfig":
        assert "AuthorizationHeaderMalformed" in text and "not the secret" in text, text
    output = capsys.readouterr()
    assert f"error: {reason}: " in output.err  # what `kubectl logs` shows
    outputs = {"termination message": raw, "stdout": output.out, "stderr": output.err}
    shown = {
        where: sorted(f for f in fragments(account.secret_key) if f in out) for where, out in outputs.items()
    }
    assert shown == {where: [] for where in outputs}
    assert credential_scan.add_all({f"swapped keys ({reason}): {k}": v for k, v in outputs.items()}) == {}

    set_env(monkeypatch, account.env())  # the Secret's two keys put back in their places
    code, message, _ = run_check(tmp_path, config)
    assert code == 0, message


def test_an_empty_key_in_the_named_secret_says_which_key(
    s3: S3Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bucket = upload_bikes(s3)
    ref = {"name": "bikes-s3", "secretAccessKeyKey": "secret"}
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "")  # what an empty value in the Secret gives the pod
    code, message, _ = run_check(tmp_path, check_config(tmp_path, bucket, s3.endpoint, secretRef=ref))
    assert code == 2 and message["error"]["reason"] == "InvalidConfig"
    assert message["error"]["message"].startswith(
        "the Secret 'bikes-s3' named in storage.secretRef has no value for 'secret'"
    )


def _summary_without_times(message: dict[str, Any]) -> dict[str, Any]:
    # A check started by hand is scheduled "now": two runs differ in it as in their start.
    times = ("reportUri", "finishedAt", "startedAt", "scheduledAt")
    return {k: v for k, v in message.items() if k not in times}


def _complete_report(s3: S3Server, message: dict[str, Any]) -> DriftReport:
    settings = s3.storage("s3://unused/r")
    report = DriftReport.model_validate_json(
        storage.read_bytes(f"{message['reportUri']}/report.json", settings)
    )
    assert b"Drift report: bikes" in storage.read_bytes(f"{message['reportUri']}/report.html", settings)
    return report


def _columns(report: DriftReport) -> list[dict[str, Any]]:
    """Every column's result, but for the time it took."""
    return [c.model_dump(exclude={"seconds"}) for c in report.columns]


def test_throttling_for_the_first_3_requests_is_retried_and_the_report_is_complete(
    s3: S3Server, tmp_path: Path, fault_proxy: FaultProxy
) -> None:
    bucket = upload_bikes(s3)
    code, clean, _ = run_check(tmp_path, check_config(tmp_path, bucket, s3.endpoint))
    assert code == 0
    fault_proxy.inject(Fault("status", status=503, code="SlowDown", times=3))
    code, message, _ = run_check(tmp_path, check_config(tmp_path, bucket, fault_proxy.url))
    assert code == 0, message
    assert [s.status for s in fault_proxy.faulted()] == [503, 503, 503]
    assert _summary_without_times(message) == _summary_without_times(clean)  # the same verdict, whole
    report, expected = _complete_report(s3, message), _complete_report(s3, clean)
    assert _columns(report) == _columns(expected) and report.dataset == expected.dataset


def test_throttling_that_persists_exits_75_with_no_report(
    s3: S3Server, tmp_path: Path, fault_proxy: FaultProxy
) -> None:
    bucket = upload_bikes(s3)
    fault_proxy.inject(Fault("status", status=503, code="SlowDown"))
    started = time.monotonic()
    code, message, _ = run_check(tmp_path, check_config(tmp_path, bucket, fault_proxy.url))
    assert code == 75 and message["error"]["reason"] == "Transient", message
    assert "kept answering SlowDown" in message["error"]["message"]
    assert time.monotonic() - started < storage.REQUEST_WORST_CASE_SECONDS
    assert objects(s3, bucket, "reports/") == {}


def _check_in_its_own_process(
    tmp_path: Path, bucket: str, endpoint: str, timeout: float
) -> tuple[subprocess.CompletedProcess[str], float, float]:
    """`kubedrift check` as the pod runs it, its termination message in tmp_path/termination-log;
    returns the result and when it started and ended (monotonic)."""
    started = time.monotonic()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "kubedrift",
            "check",
            "--config",
            str(check_config(tmp_path, bucket, endpoint)),
        ],
        env=os.environ | {"KUBEDRIFT_TERMINATION_MESSAGE_PATH": str(tmp_path / "termination-log")},
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        check=False,
    )
    return result, started, time.monotonic()


def test_a_hanging_endpoint_ends_the_check_with_75_within_the_documented_bound(
    s3: S3Server, tmp_path: Path, fault_proxy: FaultProxy
) -> None:
    """The real entrypoint in its own process: accepted connections that never answer."""
    bucket = upload_bikes(s3)
    fault_proxy.hang_limit = storage.REQUEST_WORST_CASE_SECONDS + 60
    fault_proxy.inject(Fault("hang"))
    result, started, ended = _check_in_its_own_process(
        tmp_path, bucket, fault_proxy.url, timeout=storage.REQUEST_WORST_CASE_SECONDS + 60
    )
    assert result.returncode == 75, result.stderr
    message = json.loads((tmp_path / "termination-log").read_text())["error"]
    assert message["reason"] == "Transient" and "ReadTimeoutError" in message["message"]
    # Each of the REQUEST_ATTEMPTS attempts waited READ_TIMEOUT; from the first request to the exit
    # took no more than the documented bound (the interpreter's start comes before it).
    first = fault_proxy.faulted("hang")[0].at
    assert (
        storage.REQUEST_ATTEMPTS * storage.READ_TIMEOUT
        <= ended - first
        <= storage.REQUEST_WORST_CASE_SECONDS + 2
    )
    assert ended - started < storage.REQUEST_WORST_CASE_SECONDS + 60
    assert len(fault_proxy.faulted("hang")) == storage.REQUEST_ATTEMPTS


PARQUET_GET = {"method": "GET", "path": r"\.parquet$"}


def test_a_parquet_body_cut_mid_read_is_read_again_and_the_report_is_whole(
    s3: S3Server, tmp_path: Path, fault_proxy: FaultProxy
) -> None:
    bucket = upload_bikes(s3)
    code, clean, _ = run_check(tmp_path, check_config(tmp_path, bucket, s3.endpoint))
    assert code == 0
    fault_proxy.inject(Fault("truncate", times=2, keep=2048, **PARQUET_GET))
    code, message, _ = run_check(tmp_path, check_config(tmp_path, bucket, fault_proxy.url))
    assert code == 0, message
    assert len(fault_proxy.faulted("truncate")) == 2
    assert _summary_without_times(message) == _summary_without_times(clean)
    assert _columns(_complete_report(s3, message)) == _columns(_complete_report(s3, clean))


def test_column_reads_cut_mid_body_are_read_again(
    s3: S3Server, tmp_path: Path, fault_proxy: FaultProxy
) -> None:
    # The second check takes the reference from its stored profile, so what it reads of the data
    # is the current's: its footer, then its columns in the check's worker threads. Past the
    # footer, two cuts: fewer than the attempts any one read gets (OPERATION_ATTEMPTS), wherever
    # the threads' order puts them (three could all land on one column's attempts).
    bucket = upload_bikes(s3)
    code, clean, _ = run_check(tmp_path, check_config(tmp_path, bucket, s3.endpoint))
    assert storage.OPERATION_ATTEMPTS > 2
    fault_proxy.inject(
        Fault("truncate", skip=1, times=2, keep=2048, method="GET", path=r"/current/.*\.parquet$")
    )
    code, message, _ = run_check(tmp_path, check_config(tmp_path, bucket, fault_proxy.url))
    assert code == 0, message
    assert len(fault_proxy.faulted("truncate")) == 2
    assert _columns(_complete_report(s3, message)) == _columns(_complete_report(s3, clean))


@pytest.mark.parametrize("kind", ["truncate", "short"])
def test_a_parquet_body_cut_every_time_exits_75_and_writes_no_report(
    s3: S3Server, tmp_path: Path, fault_proxy: FaultProxy, kind: str
) -> None:
    bucket = upload_bikes(s3)
    fault_proxy.inject(Fault(kind, keep=2048, **PARQUET_GET))  # type: ignore[arg-type]
    code, message, _ = run_check(tmp_path, check_config(tmp_path, bucket, fault_proxy.url))
    assert code == 75 and message["error"]["reason"] == "Transient", message
    assert "broke off mid-body" in message["error"]["message"]
    assert objects(s3, bucket, "reports/") == {}


def test_a_parquet_body_that_stalls_on_every_read_ends_the_check_with_75_within_the_documented_bound(
    s3: S3Server, tmp_path: Path, fault_proxy: FaultProxy
) -> None:
    """The real entrypoint in its own process: every Parquet GET sends its head and a few bytes,
    then nothing; each read waits READ_TIMEOUT, is run OPERATION_ATTEMPTS times, then exit 75."""
    bucket = upload_bikes(s3)
    fault_proxy.hang_limit = storage.BODY_STALL_WORST_CASE_SECONDS + 60
    fault_proxy.inject(Fault("stall", keep=16, **PARQUET_GET))
    result, started, ended = _check_in_its_own_process(
        tmp_path, bucket, fault_proxy.url, timeout=storage.BODY_STALL_WORST_CASE_SECONDS + 60
    )
    assert result.returncode == 75, result.stderr
    message = json.loads((tmp_path / "termination-log").read_text())["error"]
    assert message["reason"] == "Transient" and "broke off mid-body" in message["message"], message
    stalled = fault_proxy.faulted("stall")
    assert len(stalled) == storage.OPERATION_ATTEMPTS, stalled
    # What the bound covers: from each stalled read to the next request (the next attempt, after
    # the backoff) or, for the last, to the exit. Each waited READ_TIMEOUT, and all together no
    # more than the documented bound (+ 3 s for connecting again and for the exit).
    waits = [next((s.at for s in fault_proxy.seen if s.at > stall.at), ended) - stall.at for stall in stalled]
    assert min(waits) >= storage.READ_TIMEOUT, waits
    assert sum(waits) <= storage.BODY_STALL_WORST_CASE_SECONDS + 3, waits
    # Before each read the file is opened again (a list and a few HEADs, each well under 1 s here).
    assert ended - stalled[0].at <= storage.BODY_STALL_WORST_CASE_SECONDS + 8, fault_proxy.seen
    assert ended - started < storage.BODY_STALL_WORST_CASE_SECONDS + 60
    assert objects(s3, bucket, "reports/") == {}
