"""One trial: the work of one completion index, from config to artifacts and summary.

    config ─ validate the whole grid ─ index → params ─ open train/test (footers only)
           ─ column roles ─ fingerprints (data version, trial id) ─ read the needed columns
           ─ fit the pipeline ─ predict ─ metrics ─ write artifacts ─ TrialSummary

The baseline is the same path with the fitting replaced by loading the
production model. Errors leave as kubedrift's typed errors (see
`kubedrift.errors`), so the runtime turns them into the right exit code.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from kubedrift import storage
from kubedrift.datasets import open_source
from kubedrift.errors import DataUnreadable, TrainingError
from kubedrift.grid import combination, grid_size, trial_params
from kubedrift.models.driftcheck import DataSource
from kubedrift.models.results import DataFingerprint, TrialSummary
from kubedrift.text import shorten
from kubedrift.trial_ids import data_version, trial_id
from kubedrift_jobs.runtime import writing_reports
from kubedrift_jobs.train import artifacts
from kubedrift_jobs.train.estimators import constructor_params, estimator_info, validate_retrain
from kubedrift_jobs.train.features import FeatureRoles, feature_roles
from kubedrift_jobs.train.metrics import Evaluation, Predictions, evaluate, metric_names

if TYPE_CHECKING:
    import pandas as pd

    from kubedrift.models.jobconfig import TrainJobConfig

MAX_WARNINGS = 5
WARNING_LIMIT = 300  # characters of one warning kept in trial.json
ERROR_LIMIT = 500  # characters of an estimator's error quoted in a TrainingError


@dataclass
class Timings:
    """Seconds spent in each stage; `total` also covers validation and fingerprinting."""

    # Includes importing scikit-learn, which the first param check does.
    validate: float = 0.0
    read: float = 0.0
    prepare: float = 0.0
    fit: float = 0.0
    predict: float = 0.0
    write: float = 0.0
    total: float = 0.0

    @contextmanager
    def measure(self, stage: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            setattr(self, stage, getattr(self, stage) + time.perf_counter() - start)


@dataclass
class TrialResult:
    summary: TrialSummary
    timings: Timings
    train: DataFingerprint | None
    test: DataFingerprint
    rows: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def baseline_index(config: TrainJobConfig) -> int | None:
    """With a baseline model configured, the index after the last combination evaluates it.

    So the operator runs one Indexed Job of grid size + 1 completions, and the
    production model is measured on the very same test data by the same code.
    """
    return grid_size(config.retrain.grid) if config.baseline_model_uri else None


def run_index(config: TrainJobConfig, index: int) -> TrialResult:
    if index == baseline_index(config):
        return run_baseline(config)
    return run_trial(config, index)


def run_trial(config: TrainJobConfig, index: int) -> TrialResult:
    started = time.perf_counter()
    retrain = config.retrain
    timings = Timings()
    with timings.measure("validate"):
        validate_retrain(retrain)
        combination(retrain.grid, index)  # an out-of-range index is a config error, before any I/O
        chosen = trial_params(retrain.model.params, retrain.grid, index)
        params = constructor_params(retrain.model.estimator, chosen, retrain.random_seed)

    with timings.measure("read"):
        train_data = _open(retrain.train, config)
        test_data = _open(retrain.test, config)
        roles = feature_roles(_schema(train_data), config.columns, retrain.train.uri)
        train_print, test_print = (
            storage.retrying(train_data.fingerprint),
            storage.retrying(test_data.fingerprint),
        )
        version = data_version(train_print.content_hash, test_print.content_hash)
        train_frame = _read(train_data, roles.needed)
        test_frame = _read(test_data, roles.needed)
    with timings.measure("prepare"):
        from kubedrift_jobs.train.pipeline import build_pipeline, prepare_frame

        data_notes = _infinite_warnings(train_frame, "train", roles) + _infinite_warnings(
            test_frame, "test", roles
        )
        x_train, y_train = prepare_frame(train_frame, roles)
        x_test, y_test = prepare_frame(test_frame, roles)
        if len(y_train) == 0:
            raise DataUnreadable(f"{retrain.train.uri}: no rows with a value in {roles.target!r}")
        pipeline = build_pipeline(retrain.model.estimator, params, roles)
    caught: list[str] = []
    with timings.measure("fit"), _collect_warnings(caught):
        _fit(pipeline, x_train, y_train, retrain.model.estimator, chosen)
    with timings.measure("predict"), _collect_warnings(caught):
        predictions = _predict(pipeline, x_test, y_test, retrain.model.estimator)
        evaluation = evaluate(metric_names(retrain.metrics, retrain.objective.metric), predictions)

    folder = artifacts.trial_uri(config.storage.reports_uri, config.check, config.run, index)
    summary = TrialSummary(
        index=index,
        trial_id=trial_id(retrain.model.estimator, params, version),
        params=params,
        metrics=evaluation.values,
        undefined_metrics=evaluation.undefined,
        objective=evaluation.values.get(retrain.objective.metric),
        model_uri=artifacts.model_uri(folder),
        data_version=version,
        train_data_version=train_print.version,
        test_data_version=test_print.version,
        train_window=train_print.window,
        test_window=test_print.window,
        fit_seconds=round(timings.fit, 3),
        total_seconds=0.0,
    )
    result = TrialResult(
        summary=summary,
        timings=timings,
        train=train_print,
        test=test_print,
        rows={"train": len(y_train), "test": len(y_test)},
        warnings=data_notes + caught[:MAX_WARNINGS],
    )
    with timings.measure("write"), writing_reports(config.storage.reports_uri):
        artifacts.write_model(folder, pipeline, config.storage)
        _write_documents(folder, config, result, evaluation)
    return _finished(result, started, folder, config, roles)


def run_baseline(config: TrainJobConfig) -> TrialResult:
    """Evaluate the production model on this run's test data: the `main` row of the table."""
    started = time.perf_counter()
    retrain = config.retrain
    if not config.baseline_model_uri:
        from kubedrift.errors import ConfigError

        raise ConfigError("baselineModelUri: no baseline model to evaluate")
    timings = Timings()
    with timings.measure("read"):
        model_bytes_uri = artifacts.model_uri(config.baseline_model_uri)
        model_bytes = storage.retrying(lambda: storage.read_bytes(model_bytes_uri, config.storage))
        model = artifacts.load_model(model_bytes, model_bytes_uri)
        test_data = _open(retrain.test, config)
        roles = _baseline_roles(model, feature_roles(_schema(test_data), config.columns, retrain.test.uri))
        test_print = storage.retrying(test_data.fingerprint)
        version = data_version("baseline", test_print.content_hash)
        test_frame = _read(test_data, roles.needed)
    with timings.measure("prepare"):
        from kubedrift_jobs.train.pipeline import prepare_frame

        data_notes = _infinite_warnings(test_frame, "test", roles)
        x_test, y_test = prepare_frame(test_frame, roles)
    caught: list[str] = []
    with timings.measure("predict"), _collect_warnings(caught):
        predictions = _predict(model, x_test, y_test, retrain.model.estimator)
        evaluation = evaluate(metric_names(retrain.metrics, retrain.objective.metric), predictions)
    import hashlib

    summary = TrialSummary(
        index=baseline_index(config) or 0,
        # The production model's id is its content: the same artifact always has the same id.
        trial_id=hashlib.sha256(model_bytes).hexdigest()[:8],
        params=_json_params(model),
        metrics=evaluation.values,
        undefined_metrics=evaluation.undefined,
        objective=evaluation.values.get(retrain.objective.metric),
        model_uri=model_bytes_uri,
        data_version=version,
        test_data_version=test_print.version,
        test_window=test_print.window,
        fit_seconds=0.0,
        total_seconds=0.0,
        baseline=True,
    )
    result = TrialResult(
        summary, timings, None, test_print, {"test": len(y_test)}, data_notes + caught[:MAX_WARNINGS]
    )
    folder = artifacts.trial_uri(
        config.storage.reports_uri, config.check, config.run, artifacts.BASELINE_FOLDER
    )
    with timings.measure("write"), writing_reports(config.storage.reports_uri):
        _write_documents(folder, config, result, evaluation)
    return _finished(result, started, folder, config, roles)


def _finished(
    result: TrialResult, started: float, folder: str, config: TrainJobConfig, roles: FeatureRoles
) -> TrialResult:
    """Stop the clock, then write trial.json with the timings (its own small write is not in them)."""
    result.timings.total = time.perf_counter() - started
    result.summary = result.summary.model_copy(update={"total_seconds": round(result.timings.total, 3)})
    trial = {
        "summary": result.summary.to_wire(),
        "timings": {k: round(v, 4) for k, v in vars(result.timings).items()},
        "warnings": result.warnings,
        "features": {
            "numerical": list(roles.numerical),
            "categorical": list(roles.categorical),
            "skipped": list(roles.skipped),  # neither excluded nor usable (dates, lists, all-null type)
        },
    }
    with writing_reports(config.storage.reports_uri):
        artifacts.write_json(folder, "trial.json", trial, config.storage)
    return result


def _open(source: DataSource, config: TrainJobConfig) -> storage.ParquetData:
    """The source's data; its window is absolute here (the operator resolved it when the run started)."""
    at = config.scheduled_at or datetime.now(UTC)
    return storage.retrying(lambda: open_source(source, at, None, config.storage))


def _schema(data: storage.ParquetData) -> dict[str, str]:
    return {field.name: str(field.type) for field in data.schema}


def _read(data: storage.ParquetData, names: list[str]) -> pd.DataFrame:
    table = storage.retrying(lambda: data.columns(names))
    return table.to_pandas()


def _infinite_warnings(frame: pd.DataFrame, side: str, roles: FeatureRoles) -> list[str]:
    """±inf is missing on both sides of kubedrift (the drift check counts it so too); say where."""
    import sys

    from kubedrift_jobs.train.pipeline import infinite_counts

    notes = []
    for name, count in infinite_counts(frame, roles).items():
        treated = "rows dropped like a missing target" if name == roles.target else "imputed like nulls"
        notes.append(f"column {name!r}: {count} ±inf value(s) in the {side} data, {treated}")
        print(f"warning: {notes[-1]}", file=sys.stderr)
    return notes


@contextmanager
def _collect_warnings(into: list[str]) -> Iterator[None]:
    """Keep fit and predict warnings (e.g. ConvergenceWarning) for trial.json instead of stderr."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    for warning in caught:
        text = shorten(
            f"{warning.category.__name__}: {' '.join(str(warning.message).split())}", WARNING_LIMIT
        )
        if text not in into:
            into.append(text)


def _fit(pipeline: Any, x: pd.DataFrame, y: Any, estimator: str, shown_params: dict[str, Any]) -> None:
    try:
        pipeline.fit(x, y)
    except Exception as error:  # any fit failure is this combination's fault: retrying cannot help
        described = ", ".join(f"{k}={v!r}" for k, v in sorted(shown_params.items()))
        first_line = shorten(" ".join(str(error).split()), ERROR_LIMIT)
        suspects = _out_of_range_columns(x)
        blame = (
            f" (column(s) {', '.join(map(repr, suspects))} hold values beyond ±3.4e38)" if suspects else ""
        )
        raise TrainingError(
            f"{estimator}({described}) failed to fit: {type(error).__name__}: {first_line}{blame}"
        ) from error


def _out_of_range_columns(x: pd.DataFrame) -> list[str]:
    """Numerical columns with values too large for float32: scikit-learn's trees cast to float32
    and then call them infinite, naming no column. Named here, so the message says which."""
    import numpy as np

    limit = float(np.finfo(np.float32).max)
    found = []
    for name in x.columns:
        column = x[name]
        if column.dtype.kind == "f" and bool((column.abs() > limit).any()):
            found.append(str(name))
    return found


def _predict(model: Any, x: pd.DataFrame, y: Any, estimator: str) -> Predictions:
    try:
        y_pred = model.predict(x)
        if estimator_info(estimator).regression or not hasattr(model, "predict_proba"):
            return Predictions(y_true=y, y_pred=y_pred)
        return Predictions(
            y_true=y, y_pred=y_pred, proba=model.predict_proba(x), classes=list(model.classes_)
        )
    except Exception as error:
        first_line = shorten(" ".join(str(error).split()), ERROR_LIMIT)
        raise TrainingError(
            f"prediction on the test data failed: {type(error).__name__}: {first_line}"
        ) from error


def _baseline_roles(model: Any, roles: FeatureRoles) -> FeatureRoles:
    """The test columns the production model was trained on (it may predate today's column list)."""
    wanted = getattr(model, "feature_names_in_", None)
    if wanted is None:
        return roles
    available = set(roles.numerical) | set(roles.categorical)
    missing = [name for name in wanted if name not in available]
    if missing:
        raise DataUnreadable(f"the test data lacks column(s) the baseline model needs: {', '.join(missing)}")
    keep = set(wanted)
    return FeatureRoles(
        roles.target,
        tuple(n for n in roles.numerical if n in keep),
        tuple(n for n in roles.categorical if n in keep),
    )


def _json_params(model: Any) -> dict[str, Any]:
    """The final estimator's params that JSON can carry (callables and objects are left out)."""
    final = model.steps[-1][1] if hasattr(model, "steps") else model
    params = final.get_params(deep=False) if hasattr(final, "get_params") else {}
    return {k: v for k, v in params.items() if isinstance(v, str | int | float | bool) or v is None}


def _write_documents(
    folder: str, config: TrainJobConfig, result: TrialResult, evaluation: Evaluation
) -> None:
    summary = result.summary
    fingerprints = {"train": result.train.to_wire() if result.train else None, "test": result.test.to_wire()}

    def write(name: str, document: Any) -> None:
        artifacts.write_json(folder, name, document, config.storage)

    write("metrics.json", {"metrics": evaluation.values, "undefined": evaluation.undefined})
    params = {"estimator": config.retrain.model.estimator, "params": summary.params}
    write("params.json", params | {"seed": config.retrain.random_seed})
    write("data.json", {"version": summary.data_version, **fingerprints, "rows": result.rows})
