"""What the Jobs do with each storage exit code: the credential codes end the check Job or the
trial's index at once (no retry storm), 75 is retried by the Job, and a failed pod's reason
becomes the DriftCheck's condition reason."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from kubedrift import errors
from kubedrift.models.driftcheck import DriftCheckSpec
from kubedrift.models.resources import DriftCheck, ObjectMeta
from kubedrift.models.status import DriftCheckStatus, LastCheck
from kubedrift_operator import observe
from kubedrift_operator.build import check as build_check
from kubedrift_operator.build import promotion as build_promotion
from kubedrift_operator.build import run as build_run
from kubedrift_operator.reconcile import conditions
from kubedrift_operator.settings import Settings
from tests.unit.operator import factories as f

CREDENTIAL_ERRORS = (errors.UnknownAccessKey, errors.WrongSecretKey, errors.AccessDenied)


def _parsed(body: dict) -> DriftCheck:
    return DriftCheck(
        metadata=ObjectMeta.model_validate(body["metadata"]), spec=DriftCheckSpec.model_validate(body["spec"])
    )


def _permanent_codes(spec: dict, action: str) -> list[int]:
    rules = [r for r in spec["podFailurePolicy"]["rules"] if r["action"] == action]
    return [code for rule in rules for code in rule["onExitCodes"]["values"]]


def test_credential_codes_fail_at_once_and_75_is_retried_by_every_job() -> None:
    check = _parsed(f.driftcheck())
    check_job = build_check.check_job_spec(check, Settings())
    run_job = build_run.run_job(check, "r1", Settings())["spec"]
    promote_job = build_promotion.promotion_job(check, Settings(), "p", "s3://b/m", "s3://b/prod")["spec"]
    assert promote_job["backoffLimit"] >= 1
    for spec, action in ((check_job, "FailJob"), (run_job, "FailIndex"), (promote_job, "FailJob")):
        codes = _permanent_codes(spec, action)
        assert {e.exit_code for e in CREDENTIAL_ERRORS} <= set(codes)
        assert errors.TransientError.exit_code not in codes
    assert check_job["backoffLimit"] >= 1 and run_job["backoffLimitPerIndex"] >= 1  # 75 gets its retries


def test_a_credential_failure_becomes_the_condition_reason() -> None:
    for error in CREDENTIAL_ERRORS:
        message = json.dumps({"error": {"reason": error.reason, "message": "s3://b/k: … in bucket b …"}})
        failure = observe.failure(observe.Termination(error.exit_code, message, "Error", None, None))
        assert failure.reason == error.reason
        now = datetime(2026, 12, 1, tzinfo=UTC)
        last = LastCheck(time=now, job="j", succeeded=False, reason=failure.reason, message=failure.message)
        computed = conditions.compute(
            DriftCheckStatus(last_check=last), generation=1, now=now, schedule="0 * * * *", suspended=False
        )
        by_type = {c.type: c for c in computed}
        assert (by_type["Ready"].status, by_type["Ready"].reason) == ("False", error.reason)
        assert (by_type["Stalled"].status, by_type["Stalled"].reason) == ("True", error.reason)
        assert "in bucket b" in by_type["Stalled"].message


def test_a_run_whose_trials_all_failed_on_one_credential_says_so_in_retraining() -> None:
    from kubedrift.models.status import ExperimentStatus, RunStatus
    from kubedrift_operator.reconcile.runs import shared_failure

    denied = "s3://b/train.parquet: the access key id …-key has no right to this in bucket b (AccessDenied)"
    failed = [ExperimentStatus(phase="Failed", reason="AccessDenied", message=denied) for _ in range(2)]
    assert shared_failure(failed) == f"AccessDenied: {denied}"
    mixed = [*failed, ExperimentStatus(phase="Failed", reason="TrainingFailed", message="x")]
    assert shared_failure(mixed) is None
    assert shared_failure([ExperimentStatus(phase="Succeeded")]) is None

    now = datetime(2026, 12, 1, tzinfo=UTC)
    run = RunStatus(
        name="r1",
        job="bikes-r1",
        reason="Drift",
        phase="Failed",
        started_at=now,
        trials_total=2,
        trials_failed=2,
        trials_failure=shared_failure(failed),
    )
    computed = conditions.compute(
        DriftCheckStatus(run=run), generation=1, now=now, schedule="0 * * * *", suspended=False
    )
    retraining = next(c for c in computed if c.type == "Retraining")
    assert retraining.reason == "RunFailed"
    assert retraining.message.endswith(f"2 failed; the failed trials: AccessDenied: {denied}")
