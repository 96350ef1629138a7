"""The cluster source's own logic, on objects as the apiserver returns them (no API calls)."""

from __future__ import annotations

from datetime import UTC, datetime

from kubedrift.models.resources import Experiment
from kubedrift.table.model import ObjectiveRef
from kubedrift.ui.cluster import check_info, run_infos
from tests.unit.plugin.factories import driftcheck, experiment


def started(e: Experiment, day: int) -> Experiment:
    when = datetime(2025, 3, day, tzinfo=UTC)
    return e.model_copy(update={"status": e.status.model_copy(update={"started_at": when})})


def test_runs_are_grouped_newest_first_with_counts_and_the_best_by_the_goal() -> None:
    experiments = [
        started(experiment("bikes-r1-0", {"a": 1}, {"avg_prec": 0.7}, run="r1"), 1),
        started(experiment("bikes-r2-0", {"a": 1}, {"avg_prec": 0.9}, run="r2"), 2),
        started(experiment("bikes-r2-1", {"a": 2}, {"avg_prec": 0.6}, run="r2"), 2),
        started(experiment("bikes-r2-2", {"a": 3}, run="r2", phase="Failed"), 2),
    ]
    r2, r1 = run_infos(experiments, ObjectiveRef("avg_prec", "maximize"))
    assert (r2.name, r2.trials, r2.succeeded, r2.failed, r2.best) == ("r2", 3, 2, 1, "bikes-r2-0")
    assert (r1.name, r1.trials, r1.best) == ("r1", 1, "bikes-r1-0")
    (minimized, _) = run_infos(experiments, ObjectiveRef("avg_prec", "minimize"))
    assert minimized.best == "bikes-r2-1"


def test_a_driftcheck_becomes_the_pages_check_info() -> None:
    info = check_info(
        driftcheck(production={"experiment": "e", "uri": "s3://p", "promotedAt": "2025-01-01T00:00:00Z"})
    )
    assert (info.namespace, info.name) == ("default", "bikes")
    assert info.objective == ObjectiveRef("avg_prec", "maximize")
    assert info.drift_share_threshold == 0.5
    assert info.storage is not None and info.storage.reports_uri == "s3://reports"
    assert info.status.production is not None and info.status.production.experiment == "e"
