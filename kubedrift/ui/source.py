"""The one interface the pages read through, and the plain data it hands over.

Two sources implement it: `cluster.ClusterSource` (DriftChecks and Experiments through the
user's kubeconfig, reports from object storage with the user's own credentials) and
`folder.FolderSource` (the output folder of local `kubedrift run`s). Both raise kubedrift's
errors (`Forbidden`, `NotFound`, `DataNotFound`, `CredentialsError`, ...) and nothing else;
the server maps each to one HTTP status.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from kubedrift.models.driftcheck import Storage
from kubedrift.models.report import DriftReport
from kubedrift.models.status import DriftCheckStatus
from kubedrift.table.model import ObjectiveRef, SortOrder, Table


@dataclass(frozen=True)
class CheckInfo:
    """One DriftCheck as the pages need it: its status and the few spec fields they show."""

    namespace: str
    name: str
    status: DriftCheckStatus
    objective: ObjectiveRef | None = None
    schedule: str | None = None
    drift_share_threshold: float | None = None
    storage: Storage | None = None  # where its reports are read from (no credentials: those are the user's)


@dataclass(frozen=True)
class RunInfo:
    """One retrain run of a check, for the check page's list of runs."""

    name: str
    trials: int
    succeeded: int
    failed: int
    started_at: datetime | None = None
    best: str | None = None


@dataclass(frozen=True)
class ReportLoad:
    """The reports of a check's history that could be read, and why the others could not."""

    reports: dict[str, DriftReport] = field(default_factory=dict)  # report id → report
    problems: dict[str, str] = field(default_factory=dict)  # report id → why it is missing


class Source(Protocol):
    """Where the pages' data comes from. `label` says so in every page's header."""

    label: str

    def namespaces(self) -> list[str]: ...

    def checks(self, namespace: str) -> list[CheckInfo]: ...

    def check(self, namespace: str, name: str) -> CheckInfo: ...

    def runs(self, namespace: str, name: str) -> list[RunInfo]: ...

    def run_table(
        self, namespace: str, name: str, run: str, sort_by: str | None, sort_order: SortOrder | None
    ) -> Table: ...

    def report_file(self, check: CheckInfo, report_id: str, file_name: str) -> bytes: ...


def report_folder(report_uri: str) -> str:
    """The folder of a report: `reportUri` itself, or its parent when it names report.json or .html."""
    folder = report_uri.rstrip("/")
    return folder.rsplit("/", 1)[0] if folder.endswith((".html", ".json")) else folder


def report_id(report_uri: str) -> str:
    """A report's id in URLs: the last segment of its folder (the check's start time)."""
    return report_folder(report_uri).rsplit("/", 1)[-1]


def report_uris(status: DriftCheckStatus) -> dict[str, str]:
    """Every report the status knows, by id: the last check's and the history's, newest first.

    Only these are ever read: a URL names a report by id, never by location."""
    uris = [status.last_check.report_uri] if status.last_check is not None else []
    uris += [record.report_uri for record in status.history]
    return {report_id(uri): uri for uri in uris if uri}
