"""What each storage failure becomes: pure mapping over the exceptions s3fs and botocore raise.

The faults themselves, against the real S3 server, are in tests/integration/test_storage_faults.py
and test_job_storage_faults.py; these pin the table (and that the docs state its bounds).
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from botocore.exceptions import ClientError, NoCredentialsError, ReadTimeoutError
from s3fs.errors import translate_boto_error

from kubedrift import errors, storage
from kubedrift.models.driftcheck import SecretRef, Storage
from tests.fixtures.leaks import fragments

URI = "s3://kd-bucket/data/part-0.parquet"
DOCS = Path(__file__).resolve().parents[2] / "docs" / "troubleshooting.md"


def s3fs_error(code: str, status: int, operation: str = "GetObject") -> BaseException:
    """What s3fs raises for a botocore ClientError: its own exception, the ClientError as cause."""
    response = {
        "Error": {"Code": code, "Message": "quoted AKIAEXAMPLEKEY0000001"},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    return translate_boto_error(ClientError(response, operation))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("code", "status", "expected", "exit_code", "reason"),
    [
        ("InvalidAccessKeyId", 403, errors.UnknownAccessKey, 6, "InvalidAccessKeyId"),
        ("SignatureDoesNotMatch", 403, errors.WrongSecretKey, 7, "SignatureDoesNotMatch"),
        ("AccessDenied", 403, errors.AccessDenied, 8, "AccessDenied"),
        ("AuthorizationHeaderMalformed", 400, errors.ConfigError, 2, "InvalidConfig"),  # key id with a '/'
        ("403", 403, errors.AccessDenied, 8, "AccessDenied"),  # a HEAD's bare 403
        ("AllAccessDisabled", 403, errors.AccessDenied, 8, "AccessDenied"),
        ("SlowDown", 503, errors.TransientError, 75, "Transient"),
        ("ServiceUnavailable", 503, errors.TransientError, 75, "Transient"),
        ("InternalError", 500, errors.TransientError, 75, "Transient"),
        ("502", 502, errors.TransientError, 75, "Transient"),
        ("NoSuchKey", 404, errors.DataNotFound, 3, "DataNotFound"),
        ("InvalidRange", 416, errors.DataUnreadable, 4, "DataUnreadable"),
    ],
)
def test_the_s3_error_code_decides(
    code: str, status: int, expected: type[errors.KubedriftError], exit_code: int, reason: str
) -> None:
    mapped = storage.storage_error(URI, s3fs_error(code, status))
    assert type(mapped) is expected
    assert isinstance(mapped, errors.KubedriftError)
    assert (mapped.exit_code, mapped.reason) == (exit_code, reason)
    assert mapped.message.startswith(URI) and "\n" not in mapped.message
    assert "AKIAEXAMPLEKEY" not in mapped.message  # the server's text is never repeated


def test_the_old_defect_throttling_is_no_longer_data_unreadable() -> None:
    # s3fs turns SlowDown into OSError(EBUSY); mapped by type, that was exit 4 (permanent).
    raised = s3fs_error("SlowDown", 503)
    assert type(raised) is OSError
    mapped = storage.storage_error(URI, raised)
    assert isinstance(mapped, errors.TransientError) and not mapped.permanent
    assert mapped.exit_code not in errors.PERMANENT_EXIT_CODES


# Shaped like AWS's; no run of 4 of their characters is an English word or all hex digits, so a
# fragment found in a message is a leak, not a coincidence with its words, bucket or hash.
CANARY_KEY = "AKIAKDCANARY7Q3Z9W1X"
CANARY_SECRET = "Q7vZ+X2mW9/R4pK8tLz0N3yB6cJ1hF5gDwUsTq"
CANARY_KEY_SHA256 = "c3a3c770"  # printf %s AKIAKDCANARY7Q3Z9W1X | sha256sum | cut -c1-8


@pytest.mark.parametrize("swapped", [False, True])
def test_credential_messages_name_the_bucket_and_no_character_of_either_key(
    monkeypatch: pytest.MonkeyPatch, swapped: bool
) -> None:
    key, secret = (CANARY_SECRET, CANARY_KEY) if swapped else (CANARY_KEY, CANARY_SECRET)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key)  # swapped: the Secret's secret is in the key id's place
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
    for code in (
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "AccessDenied",
        "AuthorizationHeaderMalformed",
    ):
        mapped = storage.storage_error(URI, s3fs_error(code, 403, "ListObjectsV2"))
        assert isinstance(mapped, errors.CredentialsError | errors.ConfigError) and mapped.permanent
        assert "bucket kd-bucket" in mapped.message and "ListObjectsV2" in mapped.message
        assert f"access key id sha256:{hashlib.sha256(key.encode()).hexdigest()[:8]} " in mapped.message
        assert {f for f in fragments(key) | fragments(secret) if f in mapped.message} == set()


def test_each_credential_fault_has_its_own_permanent_exit_code() -> None:
    codes = [e.exit_code for e in (errors.UnknownAccessKey, errors.WrongSecretKey, errors.AccessDenied)]
    assert len(set(codes)) == 3
    others = {errors.ConfigError, errors.DataNotFound, errors.DataUnreadable, errors.TrainingError}
    assert not set(codes) & {e.exit_code for e in others}
    assert set(codes) <= set(errors.PERMANENT_EXIT_CODES)
    assert errors.TransientError.exit_code not in errors.PERMANENT_EXIT_CODES


@pytest.mark.parametrize(
    ("raised", "expected"),
    [
        (ReadTimeoutError(endpoint_url="https://s3"), errors.TransientError),
        (ConnectionRefusedError(111, "refused"), errors.TransientError),
        (storage.ShortRead("got 10 of 20 bytes"), errors.ReadInterrupted),
        (FileNotFoundError("kd-bucket/data"), errors.DataNotFound),
        (PermissionError(13, "Permission denied"), errors.ConfigError),
        (OSError(5, "Input/output error"), errors.DataUnreadable),
    ],
)
def test_what_is_not_an_s3_answer(raised: BaseException, expected: type[Exception]) -> None:
    assert type(storage.storage_error(URI, raised)) is expected


def test_a_body_interrupted_by_aiohttp_is_read_interrupted() -> None:
    from aiohttp import ClientPayloadError

    try:
        try:
            raise ClientPayloadError("Response payload is not completed")
        except ClientPayloadError as inner:
            raise OSError("wrapped by a library") from inner
    except OSError as outer:
        assert type(storage.storage_error(URI, outer)) is errors.ReadInterrupted


def test_a_programming_error_is_not_translated() -> None:
    assert storage.storage_error(URI, ValueError("bug")) is None


def test_missing_credentials_do_not_send_people_to_a_secret_they_already_named() -> None:
    mapped = storage.storage_error(URI, NoCredentialsError())
    assert isinstance(mapped, errors.ConfigError)
    assert "name a Secret" not in mapped.message and "are not both set" in mapped.message


def _with_secret(**ref: str) -> Storage:
    return Storage(reports_uri="s3://kd-bucket/r", secret_ref=SecretRef(name="bikes-s3", **ref))


def test_an_empty_key_of_the_named_secret_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", CANARY_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "")
    with pytest.raises(errors.ConfigError, match=r"the Secret 'bikes-s3' .* no value for 'secret-key'"):
        storage.check_secret_env(_with_secret(secret_access_key_key="secret-key"))
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    with pytest.raises(errors.ConfigError, match="no value for 'AWS_SECRET_ACCESS_KEY'"):
        storage.check_secret_env(_with_secret())


def test_no_secret_env_at_all_leaves_the_other_credential_sources(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name, raising=False)
    storage.check_secret_env(_with_secret())  # e.g. `kubedrift run` with a profile
    storage.check_secret_env(None)


def test_redact_and_key_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", CANARY_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", CANARY_SECRET)
    assert storage.redact(f"key {CANARY_KEY}, secret {CANARY_SECRET}") == "key <redacted>, secret <redacted>"
    assert storage.key_hint() == f" sha256:{CANARY_KEY_SHA256}"
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", CANARY_SECRET)  # swapped: the secret is only hashed
    assert storage.key_hint() == f" sha256:{hashlib.sha256(CANARY_SECRET.encode()).hexdigest()[:8]}"
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x" * storage.KEY_HINT_MIN_LENGTH)
    assert len(storage.key_hint()) == len(" sha256:") + 8
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x" * (storage.KEY_HINT_MIN_LENGTH - 1))
    assert storage.key_hint() == ""  # so short that its hash would give it away


def test_retrying_runs_again_only_what_botocore_could_not() -> None:
    calls: list[int] = []

    def broken_body() -> None:
        calls.append(1)
        raise errors.ReadInterrupted("s3://b/k: the response broke off mid-body (ClientPayloadError)")

    with pytest.raises(errors.ReadInterrupted):
        storage.retrying(broken_body, attempts=3, delay=0)
    assert len(calls) == 3

    calls.clear()

    def throttled() -> None:
        calls.append(1)
        raise errors.TransientError("s3://b/k: kept answering SlowDown")

    with pytest.raises(errors.TransientError):
        storage.retrying(throttled, attempts=3, delay=0)
    assert len(calls) == 1  # botocore retried it already; one more layer would multiply the wait

    outcomes = iter([errors.ReadInterrupted("x"), "whole"])

    def once_broken() -> str:
        outcome = next(outcomes)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    assert storage.retrying(once_broken, delay=0) == "whole"


def test_a_short_range_is_a_broken_read_never_data() -> None:
    fetch = storage._whole_ranges(lambda start, end: b"x" * (end - start - 1), size=100)
    with pytest.raises(storage.ShortRead, match="got 9 of 10 bytes at offset 0"):
        fetch(0, 10)
    whole = storage._whole_ranges(lambda start, end: b"x" * (min(end, 100) - start), size=100)
    assert len(whole(90, 200)) == 10  # the end of the object is not a short read


def test_the_documented_bounds_are_the_code_s() -> None:
    # 4 attempts of at most a 15 s read timeout, plus at most 1 + 2 + 4 s of backoff.
    assert (
        storage.REQUEST_ATTEMPTS * storage.READ_TIMEOUT
        + sum(2**n for n in range(storage.REQUEST_ATTEMPTS - 1))
    ) == storage.REQUEST_WORST_CASE_SECONDS
    # 3 reads whose body stalls for the 15 s read timeout, plus at most 1 + 2 s between them.
    assert (
        storage.OPERATION_ATTEMPTS * storage.READ_TIMEOUT
        + sum(storage.OPERATION_RETRY_DELAY * 2**n for n in range(storage.OPERATION_ATTEMPTS - 1))
    ) == storage.BODY_STALL_WORST_CASE_SECONDS
    text = DOCS.read_text()
    for row, number in (
        ("connecting (TCP and TLS)", f"{storage.CONNECT_TIMEOUT} s per attempt"),
        ("waiting for an answer", f"{storage.READ_TIMEOUT} s per attempt"),
        ("attempts per request", f"{storage.REQUEST_ATTEMPTS} attempts"),
        ("never answers", f"at most {storage.REQUEST_WORST_CASE_SECONDS} s"),
        ("came short", f"{storage.OPERATION_ATTEMPTS} times in all"),
        ("stalls on every attempt", f"at most {storage.BODY_STALL_WORST_CASE_SECONDS} s"),
    ):
        # The number whole (not "5 s" inside "15 s"), in the table row that states it.
        pattern = rf"^\| [^|\n]*{re.escape(row)}[^|\n]* \| (?:[^|\n]*\W)?{re.escape(number)}\b"
        assert re.search(pattern, text, re.MULTILINE), (row, number)
