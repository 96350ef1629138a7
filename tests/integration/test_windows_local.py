"""A window over a timestamp column, on local files: only the window's rows are read, files without
any are not part of the data, a column without a zone is read in the DriftCheck's zone, and the data
version tells two windows of the same files apart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from kubedrift.datasets import open_source
from kubedrift.errors import EmptyWindow
from kubedrift.models.driftcheck import DataSource

MARCH = datetime(2011, 3, 1)


@pytest.fixture
def monthly(tmp_path: Path) -> Path:
    """March and April 2011, one file a month, one row an hour, `ts` without a zone, weekly row groups."""
    for month, days in ((3, 31), (4, 30)):
        start = datetime(2011, month, 1)
        hours = [start + timedelta(hours=h) for h in range(24 * days)]
        table = pa.table({"ts": hours, "x": list(range(len(hours)))})
        pq.write_table(table, tmp_path / f"2011-{month:02d}.parquet", row_group_size=24 * 7)
    return tmp_path


def source(root: Path, **window: str) -> DataSource:
    return DataSource.model_validate({"uri": str(root), "time": {"column": "ts"}, "window": window})


def test_only_the_window_rows_are_read_and_files_without_any_are_left_out(monthly: Path) -> None:
    at = datetime(2011, 3, 15, tzinfo=UTC)
    data = open_source(source(monthly, last="7d"), at, None)
    assert [Path(f).name for f in data.files] == ["2011-03.parquet"]
    assert data.num_rows == 7 * 24
    ts = data.column("ts").to_pylist()
    assert (min(ts), max(ts)) == (datetime(2011, 3, 8), datetime(2011, 3, 14, 23))


def test_a_column_without_a_zone_holds_wall_clock_times_of_the_checks_zone(monthly: Path) -> None:
    at = datetime(2011, 3, 15, tzinfo=UTC)  # 2011-03-14T20:00 in New York (UTC-4 from 13 March)
    data = open_source(source(monthly, last="1d"), at, "America/New_York")
    ts = data.column("ts").to_pylist()
    assert (min(ts), max(ts)) == (datetime(2011, 3, 13, 20), datetime(2011, 3, 14, 19))


def test_two_windows_of_the_same_file_are_two_data_versions(monthly: Path) -> None:
    week = source(monthly, last="7d")
    first = open_source(week, datetime(2011, 3, 15, tzinfo=UTC), None).fingerprint()
    second = open_source(week, datetime(2011, 3, 22, tzinfo=UTC), None).fingerprint()
    assert first.files == second.files == 1
    assert first.version != second.version
    # The same instants, resolved in another zone: the same rows, the same version.
    absolute = source(monthly, **{"from": "2011-03-08T01:00:00+01:00", "to": "2011-03-15T01:00:00+01:00"})
    assert open_source(absolute, MARCH, None).fingerprint().version == first.version


def test_a_window_before_any_row_is_empty(monthly: Path) -> None:
    with pytest.raises(EmptyWindow, match=r"no rows with ts in the window 2011-02-01T00:00\+00:00"):
        open_source(source(monthly, last="7d"), datetime(2011, 2, 8, tzinfo=UTC), None)
