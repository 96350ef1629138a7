"""The routes over a source in memory: every page and its JSON twin, and each error as a status."""

from __future__ import annotations

import json

import pytest

from kubedrift.errors import (
    AccessDenied,
    DataNotFound,
    Forbidden,
    KubedriftError,
    NotFound,
    TransientError,
)
from kubedrift.reports import REPORT_HTML, REPORT_JSON
from kubedrift.table.model import SortOrder, Table
from kubedrift.ui.server import App, error_status
from kubedrift.ui.source import CheckInfo, RunInfo
from tests.unit.ui import factories

FORBIDDEN_EXPERIMENTS = Forbidden(
    'experiments in namespace "ml": experiments.kubedrift.io is forbidden: User "ann" cannot list',
    verb="list",
    resource="experiments",
    namespace="ml",
)


class MemorySource:
    label = "memory"

    def __init__(self, fail: dict[str, Exception] | None = None) -> None:
        self.info = factories.check()
        self.reports = factories.reports(self.info)
        self.fail = fail or {}
        self.read: list[tuple[str, str]] = []

    def _maybe(self, what: str) -> None:
        if what in self.fail:
            raise self.fail[what]

    def namespaces(self) -> list[str]:
        return ["ml"]

    def checks(self, namespace: str) -> list[CheckInfo]:
        self._maybe("checks")
        return [self.info]

    def check(self, namespace: str, name: str) -> CheckInfo:
        self._maybe("check")
        if (namespace, name) != ("ml", "bikes"):
            raise NotFound(f'driftcheck/{name} not found in namespace "{namespace}"')
        return self.info

    def runs(self, namespace: str, name: str) -> list[RunInfo]:
        self._maybe("runs")
        return [RunInfo("r1", 4, 3, 1, best="bikes-r1-1")]

    def run_table(
        self, namespace: str, name: str, run: str, sort_by: str | None, sort_order: SortOrder | None
    ) -> Table:
        self._maybe("runs")
        return factories.run_table(sort_by=sort_by)

    def report_file(self, check: CheckInfo, report_id: str, file_name: str) -> bytes:
        self._maybe("report")
        self.read.append((report_id, file_name))
        if file_name == REPORT_JSON:
            return json.dumps(self.reports[report_id].to_wire()).encode()
        return b"<html>the report</html>"


def app(**fail: Exception) -> tuple[App, MemorySource]:
    source = MemorySource(fail)
    return App(source), source


@pytest.mark.parametrize(
    ("url", "key"),
    [
        ("/", "checks"),
        ("/index.json", "checks"),
        ("/checks/ml/bikes", "columnScores"),
        ("/checks/ml/bikes.json", "columnScores"),
        ("/checks/ml/bikes/runs/r1", "table"),
        ("/checks/ml/bikes/runs/r1.json?sort=f1", "table"),
    ],
)
def test_every_page_has_a_json_twin(url: str, key: str) -> None:
    server, _ = app()
    html = server.handle(url.replace(".json", ""))
    twin = server.handle(url if url.endswith("json") or ".json?" in url else url + "?format=json")
    assert html.status == twin.status == 200
    assert html.content_type.startswith("text/html") and twin.content_type == "application/json"
    assert key in json.loads(twin.body)
    assert "script-src 'self'" in html.headers["Content-Security-Policy"]


def test_the_run_page_sorts_by_the_query() -> None:
    server, _ = app()
    rows = json.loads(server.handle("/checks/ml/bikes/runs/r1.json?sort=f1").body)["table"]["rows"]
    assert [r["experiment"] for r in rows] == [
        "bikes-r0-2",
        "bikes-r1-0",
        "bikes-r1-2",
        "bikes-r1-1",
        "bikes-r1-3",
    ]
    unknown = server.handle("/checks/ml/bikes/runs/r1?sort=nope")
    assert unknown.status == 400 and b"cannot sort by" in unknown.body


def test_a_report_link_serves_the_checks_own_report_and_only_reports_the_status_names() -> None:
    server, source = app()
    rid = "20250302T060000.000000Z"
    html = server.handle(f"/checks/ml/bikes/reports/{rid}")
    assert html.status == 200 and html.body == b"<html>the report</html>"
    assert "sandbox" in html.headers["Content-Security-Policy"]
    assert json.loads(server.handle(f"/checks/ml/bikes/reports/{rid}.json").body)["check"] == "bikes"
    assert (rid, REPORT_HTML) in source.read
    source.read.clear()
    assert server.handle("/checks/ml/bikes/reports/..%2F..%2Fsecrets").status == 404
    assert all(name != REPORT_HTML for _, name in source.read)


def test_a_forbidden_run_page_is_a_403_that_says_so() -> None:
    server, _ = app(runs=FORBIDDEN_EXPERIMENTS)
    page = server.handle("/checks/ml/bikes/runs/r1")
    assert page.status == 403
    text = page.body.decode()
    assert "forbidden: you cannot list experiments in namespace ml" in text
    assert "Traceback" not in text and 'class="experiments"' not in text
    twin = json.loads(server.handle("/checks/ml/bikes/runs/r1.json").body)
    assert twin["error"] == "forbidden: you cannot list experiments in namespace ml" and twin["status"] == 403


def test_a_check_whose_experiments_are_forbidden_still_shows_the_check() -> None:
    server, _ = app(runs=FORBIDDEN_EXPERIMENTS)
    page = server.handle("/checks/ml/bikes")
    assert page.status == 200
    assert b"forbidden: you cannot list experiments in namespace ml" in page.body
    assert b'id="drift-share"' in page.body


def test_storage_errors_of_a_report_are_said_on_its_page_and_noted_on_the_check() -> None:
    denied = AccessDenied("s3://reports/bikes/x/report.html: access denied for key AKIA…")
    server, _ = app(report=denied)
    page = server.handle("/checks/ml/bikes/reports/20250302T060000.000000Z")
    assert page.status == 403 and b"the storage refused your credentials" in page.body
    check = json.loads(server.handle("/checks/ml/bikes.json").body)
    assert set(check["reportProblems"]) == {
        "20250301T060000.000000Z",
        "20250302T060000.000000Z",
        "20250303T060000.000000Z",
    }


@pytest.mark.parametrize(
    ("error", "status", "words"),
    [
        (FORBIDDEN_EXPERIMENTS, 403, "forbidden: you cannot list experiments in namespace ml"),
        (NotFound('driftcheck/x not found in namespace "ml"'), 404, "not found"),
        (DataNotFound("s3://r/x: no complete report here"), 404, "no complete report"),
        (TransientError("cannot reach the cluster at https://10.0.0.1"), 503, "unavailable"),
        (KubedriftError("odd"), 500, "odd"),
        (ValueError("secret internals"), 500, "internal error (ValueError)"),
    ],
)
def test_each_error_maps_once_to_a_status_and_a_sentence(error: Exception, status: int, words: str) -> None:
    assert error_status(error)[0] == status
    assert words in error_status(error)[1]
    assert "secret internals" not in error_status(error)[1]


def test_unknown_pages_and_checks_are_404s() -> None:
    server, _ = app()
    assert server.handle("/nothing/here").status == 404
    missing = server.handle("/checks/ml/taxis")
    assert missing.status == 404 and b"driftcheck/taxis not found in namespace" in missing.body


def test_plotly_is_served_from_the_installed_package() -> None:
    server, _ = app()
    js = server.handle("/static/plotly.min.js")
    assert js.status == 200 and js.content_type == "text/javascript" and b"plotly" in js.body[:2000].lower()
    assert server.handle("/static/app.js").body.count(b"Plotly.newPlot") == 1
    assert server.handle("/static/../../etc/passwd").status == 404
