"""The Argo CD health checks (Lua) give the right verdict for sample statuses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from lupa import LuaRuntime

ARGOCD = Path(__file__).resolve().parents[2] / "gitops" / "argocd"


def health(script: str, obj: dict[str, Any]) -> tuple[str, str]:
    lua = LuaRuntime(unpack_returned_tuples=True)

    def to_lua(value: Any) -> Any:
        if isinstance(value, dict):
            return lua.table_from({k: to_lua(v) for k, v in value.items()})
        if isinstance(value, list):
            return lua.table_from([to_lua(v) for v in value])
        return value

    lua.globals().obj = to_lua(obj)
    result = lua.execute((ARGOCD / script).read_text())
    return str(result["status"]), str(result["message"])


def condition(type_: str, status: str, reason: str = "R", message: str = "m") -> dict[str, str]:
    return {"type": type_, "status": status, "reason": reason, "message": message}


def driftcheck(generation: int = 1, observed: int | None = 1, *conditions: dict[str, str]) -> dict[str, Any]:
    status: dict[str, Any] = {"conditions": list(conditions)}
    if observed is not None:
        status["observedGeneration"] = observed
    return {"metadata": {"generation": generation}, "status": status}


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        ({"metadata": {"generation": 1}}, "Progressing"),
        (driftcheck(2, 1, condition("Ready", "True")), "Progressing"),
        (driftcheck(1, 1, condition("Ready", "True", message="checked")), "Healthy"),
        (driftcheck(1, 1, condition("Ready", "False", "DataNotFound")), "Degraded"),
        (driftcheck(1, 1, condition("Ready", "False"), condition("Reconciling", "True")), "Progressing"),
        (driftcheck(1, 1, condition("Ready", "True"), condition("Stalled", "True", "Bad")), "Degraded"),
    ],
)
def test_driftcheck_health(obj: dict[str, Any], expected: str) -> None:
    assert health("driftcheck-health.lua", obj)[0] == expected


def test_driftcheck_degraded_message_names_the_reason() -> None:
    obj = driftcheck(1, 1, condition("Ready", "False", "DataNotFound", "s3://b/current: not found"))
    assert health("driftcheck-health.lua", obj) == ("Degraded", "DataNotFound: s3://b/current: not found")


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (None, "Progressing"),
        ({"phase": "Running"}, "Progressing"),
        ({"phase": "Succeeded", "objective": 0.91}, "Healthy"),
        ({"phase": "Failed", "reason": "TrainingFailed", "message": "bad param"}, "Degraded"),
    ],
)
def test_experiment_health(status: dict[str, Any] | None, expected: str) -> None:
    obj: dict[str, Any] = {"metadata": {}} if status is None else {"metadata": {}, "status": status}
    assert health("experiment-health.lua", obj)[0] == expected
