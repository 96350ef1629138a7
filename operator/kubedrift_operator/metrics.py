"""Prometheus metrics of the operator, served on /metrics."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime

from prometheus_client import REGISTRY, Counter, Gauge, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from kubedrift.models.resources import DriftCheck
from kubedrift.monitoring import METRIC_LABELS, METRIC_NAMES
from kubedrift_operator.cache import Cache
from kubedrift_operator.driftcheck_metrics import driftcheck_samples
from kubedrift_operator.reconcile.plan import InvalidDriftCheck, parse

logger = logging.getLogger("kubedrift.operator")

RECONCILES = Counter("kubedrift_reconciles_total", "DriftCheck reconciles.", ["result"])
RECONCILE_SECONDS = Histogram("kubedrift_reconcile_seconds", "Time per DriftCheck reconcile.")
ERRORS = Counter("kubedrift_errors_total", "Errors talking to the API, by kind of error.", ["kind"])
CHECKS = Counter("kubedrift_checks_total", "Drift checks recorded, by result.", ["result"])
DRIFT = Counter("kubedrift_drift_detected_total", "Checks that found dataset drift.")
EXPERIMENTS = Counter("kubedrift_experiments_total", "Experiment phase transitions, by new phase.", ["phase"])
RUNS_STARTED = Counter("kubedrift_runs_started_total", "Retrain runs started, by reason.", ["reason"])
RUNS_FINISHED = Counter("kubedrift_runs_finished_total", "Retrain runs finished, by phase.", ["phase"])
PROMOTIONS = Counter("kubedrift_promotions_total", "Promotions, by result.", ["result"])
QUEUE_DEPTH = Gauge("kubedrift_queue_depth", "DriftChecks waiting for or in reconcile.")
WATCHED = Gauge("kubedrift_watched_objects", "Objects in the operator's cache, by kind.", ["kind"])

_BY_NAME = {
    "checks": CHECKS,
    "drift_detected": DRIFT,
    "experiments": EXPERIMENTS,
    "runs_started": RUNS_STARTED,
    "runs_finished": RUNS_FINISHED,
    "promotions": PROMOTIONS,
}


class DriftCheckCollector(Collector):
    """The per-DriftCheck gauges (`driftcheck_metrics`), read from the operator's cache at each
    scrape: no API call, and nothing kept between scrapes that could outlive a DriftCheck."""

    def __init__(self) -> None:
        self.cache: Cache | None = None  # set at startup

    def describe(self) -> Iterator[GaugeMetricFamily]:
        return self._families()

    def collect(self) -> Iterator[GaugeMetricFamily]:
        # The scrape runs in the HTTP server's thread: copy the values (one C-level step under
        # the GIL) before reading them, as the event loop keeps replacing entries.
        bodies = list(self.cache.driftchecks.values()) if self.cache is not None else []
        checks: list[DriftCheck | InvalidDriftCheck] = []
        for body in bodies:
            try:
                checks.append(parse(body))
            except ValueError as error:  # one unreadable object must not take /metrics down
                logger.warning("no metrics for %s: %s", body["metadata"].get("name"), error)
        families = {family.name: family for family in self._families()}
        for sample in driftcheck_samples(checks, datetime.now(UTC)):
            families[sample.metric].add_metric([sample.namespace, sample.driftcheck], sample.value)
        return iter(families.values())

    @staticmethod
    def _families() -> Iterator[GaugeMetricFamily]:
        for name, documentation in METRIC_NAMES.items():
            yield GaugeMetricFamily(name, documentation, labels=METRIC_LABELS)


DRIFTCHECKS = DriftCheckCollector()
REGISTRY.register(DRIFTCHECKS)


def count(metric: str, labels: dict[str, str]) -> None:
    counter = _BY_NAME[metric]
    (counter.labels(**labels) if labels else counter).inc()


def serve(port: int) -> None:
    if port:
        start_http_server(port, addr="0.0.0.0")  # noqa: S104 - scraped from outside the pod
