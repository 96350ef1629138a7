"""Issue 2, items 5-7, on the real node: garbage collection, RBAC from inside a pod, namespace
deletion, volumes and environment, termination messages."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.cluster import Cluster, wait_for
from tests.integration.manifests import container, driftcheck, job, owner_reference, pod

pytestmark = pytest.mark.cluster


def _running(cluster: Cluster, namespace: str, name: str | None = None, selector: str = "") -> bool:
    """Whether a container of the pod (named, or matching the selector) is running."""
    pods = cluster.api.get(f"/api/v1/namespaces/{namespace}/pods", labelSelector=selector)["items"]
    return any(
        "running" in status["state"]
        for item in pods
        if not name or item["metadata"]["name"] == name
        for status in item.get("status", {}).get("containerStatuses") or []
    )


def test_deleting_the_parent_collects_its_configmap_and_job_and_stops_the_container(
    cluster: Cluster, crds: str, namespace: str
) -> None:
    parent = cluster.api.post(
        f"/apis/kubedrift.io/v1alpha1/namespaces/{namespace}/driftchecks", driftcheck("parent")
    )
    owner = owner_reference(parent)
    cluster.api.post(
        f"/api/v1/namespaces/{namespace}/configmaps",
        {"metadata": {"name": "owned", "ownerReferences": [owner]}},
    )
    cluster.api.post(f"/apis/batch/v1/namespaces/{namespace}/jobs", job("owned", "sleep 600", owner=owner))
    wait_for(lambda: _running(cluster, namespace, selector="job-name=owned"), "the Job's container to run")

    cluster.api.delete(f"/apis/kubedrift.io/v1alpha1/namespaces/{namespace}/driftchecks/parent")

    wait_for(lambda: cluster.get(f"/api/v1/namespaces/{namespace}/configmaps/owned") is None, "ConfigMap GC")
    wait_for(lambda: cluster.get(f"/apis/batch/v1/namespaces/{namespace}/jobs/owned") is None, "Job GC")
    # The pod object goes only once the kubelet has stopped its containers.
    wait_for(lambda: not cluster.api.get(f"/api/v1/namespaces/{namespace}/pods")["items"], "the pod to go")


RBAC_PROBE = textwrap.dedent(
    """
    from kubernetes import client, config
    from kubernetes.client.exceptions import ApiException

    config.load_incluster_config()  # the token, ca.crt and namespace at the standard paths
    namespace = open("/var/run/secrets/kubernetes.io/serviceaccount/namespace").read()
    api = client.CoreV1Api()

    def status(call):
        try:
            call()
            return 200
        except ApiException as error:
            print(error.body)
            return error.status

    get_configmap = status(lambda: api.read_namespaced_config_map("settings", namespace))
    list_secrets = status(lambda: api.list_namespaced_secret(namespace))
    with open("/dev/termination-log", "w") as message:
        message.write(f"get-configmap={get_configmap} list-secrets={list_secrets}")
    """
)


def test_a_pod_gets_exactly_the_rights_of_its_service_account(cluster: Cluster, namespace: str) -> None:
    core = f"/api/v1/namespaces/{namespace}"
    cluster.api.post(f"{core}/serviceaccounts", {"metadata": {"name": "reader"}})
    cluster.api.post(f"{core}/configmaps", {"metadata": {"name": "settings"}, "data": {"a": "1"}})
    cluster.api.post(f"{core}/secrets", {"metadata": {"name": "hidden"}, "stringData": {"b": "2"}})
    rbac = f"/apis/rbac.authorization.k8s.io/v1/namespaces/{namespace}"
    cluster.api.post(
        f"{rbac}/roles",
        {
            "metadata": {"name": "read-configmaps"},
            "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}],
        },
    )
    cluster.api.post(
        f"{rbac}/rolebindings",
        {
            "metadata": {"name": "reader-reads-configmaps"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "read-configmaps"},
            "subjects": [{"kind": "ServiceAccount", "name": "reader", "namespace": namespace}],
        },
    )
    probe = pod("probe", "", serviceAccountName="reader")
    # The operator image has Python and the official Kubernetes client.
    probe["spec"]["containers"][0].update(
        image=cluster.images["operator"], command=["python", "-c", RBAC_PROBE]
    )
    cluster.api.post(f"{core}/pods", probe)

    def finished() -> dict[str, Any] | None:
        found = cluster.get(f"{core}/pods/probe")
        return found if found and found["status"].get("phase") in ("Succeeded", "Failed") else None

    result = wait_for(finished, "the probe pod to finish")
    terminated = result["status"]["containerStatuses"][0]["state"]["terminated"]
    assert result["status"]["phase"] == "Succeeded", cluster.pod_logs(namespace, "probe")
    assert terminated["message"] == "get-configmap=200 list-secrets=403"
    assert f"system:serviceaccount:{namespace}:reader" in cluster.pod_logs(namespace, "probe")


def test_deleting_a_namespace_with_a_running_pod_completes(cluster: Cluster) -> None:
    name = f"doomed-{os.urandom(3).hex()}"
    cluster.api.post("/api/v1/namespaces", {"metadata": {"name": name}})
    wait_for(
        lambda: cluster.get(f"/api/v1/namespaces/{name}/serviceaccounts/default"), "default ServiceAccount"
    )
    cluster.api.post(f"/api/v1/namespaces/{name}/pods", pod("sleeper", "sleep 600"))
    wait_for(lambda: _running(cluster, name, "sleeper"), "the pod to run")

    cluster.api.delete(f"/api/v1/namespaces/{name}")

    # Namespace deletion waits for its pods, which go once the kubelet has stopped them.
    wait_for(lambda: cluster.get(f"/api/v1/namespaces/{name}") is None, "the namespace to be deleted")


def test_a_pod_sees_its_volumes_and_environment_at_the_paths_its_spec_names(
    cluster: Cluster, namespace: str
) -> None:
    core = f"/api/v1/namespaces/{namespace}"
    cluster.api.post(f"{core}/configmaps", {"metadata": {"name": "cfg"}, "data": {"mode": "fast", "x": "1"}})
    cluster.api.post(f"{core}/secrets", {"metadata": {"name": "creds"}, "stringData": {"key": "s3cr3t"}})
    script = (
        'echo "$MODE $KEY $POD $GREETING $x"; '
        'for f in /etc/cfg/mode /etc/creds/key /etc/info/labels; do echo "$(cat $f)"; done; '
        "ls /scratch; echo init-said: $(cat /scratch/from-init)"
    )
    spec = pod("volumes", script)
    spec["metadata"]["labels"] = {"team": "ml"}
    main = spec["spec"]["containers"][0]
    main["env"] = [
        {"name": "MODE", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "mode"}}},
        {"name": "KEY", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "key"}}},
        {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        {"name": "GREETING", "value": "hello-$(POD)"},
    ]
    main["envFrom"] = [{"configMapRef": {"name": "cfg"}}]
    main["volumeMounts"] = [
        {"name": "cfg", "mountPath": "/etc/cfg"},
        {"name": "creds", "mountPath": "/etc/creds", "readOnly": True},
        {"name": "info", "mountPath": "/etc/info"},
        {"name": "scratch", "mountPath": "/scratch"},
    ]
    spec["spec"]["initContainers"] = [
        container(
            "init",
            "echo ready > /scratch/from-init",
            volumeMounts=[{"name": "scratch", "mountPath": "/scratch"}],
        )
    ]
    spec["spec"]["volumes"] = [
        {"name": "cfg", "configMap": {"name": "cfg"}},
        {"name": "creds", "secret": {"secretName": "creds"}},
        {
            "name": "info",
            "downwardAPI": {"items": [{"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}}]},
        },
        {"name": "scratch", "emptyDir": {}},
    ]
    cluster.api.post(f"{core}/pods", spec)

    def finished() -> dict[str, Any] | None:
        found = cluster.get(f"{core}/pods/volumes")
        return found if found and found["status"].get("phase") in ("Succeeded", "Failed") else None

    result = wait_for(finished, "the pod to finish")
    logs = cluster.pod_logs(namespace, "volumes", "main")
    assert result["status"]["phase"] == "Succeeded", logs
    assert logs.splitlines() == [
        "fast s3cr3t volumes hello-volumes 1",
        "fast",
        "s3cr3t",
        'team="ml"',
        "from-init",
        "init-said: ready",
    ]
    assert result["status"]["initContainerStatuses"][0]["state"]["terminated"]["reason"] == "Completed"
    assert not Path("/etc/cfg/mode").exists()  # the mounts were the container's own


def test_a_failing_container_reports_its_log_tail_when_asked(cluster: Cluster, namespace: str) -> None:
    failing = pod("failing", "echo first; echo 'it broke' >&2; exit 3")
    failing["spec"]["containers"][0]["terminationMessagePolicy"] = "FallbackToLogsOnError"
    cluster.api.post(f"/api/v1/namespaces/{namespace}/pods", failing)

    def failed() -> dict[str, Any] | None:
        found = cluster.get(f"/api/v1/namespaces/{namespace}/pods/failing")
        return found if found and found["status"].get("phase") == "Failed" else None

    terminated = wait_for(failed, "the pod to fail")["status"]["containerStatuses"][0]["state"]["terminated"]
    assert (terminated["exitCode"], terminated["reason"]) == (3, "Error")
    # The log's tail, as the kubelet reads it: both streams. Their order is the order containerd
    # copied two pipes in, which no runtime promises for lines written microseconds apart.
    assert sorted(terminated["message"].splitlines()) == ["first", "it broke"], terminated["message"]
    cluster.api.delete(f"/api/v1/namespaces/{namespace}/pods/failing")
    wait_for(
        lambda: cluster.get(f"/api/v1/namespaces/{namespace}/pods/failing") is None, "the pod to be deleted"
    )
