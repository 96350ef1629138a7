"""Prometheus metrics of the operator, served on /metrics."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram, start_http_server

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


def count(metric: str, labels: dict[str, str]) -> None:
    counter = _BY_NAME[metric]
    (counter.labels(**labels) if labels else counter).inc()


def serve(port: int) -> None:
    if port:
        start_http_server(port, addr="0.0.0.0")  # noqa: S104 - scraped from outside the pod
