"""Metrics equal scikit-learn's own functions; undefined ones come with a reason, never a number."""

from __future__ import annotations

import numpy as np
from sklearn import metrics as sk

from kubedrift_jobs.train.metrics import Predictions, evaluate, metric_names

RNG = np.random.default_rng(0)


def binary() -> Predictions:
    y = RNG.integers(0, 2, 200)
    p1 = np.clip(y * 0.6 + RNG.random(200) * 0.5, 0.01, 0.99)
    return Predictions(y, (p1 > 0.5).astype(int), np.column_stack([1 - p1, p1]), [0, 1])


def test_binary_metrics_equal_sklearn() -> None:
    p = binary()
    assert p.proba is not None
    result = evaluate(["avg_prec", "roc_auc", "accuracy", "f1", "log_loss"], p)
    assert result.undefined == {}
    assert result.values == {
        "avg_prec": sk.average_precision_score(p.y_true, p.proba[:, 1]),
        "roc_auc": sk.roc_auc_score(p.y_true, p.proba[:, 1]),
        "accuracy": sk.accuracy_score(p.y_true, p.y_pred),
        "f1": sk.f1_score(p.y_true, p.y_pred),
        "log_loss": sk.log_loss(p.y_true, p.proba),
    }
    assert list(result.values) == ["avg_prec", "roc_auc", "accuracy", "f1", "log_loss"]


def test_string_labels_use_the_second_class_as_positive() -> None:
    p = binary()
    labels = np.array(["high", "low"])  # sorted as the model's classes_ would be
    q = Predictions(labels[p.y_true], labels[p.y_pred], p.proba, list(labels))
    assert q.proba is not None
    result = evaluate(["avg_prec", "f1"], q)
    assert result.values["avg_prec"] == sk.average_precision_score(q.y_true, q.proba[:, 1], pos_label="low")
    assert result.values["f1"] == sk.f1_score(q.y_true, q.y_pred, pos_label="low")


def test_multiclass_metrics_equal_sklearn() -> None:
    y = RNG.integers(0, 3, 300)
    proba = RNG.dirichlet([1, 1, 1], 300)
    proba[np.arange(300), y] += 1
    proba /= proba.sum(axis=1, keepdims=True)
    p = Predictions(y, proba.argmax(axis=1), proba, [0, 1, 2])
    result = evaluate(["avg_prec", "roc_auc", "f1", "log_loss"], p)
    assert result.values["roc_auc"] == sk.roc_auc_score(y, proba, multi_class="ovr")
    assert result.values["avg_prec"] == sk.average_precision_score(y, proba, average="macro")
    assert result.values["f1"] == sk.f1_score(y, p.y_pred, average="macro")
    assert result.values["log_loss"] == sk.log_loss(y, proba)


def test_regression_metrics_equal_sklearn() -> None:
    y = RNG.normal(size=100)
    pred = y + RNG.normal(scale=0.3, size=100)
    result = evaluate(["rmse", "mae", "r2"], Predictions(y, pred))
    assert result.values == {
        "rmse": sk.root_mean_squared_error(y, pred),
        "mae": sk.mean_absolute_error(y, pred),
        "r2": sk.r2_score(y, pred),
    }


def test_one_class_in_the_test_target_makes_ranking_metrics_undefined() -> None:
    y = np.zeros(50, dtype=int)
    proba = np.column_stack([np.full(50, 0.8), np.full(50, 0.2)])
    result = evaluate(["roc_auc", "avg_prec", "accuracy", "f1", "log_loss"], Predictions(y, y, proba, [0, 1]))
    assert result.undefined["roc_auc"] == "roc_auc needs both classes in the test target; it only has [0]"
    assert "avg_prec needs positive labels (1)" in result.undefined["avg_prec"]
    assert "f1" in result.undefined  # no positives at all: sklearn warns and would return 0.0
    assert result.values["accuracy"] == 1.0
    assert result.values["log_loss"] == sk.log_loss(y, proba, labels=[0, 1])
    assert set(result.values) | set(result.undefined) == {"roc_auc", "avg_prec", "accuracy", "f1", "log_loss"}


def test_unseen_test_labels_make_log_loss_undefined() -> None:
    y = np.array([0, 1, 2, 1])
    proba = np.array([[0.9, 0.1], [0.2, 0.8], [0.5, 0.5], [0.3, 0.7]])
    result = evaluate(["log_loss"], Predictions(y, np.array([0, 1, 1, 1]), proba, [0, 1]))
    assert result.undefined == {"log_loss": "log_loss: the test target has labels the model never saw: [2]"}


def test_constant_regression_target_and_empty_test_data() -> None:
    y = np.ones(10)
    result = evaluate(["r2", "mae"], Predictions(y, y + 0.5))
    assert result.undefined == {"r2": "r2 is undefined when the test target is constant"}
    assert result.values == {"mae": 0.5}
    empty = evaluate(["rmse"], Predictions(np.array([]), np.array([])))
    assert empty.undefined == {"rmse": "the test data has no rows with a target"}


def test_non_finite_predictions_are_undefined_not_nan() -> None:
    y = np.array([1.0, 2.0, 3.0])
    result = evaluate(["rmse"], Predictions(y, np.array([1.0, np.inf, 3.0])))
    assert "rmse" in result.undefined and result.values == {}


def test_objective_comes_first_and_once() -> None:
    assert metric_names(["roc_auc", "avg_prec", "roc_auc"], "avg_prec") == ["avg_prec", "roc_auc"]


def test_classes_may_be_a_numpy_array_as_model_classes_are() -> None:
    p = binary()
    as_array = Predictions(p.y_true, p.y_pred, p.proba, np.array([0, 1]))
    assert evaluate(["log_loss", "roc_auc"], as_array).values == evaluate(["log_loss", "roc_auc"], p).values
