"""The HTML report and the terminal line show uncertain columns and their error bounds."""

from __future__ import annotations

import io

from rich.console import Console

from kubedrift.local.render import print_drift
from kubedrift.models.report import ColumnResult, DriftReport
from kubedrift_jobs.drift.html import render_html
from tests.fixtures.reports import sample_report

UNCERTAIN = ColumnResult(
    name="amount", role="feature", status="tested", method="wasserstein", method_kind="distance",
    threshold=0.1, score=0.0987, score_error=0.0157, uncertain=True,
)  # fmt: skip
EXACT = ColumnResult(
    name="age", role="feature", status="tested", method="wasserstein", method_kind="distance",
    threshold=0.1, score=0.02, drifted=False,
)  # fmt: skip


def _report() -> DriftReport:
    base = sample_report("s3://reports/x")
    dataset = base.dataset.model_copy(
        update={
            "drifted": False, "drift_share": 0.0, "columns_tested": 2, "columns_drifted": 0,
            "drifted_columns": [], "columns_uncertain": 1, "uncertain_columns": ["amount"], "uncertain": True,
        }
    )  # fmt: skip
    return base.model_copy(update={"dataset": dataset, "columns": [UNCERTAIN, EXACT]})


def test_the_html_marks_uncertain_columns_and_scores_with_their_bound() -> None:
    html = render_html(_report())
    assert "uncertain: 1 uncertain columns could make it drift" in html
    assert '<span class="badge skip">uncertain</span>' in html
    assert "0.0987 ± 0.016" in html
    assert "0.02</td>" in html and "0.02 ±" not in html  # an exact score carries no bound


def test_the_terminal_line_names_the_uncertain_columns() -> None:
    out = io.StringIO()
    print_drift(_report(), Console(file=out, width=200, color_system=None))
    line = "1 uncertain (read from a sketch, within their error of the threshold, which could make it drift)"
    assert f"{line}: amount" in out.getvalue()
