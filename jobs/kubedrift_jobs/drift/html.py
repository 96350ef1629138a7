"""The HTML report: one self-contained file (inline CSS and SVG, no scripts, no CDN), readable offline.

Summary first, then every feature column in a table, drifted first, each with a
small reference-vs-current distribution plot; details per column below.
"""

from __future__ import annotations

from html import escape

from kubedrift.models.report import ColumnResult, DriftReport, Histogram

CSS = " ".join(
    [
        "body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:1100px;color:#1d2330;",
        "padding:0 1rem}",
        "h1{font-size:1.5rem;margin-bottom:.2rem} .muted{color:#667}",
        "table{border-collapse:collapse;width:100%}",
        "th,td{padding:.35rem .5rem;border-bottom:1px solid #e3e6ec;text-align:left;vertical-align:middle}",
        "th{background:#f5f6f9} .num{text-align:right;font-variant-numeric:tabular-nums}",
        ".badge{display:inline-block;padding:.1rem .5rem;border-radius:1rem;font-weight:600;",
        "font-size:.85rem}",
        ".drift{background:#fde2e1;color:#a1160a} .ok{background:#dcf5e3;color:#146c2e}",
        ".skip{background:#eceef2;color:#4a5060}",
        ".cards{display:flex;gap:1rem;flex-wrap:wrap;margin:1rem 0}",
        ".card{border:1px solid #e3e6ec;border-radius:.5rem;padding:.7rem 1rem}",
        ".card b{display:block;font-size:1.3rem}",
        ".legend span{display:inline-block;width:.8rem;height:.8rem;margin:0 .3rem 0 1rem}",
        "details{margin:.4rem 0} summary{cursor:pointer}",
    ]
)
REF_COLOUR = "#5b7bd5"
CUR_COLOUR = "#e8833a"


def render_html(report: DriftReport) -> str:
    d = report.dataset
    verdict = _badge("Dataset drift detected" if d.drifted else "No dataset drift", d.drifted)
    if d.uncertain:
        verdict += " " + _badge(
            f"uncertain: {d.columns_uncertain} uncertain columns could make it drift", None
        )
    target = _target_line(report.target, "Target") + _target_line(report.prediction, "Prediction")
    rows = "".join(_row(c) for c in report.columns)
    details = "".join(
        _details(c) for c in [*report.columns, *(x for x in (report.target, report.prediction) if x)]
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Drift report: {escape(report.check)}</title>
<style>{CSS}</style></head><body>
<h1>Drift report: {escape(report.check)}</h1>
<p class="muted">{escape(report.namespace)} · finished {report.finished_at:%Y-%m-%d %H:%M:%S} UTC</p>
<section id="summary"><h2>Summary</h2><p>{verdict}</p>
<div class="cards">
<div class="card"><b id="drift-share">{d.drift_share:.0%}</b>
columns drifted (threshold {d.threshold:.0%})</div>
<div class="card"><b>{d.columns_drifted} / {d.columns_tested}</b>feature columns drifted</div>
<div class="card"><b>{d.columns_uncertain}</b>uncertain (read from a sketch)</div>
<div class="card"><b>{len(d.skipped_columns)}</b>columns not tested</div>
<div class="card"><b>{len(d.null_share_changes)}</b>null-share changes</div>
</div>{target}
<p class="muted">Reference: {escape(report.reference.uri)} ({report.reference.rows:,} rows, version
{escape(report.reference.version)}) · Current: {escape(report.current.uri)} ({report.current.rows:,} rows,
version {escape(report.current.version)})</p></section>
<section><h2>Columns</h2><p class="legend muted">
<span style="background:{REF_COLOUR}"></span>reference<span style="background:{CUR_COLOUR}"></span>current</p>
<table><thead><tr><th>column</th><th>verdict</th><th>type</th><th>method</th><th class="num">score</th>
<th class="num">threshold</th><th>distribution</th><th>notes</th></tr></thead>
<tbody>{rows}</tbody></table></section>
<section><h2>Details</h2>{details}</section>
</body></html>
"""


def _badge(text: str, bad: bool | None) -> str:
    css = "skip" if bad is None else ("drift" if bad else "ok")
    return f'<span class="badge {css}">{escape(text)}</span>'


def _verdict(column: ColumnResult) -> str:
    if column.status != "tested":
        return _badge(column.status.replace("_", " "), None)
    if column.uncertain:
        return _badge("uncertain", None)
    return _badge("drift" if column.drifted else "no drift", column.drifted)


def _target_line(column: ColumnResult | None, label: str) -> str:
    if column is None:
        return ""
    return f"<p>{label} <b>{escape(column.name)}</b>: {_verdict(column)} {_score(column)}</p>"


def _score(column: ColumnResult) -> str:
    if column.score is None:
        return ""
    text = f"{column.method} = {_value(column)}"
    if column.adjusted_score is not None:
        text += f" (corrected {column.adjusted_score:.4g})"
    return escape(text)


def _value(column: ColumnResult) -> str:
    """The score, with its error bound when it was read from a sketch."""
    if column.score is None:
        return ""
    if column.score_error is None:
        return f"{column.score:.4g}"
    return f"{column.score:.4g} ± {column.score_error:.2g}"


def _notes(column: ColumnResult) -> str:
    notes = [column.reason] if column.reason else []
    if column.null_share_changed:
        notes.append(f"null share {column.null_share_reference:.1%} → {column.null_share_current:.1%}")
    if column.unseen_categories_total:
        notes.append(
            f"{column.unseen_categories_total} unseen categories: {', '.join(column.unseen_categories[:5])}"
        )
    notes += column.notes
    return escape("; ".join(n for n in notes if n))


def _row(column: ColumnResult) -> str:
    score = escape(_value(column))
    threshold = "" if column.threshold is None else f"{column.threshold:g}"
    plot = _plot(column.histogram) if column.histogram else ""
    return (
        f'<tr><td><a href="#col-{escape(column.name)}">{escape(column.name)}</a></td>'
        f"<td>{_verdict(column)}</td>"
        f"<td>{column.column_type or ''}</td><td>{column.method or ''}</td><td class='num'>{score}</td>"
        f"<td class='num'>{threshold}</td><td>{plot}</td><td>{_notes(column)}</td></tr>"
    )


def _plot(histogram: Histogram, width: int = 160, height: int = 36) -> str:
    bins = len(histogram.reference)
    if bins == 0:
        return ""
    top = max([*histogram.reference, *histogram.current, 1e-12])
    step = width / bins
    bars = []
    for i, (r, c) in enumerate(zip(histogram.reference, histogram.current, strict=True)):
        for j, (share, colour) in enumerate(((r, REF_COLOUR), (c, CUR_COLOUR))):
            h = height * share / top
            x = i * step + j * step / 2
            bars.append(
                f'<rect x="{x:.1f}" y="{height - h:.1f}" width="{step / 2 * 0.9:.1f}" '
                f'height="{h:.1f}" fill="{colour}"/>'
            )
    return (
        f'<svg width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="reference and current distributions">{"".join(bars)}</svg>'
    )


def _details(column: ColumnResult) -> str:
    facts = {
        "role": column.role,
        "status": column.status,
        "Arrow type": column.arrow_type,
        "type": f"{column.column_type} ({column.type_source})" if column.column_type else None,
        "method": f"{column.method} ({column.method_kind}{', from the spec' if column.overridden else ''})"
        if column.method
        else None,
        "score": _score(column) or None,
        "rows": f"{column.rows_reference:,} reference / {column.rows_current:,} current",
        "null share": f"{column.null_share_reference:.2%} → {column.null_share_current:.2%}",
        "distinct values": column.distinct_values,
        "unseen categories": ", ".join(column.unseen_categories) or None,
        "reference": column.reference_summary.model_dump_json() if column.reference_summary else None,
        "current": column.current_summary.model_dump_json() if column.current_summary else None,
        "notes": _notes(column) or None,
    }
    items = "".join(
        f"<tr><th>{k}</th><td>{escape(str(v))}</td></tr>" for k, v in facts.items() if v is not None
    )
    plot = _plot(column.histogram, 480, 120) if column.histogram else ""
    labels = ""
    if column.histogram and column.histogram.categories:
        labels = f"<p class='muted'>categories: {escape(', '.join(column.histogram.categories))}</p>"
    return (
        f'<details id="col-{escape(column.name)}"><summary>{escape(column.name)} {_verdict(column)}</summary>'
        f"{plot}{labels}<table>{items}</table></details>"
    )
