"""Data versions do not depend on how the bytes were uploaded (issue 11, proof 5).

The same Parquet files, put on the S3 server by one PUT, by multipart uploads of several part
sizes, by a hand-made multipart upload with uneven parts, encrypted at rest, and through
kubedrift's own storage, and kept on local disk: one data version, and the training job gives
the same trial id on each, while the ETags all differ.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from kubedrift import storage
from kubedrift.errors import DataUnreadable
from kubedrift.models.results import TrialSummary
from kubedrift_jobs.train.job import main_index
from tests.fixtures.s3 import S3Server, upload_file
from tests.fixtures.train_data import synthetic_table, train_config, write_config

MIB = 2**20
PART_SIZES = (5 * MIB, 6 * MIB, 8 * MIB)  # S3's smallest part is 5 MiB


COLUMNS = {"target": "y", "exclude": ["payload"]}


def _with_payload(table: pa.Table, bytes_per_row: int, seed: int) -> pa.Table:
    """`table` plus an incompressible column the trial never reads: a big file that trains fast."""
    rng = np.random.default_rng(seed)
    payload = [rng.bytes(bytes_per_row) for _ in range(table.num_rows)]
    return table.append_column("payload", pa.array(payload, pa.binary()))


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A two-file training set and a test file of ~17 MiB in five row groups: several parts."""
    root = tmp_path_factory.mktemp("versions")
    (root / "train").mkdir()
    (root / "test").mkdir()
    pq.write_table(_with_payload(synthetic_table(300, seed=1), 16, 1), root / "train" / "part-0.parquet")
    pq.write_table(_with_payload(synthetic_table(200, seed=3), 16, 3), root / "train" / "part-1.parquet")
    test = _with_payload(synthetic_table(2000, seed=2), 8704, 2)
    pq.write_table(test, root / "test" / "part-0.parquet", row_group_size=400)
    assert (root / "test" / "part-0.parquet").stat().st_size > 2 * PART_SIZES[-1]
    return root


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.parquet"))


def _put(client: Any, bucket: str, key: str, path: Path) -> None:
    client.put_object(Bucket=bucket, Key=key, Body=path.read_bytes())


def _put_encrypted(client: Any, bucket: str, key: str, path: Path) -> None:
    client.put_object(Bucket=bucket, Key=key, Body=path.read_bytes(), ServerSideEncryption="AES256")


def _transfer(part_size: int) -> Callable[[Any, str, str, Path], None]:
    def upload(client: Any, bucket: str, key: str, path: Path) -> None:
        # Every file goes multipart, the small ones as a one-part upload.
        upload_file(client, path, bucket, key, part_size=part_size)

    return upload


def _uneven_parts(client: Any, bucket: str, key: str, path: Path) -> None:
    """A multipart upload by hand: 7 MiB, then 5 MiB parts, the rest last."""
    data = path.read_bytes()
    upload = client.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    bounds = [0, 7 * MIB, 12 * MIB, len(data)] if len(data) > 12 * MIB else [0, len(data)]
    parts = []
    for number, (start, end) in enumerate(itertools.pairwise(bounds), start=1):
        etag = client.upload_part(
            Bucket=bucket, Key=key, UploadId=upload, PartNumber=number, Body=data[start:end]
        )["ETag"]
        parts.append({"PartNumber": number, "ETag": etag})
    client.complete_multipart_upload(
        Bucket=bucket, Key=key, UploadId=upload, MultipartUpload={"Parts": parts}
    )


def _through_kubedrift(s3: S3Server) -> Callable[[Any, str, str, Path], None]:
    def upload(client: Any, bucket: str, key: str, path: Path) -> None:
        storage.write_bytes(f"s3://{bucket}/{key}", path.read_bytes(), s3.storage(f"s3://{bucket}"))

    return upload


def _uploads(s3: S3Server) -> dict[str, Callable[[Any, str, str, Path], None]]:
    return {
        "single-put": _put,
        **{f"multipart-{size // MIB}mib": _transfer(size) for size in PART_SIZES},
        "multipart-uneven": _uneven_parts,
        "sse-s3": _put_encrypted,
        "kubedrift": _through_kubedrift(s3),
    }


@pytest.fixture(scope="module")
def layouts(dataset: Path, s3_server: S3Server) -> tuple[str, dict[str, str], dict[str, set[str]]]:
    """The dataset uploaded once per way, each under its own prefix; and every file's ETags."""
    with pytest.MonkeyPatch.context() as env:  # kubedrift's own upload reads the credentials from it
        for key, value in s3_server.env().items():
            env.setenv(key, value)
        env.setenv("AWS_CA_BUNDLE", str(s3_server.ca_bundle))
        return _upload_all(dataset, s3_server)


def _upload_all(dataset: Path, s3_server: S3Server) -> tuple[str, dict[str, str], dict[str, set[str]]]:
    client = s3_server.client()
    bucket = s3_server.create_bucket()
    prefixes: dict[str, str] = {}
    etags: dict[str, set[str]] = {}
    for name, upload in _uploads(s3_server).items():
        for path in _files(dataset):
            key = f"{name}/{path.relative_to(dataset).as_posix()}"
            upload(client, bucket, key, path)
            etags.setdefault(path.relative_to(dataset).as_posix(), set()).add(
                client.head_object(Bucket=bucket, Key=key)["ETag"]
            )
        prefixes[name] = f"s3://{bucket}/{name}"
    return bucket, prefixes, etags


@pytest.mark.s3
def test_the_uploads_really_differ(layouts: tuple[str, dict[str, str], dict[str, set[str]]]) -> None:
    """The ETags of one file disagree across the uploads: a version made of ETags would too."""
    _, _, etags = layouts
    assert len(etags["test/part-0.parquet"]) >= 1 + len(PART_SIZES)
    assert len(etags["train/part-0.parquet"]) >= 2  # a one-part upload's ETag is not the PUT's


@pytest.mark.s3
def test_one_data_version_however_uploaded_and_on_local_disk(
    s3: S3Server, dataset: Path, layouts: tuple[str, dict[str, str], dict[str, set[str]]]
) -> None:
    bucket, prefixes, _ = layouts
    settings = s3.storage(f"s3://{bucket}")
    for side in ("train", "test"):
        local = storage.open_parquet(str(dataset / side)).fingerprint()
        for name, prefix in prefixes.items():
            remote = storage.open_parquet(f"{prefix}/{side}/", settings).fingerprint()
            assert (remote.content_hash, remote.size, remote.rows, remote.files) == (
                local.content_hash,
                local.size,
                local.rows,
                local.files,
            ), f"{side} uploaded as {name}"
            assert remote.schema_hash == local.schema_hash


@pytest.mark.s3
def test_the_training_job_gives_the_same_trial_ids_however_uploaded(
    s3: S3Server, dataset: Path, layouts: tuple[str, dict[str, str], dict[str, set[str]]], tmp_path: Path
) -> None:
    bucket, prefixes, _ = layouts
    ids: dict[str, tuple[str, str]] = {}
    for name, data in {"local": str(dataset), **prefixes}.items():
        on_s3 = data.startswith("s3://")
        config = train_config(
            f"{data}/train/",
            f"{data}/test/part-0.parquet",
            f"s3://{bucket}/reports/{name}" if on_s3 else str(tmp_path / "reports"),
            estimator="LogisticRegression",
            params={"max_iter": 200},
            grid={"C": [0.5]},
            columns=COLUMNS,
            storage={"endpoint": s3.endpoint, "region": "us-east-1"} if on_s3 else None,
        )
        termination = tmp_path / f"{name}.termination"
        path = write_config(tmp_path / f"{name}.yaml", config)
        code = main_index(path, 0, termination_path=str(termination))
        message = json.loads(termination.read_text())
        assert code == 0, message
        summary = TrialSummary.model_validate(message)
        ids[name] = (summary.trial_id, summary.data_version)
    assert len(set(ids.values())) == 1, ids


def test_a_wide_footer_takes_a_second_read_and_still_matches(tmp_path: Path) -> None:
    """A footer larger than the first ranged read (thousands of columns) is read whole."""
    wide = pa.table({f"c{i:04d}": [float(i)] for i in range(3000)})
    pq.write_table(wide, tmp_path / "wide.parquet")
    size = (tmp_path / "wide.parquet").stat().st_size
    footer = int.from_bytes((tmp_path / "wide.parquet").read_bytes()[-8:-4], "little")
    assert footer > storage.FOOTER_GUESS_BYTES
    first = storage.open_parquet(str(tmp_path / "wide.parquet")).fingerprint()
    (tmp_path / "copy").mkdir()
    (tmp_path / "copy" / "wide.parquet").write_bytes((tmp_path / "wide.parquet").read_bytes())
    assert storage.open_parquet(str(tmp_path / "copy" / "wide.parquet")).fingerprint() == first.model_copy(
        update={"uri": str(tmp_path / "copy" / "wide.parquet")}
    )
    assert first.size == size


def test_the_version_sees_a_changed_value_and_a_changed_row_group_layout(tmp_path: Path) -> None:
    table = synthetic_table(1000, seed=5)
    pq.write_table(table, tmp_path / "a.parquet", row_group_size=500)
    before = storage.open_parquet(str(tmp_path / "a.parquet")).fingerprint().content_hash
    changed = table.set_column(0, "x1", pa.array([9.0, *table.column("x1").to_pylist()[1:]]))
    pq.write_table(changed, tmp_path / "a.parquet", row_group_size=500)
    assert storage.open_parquet(str(tmp_path / "a.parquet")).fingerprint().content_hash != before
    pq.write_table(table, tmp_path / "a.parquet", row_group_size=250)
    assert storage.open_parquet(str(tmp_path / "a.parquet")).fingerprint().content_hash != before
    pq.write_table(table, tmp_path / "a.parquet", row_group_size=500)
    assert storage.open_parquet(str(tmp_path / "a.parquet")).fingerprint().content_hash == before


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"PAR1", r"not a Parquet file \(4 bytes\)"),
        (b"PAR1 this is not parquet at all, just text", "does not end in PAR1"),
        (b"PAR1" + b"x" * 20 + (10**6).to_bytes(4, "little") + b"PAR1", "footer length is wrong"),
    ],
)
def test_a_file_that_is_not_parquet_is_data_unreadable(tmp_path: Path, content: bytes, problem: str) -> None:
    (tmp_path / "bad.parquet").write_bytes(content)
    data = storage.ParquetData(
        uri=str(tmp_path), files=[str(tmp_path / "bad.parquet")], fs=storage.filesystem(str(tmp_path))
    )
    with pytest.raises(DataUnreadable, match=problem):
        data.fingerprint()
