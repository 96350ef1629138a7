"""Issue 2, items 2-4: Indexed Jobs, backoffLimitPerIndex and CronJobs run for real on the node."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fixtures.cluster import Cluster, wait_for
from tests.integration.manifests import condition, job

pytestmark = pytest.mark.cluster
INDEX_ANNOTATION = "batch.kubernetes.io/job-completion-index"


def _job(cluster: Cluster, namespace: str, name: str) -> dict[str, Any] | None:
    return cluster.get(f"/apis/batch/v1/namespaces/{namespace}/jobs/{name}")


def _finished(cluster: Cluster, namespace: str, name: str) -> dict[str, Any] | None:
    found = _job(cluster, namespace, name)
    return found if condition(found, "Complete") or condition(found, "Failed") else None


def _pods(cluster: Cluster, namespace: str, job_name: str) -> list[dict[str, Any]]:
    listing = cluster.api.get(f"/api/v1/namespaces/{namespace}/pods", labelSelector=f"job-name={job_name}")
    return list(listing["items"])


def test_indexed_job_pods_see_their_completion_index(cluster: Cluster, namespace: str) -> None:
    # JOB_COMPLETION_INDEX is set by the Job controller as a fieldRef to the pod's index annotation.
    script = 'echo "index $JOB_COMPLETION_INDEX" > /dev/termination-log'
    cluster.apply(job("indexed", script, completionMode="Indexed", completions=5, parallelism=2), namespace)

    finished = wait_for(lambda: _finished(cluster, namespace, "indexed"), "the Indexed Job to finish")
    assert condition(finished, "Complete"), finished["status"]
    assert finished["status"]["completedIndexes"] == "0-4"
    pods = _pods(cluster, namespace, "indexed")
    assert len(pods) == 5
    for pod in pods:
        index = pod["metadata"]["annotations"][INDEX_ANNOTATION]
        terminated = pod["status"]["containerStatuses"][0]["state"]["terminated"]
        assert (terminated["exitCode"], terminated["reason"]) == (0, "Completed")
        assert terminated["message"] == f"index {index}\n"


def test_backoff_limit_per_index_retries_a_failing_index_once(cluster: Cluster, namespace: str) -> None:
    script = 'if [ "$JOB_COMPLETION_INDEX" = 1 ]; then echo "index 1 fails" >&2; exit 1; fi; echo ok'
    spec = {"completionMode": "Indexed", "completions": 3, "parallelism": 3, "backoffLimitPerIndex": 1}
    cluster.apply(job("per-index", script, **spec), namespace)

    finished = wait_for(lambda: _finished(cluster, namespace, "per-index"), "the Job to finish")
    assert condition(finished, "Failed"), finished["status"]
    assert finished["status"]["failedIndexes"] == "1"
    assert finished["status"]["completedIndexes"] == "0,2"
    runs_of_index_1 = [
        run for run in cluster.container_runs(namespace) if run["annotations"].get(INDEX_ANNOTATION) == "1"
    ]
    assert len(runs_of_index_1) == 2, runs_of_index_1  # the first try and exactly one retry
    assert {run["exitCode"] for run in runs_of_index_1} == {1}
    assert len({run["pod"] for run in runs_of_index_1}) == 2
    assert "index 1 fails" in cluster.pod_logs(namespace, runs_of_index_1[0]["pod"])


def test_cronjob_every_minute_creates_a_job_that_completes(cluster: Cluster, namespace: str) -> None:
    # The CronJob controller starts jobs on minute boundaries: this waits up to a minute, by design.
    cronjob = {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "minutely"},
        "spec": {
            "schedule": "* * * * *",
            "jobTemplate": {"spec": job("unused", "echo tick")["spec"]},
        },
    }
    cluster.apply(cronjob, namespace)

    def completed_job() -> dict[str, Any] | None:
        listing = cluster.api.get(f"/apis/batch/v1/namespaces/{namespace}/jobs")
        return next((item for item in listing["items"] if condition(item, "Complete")), None)

    completed = wait_for(completed_job, "a Job of the CronJob to complete", timeout=180)
    assert completed["metadata"]["ownerReferences"][0]["name"] == "minutely"
    status = wait_for(
        lambda: (
            (cluster.get(f"/apis/batch/v1/namespaces/{namespace}/cronjobs/minutely") or {})
            .get("status", {})
            .get("lastSuccessfulTime")
        ),
        "the CronJob to record its success",
    )
    assert status
