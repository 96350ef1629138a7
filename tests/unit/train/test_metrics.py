"""Metrics against values worked out by hand; undefined ones come with a reason, never a number."""

from __future__ import annotations

import math

import numpy as np
import pytest

from kubedrift_jobs.train.metrics import Predictions, evaluate, metric_names

RNG = np.random.default_rng(0)
CLASSIFICATION = ["avg_prec", "roc_auc", "accuracy", "f1", "log_loss"]

# Four rows worked out by hand (scikit-learn's own docs use the same scores for roc_auc):
#   score of the positive class 0.1 0.4 0.35 0.8, truth 0 0 1 1, predicted (score > 0.5) 0 0 0 1.
#   roc_auc: of the 4 (positive, negative) pairs, 0.35 < 0.4 is the one ranked wrongly → 3/4.
#   avg_prec: ranked 0.8 (pos), 0.4 (neg), 0.35 (pos), 0.1: recall steps 0.5 at precision 1 and
#     0.5 at precision 2/3 → 1/2 + 1/3.
#   f1: tp 1, fp 0, fn 1 → 2·1 / (2·1 + 0 + 1) = 2/3.  accuracy 3/4.
#   log_loss: −mean(ln 0.9, ln 0.6, ln 0.35, ln 0.8).
SCORES = np.array([0.1, 0.4, 0.35, 0.8])
TRUTH = np.array([0, 0, 1, 1])
HAND = {
    "avg_prec": 1 / 2 + 1 / 3,
    "roc_auc": 3 / 4,
    "accuracy": 3 / 4,
    "f1": 2 / 3,
    "log_loss": -(math.log(0.9) + math.log(0.6) + math.log(0.35) + math.log(0.8)) / 4,
}


def two_columns(positive: np.ndarray) -> np.ndarray:
    return np.column_stack([1 - positive, positive])


def binary() -> Predictions:
    y = RNG.integers(0, 2, 200)
    p1 = np.clip(y * 0.6 + RNG.random(200) * 0.5, 0.01, 0.99)
    return Predictions(y, (p1 > 0.5).astype(int), two_columns(p1), [0, 1])


def test_binary_metrics_equal_the_hand_computed_values() -> None:
    p = Predictions(TRUTH, (SCORES > 0.5).astype(int), two_columns(SCORES), [0, 1])
    result = evaluate(CLASSIFICATION, p)
    assert result.undefined == {}
    assert result.values == pytest.approx(HAND, rel=1e-12)
    assert list(result.values) == CLASSIFICATION


def test_string_labels_use_the_second_class_as_positive() -> None:
    # The model's classes_ are sorted: "low" is the positive class, its probability column 1.
    labels = np.array(["high", "low"])
    p = Predictions(labels[TRUTH], labels[(SCORES > 0.5).astype(int)], two_columns(SCORES), list(labels))
    result = evaluate(CLASSIFICATION, p)
    assert result.values == pytest.approx(HAND, rel=1e-12)
    # With "high" as the positive class f1 would be 0.8 (tp 2, fp 1, fn 0): the label matters.
    assert result.values["f1"] != pytest.approx(0.8)


def test_no_positive_predictions_make_f1_zero_not_undefined() -> None:
    # tp 0, fp 0, fn 2: precision is 0/0, but f1 = 2tp / (2tp + fp + fn) = 0/2 is defined.
    result = evaluate(
        ["f1", "accuracy", "roc_auc"], Predictions(TRUTH, np.zeros(4, int), two_columns(SCORES), [0, 1])
    )
    assert result.undefined == {}
    assert result.values == {"f1": 0.0, "accuracy": 0.5, "roc_auc": 0.75}


def test_multiclass_metrics_are_macro_averages_one_vs_rest() -> None:
    y = np.array([0, 1, 2, 2])
    proba = np.array([[0.7, 0.2, 0.1], [0.2, 0.5, 0.3], [0.1, 0.3, 0.6], [0.3, 0.4, 0.3]])
    p = Predictions(y, proba.argmax(axis=1), proba, [0, 1, 2])  # predicted 0 1 2 1
    result = evaluate(CLASSIFICATION, p)
    assert result.undefined == {}
    assert result.values == pytest.approx(
        {
            # class 0 and class 1 rank their one positive first (AUC 1, AP 1); class 2's positives
            # score 0.6 and 0.3, its negatives 0.1 and 0.3: AUC (1 + 1 + 1 + ½ for the tie) / 4,
            # AP ½·1 + ½·⅔ (the tie at 0.3 brings one positive and one negative at once).
            "roc_auc": (1 + 1 + 3.5 / 4) / 3,
            "avg_prec": (1 + 1 + 5 / 6) / 3,
            "accuracy": 3 / 4,
            # per class (tp, fp, fn): 0 (1, 0, 0) → 1; 1 (1, 1, 0) → 2/3; 2 (1, 0, 1) → 2/3.
            "f1": (1 + 2 / 3 + 2 / 3) / 3,
            "log_loss": -(math.log(0.7) + math.log(0.5) + math.log(0.6) + math.log(0.3)) / 4,
        },
        rel=1e-12,
    )


def test_multiclass_ranking_metrics_are_undefined_when_a_class_is_absent_from_the_test_target() -> None:
    proba = np.array([[0.7, 0.2, 0.1], [0.2, 0.5, 0.3], [0.1, 0.3, 0.6], [0.3, 0.4, 0.3]])
    result = evaluate(
        CLASSIFICATION, Predictions(np.array([0, 2, 2, 0]), proba.argmax(axis=1), proba, [0, 1, 2])
    )
    # Class 1 has no positives: its one-vs-rest AUC and AP do not exist, so neither do the averages.
    assert set(result.undefined) == {"roc_auc", "avg_prec"}
    assert result.values["accuracy"] == 0.5
    assert result.values["f1"] == pytest.approx((2 / 3 + 0 + 2 / 3) / 3)


def test_regression_metrics_equal_the_hand_computed_values() -> None:
    # errors 0, 1, −1, 2; the target's mean is 2.5, its sum of squares around it 5.
    result = evaluate(["rmse", "mae", "r2"], Predictions(np.array([1.0, 2, 3, 4]), np.array([1.0, 3, 2, 6])))
    assert result.values == pytest.approx({"rmse": math.sqrt(6 / 4), "mae": 1.0, "r2": 1 - 6 / 5}, rel=1e-12)


def test_only_positives_in_the_test_target_make_roc_auc_undefined_and_the_rest_defined() -> None:
    y, score = np.array([1, 1, 1]), np.array([0.9, 0.6, 0.2])
    result = evaluate(CLASSIFICATION, Predictions(y, (score > 0.5).astype(int), two_columns(score), [0, 1]))
    assert result.undefined == {"roc_auc": "roc_auc needs both classes in the test target; it only has [1]"}
    assert result.values == pytest.approx(
        {
            "avg_prec": 1.0,  # every ranked row is a positive: precision 1 at every recall
            "accuracy": 2 / 3,
            "f1": 0.8,  # tp 2, fp 0, fn 1
            "log_loss": -(math.log(0.9) + math.log(0.6) + math.log(0.2)) / 3,
        },
        rel=1e-12,
    )


def test_one_class_in_the_test_target_makes_ranking_metrics_undefined() -> None:
    y = np.zeros(50, dtype=int)
    proba = np.column_stack([np.full(50, 0.8), np.full(50, 0.2)])
    result = evaluate(["roc_auc", "avg_prec", "accuracy", "f1", "log_loss"], Predictions(y, y, proba, [0, 1]))
    assert result.undefined["roc_auc"] == "roc_auc needs both classes in the test target; it only has [0]"
    assert "avg_prec needs positive labels (1)" in result.undefined["avg_prec"]
    assert "f1" in result.undefined  # no positives at all: sklearn warns and would return 0.0
    assert result.values["accuracy"] == 1.0
    assert result.values["log_loss"] == pytest.approx(-math.log(0.8), rel=1e-12)
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
