"""Reference profiles in storage: `<reportsUri>/<check>/profiles/<key>/`, complete or not used.

The commit protocol is the reports' (`kubedrift.reports`): each column's file is written whole
(an S3 PUT or a local rename), then profile.json, last, lists every column file with its CRC-32
and size. A reader uses a column only if profile.json is there, is of this format and this
reference version (`profile.manifest_rejection`), vouches for the column's bytes and the column
has the rows the reference's footers count. Anything else is refused with a reason, the column
is read from the reference instead and the profile written anew: never used silently.

A check that found no usable profile writes one while it checks (each column's file as soon as
its reference side is built); if the check fails before profile.json is written, it removes
them (best-effort: files without profile.json are never used, and the next check writes over
them). A complete profile stays even if the check fails afterwards: it describes the
reference, not the check.
"""

from __future__ import annotations

import sys
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pyarrow as pa

from kubedrift import storage
from kubedrift.errors import ConfigError, CredentialsError, DataError, DataNotFound, TransientError
from kubedrift.models.report import ProfileStatus, ReferenceProfileUse
from kubedrift.uris import local_path
from kubedrift_jobs.drift.profile import (
    FORMAT_VERSION,
    ColumnProfile,
    NotAProfile,
    ProfileFile,
    ProfileManifest,
    ReferenceVersion,
    build,
    column_file,
    column_rejection,
    from_bytes,
    manifest_rejection,
    to_bytes,
    vouch,
)

if TYPE_CHECKING:
    from kubedrift.models.driftcheck import Storage

PROFILE_JSON = "profile.json"
# Failures of a write that must not fail the check: the profile is a cache of the reference.
WRITE_FAILURES = (ConfigError, CredentialsError, DataError, TransientError)
# Column files queued for the writer thread beyond the one it is writing.
PENDING_WRITES = 1
# Profiles kept per check beside the one just written: a profile is about as big as the reference's
# numbers, and every new reference version (a promotion with followProduction, a windowed
# reference) writes one. A few stay for a rollback or a backfill over older references.
PROFILES_KEPT = 4


def profile_folder(reports_uri: str, check: str, version: ReferenceVersion) -> str:
    return storage.join(reports_uri, check, "profiles", version.key)


def profiles_to_drop(written: dict[str, float], keep: str, kept: int = PROFILES_KEPT) -> list[str]:
    """The profile keys to remove: all but `keep` and the newest others, `kept` in all.
    `written` maps each key to when its profile.json was written (a key without one is in it with
    0.0: an incomplete profile is never used, so it goes first)."""
    others = sorted((key for key in written if key != keep), key=lambda key: (-written[key], key))
    return others[max(0, kept - 1) :]


def prune_profiles(root: str, keep: str, settings: Storage | None) -> list[str]:
    """Remove the check's older profiles (see PROFILES_KEPT) and say which; best-effort, like the
    profile itself: what a failure leaves, the next check that stores a profile removes. A check
    still reading a removed profile finds its column files gone and reads the reference instead."""
    try:
        written = {
            key: storage.written_at(storage.join(root, key, PROFILE_JSON), settings) or 0.0
            for key in storage.subfolders(root, settings)
        }
        dropped = profiles_to_drop(written, keep)
        for key in dropped:
            storage.delete_folder(storage.join(root, key), settings)
    except WRITE_FAILURES:
        return []
    return dropped


@dataclass
class ProfileStore:
    """One check's use of the profile of its reference: read what is valid, write what is not."""

    folder: str
    version: ReferenceVersion
    settings: Storage | None
    stored: ProfileManifest | None = None  # the stored profile.json, if valid
    rejected: str | None = None  # why a stored profile.json (or a column of it) was refused
    existed: bool = False
    _files: dict[str, ProfileFile] = field(default_factory=dict)
    _from_profile: int = 0
    _read: int = 0
    _values_read: list[str] = field(default_factory=list)
    _written: int = 0
    _store_failure: str | None = None
    _written_files: list[str] = field(default_factory=list)
    _removed: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _writer: ThreadPoolExecutor | None = None
    _pending: deque[Future[None]] = field(default_factory=deque)

    @classmethod
    def open(cls, folder: str, version: ReferenceVersion, settings: Storage | None) -> ProfileStore:
        store = cls(folder=folder, version=version, settings=settings)
        try:
            data = storage.read_bytes(storage.join(folder, PROFILE_JSON), settings)
        except DataNotFound:
            return store
        except (ConfigError, CredentialsError, DataError) as error:
            # Unreadable where reports go (a file in the way, no right to read): the check reads the
            # reference instead; whether reports can be written there is the report's business.
            store.rejected = f"profile.json could not be read: {error.message}"
            return store
        store.existed = True
        store.rejected = manifest_rejection(data, version)
        if store.rejected is None:
            store.stored = ProfileManifest.model_validate_json(data)
            store._files = dict(store.stored.columns)
        return store

    def reference(self, name: str, rows: int, profile_of: Callable[[], ColumnProfile]) -> ColumnProfile:
        """The column's reference side: from the stored profile if it vouches for it and it has
        the `rows` the footers count, else made by `profile_of()` (from the data) and written."""
        vouched = self.stored.columns.get(name) if self.stored else None
        if vouched is not None:
            reason, profile = self._stored_column(name, vouched, rows)
            if profile is not None:
                with self._lock:
                    self._from_profile += 1
                return profile
            with self._lock:
                self.rejected = self.rejected or reason
        profile = profile_of()
        with self._lock:
            self._read += 1
        self._write(name, profile)
        return profile

    def values(self, name: str, read: Callable[[], pa.ChunkedArray]) -> ColumnProfile:
        """The column's exact profile, read from the reference and not stored: for a test that
        needs the values its profile's sketch does not keep. A single pod can hold them, as it
        did before profiles; the profile keeps its sketch for the tests that read one."""
        profile = build(name, read(), exact_limit=sys.maxsize)
        with self._lock:
            self._values_read.append(name)
        return profile

    def _stored_column(
        self, name: str, vouched: ProfileFile, rows: int
    ) -> tuple[str | None, ColumnProfile | None]:
        try:
            data = self._column_bytes(storage.join(self.folder, vouched.file))
        except DataNotFound:
            return f"column {name!r}: its file {vouched.file} is missing", None
        reason = column_rejection(data, name, vouched)
        if reason is not None:
            return reason, None
        try:
            profile = from_bytes(data)
        except NotAProfile as error:
            return f"column {name!r}: {error}", None
        if profile.name != name or profile.rows != rows:
            return (
                f"column {name!r}: the profile holds {profile.rows} rows of {profile.name!r}, not {rows}",
                None,
            )
        return None, profile

    def _column_bytes(self, uri: str) -> bytes | pa.Buffer:
        """A column file's bytes; on local disk memory-mapped, not copied (600 MB at 5M rows:
        the check's numbers then come straight from the page cache)."""
        if storage.is_s3(uri):
            return storage.read_bytes(uri, self.settings)
        with storage.storage_errors(uri):
            return pa.memory_map(local_path(uri)).read_buffer()

    def _write(self, name: str, profile: ColumnProfile) -> None:
        """Queue the column's file for the writer thread: the check goes on while the bytes go
        out (a 40 MB local write took 0.1-0.4 s on a busy disk, a PUT longer). At most
        PENDING_WRITES wait, so memory stays bounded by a few columns."""
        if self._store_failure is not None:
            return
        with self._lock:
            if self._writer is None:
                self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="profile-writer")
            self._pending.append(self._writer.submit(self._write_now, name, profile))
            overdue = [self._pending.popleft() for _ in range(len(self._pending) - PENDING_WRITES)]
        for write in overdue:
            write.result()

    def _drain(self) -> None:
        """Wait for every queued write (raising what a write raised beyond WRITE_FAILURES)."""
        with self._lock:
            pending, self._pending = list(self._pending), deque()
            writer, self._writer = self._writer, None
        try:
            for write in pending:
                write.result()
        finally:
            if writer is not None:
                writer.shutdown()

    def _write_now(self, name: str, profile: ColumnProfile) -> None:
        if self._store_failure is not None:
            return
        data = to_bytes(profile)
        file = column_file(name)
        try:
            # Not fsynced: profile.json vouches for the bytes, so a torn file is refused, not used.
            storage.write_bytes(storage.join(self.folder, file), data, self.settings, durable=False)
        except WRITE_FAILURES as error:
            with self._lock:
                self._store_failure = error.message
            return
        with self._lock:
            self._files[name] = vouch(file, data)
            self._written += 1
            self._written_files.append(file)

    def discard(self) -> None:
        """The check failed before commit: remove the column files it wrote, best-effort (no
        profile.json vouches for them, so one the removal misses is never used)."""
        with suppress(Exception):
            self._drain()
        with self._lock:
            written, self._written_files = self._written_files, []
        for file in written:
            with suppress(Exception):
                storage.delete(storage.join(self.folder, file), self.settings)

    def commit(self) -> ReferenceProfileUse:
        """Write profile.json when this check wrote any column, and say what happened."""
        self._drain()
        if self._written and self._store_failure is None:
            manifest = ProfileManifest(format=FORMAT_VERSION, reference=self.version, columns=self._files)
            try:
                storage.write_bytes(
                    storage.join(self.folder, PROFILE_JSON),
                    manifest.model_dump_json(indent=1, by_alias=True).encode(),
                    self.settings,
                    durable=False,  # a torn profile.json is refused (not JSON, or wrong digests)
                )
            except WRITE_FAILURES as error:
                self._store_failure = error.message
            else:
                self._removed = prune_profiles(self.folder.rsplit("/", 1)[0], self.version.key, self.settings)
        return ReferenceProfileUse(
            status=self._status(),
            uri=self.folder,
            format=FORMAT_VERSION,
            reason=self._reason(),
            columns_from_profile=self._from_profile,
            columns_read=self._read + len(self._values_read),
            stored=bool(self._written) and self._store_failure is None,
            store_failure=self._store_failure,
            removed=self._removed,
        )

    def _status(self) -> ProfileStatus:
        if self.rejected is not None:
            return "rejected"
        if not self._read:
            return "used"
        return "extended" if self.stored is not None else "built"

    def _reason(self) -> str | None:
        if self.rejected is not None:
            return self.rejected
        reasons = []
        if self.stored is not None and self._read:
            reasons.append(f"the stored profile lacked {self._read} of the columns checked; read and added")
        if self._values_read:
            reasons.append(
                f"the tests of {', '.join(sorted(self._values_read))} need the reference's values, which "
                "the profile's sketch does not keep: read from the reference"
            )
        return "; ".join(reasons) or None
