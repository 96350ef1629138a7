"""`kubectl drift report`: where the latest drift report is, and fetching it.

`status.lastCheck.reportUri` names the folder that holds `report.html` and
`report.json` (or one of the two files directly, the other beside it with the
same name); the output file's suffix picks which one to download, and only a file the
folder's report.json vouches for is downloaded. Credentials come from the environment
(AWS_ACCESS_KEY_ID, ...), the endpoint and region from the DriftCheck's
`spec.storage`, exactly as `kubedrift.storage` reads them for the jobs.
"""

from __future__ import annotations

from pathlib import Path

from kubedrift import storage
from kubedrift.errors import DataNotFound
from kubedrift.models.resources import DriftCheck
from kubedrift.reports import REPORT_HTML, REPORT_JSON, read_report_file

REPORT_FILES = {".html": REPORT_HTML, ".json": REPORT_JSON}


def latest_report_uri(check: DriftCheck) -> str:
    """The newest complete report: the last check's, or, when it failed, the newest in the history."""
    last = check.status.last_check
    if last is not None and last.report_uri:
        return last.report_uri
    for record in check.status.history:  # newest first
        if record.report_uri:
            return record.report_uri
    raise DataNotFound(
        f"driftcheck/{check.metadata.name} has no report yet: no check has finished "
        f"(kubectl drift run {check.metadata.name} starts one)"
    )


def report_file_uri(report_uri: str, output: Path) -> str:
    """The report file to download into `output`: JSON for a .json output, else HTML."""
    suffix = output.suffix.lower() if output.suffix.lower() in REPORT_FILES else ".html"
    current_suffix = Path(report_uri).suffix.lower()
    if current_suffix in REPORT_FILES:  # a file: the same name with the wanted suffix
        return report_uri[: -len(current_suffix)] + suffix
    return storage.join(report_uri, REPORT_FILES[suffix])


def download(check: DriftCheck, output: Path) -> str:
    """Copy the latest report into `output`; returns the URI it came from."""
    uri = report_file_uri(latest_report_uri(check), output)
    folder, name = uri.rstrip("/").rsplit("/", 1)
    data = read_report_file(folder, name, check.spec.storage)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_bytes(data)
    return uri
