"""The kubelet stand-in: one Ready node that binds pending pods to itself and runs them locally.

What it does: registers the Node and renews its Lease (so the node-lifecycle controller never
marks it NotReady), binds every unscheduled pod (it is also the scheduler), and hands each pod to
a PodWorker (podworker.py) that runs its containers' commands as local processes, in private
mount namespaces, and reports status as a kubelet does.

What it does not do: pull images (the command runs with this project's Python environment on
PATH), networking (no pod IPs, no Services: pods reach the apiserver on 127.0.0.1), probes,
resource limits, sidecar init containers, or syncing ConfigMap changes into running pods.
"""

from __future__ import annotations

import datetime
import logging
import os
import sys
import threading
from pathlib import Path

from tests.cluster import sandbox
from tests.cluster.kubeapi import JSON, ApiError, KubeApi
from tests.cluster.podworker import NodeContext, PodWorker
from tests.cluster.processes import CLUSTER_MARKER

log = logging.getLogger(__name__)

NODE_NAME = "kubedrift-local"
LEASE_SECONDS = 40
RENEW_SECONDS = 10
WATCH_SECONDS = 5  # short watches, so stop() is never stuck behind a long poll
PROJECT_ROOT = Path(__file__).resolve().parents[2]
TERMINAL_PHASES = ("Succeeded", "Failed")


def _micro_time() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def pod_environment_base(cluster_marker: str) -> dict[str, str]:
    """What every container starts from: this project's Python first on PATH, the project importable."""
    python_bin = str(Path(sys.executable).parent)
    return {
        "PATH": f"{python_bin}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME": "/root",
        "PYTHONPATH": str(PROJECT_ROOT),
        CLUSTER_MARKER: cluster_marker,
    }


def service_environment(apiserver_port: int) -> dict[str, str]:
    # A kubelet derives these from the `kubernetes` Service; with no Service network, they point at loopback.
    return {
        "KUBERNETES_SERVICE_HOST": "127.0.0.1",
        "KUBERNETES_SERVICE_PORT": str(apiserver_port),
        "KUBERNETES_SERVICE_PORT_HTTPS": str(apiserver_port),
        "KUBERNETES_PORT": f"tcp://127.0.0.1:{apiserver_port}",
    }


class NodeAgent:
    def __init__(self, api: KubeApi, state_dir: Path, apiserver_port: int) -> None:
        sandbox.check_available()
        self.api = api
        self.node = NodeContext(
            api=api,
            pods_dir=state_dir / "pods",
            base_env=pod_environment_base(str(state_dir)),
            service_env=service_environment(apiserver_port),
        )
        self.node.pods_dir.mkdir(parents=True, exist_ok=True)
        self.workers: dict[str, PodWorker] = {}
        self.bound: set[str] = set()
        self.force_deleted: set[str] = set()
        self.stopping = threading.Event()
        self.threads = [
            threading.Thread(target=self._renew_lease_forever, name="node-lease", daemon=True),
            threading.Thread(target=self._watch_pods_forever, name="node-pods", daemon=True),
        ]

    @property
    def pods_dir(self) -> Path:
        return self.node.pods_dir

    def start(self) -> None:
        self._register_node()
        self._renew_lease()
        for thread in self.threads:
            thread.start()

    def stop(self, grace_seconds: float = 2.0) -> None:
        """Stop watching, then stop every pod's processes (short grace: the cluster is going away)."""
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=WATCH_SECONDS + 5)
        for worker in list(self.workers.values()):
            worker.gone.set()  # the apiserver may already be gone; do not report
            worker.request_deletion(grace_seconds)
        for worker in list(self.workers.values()):
            worker.join(timeout=grace_seconds + 10)

    # -- node and lease ----------------------------------------------------------------------

    def _register_node(self) -> None:
        node: JSON = {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "name": NODE_NAME,
                "labels": {
                    "kubernetes.io/hostname": NODE_NAME,
                    "kubernetes.io/os": "linux",
                    "kubernetes.io/arch": "amd64",
                },
            },
        }
        try:
            self.api.post("/api/v1/nodes", node)
        except ApiError as error:
            if error.status != 409:
                raise
        capacity = {
            "cpu": str(os.cpu_count() or 2),
            "memory": "8Gi",
            "pods": "110",
            "ephemeral-storage": "20Gi",
        }
        now = _micro_time().split(".")[0] + "Z"
        conditions = [
            {
                "type": kind,
                "status": "False",
                "reason": f"KubeletHas{reason}",
                "lastHeartbeatTime": now,
                "lastTransitionTime": now,
            }
            for kind, reason in (
                ("MemoryPressure", "SufficientMemory"),
                ("DiskPressure", "NoDiskPressure"),
                ("PIDPressure", "SufficientPID"),
            )
        ] + [
            {
                "type": "Ready",
                "status": "True",
                "reason": "KubeletReady",
                "message": "kubedrift node agent",
                "lastHeartbeatTime": now,
                "lastTransitionTime": now,
            }
        ]
        self.api.merge_patch(
            f"/api/v1/nodes/{NODE_NAME}/status",
            {
                "status": {
                    "capacity": capacity,
                    "allocatable": capacity,
                    "conditions": conditions,
                    "addresses": [
                        {"type": "InternalIP", "address": "127.0.0.1"},
                        {"type": "Hostname", "address": NODE_NAME},
                    ],
                    "nodeInfo": {
                        "kubeletVersion": "kubedrift-node-agent",
                        "operatingSystem": "linux",
                        "architecture": "amd64",
                        "containerRuntimeVersion": "kubedrift-local://0",
                        "kernelVersion": os.uname().release,
                        "osImage": "local",
                        "kubeProxyVersion": "",
                        "machineID": "",
                        "systemUUID": "",
                        "bootID": "",
                    },
                }
            },
        )

    def _renew_lease(self) -> None:
        path = f"/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/{NODE_NAME}"
        spec = {
            "holderIdentity": NODE_NAME,
            "leaseDurationSeconds": LEASE_SECONDS,
            "renewTime": _micro_time(),
        }
        try:
            self.api.merge_patch(path, {"spec": spec})
        except ApiError as error:
            if error.status != 404:
                raise
            self.api.post(
                path.rsplit("/", 1)[0],
                {
                    "apiVersion": "coordination.k8s.io/v1",
                    "kind": "Lease",
                    "metadata": {"name": NODE_NAME, "namespace": "kube-node-lease"},
                    "spec": spec,
                },
            )

    def _renew_lease_forever(self) -> None:
        while not self.stopping.wait(RENEW_SECONDS):
            try:
                self._renew_lease()
            except Exception as error:
                log.warning("lease renewal failed: %s", error)

    # -- pods --------------------------------------------------------------------------------

    def _watch_pods_forever(self) -> None:
        resource_version = ""
        while not self.stopping.is_set():
            try:
                if not resource_version:
                    listing = self.api.get("/api/v1/pods")
                    for pod in listing["items"]:
                        self._observe(pod, deleted=False)
                    resource_version = listing["metadata"]["resourceVersion"]
                for event in self.api.watch("/api/v1/pods", resource_version, WATCH_SECONDS):
                    if event["type"] == "ERROR":  # typically 410 Gone: list again
                        resource_version = ""
                        break
                    resource_version = event["object"]["metadata"]["resourceVersion"]
                    if event["type"] != "BOOKMARK":
                        self._observe(event["object"], deleted=event["type"] == "DELETED")
            except Exception as error:
                if not self.stopping.is_set():
                    log.warning("pod watch failed, listing again: %s", error)
                    resource_version = ""
                    self.stopping.wait(0.5)

    def _observe(self, pod: JSON, *, deleted: bool) -> None:
        meta, spec = pod["metadata"], pod["spec"]
        uid = meta["uid"]
        if not spec.get("nodeName"):
            if not deleted and "deletionTimestamp" not in meta and not spec.get("schedulingGates"):
                self._bind(pod)
            return
        if spec["nodeName"] != NODE_NAME:
            return
        worker = self.workers.get(uid)
        if deleted:
            if worker is not None:
                worker.gone.set()
                worker.request_deletion(0)
            return
        phase = pod.get("status", {}).get("phase")
        if "deletionTimestamp" in meta:
            if worker is not None and worker.is_alive():
                worker.request_deletion(meta.get("deletionGracePeriodSeconds"))
            elif uid not in self.force_deleted:  # finished (or never run here): nothing left to stop
                self.force_deleted.add(uid)
                self._force_delete(pod)
            return
        if worker is None and phase not in TERMINAL_PHASES:
            worker = PodWorker(self.node, pod)
            self.workers[uid] = worker
            worker.start()

    def _bind(self, pod: JSON) -> None:
        meta = pod["metadata"]
        if meta["uid"] in self.bound:
            return
        self.bound.add(meta["uid"])
        binding = {
            "apiVersion": "v1",
            "kind": "Binding",
            "metadata": {"name": meta["name"], "namespace": meta["namespace"], "uid": meta["uid"]},
            "target": {"apiVersion": "v1", "kind": "Node", "name": NODE_NAME},
        }
        try:
            self.api.post(f"/api/v1/namespaces/{meta['namespace']}/pods/{meta['name']}/binding", binding)
        except ApiError as error:
            if error.status not in (404, 409):
                log.warning("binding %s/%s failed: %s", meta["namespace"], meta["name"], error)
                self.bound.discard(meta["uid"])

    def _force_delete(self, pod: JSON) -> None:
        meta = pod["metadata"]
        try:
            self.api.delete(
                f"/api/v1/namespaces/{meta['namespace']}/pods/{meta['name']}",
                {"gracePeriodSeconds": 0, "preconditions": {"uid": meta["uid"]}},
            )
        except ApiError as error:
            if error.status not in (404, 409):
                log.warning("force delete %s/%s failed: %s", meta["namespace"], meta["name"], error)
