"""Plain data for the web view's pages: a status with history and promotions, reports, a run's table."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from kubedrift.models.report import ColumnResult, DriftReport
from kubedrift.models.status import CheckRecord, DriftCheckStatus, ProductionModel, PromotionRecord
from kubedrift.table.experiments import build_table
from kubedrift.table.model import ObjectiveRef, Table
from kubedrift.ui.source import CheckInfo
from tests.fixtures.reports import sample_report
from tests.unit.plugin.factories import driftcheck, experiment

T0 = datetime(2025, 3, 1, 6, 0, tzinfo=UTC)
SHARES = (0.1, 0.3, 0.8)  # oldest first


def status(shares: tuple[float, ...] = SHARES) -> DriftCheckStatus:
    history = [
        CheckRecord(
            time=T0 + timedelta(days=i),
            job=f"bikes-check-{i}",
            succeeded=True,
            dataset_drift=share >= 0.5,
            drift_share=share,
            report_uri=f"s3://reports/bikes/2025030{i + 1}T060000.000000Z",
        )
        for i, share in enumerate(shares)
    ]
    promoted_at = T0 + timedelta(days=len(shares) - 1, hours=2)
    return DriftCheckStatus(
        history=list(reversed(history)),  # the status keeps the newest first
        production=ProductionModel(
            experiment="bikes-r1-1", objective=0.78, uri="s3://p/", promoted_at=promoted_at
        ),
        promotions=[PromotionRecord(experiment="bikes-r1-1", objective=0.78, promoted_at=promoted_at)],
    )


def check(shares: tuple[float, ...] = SHARES) -> CheckInfo:
    return CheckInfo(
        namespace="ml",
        name="bikes",
        status=status(shares),
        objective=ObjectiveRef("avg_prec", "maximize"),
        schedule="0 6 * * *",
        drift_share_threshold=0.5,
    )


def column(name: str, score: float, drifted: bool, role: str = "feature") -> ColumnResult:
    return ColumnResult.model_validate(
        {
            "name": name,
            "role": role,
            "status": "tested",
            "method": "ks",
            "methodKind": "p_value",
            "threshold": 0.05,
            "score": score,
            "drifted": drifted,
        }
    )


def reports(info: CheckInfo) -> dict[str, DriftReport]:
    """One report per history record: `temp` drifts more and more, `hum` never; the target drifts last."""
    out = {}
    for i, record in enumerate(sorted(info.status.history, key=lambda r: r.time)):
        assert record.report_uri is not None
        base = sample_report(record.report_uri)
        drifted = i == len(info.status.history) - 1
        out[record.report_uri.rsplit("/", 1)[1]] = base.model_copy(
            update={
                "finished_at": record.time,
                "columns": [column("temp", 0.2 / (i + 1), i > 0), column("hum", 0.9, False)],
                "target": column("high_demand", 0.01 if drifted else 0.5, drifted, "target"),
            }
        )
    return out


def run_table(sort_by: str | None = None) -> Table:
    """Run r1 of bikes: three trials over two params, one failed, production from run r0."""
    trials = [
        experiment("bikes-r1-0", {"max_depth": 4, "n_estimators": 50}, {"avg_prec": 0.71, "f1": 0.62}),
        experiment("bikes-r1-1", {"max_depth": 8, "n_estimators": 50}, {"avg_prec": 0.78, "f1": 0.48}),
        experiment("bikes-r1-2", {"max_depth": 4, "n_estimators": 200}, {"avg_prec": 0.74, "f1": 0.55}),
        experiment("bikes-r1-3", {"max_depth": 8, "n_estimators": 200}, phase="Failed"),
    ]
    failed = trials[3].model_copy(
        update={
            "status": trials[3].status.model_copy(update={"reason": "OOMKilled", "message": "out of memory"})
        }
    )
    trials[3] = failed
    production = {
        "experiment": "bikes-r0-2",
        "objective": 0.70,
        "uri": "s3://p/",
        "promotedAt": "2025-01-01T00:00:00Z",
    }
    return build_table("bikes", trials, driftcheck(production=production), sort_by=sort_by)
