"""The metrics a trial can be scored with, one row each.

The model's literal, the CEL rule that matches metrics to the estimator's task,
the training job and the comparison table's sort order all read this table.
"""

from __future__ import annotations

from dataclasses import dataclass

from kubedrift.models.estimators import Task


@dataclass(frozen=True)
class Metric:
    name: str
    task: Task
    # Which way is better for a metric that is not the objective (the objective has its goal).
    lower_is_better: bool


METRICS: dict[str, Metric] = {
    metric.name: metric
    for metric in (
        Metric("avg_prec", "classification", lower_is_better=False),
        Metric("roc_auc", "classification", lower_is_better=False),
        Metric("accuracy", "classification", lower_is_better=False),
        Metric("f1", "classification", lower_is_better=False),
        Metric("log_loss", "classification", lower_is_better=True),
        Metric("rmse", "regression", lower_is_better=True),
        Metric("mae", "regression", lower_is_better=True),
        Metric("r2", "regression", lower_is_better=False),
    )
}
CLASSIFICATION_METRICS = tuple(name for name, metric in METRICS.items() if metric.task == "classification")
REGRESSION_METRICS = tuple(name for name, metric in METRICS.items() if metric.task == "regression")
LOWER_IS_BETTER = frozenset(name for name, metric in METRICS.items() if metric.lower_is_better)
