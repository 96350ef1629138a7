"""Drift reports in storage: complete or absent, and read only when complete.

The commit protocol (docs/concepts.md, "Artifacts layout"):

1. Every report gets a folder of its own (the check's start time, to the microsecond); one that
   already holds a report.json is never written into, so an earlier report is never touched.
2. The other files (report.html) are written first, each one whole (an S3 PUT or a local
   rename).
3. report.json is written last and lists every other file with its SHA-256 and size: its
   presence is the claim that the report is complete.
4. If a write fails, what this attempt wrote is removed (report.json first), best-effort; a
   file the removal misses is never vouched for by a report.json.

Readers trust a file only if report.json is there and vouches for it: `kubectl drift report`
through `read_report_file`; the operator only ever learns of a report from a check's
termination message, which the job writes after report.json.
"""

from __future__ import annotations

import hashlib
import json
from contextlib import suppress
from typing import TYPE_CHECKING

from kubedrift import storage
from kubedrift.errors import DataNotFound, DataUnreadable, TransientError
from kubedrift.models.report import DriftReport, ReportFile

if TYPE_CHECKING:
    from kubedrift.models.driftcheck import Storage

REPORT_JSON = "report.json"
REPORT_HTML = "report.html"


def file_digest(data: bytes) -> ReportFile:
    return ReportFile(sha256=hashlib.sha256(data).hexdigest(), size=len(data))


def write_report(report: DriftReport, others: dict[str, bytes], settings: Storage | None) -> DriftReport:
    """Write `others` (name → bytes) into the report's folder, then report.json vouching for them.

    Returns the report as written, with its `files`. Raises what the failing write raised,
    after removing what this call wrote."""
    folder = report.report_uri
    manifest = storage.join(folder, REPORT_JSON)
    if storage.exists(manifest, settings):
        # Two checks in the same microsecond: the Job's retry gets a folder of its own.
        raise TransientError(f"{folder}: already holds a report; not writing over it")
    complete = report.model_copy(update={"files": {name: file_digest(data) for name, data in others.items()}})
    document = json.dumps(complete.model_dump(mode="json", by_alias=True), indent=1).encode()
    written = [manifest]  # removed first: a report.json whose PUT failed may still have landed
    try:
        for name, data in others.items():
            written.append(storage.write_bytes(storage.join(folder, name), data, settings))
        storage.write_bytes(manifest, document, settings)
    except BaseException:
        for uri in written:
            with suppress(Exception):
                storage.delete(uri, settings)
        raise
    return complete


def read_report_file(folder: str, name: str, settings: Storage | None) -> bytes:
    """The bytes of `name` in the report `folder`, if report.json is there and vouches for them."""
    manifest_uri = storage.join(folder, REPORT_JSON)
    try:
        manifest = storage.read_bytes(manifest_uri, settings)
    except DataNotFound as error:
        raise DataNotFound(
            f"{folder}: no complete report here ({REPORT_JSON}, written last, is missing)"
        ) from error
    try:
        report = DriftReport.model_validate_json(manifest)
    except ValueError as error:
        raise DataUnreadable(f"{manifest_uri}: not a drift report ({error.__class__.__name__})") from error
    if name == REPORT_JSON:
        return manifest
    uri = storage.join(folder, name)
    data = storage.read_bytes(uri, settings)
    problem = mismatch(report, name, data)
    if problem:
        raise DataUnreadable(
            f"{uri}: {problem}; the report is incomplete or was changed after it was written"
        )
    return data


def mismatch(report: DriftReport, name: str, data: bytes) -> str | None:
    """Why `data` is not the `name` that `report` vouches for, or None if it is."""
    if report.schema_version < 2:
        return None  # written before report.json listed its files, but still written last
    expected = report.files.get(name)
    if expected is None:
        return f"{REPORT_JSON} does not list it"
    if file_digest(data) != expected:
        return f"its SHA-256 differs from the one {REPORT_JSON} records"
    return None
