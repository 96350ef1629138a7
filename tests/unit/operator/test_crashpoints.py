"""The test-only crash points stop a reconcile right after the write they name, and only then."""

from __future__ import annotations

import pytest

from kubedrift.models.status import DriftCheckStatus
from kubedrift_operator import crashpoints
from kubedrift_operator.cache import Cache
from tests.unit.operator.controller_fakes import FakeApi, reconcile, run_that_just_ended
from tests.unit.operator.test_plan import drifted_check, running


class Crashed(Exception):
    pass


def crash_instead_of_exiting(code: int) -> None:
    raise Crashed(code)


def arm(monkeypatch: pytest.MonkeyPatch, point: str) -> None:
    monkeypatch.setenv(crashpoints.ENV, point)
    monkeypatch.setattr(crashpoints.os, "_exit", crash_instead_of_exiting)


@pytest.mark.parametrize(
    ("point", "last_write"),
    [
        (crashpoints.DECISION_WRITTEN, ("status", "DriftCheck/bikes")),
        ("train-configmap-created", ("create", "ConfigMap/bikes-{run}-config")),
        ("train-job-created", ("create", "Job/bikes-{run}")),
    ],
)
def test_an_armed_crash_point_stops_the_reconcile_right_after_its_write(
    monkeypatch: pytest.MonkeyPatch, point: str, last_write: tuple[str, str]
) -> None:
    body, children = drifted_check()  # this reconcile starts a run
    objects = [*children.config_maps.values(), *children.cron_jobs.values(), *children.jobs.values()]
    arm(monkeypatch, point)
    api, cache = FakeApi(), Cache()
    with pytest.raises(Crashed) as crashed:
        reconcile(body, [*objects, *children.pods], api, cache)
    assert crashed.value.args == (crashpoints.EXIT_CODE,)
    run = cache.driftchecks[("ml", "bikes")]["status"]["run"]["name"]
    verb, what = last_write
    assert api.writes[-1] == (verb, what.format(run=run))
    assert not [w for w in api.writes if w[0] == "event"]  # Events come last: none posted yet


def test_the_run_summary_point_comes_after_the_trials_and_before_the_summary(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    body, objects = run_that_just_ended()
    arm(monkeypatch, crashpoints.TRIALS_RECORDED)
    api = FakeApi()
    with pytest.raises(Crashed):
        reconcile(body, objects, api)
    assert [verb for verb, _ in api.writes] == ["status"] * 6
    assert all(what.startswith("Experiment/") for _, what in api.writes)  # the DriftCheck's is not


def test_the_promotion_point_comes_right_after_the_copy_job_is_created(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    body, objects = run_that_just_ended()  # the run ends and Auto promotes its best trial
    arm(monkeypatch, "promote-job-created")
    api = FakeApi()
    with pytest.raises(Crashed):
        reconcile(body, objects, api)
    verb, what = api.writes[-1]
    assert verb == "create" and what.startswith("Job/bikes-promote-")
    assert ("status", "DriftCheck/bikes") in api.writes  # the promotion was recorded first


def test_no_crash_point_is_armed_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    arm(monkeypatch, "")
    monkeypatch.delenv(crashpoints.ENV)
    body, objects = run_that_just_ended()
    api = FakeApi()
    reconcile(body, objects, api)
    assert api.writes[-1][0] == "event"


def test_trials_recorded_needs_the_status_to_end_a_running_run() -> None:
    body, _ = running(drifted_check()[0])
    was = DriftCheckStatus.model_validate(body["status"])
    assert was.run is not None
    ended = was.model_copy(update={"run": was.run.model_copy(update={"phase": "Succeeded"})})
    assert crashpoints.ends_run(was, ended)
    assert not crashpoints.ends_run(was, None) and not crashpoints.ends_run(was, was)
    assert not crashpoints.ends_run(ended, ended)
