"""The web view's pages from plain data: what each shows, links to, and says in its JSON twin."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from kubedrift.errors import Forbidden
from kubedrift.ui import pages, plots
from kubedrift.ui.source import ReportLoad, RunInfo, report_id, report_uris
from tests.unit.ui import factories


def test_urls_are_stable_and_escape_their_parts() -> None:
    assert pages.check_url("ml", "bikes") == "/checks/ml/bikes"
    assert pages.run_url("ml", "bikes", "r1") == "/checks/ml/bikes/runs/r1"
    assert pages.report_url("ml", "bikes", "20250301T060000.000000Z") == (
        "/checks/ml/bikes/reports/20250301T060000.000000Z"
    )
    assert pages.run_url("ml", "bikes", "a/b c") == "/checks/ml/bikes/runs/a%2Fb%20c"


def test_report_ids_come_from_the_folder_and_only_the_status_names_reports() -> None:
    assert report_id("s3://r/bikes/20250301T060000.000000Z/") == "20250301T060000.000000Z"
    assert report_id("s3://r/bikes/20250301T060000.000000Z/report.json") == "20250301T060000.000000Z"
    uris = report_uris(factories.status())
    assert list(uris) == ["20250303T060000.000000Z", "20250302T060000.000000Z", "20250301T060000.000000Z"]


def test_the_trend_is_oldest_first_and_the_sparkline_draws_every_point() -> None:
    assert pages.trend(factories.status()) == [0.1, 0.3, 0.8]
    svg = pages.sparkline([0.0, 0.5, 1.0])
    (points,) = re.findall(r'points="([^"]+)"', svg)
    ys = [float(p.split(",")[1]) for p in points.split()]
    assert len(ys) == 3 and ys[0] > ys[1] > ys[2]  # higher share, higher on the screen
    assert pages.sparkline([]) == ""


def test_backfilled_checks_stand_at_their_scheduled_times_not_when_they_ran() -> None:
    """A backfill checks old windows today, newest window first or not: the axis is the window's time."""
    ran = factories.T0 + timedelta(days=400)
    status = factories.status()
    backfilled = [
        record.model_copy(update={"time": ran + timedelta(minutes=i), "scheduled_at": record.time})
        for i, record in enumerate(status.history)  # newest window ran first
    ]
    status = status.model_copy(update={"history": backfilled})
    assert pages.trend(status) == [0.1, 0.3, 0.8]
    figure = plots.drift_share_over_time(status.history, [], 0.5)
    assert figure["data"][0]["y"] == [0.1, 0.3, 0.8]
    assert figure["data"][0]["x"][0].startswith(factories.T0.strftime("%Y-%m-%d"))


def test_overview_lists_every_check_with_share_trend_and_production() -> None:
    page = pages.overview([factories.check()], "test")
    (item,) = page.data["checks"]
    assert item["url"] == "/checks/ml/bikes"
    assert item["trend"] == [0.1, 0.3, 0.8]
    assert item["production"]["experiment"] == "bikes-r1-1"
    assert "bikes-r1-1 (0.78)" in page.body and "<svg" in page.body
    assert pages.overview([], "test").body.count("No DriftChecks") == 1


def test_check_page_draws_share_heatmap_and_target_with_promotions_marked() -> None:
    info = factories.check()
    loaded = ReportLoad(reports=factories.reports(info))
    page = pages.check_page(info, [RunInfo("r1", 4, 3, 1, best="bikes-r1-1")], loaded, None)

    assert set(page.figures) == {"drift-share", "column-heatmap", "target-drift"}
    share, promotions = page.figures["drift-share"]["data"]
    assert share["y"] == [0.1, 0.3, 0.8]  # oldest first, from status.history
    assert share["marker"]["color"][-1] != share["marker"]["color"][0]  # the drifted check stands out
    assert len(promotions["x"]) == 1
    assert page.figures["drift-share"]["layout"]["yaxis"]["title"]["text"] == "drift share"
    (heat,) = page.figures["column-heatmap"]["data"]
    assert heat["y"] == ["hum", "temp"] and len(heat["x"]) == 3
    assert heat["z"][1] == [0.2, 0.1, 0.2 / 3] and heat["text"][1] == ["", "●", "●"]
    (target, _) = page.figures["target-drift"]["data"]
    assert target["y"] == [0.5, 0.5, 0.01]
    for rid in loaded.reports:
        assert f'href="/checks/ml/bikes/reports/{rid}"' in page.body
    assert 'href="/checks/ml/bikes/runs/r1"' in page.body
    assert page.data["columnScores"]["20250302T060000.000000Z"]["temp"]["drifted"] is True


def test_check_page_says_why_a_report_or_the_runs_are_missing() -> None:
    info = factories.check()
    loaded = ReportLoad(problems={"20250303T060000.000000Z": "AccessDenied: no"})
    forbidden = Forbidden("x", verb="list", resource="experiments", namespace="ml").headline
    page = pages.check_page(info, [], loaded, forbidden)
    assert "column-heatmap" not in page.figures
    assert "report 20250303T060000.000000Z: AccessDenied: no" in page.body
    assert "forbidden: you cannot list experiments in namespace ml" in page.body
    assert page.data["runsProblem"] == forbidden


def test_run_page_table_marks_best_pins_baseline_and_links_every_sort() -> None:
    page = pages.run_page("ml", "bikes", "r1", factories.run_table(), None)
    rows = re.findall(r'<tr class="([^"]*)" data-experiment="([^"]+)"', page.body)
    assert rows[0] == ("baseline", "bikes-r0-2")
    assert [name for css, name in rows if "best" in css] == ["bikes-r1-1"]
    assert [name for _, name in rows[1:]] == ["bikes-r1-1", "bikes-r1-2", "bikes-r1-0", "bikes-r1-3"]
    assert 'href="/checks/ml/bikes/runs/r1?sort=f1"' in page.body
    assert 'href="/checks/ml/bikes/runs/r1?sort=max_depth"' in page.body
    assert page.data["table"]["objective"] == {"metric": "avg_prec", "goal": "maximize"}
    assert page.data["failed"] == [
        {"experiment": "bikes-r1-3", "reason": "OOMKilled", "message": "out of memory"}
    ]
    assert "<h2>Failed trials</h2>" in page.body and "out of memory" in page.body


def test_run_page_sorted_by_a_metric_reorders_and_links_the_other_direction() -> None:
    page = pages.run_page("ml", "bikes", "r1", factories.run_table(sort_by="f1"), "f1")
    rows = re.findall(r'data-experiment="([^"]+)"', page.body)
    assert rows == ["bikes-r0-2", "bikes-r1-0", "bikes-r1-2", "bikes-r1-1", "bikes-r1-3"]
    assert 'href="/checks/ml/bikes/runs/r1?sort=f1&amp;order=asc"' in page.body
    assert page.data["sortBy"] == "f1"


def test_run_page_plots_each_metric_against_each_varying_param_and_all_in_parallel() -> None:
    page = pages.run_page("ml", "bikes", "r1", factories.run_table(), None)
    pairs = {
        (f["layout"]["yaxis"]["title"]["text"], f["layout"]["xaxis"]["title"]["text"])
        for key, f in page.figures.items()
        if key.startswith("metric-")
    }
    assert pairs == {(m, p) for m in ("avg_prec", "f1") for p in ("max_depth", "n_estimators")}
    (scatter,) = page.figures["metric-0-param-0"]["data"]
    assert len(scatter["x"]) == 3  # the failed trial has nothing to plot
    assert scatter["marker"]["symbol"].count("star") == 1
    (lines,) = page.figures["parallel"]["data"]
    assert [d["label"] for d in lines["dimensions"]] == ["max_depth", "n_estimators", "avg_prec"]


def test_error_page_is_a_sentence_with_its_status_not_a_trace() -> None:
    page = pages.error_page(403, "forbidden: you cannot list experiments in namespace ml", "detail")
    assert page.status == 403 and page.data["status"] == 403
    html = pages.layout(page, "src")
    assert "forbidden: you cannot list experiments in namespace ml" in html and "Traceback" not in html
    assert "<table" not in html


def test_layout_loads_scripts_only_from_this_server_and_embeds_figures_safely() -> None:
    page = pages.Page("t", {}, "<p>x</p>", {"f": {"data": [{"name": "</script><b>"}], "layout": {}}})
    html = pages.layout(page, "src")
    assert re.findall(r'src="([^"]+)"', html) == ["/static/plotly.min.js", "/static/app.js"]
    assert "http" not in html
    embedded = html.split('id="figures">', 1)[1].split("</script>", 1)[0]
    assert json.loads(embedded)["f"]["data"][0]["name"] == "</script><b>"
