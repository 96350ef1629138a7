"""The HTML report renders its summary in a real browser (headless Chromium), offline."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from kubedrift.cli import main

BIKES = Path(__file__).resolve().parents[2] / "examples" / "bike-sharing" / "data"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    assert found, "chromium is not installed: .ci/run installs it (apt-get install -y chromium)"
    return found


@pytest.fixture(scope="module")
def report_html(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("html")
    (tmp / "config.yaml").write_text(
        f"check: bikes\nreference: {{uri: {BIKES / 'reference.parquet'}}}\n"
        f"current: {{uri: {BIKES / 'current' / 'week-3.parquet'}}}\n"
        f"storage: {{reportsUri: {tmp / 'reports'}}}\n"
        "columns: {target: cnt}\n"
    )
    assert (
        main(["check", "--config", str(tmp / "config.yaml"), "--termination-message-path", str(tmp / "t")])
        == 0
    )
    (path,) = (tmp / "reports").rglob("report.html")
    return path


def test_report_is_self_contained(report_html: Path) -> None:
    html = report_html.read_text()
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html), "the report must not load anything"
    assert "<script" not in html and "<svg" in html


def test_chromium_renders_the_summary(report_html: Path, tmp_path: Path) -> None:
    done = subprocess.run(
        [
            chromium(),
            *CHROMIUM_FLAGS,
            f"--user-data-dir={tmp_path / 'profile'}",
            "--dump-dom",
            report_html.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    dom = done.stdout
    assert '<section id="summary">' in dom
    assert re.search(r'id="drift-share">\d+%<', dom)
    assert "Target <b>cnt</b>" in dom
    # The columns table lists drifted columns first.
    verdicts = re.findall(r'<td><span class="badge (drift|ok|skip)">', dom)
    assert verdicts and verdicts == sorted(verdicts, key=["drift", "ok", "skip"].index)


def test_chromium_screenshot_is_not_blank(report_html: Path, tmp_path: Path) -> None:
    shot = tmp_path / "report.png"
    subprocess.run(
        [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={shot}",
         "--window-size=1200,900", report_html.as_uri()],
        capture_output=True,
        timeout=120,
        check=True,
    )  # fmt: skip
    assert shot.stat().st_size > 20_000  # a blank page compresses to a few kB
