"""A retrain run's children: its pinned config, one Experiment per trial, one Indexed Job.

The run's config is rendered once, when the run starts, into an immutable ConfigMap:
a spec edit during a run changes the next run, never the one in flight.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from kubedrift.grid import combination, grid_size, trial_params
from kubedrift.models.driftcheck import DataSource
from kubedrift.models.jobconfig import TrainJobConfig
from kubedrift.models.resources import API_VERSION, LABEL_INDEX, DriftCheck
from kubedrift.models.status import ExperimentSpec
from kubedrift.models.windows import TimeWindow, resolve
from kubedrift.text import shorten
from kubedrift.trial_ids import trial_id
from kubedrift_operator import names
from kubedrift_operator.build.common import (
    COMPONENT_TRAIN,
    CONFIG_FILE,
    JSON,
    labels,
    metadata,
    pod_failure_policy,
    pod_template,
)
from kubedrift_operator.settings import Settings

PARAMS_SUMMARY_LIMIT = 120


def trials(check: DriftCheck) -> int:
    retrain = check.spec.retrain
    return grid_size(retrain.grid) if retrain else 0


def params_summary(params: dict[str, Any]) -> str:
    text = " ".join(f"{key}={value}" for key, value in sorted(params.items()))
    return shorten(text, PARAMS_SUMMARY_LIMIT)


def run_windows(
    check: DriftCheck, scheduled_at: datetime | None
) -> tuple[TimeWindow | None, TimeWindow | None]:
    """The run's train and test windows, resolved for `scheduled_at`; None for a source without one."""
    retrain = check.spec.retrain
    if retrain is None or scheduled_at is None:
        return None, None

    def of(source: DataSource) -> TimeWindow | None:
        return resolve(source.window, scheduled_at, check.spec.time_zone) if source.window else None

    return of(retrain.train), of(retrain.test)


def run_config_map(
    check: DriftCheck, run: str, baseline_model_uri: str | None = None, scheduled_at: datetime | None = None
) -> JSON:
    """The run's pinned config: train and test sources resolved to absolute windows for `scheduled_at`."""
    name = check.metadata.name
    config = TrainJobConfig.from_spec(
        name, check.metadata.namespace or "default", run, check.spec, baseline_model_uri, scheduled_at
    )
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": metadata(check, names.run_config_map(name, run), labels(name, COMPONENT_TRAIN, run)),
        "immutable": True,
        "data": {CONFIG_FILE: config.model_dump_json(by_alias=True, exclude_none=True, indent=1)},
    }


def experiment(check: DriftCheck, run: str, index: int, scheduled_at: datetime | None = None) -> JSON:
    retrain = check.spec.retrain
    assert retrain is not None
    train_window, test_window = run_windows(check, scheduled_at)
    name = check.metadata.name
    params = trial_params(retrain.model.params, retrain.grid, index)
    spec = ExperimentSpec(
        check=name,
        run=run,
        index=index,
        # The operator never reads data, so the id it can give is estimator + params of
        # this run; the job's own id (with the data version) lands in the status.
        trial_id=trial_id(retrain.model.estimator, params, run),
        estimator=retrain.model.estimator,
        params=params,
        params_summary=params_summary(combination(retrain.grid, index)),
        train_uri=retrain.train.uri,
        test_uri=retrain.test.uri,
        train_window=train_window,
        test_window=test_window,
        objective_metric=retrain.objective.metric,
    )
    meta = metadata(
        check,
        names.experiment(name, run, index),
        {**labels(name, COMPONENT_TRAIN, run), LABEL_INDEX: str(index)},
    )
    return {"apiVersion": API_VERSION, "kind": "Experiment", "metadata": meta, "spec": spec.to_wire()}


def run_job(check: DriftCheck, run: str, settings: Settings, *, baseline: bool = False) -> JSON:
    """One index per combination; with a baseline, index `grid size` evaluates the production model."""
    retrain = check.spec.retrain
    assert retrain is not None
    name = check.metadata.name
    total = grid_size(retrain.grid)
    spec: JSON = {
        "completionMode": "Indexed",
        "completions": total + 1 if baseline else total,
        "parallelism": min(retrain.parallelism, total),
        "backoffLimitPerIndex": retrain.backoff_limit_per_index,
        # A trial that cannot succeed (a bad param, a missing column) fails its index at
        # once instead of burning retries; the other indexes go on.
        "podFailurePolicy": pod_failure_policy("train", "FailIndex"),
        "podReplacementPolicy": "Failed",
        "template": pod_template(
            settings,
            pod_labels=labels(name, COMPONENT_TRAIN, run),
            container="train",
            args=["train"],
            config_map=names.run_config_map(name, run),
            storage=check.spec.storage,
            resources=retrain.resources.to_wire(),
        ),
    }
    if retrain.max_failed_indexes is not None:
        spec["maxFailedIndexes"] = retrain.max_failed_indexes
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": metadata(check, names.run_job(name, run), labels(name, COMPONENT_TRAIN, run)),
        "spec": spec,
    }
