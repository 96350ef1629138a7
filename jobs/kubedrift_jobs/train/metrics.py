"""Metrics of a fitted model on test data, with scikit-learn's own functions.

A metric that is undefined on the data (roc_auc when the test target has one
class, f1 with no positive labels at all, log_loss on labels the model never
saw) is reported in `undefined` with the reason, never as a made-up number and
never as a crash: scikit-learn signals these cases with a ValueError or an
UndefinedMetricWarning (and a fallback value), and both end up here as reasons.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class Evaluation:
    values: dict[str, float] = field(default_factory=dict)
    undefined: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Predictions:
    """What a fitted model said about the test rows."""

    y_true: np.ndarray
    y_pred: np.ndarray
    # Classifiers only: one column per class, in the order of `classes`.
    proba: np.ndarray | None = None
    classes: Sequence[Any] | None = None


def evaluate(names: Sequence[str], predictions: Predictions) -> Evaluation:
    """Compute each of `names`; metrics appear in the order asked, undefined ones with a reason."""
    result = Evaluation()
    if len(predictions.y_true) == 0:
        result.undefined = {name: "the test data has no rows with a target" for name in names}
        return result
    for name in names:
        compute = _METRICS.get(name)
        if compute is None:
            result.undefined[name] = f"unknown metric {name!r}"
            continue
        value, reason = _guarded(compute, predictions)
        if reason is None and value is not None:
            result.values[name] = value
        else:
            result.undefined[name] = reason or "undefined"
    return result


def _guarded(
    compute: Callable[[Predictions], float], predictions: Predictions
) -> tuple[float | None, str | None]:
    from sklearn.exceptions import UndefinedMetricWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            value = float(compute(predictions))
        except _Undefined as undefined:
            return None, str(undefined)
        except ValueError as error:
            return None, " ".join(str(error).split())
    for warning in caught:
        if issubclass(warning.category, UndefinedMetricWarning):
            return None, " ".join(str(warning.message).split())
    if not math.isfinite(value):
        return None, f"not a finite number ({value})"
    return value, None


class _Undefined(Exception):
    """A metric that cannot be computed on this data; the message says why."""


def _binary(p: Predictions) -> bool:
    return p.classes is not None and len(p.classes) == 2


def _proba(p: Predictions, metric: str) -> np.ndarray:
    if p.proba is None or p.classes is None:
        raise _Undefined(f"{metric} needs class probabilities and the model gives none")
    return p.proba


def _labels(p: Predictions) -> list[Any]:
    return [] if p.classes is None else list(p.classes)


def _one_class_check(p: Predictions, metric: str) -> None:
    present = np.unique(p.y_true)
    if len(present) < 2:
        raise _Undefined(f"{metric} needs both classes in the test target; it only has {present.tolist()}")


def _avg_prec(p: Predictions) -> float:
    from sklearn.metrics import average_precision_score

    proba = _proba(p, "avg_prec")
    assert p.classes is not None
    if _binary(p):
        positive = p.classes[1]
        if not np.any(p.y_true == positive):
            raise _Undefined(
                f"avg_prec needs positive labels ({positive!r}) in the test target; there are none"
            )
        return float(average_precision_score(p.y_true, proba[:, 1], pos_label=positive))
    return float(average_precision_score(p.y_true, proba, average="macro"))


def _roc_auc(p: Predictions) -> float:
    from sklearn.metrics import roc_auc_score

    proba = _proba(p, "roc_auc")
    _one_class_check(p, "roc_auc")
    if _binary(p):
        return float(roc_auc_score(p.y_true, proba[:, 1]))
    return float(roc_auc_score(p.y_true, proba, multi_class="ovr", labels=_labels(p)))


def _accuracy(p: Predictions) -> float:
    from sklearn.metrics import accuracy_score

    return float(accuracy_score(p.y_true, p.y_pred))


def _f1(p: Predictions) -> float:
    from sklearn.metrics import f1_score

    if _binary(p):
        assert p.classes is not None
        return float(f1_score(p.y_true, p.y_pred, pos_label=p.classes[1]))
    return float(f1_score(p.y_true, p.y_pred, average="macro"))


def _log_loss(p: Predictions) -> float:
    from sklearn.metrics import log_loss

    proba = _proba(p, "log_loss")
    unseen = sorted(set(np.unique(p.y_true).tolist()) - set(np.asarray(p.classes).tolist()))
    if unseen:
        raise _Undefined(f"log_loss: the test target has labels the model never saw: {unseen[:5]}")
    return float(log_loss(p.y_true, proba, labels=_labels(p)))


def _rmse(p: Predictions) -> float:
    from sklearn.metrics import root_mean_squared_error

    return float(root_mean_squared_error(p.y_true, p.y_pred))


def _mae(p: Predictions) -> float:
    from sklearn.metrics import mean_absolute_error

    return float(mean_absolute_error(p.y_true, p.y_pred))


def _r2(p: Predictions) -> float:
    from sklearn.metrics import r2_score

    if len(p.y_true) < 2:
        raise _Undefined("r2 needs at least two test rows")
    if np.all(p.y_true == p.y_true[0]):
        # scikit-learn would return a conventional 0.0 or 1.0 here; that is not a measurement.
        raise _Undefined("r2 is undefined when the test target is constant")
    return float(r2_score(p.y_true, p.y_pred))


_METRICS: dict[str, Callable[[Predictions], float]] = {
    "avg_prec": _avg_prec,
    "roc_auc": _roc_auc,
    "accuracy": _accuracy,
    "f1": _f1,
    "log_loss": _log_loss,
    "rmse": _rmse,
    "mae": _mae,
    "r2": _r2,
}


def metric_names(wanted: Sequence[str], objective: str) -> list[str]:
    """The metrics a trial computes: the objective first, then the others asked for, once each."""
    return list(dict.fromkeys([objective, *wanted]))
