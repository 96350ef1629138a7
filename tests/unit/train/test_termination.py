"""The trial summary always fits a termination message (< 4 KiB) and stays valid JSON."""

from __future__ import annotations

import json

from kubedrift.models.results import TERMINATION_MESSAGE_LIMIT, TrialSummary
from kubedrift_jobs.train.job import summary_message


def summary(**update: object) -> dict[str, object]:
    base = TrialSummary(
        index=3,
        trial_id="7c8da6a9",
        params={"n_estimators": 350, "min_samples_split": 28},
        metrics={"avg_prec": 0.87, "roc_auc": 0.86},
        objective=0.87,
        model_uri="s3://bucket/reports/bikes/r1/3/model.skops",
        data_version="775e057d",
        fit_seconds=1.5,
        total_seconds=2.5,
    ).to_wire()
    return base | update


def test_small_summary_is_sent_whole() -> None:
    document = summary()
    assert json.loads(summary_message(document)) == document
    assert TrialSummary.model_validate(json.loads(summary_message(document))).trial_id == "7c8da6a9"


def test_huge_summary_is_cut_in_a_fixed_order_keeping_metrics_and_ids() -> None:
    document = summary(
        undefinedMetrics={"f1": "x" * 3000, "log_loss": "y" * 3000},
        params={"class_weight": {str(i): i for i in range(500)}, "n_estimators": 350},
    )
    text = summary_message(document)
    assert len(text.encode()) < TERMINATION_MESSAGE_LIMIT
    parsed = TrialSummary.model_validate(json.loads(text))
    assert parsed.metrics == {"avg_prec": 0.87, "roc_auc": 0.86}
    assert parsed.params == {"n_estimators": 350}  # the long value went first, the short one stayed
    assert parsed.undefined_metrics["f1"] == "x" * 80
    assert summary_message(document) == text  # deterministic
