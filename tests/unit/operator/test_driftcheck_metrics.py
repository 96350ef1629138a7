"""The per-DriftCheck gauges: each value from the status, absent when unknown, gone with the DriftCheck."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from kubedrift.monitoring import METRIC_NAMES
from kubedrift_operator.cache import Cache
from kubedrift_operator.driftcheck_metrics import driftcheck_samples
from kubedrift_operator.metrics import DriftCheckCollector
from kubedrift_operator.reconcile.plan import parse
from tests.unit.operator import factories as f

JSON = dict[str, Any]
EARLIER = f.NOW - timedelta(hours=2)


def last_check(**fields: Any) -> JSON:
    return {
        "time": f.ts(f.NOW),
        "job": "bikes-check-2",
        "succeeded": True,
        "datasetDrift": True,
        "driftShare": 0.6,
        "driftedColumns": ["temp", "atemp", "hum"],
        "targetDrift": False,
        **fields,
    }


def record(at: Any, succeeded: bool) -> JSON:
    return {"time": f.ts(at), "job": f"bikes-check-{at:%H}", "succeeded": succeeded}


FULL_STATUS: JSON = {
    "lastCheck": last_check(),
    "history": [record(f.NOW, True), record(EARLIER, True)],
    "run": {
        "name": "r1",
        "job": "bikes-run-r1",
        "reason": "Drift",
        "phase": "Succeeded",
        "startedAt": f.ts(EARLIER),
        "trialsTotal": 6,
        "bestExperiment": "bikes-r1-3",
        "bestObjective": 0.81,
    },
    "production": {
        "experiment": "bikes-r0-1",
        "objective": 0.78,
        "uri": "s3://bikes/reports/bikes/production",
        "promotedAt": f.ts(EARLIER),
    },
}


def values(body: JSON) -> dict[str, float]:
    samples = driftcheck_samples([parse(body)], f.NOW)
    assert {(s.namespace, s.driftcheck) for s in samples} <= {("ml", body["metadata"]["name"])}
    return {s.metric: s.value for s in samples}


def test_a_checked_retrained_and_promoted_driftcheck_has_every_gauge() -> None:
    assert values(f.driftcheck(status=FULL_STATUS)) == {
        "kubedrift_check_drift_share": 0.6,
        "kubedrift_check_drifted_columns": 3.0,
        "kubedrift_check_dataset_drifted": 1.0,
        "kubedrift_check_target_drifted": 0.0,
        "kubedrift_check_last_success_timestamp_seconds": f.NOW.timestamp(),
        "kubedrift_check_failing": 0.0,
        "kubedrift_check_interval_seconds": 3600.0,  # the factory's "0 * * * *"
        "kubedrift_production_objective": 0.78,
        "kubedrift_run_best_objective": 0.81,
        "kubedrift_run_failed": 0.0,
    }
    assert set(values(f.driftcheck(status=FULL_STATUS))) == set(METRIC_NAMES)


def test_a_new_driftcheck_knows_only_its_schedule_and_that_nothing_failed() -> None:
    assert values(f.driftcheck()) == {
        "kubedrift_check_failing": 0.0,
        "kubedrift_check_interval_seconds": 3600.0,
    }


def test_no_drift_and_no_target_read_as_zero_and_absent() -> None:
    status = {
        "lastCheck": last_check(datasetDrift=False, driftShare=0.0, driftedColumns=[], targetDrift=None)
    }
    got = values(f.driftcheck(status=status))
    assert got["kubedrift_check_dataset_drifted"] == 0.0 and got["kubedrift_check_drift_share"] == 0.0
    assert got["kubedrift_check_drifted_columns"] == 0.0
    assert "kubedrift_check_target_drifted" not in got


def test_a_failed_last_check_is_failing_measures_no_drift_and_keeps_the_last_success() -> None:
    failed = {"time": f.ts(f.NOW), "job": "bikes-check-3", "succeeded": False, "reason": "DataNotFound"}
    status = {"lastCheck": failed, "history": [record(f.NOW, False), record(EARLIER, True)]}
    got = values(f.driftcheck(status=status))
    assert got["kubedrift_check_failing"] == 1.0
    assert got["kubedrift_check_last_success_timestamp_seconds"] == EARLIER.timestamp()
    for metric in ("drift_share", "drifted_columns", "dataset_drifted", "target_drifted"):
        assert f"kubedrift_check_{metric}" not in got
    status = {"lastCheck": failed, "history": [record(f.NOW, False)]}
    assert "kubedrift_check_last_success_timestamp_seconds" not in values(f.driftcheck(status=status))


def test_a_backfill_that_succeeds_now_over_old_windows_does_not_make_the_check_fresh() -> None:
    """The last success is by the time a check stands for: a backfilled window's scheduled time."""
    last_month = f.NOW - timedelta(days=30)
    backfilled = record(f.NOW, True) | {"scheduledAt": f.ts(last_month), "job": "bikes-backfill-1"}
    failed = {"time": f.ts(f.NOW), "job": "bikes-check-3", "succeeded": False, "reason": "DataNotFound"}
    status = {"lastCheck": failed, "history": [backfilled, record(EARLIER, True)]}
    got = values(f.driftcheck(status=status))
    assert got["kubedrift_check_last_success_timestamp_seconds"] == EARLIER.timestamp()
    status = {"lastCheck": failed, "history": [backfilled]}
    got = values(f.driftcheck(status=status))
    assert got["kubedrift_check_last_success_timestamp_seconds"] == last_month.timestamp()


def test_a_failed_run_and_a_run_without_a_best_trial() -> None:
    run = {**FULL_STATUS["run"], "phase": "Failed", "bestExperiment": None, "bestObjective": None}
    got = values(f.driftcheck(status={"run": run}))
    assert got["kubedrift_run_failed"] == 1.0
    assert "kubedrift_run_best_objective" not in got and "kubedrift_production_objective" not in got
    running = values(f.driftcheck(status={"run": {**FULL_STATUS["run"], "phase": "Running"}}))
    assert running["kubedrift_run_failed"] == 0.0 and running["kubedrift_run_best_objective"] == 0.81


def test_a_suspended_driftcheck_has_no_interval_but_keeps_its_status() -> None:
    got = values(f.driftcheck(spec={**f.SPEC, "suspend": True}, status=FULL_STATUS))
    assert "kubedrift_check_interval_seconds" not in got
    assert got["kubedrift_check_drift_share"] == 0.6


def test_the_interval_follows_the_schedule_and_its_time_zone() -> None:
    spec = {**f.SPEC, "schedule": "0 6 * * *", "timeZone": "Europe/Berlin"}
    assert values(f.driftcheck(spec=spec))["kubedrift_check_interval_seconds"] == 25 * 3600.0


def test_a_driftcheck_whose_spec_no_longer_validates_keeps_its_status_without_an_interval() -> None:
    body = f.driftcheck(spec={**f.SPEC, "schedule": "every hour"}, status=FULL_STATUS)
    got = values(body)
    assert "kubedrift_check_interval_seconds" not in got and got["kubedrift_check_drift_share"] == 0.6


def scrape(collector: DriftCheckCollector) -> dict[str, dict[tuple[str, str], float]]:
    registry = CollectorRegistry()
    registry.register(collector)
    text = generate_latest(registry).decode()
    out: dict[str, dict[tuple[str, str], float]] = {}
    for family in text_string_to_metric_families(text):
        assert family.type == "gauge" and family.name in METRIC_NAMES
        for sample in family.samples:
            assert set(sample.labels) == {"namespace", "driftcheck"}
            key = (sample.labels["namespace"], sample.labels["driftcheck"])
            out.setdefault(sample.name, {})[key] = sample.value
    return out


def test_the_collector_reads_the_cache_at_each_scrape_and_a_deleted_driftcheck_leaves_no_series() -> None:
    collector = DriftCheckCollector()
    assert scrape(collector) == {}  # before startup: the gauges, no series
    cache = Cache()
    collector.cache = cache
    bikes, other = f.driftcheck(status=FULL_STATUS), f.driftcheck("other")
    cache.put("DriftCheck", bikes)
    cache.put("DriftCheck", other)
    got = scrape(collector)
    assert got["kubedrift_check_drift_share"] == {("ml", "bikes"): 0.6}
    assert got["kubedrift_check_failing"] == {("ml", "bikes"): 0.0, ("ml", "other"): 0.0}

    cache.delete("DriftCheck", bikes)
    got = scrape(collector)
    assert "kubedrift_check_drift_share" not in got
    assert got["kubedrift_check_failing"] == {("ml", "other"): 0.0}
    cache.delete("DriftCheck", other)
    assert scrape(collector) == {}


def test_an_unreadable_driftcheck_does_not_take_the_others_series_down() -> None:
    collector, cache = DriftCheckCollector(), Cache()
    collector.cache = cache
    cache.put("DriftCheck", f.driftcheck("Not_A_Label"))  # the apiserver refuses such a name
    cache.put("DriftCheck", f.driftcheck(status=FULL_STATUS))
    assert scrape(collector)["kubedrift_check_failing"] == {("ml", "bikes"): 0.0}


def test_the_operators_registry_serves_the_gauges() -> None:
    from prometheus_client import REGISTRY

    text = generate_latest(REGISTRY).decode()
    for name in METRIC_NAMES:
        assert text.count(f"# TYPE {name} gauge") == 1
