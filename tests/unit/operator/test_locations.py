"""A DriftCheck naming local paths is valid for `kubedrift run` but stalls in a cluster."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from kubedrift.models.driftcheck import DriftCheckSpec
from kubedrift_operator.reconcile import locations
from kubedrift_operator.reconcile import plan as reconcile
from kubedrift_operator.reconcile.draft import Children
from kubedrift_operator.settings import Settings
from tests.unit.operator import factories as f

Edit = Callable[[dict[str, Any]], None]

LOCAL_EDITS: list[tuple[str, Edit]] = [
    ("spec.reference.uri", lambda s: s["reference"].update(uri="/data/reference.parquet")),
    ("spec.current.uri", lambda s: s["current"].update(uri="file:///data/current/")),
    ("spec.storage.reportsUri", lambda s: s["storage"].update(reportsUri="reports")),
    ("spec.retrain.train.uri", lambda s: s["retrain"]["train"].update(uri="./2011.parquet")),
    ("spec.retrain.test.uri", lambda s: s["retrain"]["test"].update(uri="data/2012.parquet")),
    ("spec.promotion.uri", lambda s: s.setdefault("promotion", {}).update(uri="/models/production")),
]


def spec_with(edit: Edit) -> dict[str, Any]:
    spec = copy.deepcopy(f.SPEC)
    edit(spec)
    return spec


@pytest.mark.parametrize(("field", "edit"), LOCAL_EDITS, ids=[field for field, _ in LOCAL_EDITS])
def test_each_local_location_stalls_before_any_child_and_names_its_field(field: str, edit: Edit) -> None:
    body = f.driftcheck(spec=spec_with(edit))
    out = reconcile.plan(reconcile.parse(body), Children(service_account=False), Settings(), f.NOW)

    assert (out.apply, out.create, out.create_first) == ([], [], [])
    assert out.status is not None
    stalled = next(c for c in out.status.conditions if c.type == "Stalled")
    assert (stalled.status, stalled.reason) == ("True", "LocalPath")
    assert stalled.message.startswith(f"{field} is a local path (")
    assert "s3://" in stalled.message and "kubedrift run" in stalled.message
    assert [(e.type, e.reason) for e in out.events] == [("Warning", "LocalPath")]


def test_the_same_spec_stays_valid_for_the_local_run() -> None:
    for _, edit in LOCAL_EDITS:
        DriftCheckSpec.model_validate(spec_with(edit))  # no error: only the cluster refuses it


def test_object_storage_everywhere_is_no_problem_and_every_location_is_looked_at() -> None:
    spec = DriftCheckSpec.model_validate({**f.SPEC, "promotion": {"uri": "s3://bikes/production"}})
    assert locations.local_path_problem(spec) is None
    assert sorted(locations.locations(spec)) == sorted(field for field, _ in LOCAL_EDITS)


def test_several_local_paths_are_counted() -> None:
    spec = DriftCheckSpec.model_validate(
        spec_with(lambda s: (LOCAL_EDITS[0][1](s), LOCAL_EDITS[1][1](s), LOCAL_EDITS[2][1](s)))
    )
    problem = locations.local_path_problem(spec)
    assert problem is not None and "(and 2 more)" in problem
