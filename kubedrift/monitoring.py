"""The per-DriftCheck gauges the operator exports on /metrics: their names, help and labels.

The one list: the operator's collector exports these, and the chart's alert rules and Grafana
dashboard (charts/kubedrift/files/) may use no other kubedrift_ series (a unit test checks).
"""

from __future__ import annotations

# Every series carries exactly these labels: one series set per DriftCheck, gone with it.
METRIC_LABELS = ("namespace", "driftcheck")

METRIC_NAMES: dict[str, str] = {
    "kubedrift_check_drift_share": "Share of drifted columns in the last recorded check (0..1).",
    "kubedrift_check_drifted_columns": "Number of drifted columns in the last recorded check.",
    "kubedrift_check_dataset_drifted": "1 if the last recorded check found dataset drift, else 0.",
    "kubedrift_check_target_drifted": "1 if the last check found target drift, else 0; absent if no target.",
    "kubedrift_check_last_success_timestamp_seconds": "Unix time the last successful check stands for.",
    "kubedrift_check_failing": "1 if the most recent check attempt failed, else 0.",
    "kubedrift_check_interval_seconds": "The schedule's longest gap between two runs; absent when suspended.",
    "kubedrift_production_objective": "The production model's objective value.",
    "kubedrift_run_best_objective": "The best trial's objective value in the last retrain run.",
    "kubedrift_run_failed": "1 if the last retrain run ended Failed, else 0.",
}
