"""The trial summary always fits a termination message (< 4 KiB) and stays valid JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kubedrift.models.results import TERMINATION_MESSAGE_LIMIT, TrialSummary
from kubedrift.text import shorten
from kubedrift_jobs.train.job import REASON_LIMIT, summary_message


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
    assert parsed.undefined_metrics["f1"] == shorten("x" * 3000, REASON_LIMIT)  # the one summariser
    assert summary_message(document) == text  # deterministic


# Every character of these names is escaped by json.dumps (\uXXXX, six bytes; twelve for ✓'s pair).
NON_ASCII = [f"température_{i:03d}_ß✓😀" for i in range(400)]


def test_failure_message_is_bounded_in_bytes_after_escaping() -> None:
    from kubedrift_jobs.runtime import failure_message

    text = failure_message("DataUnreadable", "column 'x' is missing; it has " + ", ".join(NON_ASCII))
    assert len(text.encode("utf-8")) < TERMINATION_MESSAGE_LIMIT
    parsed = json.loads(text)["error"]
    assert parsed["reason"] == "DataUnreadable"
    assert parsed["message"].startswith("column 'x' is missing; it has température_000_ß✓😀")
    assert parsed["message"].endswith("…")
    # As much as fits: one more character would not.
    kept = len(parsed["message"]) - 1
    longer = failure_message("DataUnreadable", parsed["message"][:-1] + "x" * 10)
    assert len(longer.encode()) < TERMINATION_MESSAGE_LIMIT and kept > 100


def test_failure_message_never_splits_a_surrogate_pair_or_escape() -> None:
    from kubedrift_jobs.runtime import failure_message

    for count in range(600, 700, 7):
        text = failure_message("Error", "😀" * count)
        message = json.loads(text)["error"]["message"]
        assert set(message[:-1]) == {"😀"} and message[-1] == "…"
        assert len(text.encode()) < TERMINATION_MESSAGE_LIMIT


def test_a_short_failure_is_sent_whole() -> None:
    from kubedrift_jobs.runtime import failure_message

    assert json.loads(failure_message("DataNotFound", "s3://b/k: not found")) == {
        "error": {"reason": "DataNotFound", "message": "s3://b/k: not found"}
    }


def test_a_summary_that_cannot_shrink_is_cut_in_its_longest_strings() -> None:
    from kubedrift_jobs.runtime import fit_message

    document = summary(modelUri="s3://bucket/" + "é" * 3000, params={})
    text = fit_message(document, lambda _: None)
    assert len(text.encode()) < TERMINATION_MESSAGE_LIMIT
    parsed = TrialSummary.model_validate(json.loads(text))
    assert parsed.trial_id == "7c8da6a9" and parsed.model_uri.startswith("s3://bucket/é")


def test_a_job_that_crashes_still_leaves_a_bounded_record(tmp_path: Path) -> None:
    from kubedrift_jobs.runtime import run_job

    def body() -> str:
        raise RuntimeError("boom " + "ü" * 5000)

    path = tmp_path / "termination-log"
    with pytest.raises(RuntimeError):
        run_job(body, str(path))
    raw = path.read_bytes()
    assert len(raw) < TERMINATION_MESSAGE_LIMIT
    assert json.loads(raw)["error"]["message"].startswith("RuntimeError: boom ü")


def test_many_drifted_non_ascii_columns_fit(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from kubedrift.models.results import CheckSummary
    from kubedrift_jobs.drift.summary import summary_message

    check = CheckSummary(
        finished_at=datetime(2026, 1, 1, tzinfo=UTC),
        dataset_drift=True,
        drift_share=1.0,
        columns_checked=400,
        columns_drifted=400,
        drifted_columns=NON_ASCII,
        report_uri="s3://reports/" + "ü" * 100,
    )
    text = summary_message(check)
    assert len(text.encode()) < TERMINATION_MESSAGE_LIMIT
    parsed = CheckSummary.model_validate(json.loads(text))
    assert parsed.truncated and parsed.drifted_columns == NON_ASCII[: len(parsed.drifted_columns)]


def test_a_check_summary_keeps_the_uncertain_count_whole_when_their_names_are_cut() -> None:
    from datetime import UTC, datetime

    from kubedrift.models.results import CheckSummary
    from kubedrift_jobs.drift.job import outcome_line
    from kubedrift_jobs.drift.summary import summary_message

    check = CheckSummary(
        finished_at=datetime(2026, 1, 1, tzinfo=UTC),
        dataset_drift=False,
        drift_share=0.0,
        columns_checked=400,
        columns_drifted=0,
        columns_uncertain=400,
        uncertain_columns=NON_ASCII,
        report_uri="s3://reports/bikes/",
    )
    text = summary_message(check)
    assert len(text.encode()) < TERMINATION_MESSAGE_LIMIT
    parsed = CheckSummary.model_validate(json.loads(text))
    assert parsed.truncated and parsed.columns_uncertain == 400
    assert parsed.uncertain_columns and parsed.uncertain_columns == NON_ASCII[: len(parsed.uncertain_columns)]
    assert "0 of 400 columns drifted, 400 uncertain" in outcome_line("bikes", parsed)
