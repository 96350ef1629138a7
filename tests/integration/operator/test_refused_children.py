"""Issue 12, proof 2: nothing floods the cluster, and a refused child ends in a condition and an Event.

* A 27,000-combination grid is accepted by the apiserver (CEL can't see the grid's values)
  and refused by the operator before any child exists: no Experiment, no Job.
* A run whose Job the apiserver refuses (here a ResourceQuota that allows no Jobs, as a
  policy engine or a full quota would) ends at once: the run Failed, Stalled=ChildRejected
  with a message naming no JSON, one Event, no Experiment created, and no retry after it.
* Meanwhile the operator keeps serving another DriftCheck.
"""

from __future__ import annotations

import json
import time

import pytest

from kubedrift.models.resources import ANNOTATION_RETRAIN_NOW
from tests.fixtures.cluster import Cluster, wait_for
from tests.integration.operator.conftest import Kube, OperatorProcess, dump, wait_status
from tests.integration.operator.test_manifest_corpus import GRID_27000, named
from tests.integration.test_validation_parity import VALID, broken

pytestmark = pytest.mark.cluster

NO_JOBS_QUOTA = {
    "apiVersion": "v1",
    "kind": "ResourceQuota",
    "metadata": {"name": "no-jobs"},
    "spec": {"hard": {"count/jobs.batch": "0"}},
}


def test_a_huge_grid_and_a_refused_job_stop_at_once_while_other_checks_are_served(
    cluster: Cluster, crds: str, namespace: str, kube: Kube, operator: OperatorProcess
) -> None:
    cluster.apply(NO_JOBS_QUOTA, namespace)
    wait_for(
        lambda: kube.list("/api/v1/namespaces/{ns}/resourcequotas")[0].get("status", {}).get("hard"),
        "the quota to be counted",
    )
    huge = named(broken(retrain__grid=GRID_27000, retrain__trigger="Manual"), "huge")
    refused = named(broken(retrain__trigger="Manual"), "refused")
    healthy = named(VALID, "healthy")  # applied with the others: served while they are refused
    for manifest in (huge, refused, healthy):
        cluster.kubectl("apply", "-n", namespace, "-f", "-", stdin=json.dumps(manifest))
    kube.annotate("driftcheck", "huge", ANNOTATION_RETRAIN_NOW, "1")
    annotated = time.monotonic()
    kube.annotate("driftcheck", "refused", ANNOTATION_RETRAIN_NOW, "1")

    # The grid: Stalled before any child, with the words `kubedrift run` uses.
    stalled = wait_for(
        lambda: (c := kube.condition("huge", "Stalled")).get("status") == "True" and c, "huge Stalled"
    )
    assert stalled["reason"] == "InvalidSpec" and "at most 10000 combinations" in stalled["message"], dump(
        stalled
    )
    assert stalled["message"].startswith("spec.retrain.grid: Invalid value: 27000: "), dump(stalled)

    # The refused Job: the run ends Failed, said once, and nothing is retried.
    status = wait_status(
        kube, "refused", lambda s: (s.get("run") or {}).get("phase") == "Failed", "the run to end"
    )
    ended = time.monotonic() - annotated
    run = status["run"]
    conditions = {c["type"]: c for c in status["conditions"]}
    assert conditions["Stalled"]["reason"] == "ChildRejected", dump(status)
    message = conditions["Stalled"]["message"]
    assert message.startswith(f"the apiserver refused Job {run['job']}: ") and "exceeded quota" in message, (
        message
    )
    assert "{" not in message and "HTTP" not in message, message
    assert conditions["Retraining"]["reason"] == "ChildRejected", dump(status)
    assert run["refused"] == message, dump(run)
    assert ended < 30, f"the refusal took {ended:.0f} s to show"

    # Meanwhile: another DriftCheck is served (its CronJob and ConfigMap made, Ready).
    ready = wait_for(
        lambda: (c := kube.condition("healthy", "Ready")).get("status") == "True" and c, "healthy Ready"
    )
    assert ready["reason"] == "Reconciled", dump(ready)
    assert kube.list("/apis/batch/v1/namespaces/{ns}/cronjobs", "kubedrift.io/check=healthy")

    time.sleep(45)  # two of the operator's resyncs: a retry loop would show now
    for check in ("huge", "refused"):
        assert kube.experiments(check) == [], check
        assert kube.jobs(check) == [], check
    events = [e for e in kube.events("refused") if e["reason"] == "ChildRejected"]
    assert [e["message"] for e in events] == [message], dump(events)
    assert kube.status("refused")["run"] == run, "the refused run changed after it ended"
    assert operator.logs().count(f"a child of {namespace}/refused was refused") == 1, "the Job was retried"
    huge_events = [e for e in kube.events("huge") if e["reason"] == "InvalidSpec"]
    assert len(huge_events) == 1, dump(huge_events)
