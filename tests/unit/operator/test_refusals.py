"""A refused child, told in the DriftCheck's words; the run it belonged to ends."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from kubedrift.models.status import DriftCheckStatus, RunStatus
from kubedrift_operator import names
from kubedrift_operator.reconcile.refusals import driftcheck_field, refusal_message, refused_status
from tests.unit.operator import factories as f
from tests.unit.operator.controller_fakes import FakeApi, reconcile

JSON = dict[str, Any]

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


def invalid(kind: str, name: str, field: str, message: str) -> JSON:
    """The Status a 422 carries, as the apiserver words it."""
    cause = {"reason": "FieldValueInvalid", "field": field, "message": message}
    return {
        "kind": "Status",
        "code": 422,
        "message": f'{kind} "{name}" is invalid: {field}: {message}',
        "details": {"causes": [cause]},
    }


REFUSED_STATIC_CHILDREN = {
    "ConfigMap": (
        invalid(
            "ConfigMap",
            names.config_map("bikes"),
            "metadata.labels",
            'Invalid value: "x": must be no more than 63 characters',
        ),
        "metadata.name",
    ),
    "CronJob": (
        invalid(
            "CronJob",
            names.cron_job("bikes"),
            "spec.timeZone",
            'Invalid value: "Europe/Berlin": unknown time zone Europe/Berlin',
        ),
        "spec.timeZone",
    ),
}


@pytest.mark.parametrize("kind", sorted(REFUSED_STATIC_CHILDREN))
def test_a_refused_static_child_stalls_once_in_the_driftcheck_s_words(kind: str) -> None:
    refusal, field = REFUSED_STATIC_CHILDREN[kind]
    name = names.config_map("bikes") if kind == "ConfigMap" else names.cron_job("bikes")
    body = f.driftcheck(spec={**f.SPEC, "timeZone": "Europe/Berlin"})
    api = FakeApi(refuse={f"{kind}/{name}": refusal})

    cache = reconcile(body, [], api)
    stored = cache.driftchecks.get(("ml", "bikes"))
    assert stored is not None
    stalled = next(c for c in stored["status"]["conditions"] if c["type"] == "Stalled")
    assert (stalled["status"], stalled["reason"]) == ("True", "ChildRejected")
    assert stalled["message"].startswith(f"{field}: ") and stalled["message"].endswith(f"change {field}")
    assert f"the apiserver refused {kind} {name}" in stalled["message"] and "{" not in stalled["message"]
    assert [w for w in api.writes if w[0] in ("event", "status")] == [
        ("status", "DriftCheck/bikes"),
        ("event", "ChildRejected"),
    ]

    # Refused again with nothing changed: no second Event, no status write, no new condition.
    api.writes.clear()
    reconcile(stored, [], api, cache)
    assert [w for w in api.writes if w[0] in ("event", "status")] == []
    again = cache.driftchecks.get(("ml", "bikes"))
    assert again is not None and again["status"] == stored["status"]
