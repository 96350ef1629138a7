"""Issue 6, items 2, 4 and 5: `helm install`, the operator as a pod under the chart's ServiceAccount,
a DriftCheck reconciled end to end in namespaces that enforce the restricted Pod Security Standard,
and the GitOps properties of the result (server-side apply is a no-op, the operator owns only status).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from tests.fixtures.cluster import Cluster, wait_for
from tests.integration.chart.conftest import RESTRICTED, Release
from tests.integration.operator.conftest import BikeData, Kube, bike_check, dump, wait_status

pytestmark = pytest.mark.cluster

GITOPS_MANAGER = "gitops-sync"  # what Argo CD or Flux would be
PRIVILEGED_POD = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "privileged"},
    "spec": {
        "containers": [
            {"name": "c", "image": "x", "command": ["true"], "securityContext": {"privileged": True}}
        ]
    },
}


def gitops_check(data: BikeData) -> dict[str, Any]:
    """A DriftCheck as it would sit in Git: check now (an annotation in the manifest), retrain on drift
    with a single trial, promotion by hand."""
    check = bike_check("bikes", data, grid={"n_estimators": [3]}, policy="Manual")
    check["spec"]["retrain"]["parallelism"] = 1
    check["metadata"]["annotations"] = {"kubedrift.io/check-now": "1"}
    return check


def server_side_apply(cluster: Cluster, namespace: str, manifest: dict[str, Any]) -> dict[str, Any]:
    out = cluster.kubectl(
        "apply",
        "--server-side",
        f"--field-manager={GITOPS_MANAGER}",
        "-n",
        namespace,
        "-o",
        "json",
        "-f",
        "-",
        stdin=yaml.safe_dump(manifest),
    ).stdout
    return dict(json.loads(out))


def test_install_runs_the_operator_as_a_pod_that_reconciles_a_driftcheck(
    cluster: Cluster, release: Release, namespace: str, kube: Kube, bike_bucket: BikeData, s3_secret: str
) -> None:
    cluster.kubectl("label", "namespace", namespace, RESTRICTED)
    # The apiserver itself enforces the restricted standard here: a privileged pod is refused.
    refused = cluster.kubectl(
        "apply", "--dry-run=server", "-n", namespace, "-f", "-", stdin=json.dumps(PRIVILEGED_POD), check=False
    )
    assert refused.returncode != 0 and "violates PodSecurity" in refused.stderr, refused.stderr

    release.install()  # --wait: the Deployment is Ready once the kubelet's readiness probe passed
    pod = release.operator_pod()
    assert pod["spec"]["serviceAccountName"] == "kubedrift-operator"
    assert pod["spec"]["containers"][0]["command"] == ["kubedrift", "operator"]
    # Issue 10, item 1: the operator image, run by the real node as the image's non-root user,
    # with the chart's default pull policy: the imported image is used, nothing is pulled.
    assert pod["spec"]["containers"][0]["image"] == cluster.images["operator"]
    assert pod["spec"]["containers"][0]["imagePullPolicy"] == "IfNotPresent"
    (status,) = pod["status"]["containerStatuses"]
    assert status["ready"] is True and "running" in status["state"], dump(pod["status"])

    applied = server_side_apply(cluster, namespace, gitops_check(bike_bucket))
    status = wait_status(
        kube,
        "bikes",
        lambda s: (s.get("run") or {}).get("phase") in ("Succeeded", "Failed"),
        "a check and a run",
        400,
    )
    assert status["lastCheck"]["succeeded"] and status["lastCheck"]["datasetDrift"], dump(status)
    assert status["run"]["phase"] == "Succeeded" and status["run"]["trialsSucceeded"] == 1, dump(status)
    (experiment,) = kube.experiments("bikes")
    assert experiment["status"]["phase"] == "Succeeded" and experiment["status"]["metrics"]
    assert "kubedrift operator started" in release.operator_logs()

    # Item 4: every pod the chart and the operator made was admitted under `restricted`, and so ran.
    pods = cluster.api.get(f"/api/v1/namespaces/{namespace}/pods")["items"]
    components = {p["metadata"]["labels"].get("app.kubernetes.io/component") for p in pods}
    assert {"check", "train"} <= components, components
    assert all(p["status"]["phase"] == "Succeeded" for p in pods), dump([p["status"] for p in pods])
    # The jobs image with the chart's default pull policy, which the chart hands to the operator.
    job_containers = [c for p in pods for c in p["spec"]["containers"]]
    assert {(c["image"], c["imagePullPolicy"]) for c in job_containers} == {
        (cluster.images["jobs"], "IfNotPresent")
    }, dump(job_containers)
    assert release.operator_pod()["status"]["phase"] == "Running"
    job_sa = cluster.get(f"/api/v1/namespaces/{namespace}/serviceaccounts/kubedrift-job")
    assert job_sa is not None and job_sa["automountServiceAccountToken"] is False
    assert all(p["spec"]["serviceAccountName"] == "kubedrift-job" for p in pods)

    # Item 5: kstatus-compatible status ...
    check = kube.driftcheck("bikes")
    generation = check["metadata"]["generation"]
    ready = next(c for c in check["status"]["conditions"] if c["type"] == "Ready")
    assert check["status"]["observedGeneration"] == generation and ready["status"] == "True", dump(
        check["status"]
    )
    assert ready["observedGeneration"] == generation
    # ... the operator owns nothing but status ...
    for entry in check["metadata"]["managedFields"]:
        if entry["manager"] == GITOPS_MANAGER:
            assert entry["operation"] == "Apply" and "subresource" not in entry
            continue
        assert entry.get("subresource") == "status" and set(entry["fieldsV1"]) == {"f:status"}, dump(entry)
    assert applied["metadata"]["generation"] == generation
    # ... and syncing the same manifest again changes nothing.
    wait_for(
        lambda: _reapply_is_a_no_op(cluster, kube, namespace, gitops_check(bike_bucket)), "a quiet re-apply"
    )


def _reapply_is_a_no_op(cluster: Cluster, kube: Kube, namespace: str, manifest: dict[str, Any]) -> bool:
    before = kube.driftcheck("bikes")["metadata"]
    after = server_side_apply(cluster, namespace, manifest)["metadata"]
    assert after["generation"] == before["generation"]
    # A status write by the operator between the two reads also moves resourceVersion: try again.
    return bool(after["resourceVersion"] == before["resourceVersion"])


def test_a_readiness_probe_on_a_wrong_path_leaves_the_operator_unready(
    cluster: Cluster, release: Release
) -> None:
    """The probe is the kubelet's: a path the operator does not serve never becomes Ready."""
    release.values["operator"]["readinessProbe"] = {
        "httpGet": {"path": "/not-served", "port": "health"},
        "periodSeconds": 2,
    }
    release.install(wait=False)

    def probe_failed() -> bool:
        events = cluster.api.get(f"/api/v1/namespaces/{release.namespace}/events")["items"]
        return any(
            e["reason"] == "Unhealthy" and "Readiness probe failed" in e.get("message", "") for e in events
        )

    wait_for(probe_failed, "the kubelet to report the failing readiness probe", timeout=180)
    pod = release.operator_pod()
    (status,) = pod["status"]["containerStatuses"]
    assert "running" in status["state"] and status["ready"] is False, dump(pod["status"])
    deployment = cluster.get(f"/apis/apps/v1/namespaces/{release.namespace}/deployments")
    assert deployment is not None
    assert all(not d["status"].get("readyReplicas") for d in deployment["items"]), dump(deployment)
