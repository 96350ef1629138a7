"""URLs to pages, and the HTTP server on 127.0.0.1 that `kubectl drift ui` and `kubedrift ui` start.

    /                                    every DriftCheck            (JSON twin: /index.json)
    /checks/<ns>/<name>                  one DriftCheck over time    (+ .json)
    /checks/<ns>/<name>/runs/<run>       a retrain run; ?sort=NAME&order=asc|desc  (+ .json)
    /checks/<ns>/<name>/reports/<id>     the check's own HTML report (.json: its report.json)
    /static/...                          plotly.min.js (from the installed plotly), app.js, style.css

Every page also answers `?format=json`. The standard library's ThreadingHTTPServer is
enough for a handful of people on one machine, and it keeps the plugin's dependencies to
the Kubernetes client it already has (aiohttp would be a second HTTP stack in the plugin).
Each response forbids, through its Content-Security-Policy, any request that does not go
back to this server.
"""

from __future__ import annotations

import json
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any, cast
from urllib.parse import parse_qs, unquote, urlsplit

from kubedrift.errors import (
    ConfigError,
    CredentialsError,
    DataNotFound,
    DataUnreadable,
    Forbidden,
    KubedriftError,
    NotFound,
    TransientError,
)
from kubedrift.models.report import DriftReport
from kubedrift.reports import REPORT_HTML, REPORT_JSON
from kubedrift.table.model import SortOrder, UnknownColumn
from kubedrift.ui import pages
from kubedrift.ui.source import CheckInfo, ReportLoad, Source, report_uris

# 'unsafe-eval': plotly's WebGL traces (the parallel coordinates) compile their shaders' glue with
# regl, which generates code with `Function`; scripts still come from this server alone.
PAGE_CSP = (
    "default-src 'none'; script-src 'self' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
# The stored report is self-contained HTML: it may style itself, and nothing else.
REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox"
STATIC = {"app.js": "text/javascript", "style.css": "text/css"}


@dataclass(frozen=True)
class Response:
    status: int
    content_type: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


def plotly_js() -> bytes:
    """plotly.min.js from the installed `plotly` package: served from here, never from a CDN."""
    try:
        return resources.files("plotly").joinpath("package_data", "plotly.min.js").read_bytes()
    except (ModuleNotFoundError, FileNotFoundError) as error:
        raise ConfigError(
            "the web view needs plotly: pip install 'kubedrift[ui]' (kubedrift ui) or 'kubedrift[plugin]' "
            "(kubectl drift ui)"
        ) from error


def load_reports(source: Source, check: CheckInfo) -> ReportLoad:
    """The report.json of every check the status knows; one that cannot be read is a note, not a failure."""
    loaded = ReportLoad()
    for rid in report_uris(check.status):
        try:
            loaded.reports[rid] = DriftReport.model_validate_json(source.report_file(check, rid, REPORT_JSON))
        except KubedriftError as error:
            loaded.problems[rid] = error.message
        except ValueError as error:
            loaded.problems[rid] = f"{REPORT_JSON} is not a drift report ({type(error).__name__})"
    return loaded


def error_status(error: Exception) -> tuple[int, str]:
    """Each error, once, as an HTTP status and the sentence the page leads with."""
    if isinstance(error, Forbidden):
        return 403, error.headline
    if isinstance(error, CredentialsError):
        return 403, f"forbidden: the storage refused your credentials ({error.reason})"
    if isinstance(error, NotFound | DataNotFound):
        return 404, f"not found: {error.message}"
    if isinstance(error, UnknownColumn):
        return 400, str(error)
    if isinstance(error, TransientError):
        return 503, f"unavailable: {error.message}"
    if isinstance(error, DataUnreadable):
        return 502, f"unreadable: {error.message}"
    if isinstance(error, KubedriftError):
        return 500, f"{error.reason}: {error.message}"
    return 500, f"internal error ({type(error).__name__}); see the server's output"


class App:
    """The routes, over one source; `handle` is what the HTTP handler calls, and what tests call."""

    def __init__(self, source: Source, default_namespace: str | None = None) -> None:
        self.source = source
        self.default_namespace = default_namespace
        self._plotly: bytes | None = None

    def handle(self, target: str) -> Response:
        parts = urlsplit(target)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        path = parts.path
        as_json = query.get("format") == "json"
        if path.endswith(".json"):
            path, as_json = path[: -len(".json")], True
        segments = [unquote(s) for s in path.strip("/").split("/") if s]
        if segments[:1] == ["static"] and len(segments) == 2:
            return self._static(segments[1])
        crumbs: list[tuple[str, str]] = []
        try:
            if segments in ([], ["index"]):
                page = self._overview()
            elif len(segments) == 3 and segments[0] == "checks":
                ns, name = segments[1:]
                crumbs = [(pages.check_url(ns, name), name)]
                page = self._check(ns, name)
            elif len(segments) == 5 and segments[0] == "checks" and segments[3] == "runs":
                ns, name, _, run = segments[1:]
                crumbs = [(pages.check_url(ns, name), name), (pages.run_url(ns, name, run), run)]
                order = query.get("order")
                page = self._run(
                    ns,
                    name,
                    run,
                    query.get("sort"),
                    cast(SortOrder, order) if order in ("asc", "desc") else None,
                )
            elif len(segments) == 5 and segments[0] == "checks" and segments[3] == "reports":
                ns, name, _, rid = segments[1:]
                return self._report(ns, name, rid, as_json)
            else:
                page = pages.error_page(404, f"not found: no page at {parts.path}")
        except Exception as error:  # every failure becomes a page that says what happened
            status, headline = error_status(error)
            if status == 500 and not isinstance(error, KubedriftError):
                traceback.print_exc(file=sys.stderr)
            detail = error.message if isinstance(error, KubedriftError) else ""
            page = pages.error_page(status, headline, detail)
        return self._render(page, as_json, crumbs)

    def _render(self, page: pages.Page, as_json: bool, crumbs: list[tuple[str, str]]) -> Response:
        if as_json:
            body = json.dumps(page.data, indent=1, default=str).encode()
            return Response(page.status, "application/json", body)
        html = pages.layout(page, self.source.label, crumbs)
        return Response(
            page.status, "text/html; charset=utf-8", html.encode(), {"Content-Security-Policy": PAGE_CSP}
        )

    def _namespaces(self) -> list[str]:
        return self.source.namespaces()

    def _overview(self) -> pages.Page:
        checks = [check for ns in self._namespaces() for check in self.source.checks(ns)]
        return pages.overview(checks, self.source.label)

    def _check(self, ns: str, name: str) -> pages.Page:
        check = self.source.check(ns, name)
        runs_problem = None
        try:
            runs = self.source.runs(ns, name)
        except Forbidden as error:  # the check is readable, its Experiments are not: say so in place
            runs, runs_problem = [], error.headline
        return pages.check_page(check, runs, load_reports(self.source, check), runs_problem)

    def _run(self, ns: str, name: str, run: str, sort_by: str | None, order: SortOrder | None) -> pages.Page:
        table = self.source.run_table(ns, name, run, sort_by, order)
        return pages.run_page(ns, name, run, table, sort_by)

    def _report(self, ns: str, name: str, rid: str, as_json: bool) -> Response:
        try:
            check = self.source.check(ns, name)
            if rid not in report_uris(check.status):
                raise NotFound(f"driftcheck/{name} in namespace {ns} has no report {rid}")
            data = self.source.report_file(check, rid, REPORT_JSON if as_json else REPORT_HTML)
        except Exception as error:
            status, headline = error_status(error)
            detail = error.message if isinstance(error, KubedriftError) else ""
            page = pages.error_page(status, headline, detail)
            crumbs = [(pages.check_url(ns, name), name)]
            return self._render(page, as_json, crumbs)
        if as_json:
            return Response(200, "application/json", data)
        return Response(200, "text/html; charset=utf-8", data, {"Content-Security-Policy": REPORT_CSP})

    def _static(self, name: str) -> Response:
        cache = {"Cache-Control": "max-age=3600"}
        if name == "plotly.min.js":
            if self._plotly is None:
                self._plotly = plotly_js()
            return Response(200, "text/javascript", self._plotly, cache)
        if name in STATIC:
            body = resources.files("kubedrift.ui").joinpath("static", name).read_bytes()
            return Response(200, STATIC[name], body, cache)
        return Response(404, "text/plain", b"not found")


def handler_for(app: App, log: Callable[[str], None] | None = None) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "kubedrift-ui"

        def do_GET(self) -> None:
            response = app.handle(self.path)
            self.send_response(response.status, HTTPStatus(response.status).phrase)
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(response.body)))
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header("Referrer-Policy", "no-referrer")
            for key, value in response.headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(response.body)

        def log_message(self, format: str, *args: Any) -> None:
            if log is not None:
                log(format % args)

    return Handler


def make_server(app: App, port: int = 0, host: str = "127.0.0.1") -> ThreadingHTTPServer:
    """Bound to 127.0.0.1 only: the pages show what the user's credentials can read. Port 0: a free one."""
    server = ThreadingHTTPServer((host, port), handler_for(app))
    server.daemon_threads = True
    return server


def serve(app: App, port: int, announce: Callable[[str], None], open_browser: bool = False) -> int:
    """Serve until Ctrl-C; `announce` gets the URL first (a test reads it from stdout)."""
    server = make_server(app, port)
    host, bound = server.server_address[:2]
    url = f"http://{host!s}:{bound}/"
    announce(url)
    if open_browser:
        import webbrowser

        webbrowser.open(url)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        return 0
    finally:
        server.server_close()
    return 0
