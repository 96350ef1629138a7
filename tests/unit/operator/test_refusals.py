"""A refused child, told in the DriftCheck's words; the run it belonged to ends."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from kubedrift.models.status import DriftCheckStatus, RunStatus
from kubedrift_operator.reconcile.refusals import driftcheck_field, refusal_message, refused_status

NOW = datetime(2026, 12, 2, tzinfo=UTC)
JOB = {"kind": "Job", "metadata": {"name": "bikes-r1a2b3c", "labels": {"kubedrift.io/run": "r1a2b3c"}}}


def status_body(code: int, message: str, causes: list[dict[str, str]]) -> str:
    return json.dumps({"kind": "Status", "code": code, "message": message, "details": {"causes": causes}})


def test_a_child_field_maps_to_the_driftcheck_field_that_made_it() -> None:
    limits = "spec.template.spec.containers[0].resources.limits[memory]"
    assert driftcheck_field(limits) == "spec.retrain.resources.limits.memory"
    assert driftcheck_field("spec.maxFailedIndexes") == "spec.retrain.maxFailedIndexes"
    assert driftcheck_field("spec.timeZone") == "spec.timeZone"
    env = "spec.jobTemplate.spec.template.spec.containers[0].env[0].valueFrom.secretKeyRef.name"
    assert driftcheck_field(env) == "spec.storage.secretRef.name"
    assert driftcheck_field("metadata.labels") == "metadata.name"
    assert driftcheck_field("spec.template.spec.hostname") is None


def test_an_invalid_job_names_the_driftcheck_field_and_no_json() -> None:
    field = "spec.template.spec.containers[0].resources.limits[memory]"
    cause = {
        "reason": "FieldValueInvalid",
        "field": field,
        "message": f'{field}: Invalid value: "1GB": must be a quantity',
    }
    body = status_body(422, 'Job.batch "bikes-r1a2b3c" is invalid: ' + field, [cause])
    message = refusal_message(JOB, body)
    assert message == (
        'spec.retrain.resources.limits.memory: Invalid value: "1GB": must be a quantity '
        "(the apiserver refused Job bikes-r1a2b3c); change spec.retrain.resources.limits.memory"
    )


def test_a_refusal_without_a_field_says_the_apiserver_s_reason() -> None:
    text = 'jobs.batch "bikes-r1a2b3c" is forbidden: exceeded quota: no-jobs, requested: count/jobs.batch=1'
    message = refusal_message(JOB, status_body(403, text, []))
    assert (
        message
        == "the apiserver refused Job bikes-r1a2b3c: exceeded quota: no-jobs, requested: count/jobs.batch=1"
    )
    assert refusal_message(JOB, "not json") == "the apiserver refused Job bikes-r1a2b3c: not json"


def test_a_refused_run_child_ends_the_run_so_nothing_retries_it() -> None:
    run = RunStatus(
        name="r1a2b3c",
        job="bikes-r1a2b3c",
        reason="Manual",
        phase="Running",
        started_at=NOW,
        trials_total=6,
        trials_running=6,
        generation=1,
    )
    ended = refused_status(DriftCheckStatus(run=run), JOB, "why", NOW).run
    assert ended is not None
    assert (ended.phase, ended.refused, ended.trials_running, ended.finished_at) == ("Failed", "why", 0, NOW)
    other = {"kind": "Job", "metadata": {"name": "bikes-now-1", "labels": {}}}
    assert refused_status(DriftCheckStatus(run=run), other, "why", NOW).run == run
