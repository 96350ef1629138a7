"""A reconcile stays typed end to end: builders take the parsed DriftCheck, Job outcomes
are a named type, and each status is parsed once and serialised once, when it is written."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from kubedrift.models.resources import DriftCheck
from kubedrift.models.status import DriftCheckStatus, ExperimentStatus
from kubedrift_operator import observe
from kubedrift_operator.build import check as build_check
from kubedrift_operator.build import promotion as build_promotion
from kubedrift_operator.build import run as build_run
from kubedrift_operator.settings import Settings
from tests.unit.operator import factories as f
from tests.unit.operator.controller_fakes import FakeApi, reconcile, run_that_just_ended
from tests.unit.operator.test_build import parsed

JSON = dict[str, Any]
SETTINGS = Settings()

BUILDERS: dict[str, Callable[[DriftCheck], JSON]] = {
    "config map": build_check.config_map,
    "cron job": lambda check: build_check.cron_job(check, SETTINGS),
    "check-now job": lambda check: build_check.check_now_job(check, SETTINGS, "1", f.NOW),
    "run config": lambda check: build_run.run_config_map(check, "r1"),
    "experiment": lambda check: build_run.experiment(check, "r1", 0),
    "run job": lambda check: build_run.run_job(check, "r1", SETTINGS),
    "promotion job": lambda check: build_promotion.promotion_job(check, SETTINGS, "p", "s3://a", "s3://b"),
}


@pytest.mark.parametrize("builder", BUILDERS.values(), ids=BUILDERS.keys())
def test_every_builder_takes_the_parsed_driftcheck_alone(builder: Callable[[DriftCheck], JSON]) -> None:
    manifest = builder(parsed(f.driftcheck()))
    meta = manifest["metadata"]
    assert meta["namespace"] == "ml"
    assert meta["ownerReferences"] == [
        {
            "apiVersion": "kubedrift.io/v1alpha1",
            "kind": "DriftCheck",
            "name": "bikes",
            "uid": "uid-bikes",
            "controller": True,
            "blockOwnerDeletion": True,
        }
    ]


def test_a_job_outcome_is_a_named_frozen_type() -> None:
    outcome = observe.job_outcome(f.job("j", "train", outcome="Failed", at=f.NOW))
    assert outcome == observe.JobOutcome(condition="Failed", finished_at=f.NOW, reason="X", message="m")
    assert not outcome.complete
    with pytest.raises(dataclasses.FrozenInstanceError):
        outcome.reason = "Y"  # type: ignore[misc]
    assert observe.job_outcome(f.job("j", "train")) is None  # still running


def count_calls(monkeypatch: pytest.MonkeyPatch, model: type, method: str, calls: Counter[str]) -> None:
    original = getattr(model, method)
    key = f"{model.__name__}.{method}"
    if method == "model_validate":

        def parse(cls: type, *args: Any, **kwargs: Any) -> Any:
            calls[key] += 1
            return original(*args, **kwargs)

        monkeypatch.setattr(model, method, classmethod(parse))
    else:

        def dump(self: Any, *args: Any, **kwargs: Any) -> Any:
            calls[key] += 1
            return original(self, *args, **kwargs)

        monkeypatch.setattr(model, method, dump)


def test_a_reconcile_parses_each_status_once_and_serialises_it_once_when_writing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    body, objects = run_that_just_ended()
    calls: Counter[str] = Counter()
    for model in (DriftCheckStatus, ExperimentStatus):
        for method in ("model_validate", "model_dump"):
            count_calls(monkeypatch, model, method, calls)
    api = FakeApi()
    reconcile(body, objects, api)

    # this reconcile records six trials, summarises the run and starts the Auto promotion
    written = Counter(what.split("/")[0] for verb, what in api.writes if verb == "status")
    assert written == {"Experiment": 6, "DriftCheck": 1}
    assert any(verb == "create" and "promote" in what for verb, what in api.writes)
    # inputs parsed once each, outputs serialised once each, nothing in between
    assert calls == {
        "DriftCheckStatus.model_validate": 1,
        "ExperimentStatus.model_validate": 6,
        "DriftCheckStatus.model_dump": 1,
        "ExperimentStatus.model_dump": 6,
    }
