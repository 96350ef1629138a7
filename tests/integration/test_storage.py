"""Storage access against real Parquet files, on local disk and on the S3 server on loopback."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from kubedrift import storage
from kubedrift.errors import ConfigError, DataNotFound, DataUnreadable, TransientError
from kubedrift.models.driftcheck import Storage
from tests.fixtures.s3 import S3Server

TABLE = pa.table({"a": [1.0, 2.0, None], "b": ["x", "y", "x"]})


def _write_local(tmp_path: Path) -> Path:
    folder = tmp_path / "data" / "year=2011"
    folder.mkdir(parents=True)
    pq.write_table(TABLE, folder / "part-0.parquet")
    pq.write_table(TABLE, folder / "part-1.parquet")
    (tmp_path / "data" / "_SUCCESS").write_text("")
    return tmp_path / "data"


def test_local_directory_reads_one_column_and_partitions(tmp_path: Path) -> None:
    data = storage.open_parquet(str(_write_local(tmp_path)))
    assert len(data.files) == 2
    assert data.num_rows == 6
    assert data.column("b").to_pylist() == ["x", "y", "x"] * 2
    assert "year" in data.column_names  # the hive partition key is a column


def test_glob_and_file_uri(tmp_path: Path) -> None:
    root = _write_local(tmp_path)
    assert len(storage.list_parquet(f"file://{root}/year=2011/part-*.parquet")) == 2
    assert storage.list_parquet(str(root / "year=2011" / "part-0.parquet"))[0].endswith("part-0.parquet")


def test_fingerprint_changes_with_content(tmp_path: Path) -> None:
    root = _write_local(tmp_path)
    before = storage.open_parquet(str(root)).fingerprint()
    assert before.rows == 6 and before.files == 2
    pq.write_table(pa.table({"a": [9.0], "b": ["z"]}), root / "year=2011" / "part-1.parquet")
    after = storage.open_parquet(str(root)).fingerprint()
    assert after.content_hash != before.content_hash
    assert after.schema_hash == before.schema_hash


def test_missing_data_is_data_not_found(tmp_path: Path) -> None:
    with pytest.raises(DataNotFound, match="no such file"):
        storage.list_parquet(str(tmp_path / "nothing"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataNotFound, match="matches no Parquet files"):
        storage.list_parquet(str(tmp_path / "empty"))


def test_corrupt_parquet_is_data_unreadable(tmp_path: Path) -> None:
    (tmp_path / "bad.parquet").write_bytes(b"this is not parquet")
    with pytest.raises(DataUnreadable, match=r"bad\.parquet"):
        storage.open_parquet(str(tmp_path / "bad.parquet")).column("a")


def test_missing_column_names_the_column(tmp_path: Path) -> None:
    data = storage.open_parquet(str(_write_local(tmp_path)))
    with pytest.raises(DataUnreadable, match="no column 'nope'"):
        data.column("nope")


def test_s3_round_trip(s3: S3Server, tmp_path: Path) -> None:
    bucket = s3.create_bucket()
    settings = s3.storage(f"s3://{bucket}/reports")
    sink = pa.BufferOutputStream()
    pq.write_table(TABLE, sink)
    storage.write_bytes(f"s3://{bucket}/data/part-0.parquet", sink.getvalue().to_pybytes(), settings)
    data = storage.open_parquet(f"s3://{bucket}/data", settings)
    assert data.column("a").to_pylist() == [1.0, 2.0, None]
    print_ = data.fingerprint()
    assert print_.rows == 3 and print_.size > 0 and print_.uri == f"s3://{bucket}/data"
    storage.write_text(f"s3://{bucket}/reports/x/report.json", "{}", settings)
    assert storage.read_bytes(f"s3://{bucket}/reports/x/report.json", settings) == b"{}"
    storage.copy(f"s3://{bucket}/reports/x", f"s3://{bucket}/prod", settings)
    assert storage.exists(f"s3://{bucket}/prod/report.json", settings)


def test_s3_missing_bucket_key_is_data_not_found(s3: S3Server) -> None:
    bucket = s3.create_bucket()
    with pytest.raises(DataNotFound):
        storage.list_parquet(f"s3://{bucket}/missing/", s3.storage(f"s3://{bucket}/r"))


def test_an_unreadable_local_file_is_a_config_error(tmp_path: Path) -> None:
    # S3's refusals carry an error code and have exit codes of their own (test_storage_faults.py).
    with pytest.raises(ConfigError, match="permission denied"), storage.storage_errors(str(tmp_path)):
        raise PermissionError("Permission denied")


def test_missing_credentials_is_a_config_error(monkeypatch: pytest.MonkeyPatch, s3: S3Server) -> None:
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(key)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    with pytest.raises(ConfigError, match="no S3 credentials"):
        storage.list_parquet("s3://kd-bucket/data/", s3.storage("s3://kd-bucket/r"))


def test_unreachable_endpoint_is_transient_after_retries(s3: S3Server) -> None:
    settings = Storage(reports_uri="s3://kd-bucket/r", endpoint="http://127.0.0.1:9")  # discard port
    with pytest.raises(TransientError, match="unreachable"):
        storage.list_parquet("s3://kd-bucket/data/", settings)


def test_the_same_files_elsewhere_are_the_same_data_version(tmp_path: Path) -> None:
    root = _write_local(tmp_path / "here")
    import shutil

    shutil.copytree(root, tmp_path / "there")
    here = storage.open_parquet(str(root)).fingerprint()
    there = storage.open_parquet(str(tmp_path / "there")).fingerprint()
    assert here.content_hash == there.content_hash and here.uri != there.uri
    single_here = storage.open_parquet(str(root / "year=2011" / "part-0.parquet")).fingerprint()
    single_there = storage.open_parquet(
        str(tmp_path / "there" / "year=2011" / "part-0.parquet")
    ).fingerprint()
    assert single_here.content_hash == single_there.content_hash


def test_a_multi_file_dataset_has_every_file_s_columns_and_counts_rows_per_column(tmp_path: Path) -> None:
    from kubedrift.storage import open_parquet

    (tmp_path / "year=2011").mkdir()
    (tmp_path / "year=2012").mkdir()
    pq.write_table(pa.table({"a": [1, 2, 3]}), tmp_path / "year=2011" / "part-1.parquet")
    pq.write_table(pa.table({"a": [0.5], "late": ["x"]}), tmp_path / "year=2012" / "part-2.parquet")
    data = open_parquet(str(tmp_path))
    assert data.schema.names == ["a", "late", "year"]
    assert str(data.schema.field("a").type) == "double"  # int64 and double meet as double
    assert (data.num_rows, data.rows_with("a"), data.rows_with("late"), data.rows_with("year")) == (
        4,
        4,
        1,
        4,
    )
    assert data.column("late").to_pylist() == ["x"]  # only the rows that have it
    assert data.columns(["late"]).column(0).to_pylist() == [None, None, None, "x"]
    assert data.column("a").to_pylist() == [1.0, 2.0, 3.0, 0.5]

    pq.write_table(pa.table({"a": ["text"]}), tmp_path / "year=2012" / "part-3.parquet")
    with pytest.raises(
        DataUnreadable,
        match=r"'a' is .* in file 'year=2011/part-1.parquet' but string in file 'year=2012/part-3.parquet'",
    ):
        _ = open_parquet(str(tmp_path)).schema
