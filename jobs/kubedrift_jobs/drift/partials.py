"""The sharded check's partial profiles: which rows each index profiles, how its profiles are
stored, and how the merge step reads them back as one profile per column.

An index of a sharded check (`spec.check.shards` > 1) profiles its share of the current data
(`assign`: whole row groups, balanced by rows) column by column, into the same exact
`ColumnProfile` a reference profile is, and stores them under
`<reportsUri>/<check>/partials/<job>/<index>/` with the reference profiles' commit protocol:
each column's file whole, then partial.json, last, vouching for every file by CRC-32 and size.
The merge step uses a partial only if partial.json is there, was made from the very current data
version it reads itself, covers exactly the row groups `assign` gives that index, and vouches for
the column's bytes; the merged profile must hold every row the footers count. Anything else fails
the check with the reason: a partial is never used on trust.
"""

from __future__ import annotations

import heapq
import os
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydantic import Field

from kubedrift import storage
from kubedrift.errors import DataNotFound, DataUnreadable
from kubedrift.models.base import Model
from kubedrift.models.results import DataFingerprint
from kubedrift.storage import ParquetData, RowGroup
from kubedrift_jobs.drift.merge import merge
from kubedrift_jobs.drift.profile import (
    ColumnProfile,
    NotAProfile,
    ProfileFile,
    column_file,
    column_rejection,
    from_bytes,
    to_bytes,
    vouch,
)

if TYPE_CHECKING:
    from kubedrift.models.driftcheck import Storage

PARTIAL_JSON = "partial.json"
PARTIAL_FORMAT = 1


def assign(row_groups: Sequence[RowGroup], shards: int) -> list[list[RowGroup]]:
    """Each index's row groups: the largest first, each to the index with the fewest rows so far
    (the lowest index on a tie), so the busiest index has at most 4/3 of the best split's rows.
    Deterministic: the same footers give every index, and the merge step, the same split. Each
    share is in file order; an index may get nothing (more shards than row groups)."""
    if shards < 1:
        raise ValueError(f"shards must be at least 1, not {shards}")
    loads = [(0, index) for index in range(shards)]
    shares: list[list[RowGroup]] = [[] for _ in range(shards)]
    for group in sorted(row_groups, key=lambda g: (-g.rows, g.file, g.index)):
        rows, index = heapq.heappop(loads)
        shares[index].append(group)
        heapq.heappush(loads, (rows + group.rows, index))
    return [sorted(share, key=lambda g: (g.file, g.index)) for share in shares]


class ShareFile(Model):
    """One row group of the index's share, as partial.json names it."""

    file: str = Field(description="The file, relative to the current data's URI.")
    index: int = Field(description="The row group's index in the file.")
    rows: int = Field(description="Its rows, as the footer counts them.")


class PartialManifest(Model):
    """partial.json, written last: its presence claims the index's partial complete."""

    format: int = Field(description="The partial format version.")
    job: str = Field(description="The sharded check's Job.")
    index: int = Field(description="The index that wrote it.")
    shards: int = Field(description="How many indexes the check has.")
    current: str = Field(description="The content hash of the current data it profiled.")
    share: list[ShareFile] = Field(description="The row groups it profiled.")
    columns: dict[str, ProfileFile] = Field(description="Column name → its partial profile's file.")


def partials_folder(reports_uri: str, check: str, job: str) -> str:
    return storage.join(reports_uri, check, "partials", job)


def index_folder(folder: str, index: int) -> str:
    return storage.join(folder, str(index))


def share_files(data: ParquetData, share: Sequence[RowGroup]) -> list[ShareFile]:
    """The share as partial.json names it: files relative to the data's folder, as in its version."""
    root = os.path.commonpath(data.files) if len(data.files) > 1 else os.path.dirname(data.files[0])
    return [
        ShareFile(file=os.path.relpath(g.file, root) if root else g.file, index=g.index, rows=g.rows)
        for g in share
    ]


def write_column(folder: str, profile: ColumnProfile, settings: Storage | None) -> ProfileFile:
    """One column's partial profile, written whole (partial.json vouches for it later)."""
    data, file = to_bytes(profile), column_file(profile.name)
    storage.write_bytes(storage.join(folder, file), data, settings, durable=False)
    return vouch(file, data)


def commit(folder: str, manifest: PartialManifest, settings: Storage | None) -> None:
    """partial.json, last: from now on the index's partial is complete."""
    text = manifest.model_dump_json(indent=1, by_alias=True).encode()
    storage.write_bytes(storage.join(folder, PARTIAL_JSON), text, settings, durable=False)


def manifest_problem(manifest: PartialManifest, expected: PartialManifest) -> str | None:
    """Why a partial.json is not the one this merge step needs, or None."""
    if manifest.format != PARTIAL_FORMAT:
        return f"partial format {manifest.format}, this kubedrift reads {PARTIAL_FORMAT}"
    if (manifest.job, manifest.index, manifest.shards) != (expected.job, expected.index, expected.shards):
        return (
            f"it is index {manifest.index} of {manifest.shards} of Job {manifest.job}, "
            f"not index {expected.index} of {expected.shards} of {expected.job}"
        )
    if manifest.current != expected.current:
        return (
            f"it profiled current data version {manifest.current[:8]}, but the data now reads "
            f"{expected.current[:8]}: the data changed while the check ran; run the check again"
        )
    if manifest.share != expected.share:
        return "it profiled other row groups than its share of the current data"
    return None


@dataclass
class Partials:
    """The merge step's view of every index's partial."""

    folder: str
    fingerprint: DataFingerprint  # the current data's, as the merge step reads it
    manifests: list[PartialManifest]
    settings: Storage | None

    @classmethod
    def open(
        cls, folder: str, job: str, shards: int, current: ParquetData, settings: Storage | None
    ) -> Partials:
        fingerprint = current.fingerprint()
        manifests = []
        for index, share in enumerate(assign(current.row_groups, shards)):
            expected = PartialManifest(
                format=PARTIAL_FORMAT,
                job=job,
                index=index,
                shards=shards,
                current=fingerprint.content_hash,
                share=share_files(current, share),
                columns={},
            )
            where = storage.join(index_folder(folder, index), PARTIAL_JSON)
            try:
                data = storage.read_bytes(where, settings)
            except DataNotFound:
                raise DataNotFound(
                    f"the partial of index {index} of {shards} is missing ({where}); "
                    "the index did not finish, or its partials were removed"
                ) from None
            try:
                manifest = PartialManifest.model_validate_json(data)
            except ValueError as error:
                raise DataUnreadable(
                    f"the partial of index {index}: {where} is not a partial.json "
                    f"({error.__class__.__name__})"
                ) from error
            problem = manifest_problem(manifest, expected)
            if problem is not None:
                raise DataUnreadable(f"the partial of index {index} cannot be used: {problem}")
            manifests.append(manifest)
        return cls(folder=folder, fingerprint=fingerprint, manifests=manifests, settings=settings)

    def profile(self, name: str, rows: int) -> ColumnProfile:
        """The current column's profile, merged from every index's partial; it must hold `rows`."""
        parts = [self._part(index, manifest, name) for index, manifest in enumerate(self.manifests)]
        merged = merge(parts)
        if merged.rows != rows:
            raise DataUnreadable(
                f"column {name!r}: the partials hold {merged.rows} rows, the current data has {rows}"
            )
        return merged

    def _part(self, index: int, manifest: PartialManifest, name: str) -> ColumnProfile:
        vouched = manifest.columns.get(name)
        if vouched is None:
            raise DataUnreadable(f"column {name!r}: the partial of index {index} has no profile of it")
        data = storage.read_bytes(storage.join(index_folder(self.folder, index), vouched.file), self.settings)
        problem = column_rejection(data, name, vouched)
        if problem is None:
            try:
                return from_bytes(data)
            except NotAProfile as error:
                problem = str(error)
        raise DataUnreadable(f"the partial of index {index}: {problem}")


def remove(folder: str, shards: int, settings: Storage | None) -> None:
    """After the check is recorded the partials have served: remove them (best-effort; a left-over
    folder is named by its Job, which no other check reads)."""
    for index in range(shards):
        there = index_folder(folder, index)
        with suppress(Exception):
            manifest = PartialManifest.model_validate_json(
                storage.read_bytes(storage.join(there, PARTIAL_JSON), settings)
            )
            for vouched in manifest.columns.values():
                storage.delete(storage.join(there, vouched.file), settings)
            storage.delete(storage.join(there, PARTIAL_JSON), settings)
