"""Reference profiles on the real S3 server: built once, then the reference's data is never read.

What is read is counted on the wire, by the fault proxy in front of the server (no faults
injected): every GET of the reference object, its Range and the bytes the server sent.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from kubedrift.models.jobconfig import CheckJobConfig
from kubedrift.models.report import DriftReport
from kubedrift.storage import FOOTER_GUESS_BYTES
from kubedrift_jobs.drift.engine import run_check
from kubedrift_jobs.drift.profile_store import PROFILES_KEPT
from tests.fixtures.faultproxy import FaultProxy, Seen
from tests.fixtures.s3 import S3Server, upload_file

pytestmark = pytest.mark.s3
ROWS = 200_000


def side(seed: int, shift: float) -> pa.Table:
    rng = np.random.default_rng(seed)
    return pa.table(
        {
            "x": rng.normal(shift, 1, ROWS),
            "y": rng.lognormal(shift, 0.5, ROWS),
            "ties": np.round(rng.gamma(2, 3, ROWS), 1),
            "colour": rng.choice(["red", "green", "blue"], ROWS),
            "target": rng.normal(0, 1, ROWS),
        }
    )


def check(bucket: str, endpoint: str, reference: str = "data/reference.parquet") -> DriftReport:
    config = CheckJobConfig.from_wire(
        {
            "check": "wire",
            "reference": {"uri": f"s3://{bucket}/{reference}"},
            "current": {"uri": f"s3://{bucket}/data/current.parquet"},
            "columns": {"target": "target"},
            "storage": {"reportsUri": f"s3://{bucket}/reports", "endpoint": endpoint, "region": "us-east-1"},
        }
    )
    return run_check(config, f"s3://{bucket}/reports/wire/report")


def reads_of(proxy: FaultProxy, bucket: str, key: str) -> list[Seen]:
    return [s for s in proxy.seen if s.method == "GET" and s.target.split("?")[0] == f"/{bucket}/{key}"]


def range_start(seen: Seen, size: int) -> int:
    match = re.fullmatch(r"bytes=(\d*)-(\d*)", seen.range or "")
    assert match, f"a read of the whole object: {seen}"
    start, end = match.groups()
    return int(start) if start else size - int(end)  # "bytes=-N" is the last N bytes


def test_a_profile_is_built_once_and_the_reference_data_is_not_read_again(
    s3: S3Server, fault_proxy: FaultProxy, tmp_path: Path
) -> None:
    bucket = s3.create_bucket()
    for name, table in (("reference", side(1, 0.0)), ("current", side(2, 0.3))):
        pq.write_table(table, tmp_path / f"{name}.parquet", row_group_size=50_000)
        upload_file(s3.client(), tmp_path / f"{name}.parquet", bucket, f"data/{name}.parquet")
    size = (tmp_path / "reference.parquet").stat().st_size
    footer = pq.ParquetFile(tmp_path / "reference.parquet").metadata.serialized_size
    assert size > 40 * FOOTER_GUESS_BYTES > 40 * footer  # data pages dwarf the footer's read

    built = check(bucket, fault_proxy.url)
    first = reads_of(fault_proxy, bucket, "data/reference.parquet")
    assert built.reference_profile is not None and built.reference_profile.status == "built"
    assert sum(s.body_bytes for s in first) > 0.9 * size  # every column was read once

    for _ in range(2):
        fault_proxy.seen.clear()
        used = check(bucket, fault_proxy.url)
        assert used.reference_profile is not None
        assert (used.reference_profile.status, used.reference_profile.columns_read) == ("used", 0)
        reads = reads_of(fault_proxy, bucket, "data/reference.parquet")
        # Only the footers (the dataset's schema and row counts, the fingerprint): the tail of
        # the file, never a data page before it.
        assert reads and all(range_start(s, size) >= size - FOOTER_GUESS_BYTES for s in reads), reads
        assert sum(s.body_bytes for s in reads) <= len(reads) * FOOTER_GUESS_BYTES < 0.05 * size
        assert not [s for s in fault_proxy.seen if s.method == "PUT" and "/profiles/" in s.target]
        assert [c.model_dump(exclude={"seconds"}) for c in used.columns] == [
            c.model_dump(exclude={"seconds"}) for c in built.columns
        ]
        assert used.dataset == built.dataset


def test_older_profiles_are_removed_from_the_bucket_the_newest_kept(s3: S3Server, tmp_path: Path) -> None:
    """On S3 a profile's age is its profile.json's LastModified (whole seconds): the references
    here are checked over a second apart, so the order is the order of the checks."""
    bucket = s3.create_bucket()
    client = s3.client()
    small = side(2, 0.3).slice(0, 2000)
    pq.write_table(small, tmp_path / "current.parquet")
    upload_file(client, tmp_path / "current.parquet", bucket, "data/current.parquet")
    keys = []
    for seed in range(PROFILES_KEPT + 1):
        pq.write_table(side(10 + seed, 0.0).slice(0, 2000), tmp_path / f"reference-{seed}.parquet")
        upload_file(client, tmp_path / f"reference-{seed}.parquet", bucket, f"data/reference-{seed}.parquet")
        report = check(bucket, s3.endpoint, f"data/reference-{seed}.parquet")
        assert report.reference_profile is not None and report.reference_profile.status == "built"
        keys.append(report.reference_profile.uri.rsplit("/", 1)[-1])
        time.sleep(1.1)
    assert report.reference_profile.removed == [keys[0]]
    listed = client.list_objects_v2(Bucket=bucket, Prefix="reports/wire/profiles/")
    folders = {item["Key"].split("/")[3] for item in listed["Contents"]}
    assert folders == set(keys[1:])
