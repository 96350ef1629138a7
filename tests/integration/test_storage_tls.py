"""TLS to the S3 server with its private CA: trusted through AWS_CA_BUNDLE (which the operator
sets from storage.caBundle), never by turning verification off; an untrusted certificate is a
clear, permanent configuration error that names the endpoint and the fix."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from kubedrift import storage
from kubedrift.cli import main
from kubedrift.errors import ConfigError
from tests.cluster.certs import PrivateCA
from tests.fixtures.s3 import S3Server

pytestmark = pytest.mark.s3
ROOT = Path(__file__).resolve().parents[2]
BIKES = ROOT / "examples" / "bike-sharing" / "data"
FIX = "set storage.caBundle to the CA bundle that signed it (AWS_CA_BUNDLE for kubedrift run)"


def _uploaded(s3: S3Server) -> str:
    bucket = s3.create_bucket()
    client = s3.client()
    client.upload_file(str(BIKES / "reference.parquet"), bucket, "data/reference.parquet")
    client.upload_file(str(BIKES / "current" / "week-2.parquet"), bucket, "data/current/week-2.parquet")
    return bucket


def test_the_private_ca_from_aws_ca_bundle_is_trusted(s3: S3Server) -> None:
    bucket = _uploaded(s3)
    files = storage.list_parquet(f"s3://{bucket}/data/current/", s3.storage(f"s3://{bucket}/r"))
    assert files == [f"{bucket}/data/current/week-2.parquet"]


def test_without_the_ca_the_certificate_is_refused_naming_the_endpoint_and_the_fix(
    s3: S3Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    bucket = _uploaded(s3)
    monkeypatch.delenv("AWS_CA_BUNDLE")
    with pytest.raises(ConfigError) as raised:
        storage.list_parquet(f"s3://{bucket}/data/", s3.storage(f"s3://{bucket}/r"))
    assert raised.value.message == (
        f"s3://{bucket}/data/: the TLS certificate of {s3.endpoint} is not trusted "
        f"(unable to get local issuer certificate); {FIX}"
    )
    assert raised.value.exit_code == 2  # permanent: retrying cannot make the certificate trusted


def test_a_bundle_of_another_ca_is_refused_too(
    s3: S3Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bucket = _uploaded(s3)
    other = PrivateCA.create(tmp_path / "other", "some-other-ca")
    monkeypatch.setenv("AWS_CA_BUNDLE", str(other.cert))
    with pytest.raises(ConfigError, match=f"the TLS certificate of {s3.endpoint} is not trusted"):
        storage.read_bytes(f"s3://{bucket}/data/reference.parquet", s3.storage(f"s3://{bucket}/r"))


def test_the_check_job_ends_with_the_reason_and_the_fix(
    s3: S3Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bucket = _uploaded(s3)
    monkeypatch.delenv("AWS_CA_BUNDLE")
    config = {
        "check": "bikes",
        "namespace": "ml",
        "reference": {"uri": f"s3://{bucket}/data/reference.parquet"},
        "current": {"uri": f"s3://{bucket}/data/current/"},
        "storage": s3.storage(f"s3://{bucket}/reports").to_wire(),
    }
    (tmp_path / "config.json").write_text(json.dumps(config))
    termination = tmp_path / "termination-log"
    code = main(
        ["check", "--config", str(tmp_path / "config.json"), "--termination-message-path", str(termination)]
    )
    error = json.loads(termination.read_text())["error"]
    assert code == 2 and error["reason"] == "InvalidConfig", error
    assert s3.endpoint in error["message"] and FIX in error["message"]


def test_kubedrift_run_honours_aws_ca_bundle_from_its_environment(s3: S3Server, tmp_path: Path) -> None:
    """Local mode: the spec's caBundle names cluster objects, so the environment's AWS_CA_BUNDLE counts."""
    bucket = _uploaded(s3)
    manifest = {
        "apiVersion": "kubedrift.io/v1alpha1",
        "kind": "DriftCheck",
        "metadata": {"name": "tls"},
        "spec": {
            "reference": {"uri": f"s3://{bucket}/data/reference.parquet"},
            "current": {"uri": f"s3://{bucket}/data/current/"},
            "columns": {"target": "high_demand", "exclude": ["dteday", "casual", "registered", "cnt"]},
            "storage": {
                **s3.storage(f"s3://{bucket}/reports").to_wire(),
                "caBundle": {"configMapRef": {"name": "s3-ca", "key": "ca.crt"}},
            },
        },
    }
    path = tmp_path / "driftcheck.yaml"
    path.write_text(yaml.safe_dump(manifest))
    env = {**s3.env(), "AWS_CA_BUNDLE": str(s3.ca_bundle), "AWS_EC2_METADATA_DISABLED": "true"}
    run = subprocess.run(
        [sys.executable, "-m", "kubedrift", "run", str(path)],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), **env},
        cwd=tmp_path,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    reports = s3.client().list_objects_v2(Bucket=bucket, Prefix="reports/tls/")
    assert any(item["Key"].endswith("report.json") for item in reports.get("Contents", [])), reports
