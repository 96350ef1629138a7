"""The tests' S3 server checks what moto never did: signatures, access keys, per-account bucket
rights and TLS with a private CA. If any of these passed here, every credential test built on the
server would prove nothing."""

from __future__ import annotations

import botocore.exceptions
import pytest

from tests.fixtures.s3 import Account, S3Server, served_ips


def _error_code(server: S3Server, env: dict[str, str], bucket: str) -> str:
    account = Account.from_env(env)
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        server.client(account=account).list_objects_v2(Bucket=bucket)
    return str(raised.value.response["Error"]["Code"])


def test_the_root_account_owns_the_buckets_it_creates(s3_server: S3Server) -> None:
    bucket = s3_server.create_bucket()
    client = s3_server.client()
    client.put_object(Bucket=bucket, Key="a/b.txt", Body=b"hello")
    assert client.get_object(Bucket=bucket, Key="a/b.txt")["Body"].read() == b"hello"
    assert bucket in {b["Name"] for b in client.list_buckets()["Buckets"]}


def test_an_unknown_access_key_is_refused(s3_server: S3Server) -> None:
    assert _error_code(s3_server, s3_server.wrong_access_key_env(), s3_server.create_bucket()) == (
        "InvalidAccessKeyId"
    )


def test_a_wrong_secret_fails_the_signature(s3_server: S3Server) -> None:
    assert _error_code(s3_server, s3_server.wrong_secret_env(), s3_server.create_bucket()) == (
        "SignatureDoesNotMatch"
    )


def test_a_real_account_without_rights_on_the_bucket_is_denied(s3_server: S3Server) -> None:
    bucket = s3_server.create_bucket()
    assert _error_code(s3_server, s3_server.no_rights_env(), bucket) == "AccessDenied"
    # The account itself is real and valid: it may list (its own, so no) buckets.
    other = s3_server.client(account=Account.from_env(s3_server.no_rights_env()))
    assert bucket not in {b["Name"] for b in other.list_buckets()["Buckets"]}


def test_an_added_admin_account_counts_at_once(s3_server: S3Server) -> None:
    bucket = s3_server.create_bucket()
    admin = s3_server.add_account(Account("kubedrift-extra-admin", "kubedrift-extra-secret"), role="admin")
    s3_server.client(account=admin).put_object(Bucket=bucket, Key="k", Body=b"v")
    assert s3_server.client().get_object(Bucket=bucket, Key="k")["Body"].read() == b"v"


def test_tls_is_verified_against_the_private_ca_only(s3_server: S3Server) -> None:
    import boto3

    untrusting = boto3.client(
        "s3",
        endpoint_url=s3_server.endpoint,
        aws_access_key_id=s3_server.env()["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=s3_server.env()["AWS_SECRET_ACCESS_KEY"],
        region_name="us-east-1",
    )  # the system's CAs: the server's certificate is not theirs
    with pytest.raises(botocore.exceptions.SSLError, match="CERTIFICATE_VERIFY_FAILED"):
        untrusting.list_buckets()
    assert s3_server.ca_pem.startswith(b"-----BEGIN CERTIFICATE-----")


def test_a_new_address_gets_a_reissued_certificate_without_a_restart(s3_server: S3Server) -> None:
    pid = s3_server.process.pid
    s3_server.serve_ip("127.0.0.9")
    assert {"127.0.0.1", "127.0.0.9"} <= served_ips(s3_server.port, s3_server.ca_bundle)
    assert s3_server.process.pid == pid and s3_server.process.poll() is None
    s3_server.client().list_buckets()  # clients that trust the CA go on working
