"""Storage under real faults: the S3 server (versitygw over TLS) behind the loopback fault proxy.

Each test injects one fault and asserts what kubedrift's storage layer makes of it: a
retry that succeeds, the transient error (exit 75) once the retries are spent, a
credential error with its own exit code, and never data that is silently short.
"""

from __future__ import annotations

import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from kubedrift import storage
from kubedrift.errors import (
    AccessDenied,
    ReadInterrupted,
    TransientError,
    UnknownAccessKey,
    WrongSecretKey,
)
from tests.fixtures.faultproxy import Fault, FaultProxy
from tests.fixtures.s3 import S3Server

ROWS = 50_000
TABLE = pa.table({"n": pa.array(range(ROWS), pa.int64()), "s": [f"v{i % 97}" for i in range(ROWS)]})


def _bucket_with_parquet(s3: S3Server) -> str:
    bucket = s3.create_bucket()
    sink = pa.BufferOutputStream()
    pq.write_table(TABLE, sink, row_group_size=10_000)
    s3.client().put_object(Bucket=bucket, Key="data/part-0.parquet", Body=sink.getvalue().to_pybytes())
    return bucket


def _read_all(bucket: str, proxy: FaultProxy, s3: S3Server) -> pa.Table:
    """What a job does: find and open the dataset, then read its columns, each with `retrying`."""
    settings = s3.storage(f"s3://{bucket}/reports").model_copy(update={"endpoint": proxy.url})
    data = storage.retrying(lambda: storage.open_parquet(f"s3://{bucket}/data", settings), delay=0.1)
    return storage.retrying(lambda: data.columns(["n", "s"]), delay=0.1)


PARQUET_GET = {"method": "GET", "path": r"\.parquet$"}


def test_throttling_for_the_first_requests_is_retried_and_the_data_is_whole(
    s3: S3Server, fault_proxy: FaultProxy
) -> None:
    bucket = _bucket_with_parquet(s3)
    fault_proxy.inject(Fault("status", status=503, code="SlowDown", times=3))
    assert _read_all(bucket, fault_proxy, s3).equals(TABLE)
    assert [s.status for s in fault_proxy.faulted("status")] == [503, 503, 503]


@pytest.mark.parametrize(
    ("status", "code"),
    [(503, "SlowDown"), (503, "ServiceUnavailable"), (500, "InternalError"), (502, "BadGateway")],
)
def test_server_errors_that_persist_are_transient_after_bounded_retries(
    s3: S3Server, fault_proxy: FaultProxy, status: int, code: str
) -> None:
    bucket = _bucket_with_parquet(s3)
    fault_proxy.inject(Fault("status", status=status, code=code))
    started = time.monotonic()
    with pytest.raises(TransientError, match=f"kept answering {code}") as raised:
        _read_all(bucket, fault_proxy, s3)
    assert not isinstance(raised.value, ReadInterrupted) and raised.value.exit_code == 75
    # botocore's attempts, no more: the first request is tried REQUEST_ATTEMPTS times, then it stops.
    assert len(fault_proxy.seen) == storage.REQUEST_ATTEMPTS
    assert time.monotonic() - started < storage.REQUEST_WORST_CASE_SECONDS


@pytest.mark.parametrize(("status", "code"), [(503, "SlowDown"), (500, "InternalError")])
def test_a_head_answered_with_a_bare_status_is_asked_again_as_a_get_that_names_the_code(
    s3: S3Server, fault_proxy: FaultProxy, status: int, code: str
) -> None:
    # A HEAD's error has no body: without the GET the job could only say "503 on HeadObject".
    bucket = _bucket_with_parquet(s3)
    settings = s3.storage(f"s3://{bucket}/reports").model_copy(update={"endpoint": fault_proxy.url})
    fault_proxy.inject(Fault("status", status=status, code=code))
    started = time.monotonic()
    with pytest.raises(TransientError, match=f"kept answering {code} on GetObject"):
        storage.exists(f"s3://{bucket}/data/part-0.parquet", settings)
    # The HEAD's attempts, then the GET's: one more bounded request, no more.
    methods = [s.method for s in fault_proxy.seen]
    assert methods == ["HEAD"] * storage.REQUEST_ATTEMPTS + ["GET"] * storage.REQUEST_ATTEMPTS, methods
    assert time.monotonic() - started < 2 * storage.REQUEST_WORST_CASE_SECONDS


def test_a_head_throttled_while_a_get_is_not_keeps_the_heads_status(
    s3: S3Server, fault_proxy: FaultProxy
) -> None:
    bucket = _bucket_with_parquet(s3)
    settings = s3.storage(f"s3://{bucket}/reports").model_copy(update={"endpoint": fault_proxy.url})
    fault_proxy.inject(Fault("status", status=503, code="SlowDown", method="HEAD"))
    with pytest.raises(TransientError, match="kept answering 503 on HeadObject"):
        storage.exists(f"s3://{bucket}/data/part-0.parquet", settings)


def test_a_body_cut_short_once_is_read_again(s3: S3Server, fault_proxy: FaultProxy) -> None:
    bucket = _bucket_with_parquet(s3)
    fault_proxy.inject(Fault("truncate", times=1, keep=1000, **PARQUET_GET))
    assert _read_all(bucket, fault_proxy, s3).equals(TABLE)
    assert len(fault_proxy.faulted("truncate")) == 1


def test_a_body_cut_short_every_time_is_transient_never_partial_data(
    s3: S3Server, fault_proxy: FaultProxy
) -> None:
    bucket = _bucket_with_parquet(s3)
    fault_proxy.inject(Fault("truncate", keep=1000, **PARQUET_GET))
    with pytest.raises(ReadInterrupted, match="broke off mid-body"):
        _read_all(bucket, fault_proxy, s3)
    assert len(fault_proxy.faulted("truncate")) == storage.OPERATION_ATTEMPTS


def test_a_short_body_that_claims_to_be_whole_is_read_again(s3: S3Server, fault_proxy: FaultProxy) -> None:
    # The proxy rewrites Content-Length to what it sends: HTTP cannot tell; the range length can.
    bucket = _bucket_with_parquet(s3)
    fault_proxy.inject(Fault("short", times=1, keep=1000, **PARQUET_GET))
    assert _read_all(bucket, fault_proxy, s3).equals(TABLE)
    fault_proxy.inject(Fault("short", keep=1000, **PARQUET_GET))
    with pytest.raises(ReadInterrupted, match="ShortRead"):
        _read_all(bucket, fault_proxy, s3)


def test_connection_resets_are_retried_then_transient(s3: S3Server, fault_proxy: FaultProxy) -> None:
    bucket = _bucket_with_parquet(s3)
    fault_proxy.inject(Fault("reset", times=2))
    assert _read_all(bucket, fault_proxy, s3).equals(TABLE)
    fault_proxy.inject(Fault("reset"))
    with pytest.raises(TransientError, match="unreachable"):
        _read_all(bucket, fault_proxy, s3)


def test_a_body_that_stalls_once_times_out_and_is_read_again(s3: S3Server, fault_proxy: FaultProxy) -> None:
    bucket = _bucket_with_parquet(s3)
    fault_proxy.inject(Fault("stall", times=1, keep=1000, **PARQUET_GET))
    started = time.monotonic()
    assert _read_all(bucket, fault_proxy, s3).equals(TABLE)
    took = time.monotonic() - started
    assert storage.READ_TIMEOUT <= took < storage.READ_TIMEOUT + 20, took


def test_latency_below_the_read_timeout_is_only_slow(s3: S3Server, fault_proxy: FaultProxy) -> None:
    bucket = _bucket_with_parquet(s3)
    fault_proxy.inject(Fault("latency", seconds=1.0, times=2))
    started = time.monotonic()
    assert _read_all(bucket, fault_proxy, s3).equals(TABLE)
    assert time.monotonic() - started >= 2.0
    assert len(fault_proxy.faulted("latency")) == 2


@pytest.mark.parametrize(
    ("env", "error", "code"),
    [
        ("wrong_access_key_env", UnknownAccessKey, 6),
        ("wrong_secret_env", WrongSecretKey, 7),
        ("no_rights_env", AccessDenied, 8),
    ],
)
@pytest.mark.parametrize("operation", ["list", "exists", "read", "write"])
def test_each_credential_fault_has_its_own_error_on_every_operation(
    s3: S3Server,
    monkeypatch: pytest.MonkeyPatch,
    env: str,
    error: type[Exception],
    code: int,
    operation: str,
) -> None:
    bucket = _bucket_with_parquet(s3)
    settings = s3.storage(f"s3://{bucket}/reports")
    credentials = getattr(s3, env)()
    for key, value in credentials.items():
        monkeypatch.setenv(key, value)
    actions = {
        "list": lambda: storage.list_parquet(f"s3://{bucket}/data", settings),
        "exists": lambda: storage.exists(f"s3://{bucket}/data/part-0.parquet", settings),  # a HEAD
        "read": lambda: storage.read_bytes(f"s3://{bucket}/data/part-0.parquet", settings),
        "write": lambda: storage.write_text(f"s3://{bucket}/reports/x.json", "{}", settings),
    }
    with pytest.raises(error) as raised:
        storage.retrying(actions[operation])
    message = raised.value.message  # type: ignore[attr-defined]
    assert raised.value.exit_code == code and f"bucket {bucket}" in message  # type: ignore[attr-defined]
    assert "\n" not in message
    for value in credentials.values():
        assert value not in message  # neither the secret nor the key id in full


def test_the_proxy_stops_by_itself_with_a_hang_in_progress(s3: S3Server, tmp_path: Path) -> None:
    from tests.fixtures.faultproxy import fault_proxy_for

    with fault_proxy_for(s3, tmp_path) as proxy:
        proxy.hang_limit = 60
        proxy.inject(Fault("hang"))
        import socket
        import ssl

        context = ssl.create_default_context(cafile=str(s3.ca_bundle))
        sock = context.wrap_socket(
            socket.create_connection(("127.0.0.1", proxy.port)), server_hostname="127.0.0.1"
        )
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        deadline = time.monotonic() + 5
        while not proxy.faulted("hang") and time.monotonic() < deadline:
            time.sleep(0.05)
        started = time.monotonic()
    assert time.monotonic() - started < 5  # stop() ended the hang and joined every thread
    assert sock.recv(1) == b""
    sock.close()
