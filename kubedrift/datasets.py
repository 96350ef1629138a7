"""Opening a DataSource: the whole dataset, or only its window.

A window over time partitions lists only the window's partitions (`partition_prefixes`: one listing
per partition, so the cost follows the window, not the dataset) and reads only their files. A window
over a timestamp column opens the dataset with a row filter: pyarrow skips the row groups whose
statistics lie outside the window and drops the rows outside it, and files left without rows are not
part of the data (nor of its version). Either way the columns are then read one at a time, as for a
fixed URI.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from kubedrift.errors import DataNotFound, DataUnreadable, EmptyWindow
from kubedrift.models.driftcheck import DataSource, Storage
from kubedrift.models.windows import TimeLayout, TimeWindow, resolve, zone_of
from kubedrift.storage import ParquetData, _hidden, _path, filesystem, list_parquet, storage_errors
from kubedrift.uris import has_glob, is_s3, join
from kubedrift.windows import MAX_PREFIXES, partition_prefixes, select

LISTERS = 8


def source_window(source: DataSource, at: datetime, zone: str | None) -> TimeWindow | None:
    return resolve(source.window, at, zone) if source.window is not None else None


def open_source(
    source: DataSource, at: datetime, zone: str | None, storage: Storage | None = None
) -> ParquetData:
    """The source's data for a check scheduled at `at`; raises EmptyWindow when its window has none."""
    window = source_window(source, at, zone)
    fs = filesystem(source.uri, storage)
    if window is None or source.time is None:
        return ParquetData(uri=source.uri, files=list_parquet(source.uri, storage), fs=fs)
    tz = zone_of(zone)
    if source.time.partition is not None:
        files = _partition_files(source.uri, source.time, window, tz, storage)
        if not files:
            raise EmptyWindow(f"{source.uri}: no data in the window {window} (no partition has landed)")
        return ParquetData(uri=source.uri, files=files, fs=fs, hive=False, window=window)
    assert source.time.column is not None
    everything = ParquetData(uri=source.uri, files=list_parquet(source.uri, storage), fs=fs)
    row_filter = _column_filter(everything, source.time.column, window, tz)
    filtered = ParquetData(uri=source.uri, files=everything.files, fs=fs, row_filter=row_filter)
    having = [path for path, _, rows in filtered._layout.files if rows > 0]
    if not having:
        raise EmptyWindow(f"{source.uri}: no rows with {source.time.column} in the window {window}")
    return ParquetData(uri=source.uri, files=having, fs=fs, row_filter=row_filter, window=window)


def _partition_files(
    uri: str, layout: TimeLayout, window: TimeWindow, zone: ZoneInfo, storage: Storage | None
) -> list[str]:
    prefixes = partition_prefixes(layout, window, zone)
    if has_glob(uri) or len(prefixes) > MAX_PREFIXES:
        try:
            everything = list_parquet(uri, storage)
        except DataNotFound:
            return []
        root = _base(uri.split("*", 1)[0].rsplit("/", 1)[0] if has_glob(uri) else uri)
        return select(everything, layout, window, root=root, zone=zone)
    fs = filesystem(uri, storage)
    base = _base(uri)

    def listed(prefix: str) -> list[str]:
        path = join(base, prefix)
        with storage_errors(uri):
            if path.endswith(".parquet"):
                return [path] if fs.exists(path) else []
            return [f for f in fs.find(path) if f.endswith(".parquet")]

    with ThreadPoolExecutor(max_workers=min(LISTERS, len(prefixes) or 1)) as pool:
        found = [f for files in pool.map(listed, prefixes) for f in files]
    return [f for f in found if not _hidden(f)]


def _base(uri: str) -> str:
    """The uri as its filesystem names paths: no scheme, and a local path made absolute."""
    path = _path(uri)
    return path if is_s3(uri) else os.path.abspath(path)


def _column_filter(data: ParquetData, column: str, window: TimeWindow, zone: ZoneInfo) -> Any:
    """start <= column < end, in the column's own type: a column without a zone holds wall-clock
    times of the DriftCheck's zone; a date column holds days of it."""
    import pyarrow as pa
    import pyarrow.dataset as ds

    if column not in data.schema.names:
        raise DataUnreadable(
            f"{data.uri}: no column {column!r} to find time in; it has {', '.join(data.schema.names)}"
        )
    kind = data.schema.field(column).type
    start, end = window.start.astimezone(zone), window.end.astimezone(zone)
    if pa.types.is_timestamp(kind):
        if kind.tz is None:
            low, high = start.replace(tzinfo=None), end.replace(tzinfo=None)
        else:
            low, high = start, end
        bounds = (pa.scalar(low, type=kind), pa.scalar(high, type=kind))
    elif pa.types.is_date(kind):
        # a day is in the window when it shares time with it, as a day partition is
        first = start.date()
        last = end.date() if end.time() == time.min else end.date() + timedelta(days=1)
        bounds = (pa.scalar(first, type=kind), pa.scalar(last, type=kind))
    else:
        raise DataUnreadable(f"{data.uri}: column {column!r} is {kind}, not a timestamp or a date")
    field = ds.field(column)
    return (field >= bounds[0]) & (field < bounds[1])


def relative_files(data: ParquetData) -> list[str]:
    """The data's files relative to its uri (a file uri: its name), for the report."""
    base = _base(data.uri).rstrip("/") + "/"
    return [f[len(base) :] if f.startswith(base) else os.path.basename(f) for f in data.files]
