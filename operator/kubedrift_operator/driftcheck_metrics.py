"""The per-DriftCheck gauges: what each DriftCheck's status says, as Prometheus samples.

Computed at scrape time from the DriftChecks in the operator's cache (`metrics.DriftCheckCollector`),
so a restarted operator loses nothing and a deleted DriftCheck leaves no series. Every series has
the labels `namespace` and `driftcheck`, nothing else; a series is absent while its value is
unknown (no check yet, a failed last check's drift, no run, no production model).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import NamedTuple

from kubedrift.cron import interval_seconds
from kubedrift.models.resources import DriftCheck
from kubedrift_operator.reconcile.plan import InvalidDriftCheck


class Sample(NamedTuple):
    metric: str
    namespace: str
    driftcheck: str
    value: float


def _values(check: DriftCheck | InvalidDriftCheck, now: datetime) -> dict[str, float | bool | None]:
    status = check.status
    last = status.last_check
    drifted = last.succeeded if last is not None else None  # a failed check measured nothing
    # The time a check stands for (its scheduled time), not when it ran: a backfill finishing
    # today over last year's windows must not make a stalled schedule look fresh.
    successes = [r.when for r in status.history if r.succeeded]
    if last is not None and last.succeeded:
        successes.append(last.scheduled_at or last.time)
    interval = None
    if isinstance(check, DriftCheck) and not check.spec.suspend:
        interval = interval_seconds(check.spec.schedule, check.spec.time_zone, now.date())
    run, production = status.run, status.production
    return {
        "kubedrift_check_drift_share": last.drift_share if last and drifted else None,
        "kubedrift_check_drifted_columns": len(last.drifted_columns) if last and drifted else None,
        "kubedrift_check_dataset_drifted": last.dataset_drift if last and drifted else None,
        "kubedrift_check_target_drifted": last.target_drift if last and drifted else None,
        "kubedrift_check_last_success_timestamp_seconds": max(successes).timestamp() if successes else None,
        # The same fact as the Drifted condition's CheckFailed (and Stalled's reason): lastCheck failed.
        "kubedrift_check_failing": last is not None and not last.succeeded,
        "kubedrift_check_interval_seconds": interval,
        "kubedrift_production_objective": production.objective if production else None,
        "kubedrift_run_best_objective": run.best_objective if run else None,
        "kubedrift_run_failed": run.phase == "Failed" if run else None,
    }


def driftcheck_samples(checks: Iterable[DriftCheck | InvalidDriftCheck], now: datetime) -> list[Sample]:
    """One sample per known value of each DriftCheck, in kubedrift.monitoring's order per check.

    A DriftCheck whose spec no longer validates still reports its status; its schedule is not
    trusted, so it has no interval.
    """
    samples = []
    for check in checks:
        namespace, name = check.metadata.namespace or "", check.metadata.name
        for metric, value in _values(check, now).items():
            if value is not None:
                samples.append(Sample(metric, namespace, name, float(value)))
    return samples
