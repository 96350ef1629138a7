"""The append-only drift history in object storage: one small JSON file per scheduled time,
<reportsUri>/<check>/history/<scheduled time, UTC, %Y%m%dT%H%M%SZ>.json (with the microseconds,
%Y%m%dT%H%M%S.%fZ, for a check started by hand at a moment that is not a whole second).

An entry is written once: a second check of the same scheduled time (a retried pod, a second start,
a backfill run again) finds it and records nothing. File names sort in time order, so reading the
history is one listing and the entries come out ordered by window.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from kubedrift.errors import DataUnreadable
from kubedrift.models.driftcheck import Storage
from kubedrift.models.results import HistoryEntry, history_key
from kubedrift.storage import _path, create_once, filesystem, object_exists, read_bytes, storage_errors
from kubedrift.uris import is_s3, join

HISTORY_FOLDER = "history"
READERS = 8


def history_folder(reports_uri: str, check: str) -> str:
    return join(reports_uri, check, HISTORY_FOLDER)


def entry_uri(reports_uri: str, check: str, scheduled_at: datetime) -> str:
    return join(history_folder(reports_uri, check), history_key(scheduled_at))


def recorded(reports_uri: str, check: str, scheduled_at: datetime, storage: Storage | None = None) -> bool:
    return object_exists(entry_uri(reports_uri, check, scheduled_at), storage)


def record(entry: HistoryEntry, reports_uri: str, check: str, storage: Storage | None = None) -> bool:
    """Write the entry unless one for its scheduled time is there; whether it was written.

    Of two racing writers of the same scheduled time one wins (an exclusive create locally, a
    conditional PUT on S3, see `kubedrift.storage.create_once`)."""
    uri = entry_uri(reports_uri, check, entry.scheduled_at)
    text = entry.model_dump_json(by_alias=True, exclude_none=True, indent=1)
    return create_once(uri, text.encode(), storage)


def read_history(reports_uri: str, check: str, storage: Storage | None = None) -> list[HistoryEntry]:
    """Every entry, ordered by scheduled time (and so by window); empty when there is none yet."""
    folder = history_folder(reports_uri, check)
    fs = filesystem(folder, storage)
    with storage_errors(folder):
        if not fs.exists(_path(folder)):
            return []
        names = sorted(p for p in fs.ls(_path(folder), detail=False) if p.endswith(".json"))
    prefix = "s3://" if is_s3(folder) else ""

    def one(path: str) -> HistoryEntry:
        raw = read_bytes(prefix + path, storage)
        try:
            return HistoryEntry.model_validate_json(raw)
        except ValueError as error:
            raise DataUnreadable(f"{prefix}{path}: not a history entry: {error}") from error

    with ThreadPoolExecutor(max_workers=READERS) as pool:
        entries = list(pool.map(one, names))
    return sorted(entries, key=lambda e: e.scheduled_at)
