"""`kubectl drift history`: the rows, their order, the trend, the table and the JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console

from kubedrift.models.resources import DriftCheck
from kubedrift.models.results import HistoryEntry
from kubedrift.plugin import history
from tests.unit.plugin.factories import driftcheck_wire

WEEK = timedelta(days=7)
START = datetime(2011, 2, 7, tzinfo=UTC)


def ts(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def record(week: int, share: float, **extra: Any) -> dict[str, Any]:
    at = START + week * WEEK
    return {
        "time": ts(at + timedelta(minutes=3)),
        "job": f"bikes-check-{week}",
        "succeeded": True,
        "datasetDrift": share >= 0.5,
        "driftShare": share,
        "reportUri": f"s3://reports/bikes/{at:%Y%m%dT%H%M%SZ}/",
        "scheduledAt": ts(at),
        "window": {"start": ts(at - WEEK), "end": ts(at)},
        "driftedColumns": ["temp", "atemp", "hum", "windspeed"][: round(share * 4)],
        "targetDrift": share > 0.6,
        "referenceVersion": "aaaa1111",
        "currentVersion": f"cccc000{week}",
        **extra,
    }


def check_with(records: list[dict[str, Any]]) -> DriftCheck:
    return DriftCheck.from_wire(driftcheck_wire(status={"history": records}))


def test_rows_read_forward_in_time_whatever_order_the_status_keeps() -> None:
    # status.history is newest first; one record is an empty window awaiting its data
    empty = {
        "time": ts(START + 3 * WEEK),
        "job": "bikes-check-3",
        "succeeded": False,
        "reason": "EmptyWindow",
    }
    empty |= {"scheduledAt": ts(START + 3 * WEEK)}
    rows = history.from_status(check_with([empty, record(2, 0.75), record(1, 0.5), record(0, 0.25)]))
    assert [r.scheduled_at for r in rows] == [START + i * WEEK for i in range(4)]
    assert [r.outcome for r in rows] == ["NoDrift", "Drift", "Drift", "EmptyWindow"]
    assert rows[0].window == "2011-01-31T00:00+00:00..2011-02-07T00:00+00:00"
    assert rows[2].current_version == "cccc0002" and rows[2].drifted_columns == ["temp", "atemp", "hum"]


def test_the_trend_is_one_block_per_check_and_a_gap_without_a_share() -> None:
    assert history.sparkline([0.0, 0.25, 0.5, 1.0, None]) == "▁▃▅█ "
    assert history.bar(0.5) == "█████░░░░░" and history.bar(None) == ""


def test_the_table_names_windows_versions_shares_columns_and_reports() -> None:
    rows = history.from_status(check_with([record(1, 0.75), record(0, 0.25)]))
    console = Console(record=True, width=250)
    history.render(console, "bikes", rows, "status")
    text = console.export_text()
    assert "driftcheck/bikes: 2 checks (status); drift share ▃▇" in text
    lines = [line for line in text.splitlines() if "2011-02-" in line]
    assert "0.25" in lines[0] and "██░░░░░░░░" in lines[0] and "0.75" in lines[1] and "████████░░" in lines[1]
    assert "2011-02-07T00:00+00:00" in lines[0] and "cccc0000" in lines[0] and "aaaa1111" in lines[0]
    assert "temp, atemp, hum" in lines[1] and "s3://reports/bikes/20110214T000000Z/" in lines[1]
    assert "yes" in lines[1] and "no" in lines[0]


def test_json_is_one_object_per_check_oldest_first() -> None:
    rows = history.from_status(check_with([record(1, 0.75), record(0, 0.25)]))
    data = json.loads(history.to_json(rows))
    assert [d["scheduled_at"] for d in data] == [START.isoformat(), (START + WEEK).isoformat()]
    assert data[1]["drift_share"] == 0.75 and data[1]["target_drift"] is True


def test_all_reads_the_append_only_history_in_object_storage(tmp_path: Path) -> None:
    folder = tmp_path / "reports" / "bikes" / "history"
    folder.mkdir(parents=True)
    for week in (2, 0, 1):
        at = START + week * WEEK
        entry = HistoryEntry(
            scheduled_at=at,
            checked_at=at + timedelta(minutes=2),
            window={"start": at - WEEK, "end": at},  # type: ignore[arg-type]
            dataset_drift=week > 0,
            drift_share=0.3 * week,
            report_uri=f"s3://reports/bikes/{week}/",
        )
        (folder / entry.key).write_text(entry.model_dump_json(by_alias=True))
    wire = driftcheck_wire(reports_uri=str(tmp_path / "reports"))
    rows = history.from_storage(DriftCheck.from_wire(wire))
    assert [r.scheduled_at for r in rows] == [START + i * WEEK for i in range(3)]
    assert [r.drift_share for r in rows] == [0.0, 0.3, 0.6]
