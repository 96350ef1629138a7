"""Reading what the kubelet reported about a finished pod."""

from __future__ import annotations

from kubedrift_operator import observe
from tests.unit.operator import factories as f


def oom_killed(limit: str | None, output: str = "") -> dict[str, object]:
    pod = f.pod("bikes-run-1", "Failed", message=output, exit_code=137, index=1)
    terminated = pod["status"]["containerStatuses"][0]["state"]["terminated"]
    terminated["reason"] = "OOMKilled"
    resources = {"limits": {"memory": limit}} if limit else {}
    pod["spec"] = {"containers": [{"name": "c", "resources": resources}]}
    return pod


def test_an_oom_kill_names_the_limit_it_hit_and_the_knob() -> None:
    failure = observe.failure(observe.termination(oom_killed("64Mi")))
    assert failure.reason == "OOMKilled"
    assert "memory limit of 64Mi" in failure.message
    assert "spec.retrain.resources" in failure.message


def test_an_oom_kill_without_a_limit_keeps_the_last_output() -> None:
    failure = observe.failure(observe.termination(oom_killed(None, "fitting 500 trees\n")))
    assert failure.reason == "OOMKilled"
    assert "the memory it may use" in failure.message and failure.message.endswith("fitting 500 trees")


def test_other_kubelet_reasons_pass_through_and_plain_errors_get_the_exit_code() -> None:
    pod = f.pod("bikes-run-1", "Failed", message="boom\n", exit_code=3, index=1)
    assert observe.failure(observe.termination(pod)).reason == "ExitCode3"
    pod["status"]["containerStatuses"][0]["state"]["terminated"]["reason"] = "DeadlineExceeded"
    assert observe.failure(observe.termination(pod)).reason == "DeadlineExceeded"


def test_the_operators_cache_keeps_the_memory_limit_an_oom_message_names() -> None:
    from kubedrift_operator.cache import slim

    kept = slim("Pod", oom_killed("300Mi"))
    assert observe.failure(observe.termination(kept)).message.count("memory limit of 300Mi") == 1
