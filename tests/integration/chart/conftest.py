"""The chart on the test cluster: real `helm install/upgrade/uninstall`, the operator as a pod.

The real node runs the operator Deployment's pod from the operator image (the chart's default
reference, imported into the node's containerd) with the token of the chart's ServiceAccount, so
every API call the operator makes is authorised by the chart's RBAC and nothing else; its
readiness and liveness probes are the kubelet's.

The CRDs may already exist (installed by other tests' fixtures, or kept by an earlier release):
releases are installed with `--take-ownership`, which is also how a user adopts CRDs applied by hand.
"""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.cluster.kubeapi import ApiError, Credentials, KubeApi
from tests.fixtures.cluster import Cluster, wait_for
from tests.integration.operator.conftest import bike_bucket, kube, s3_secret

__all__ = ["bike_bucket", "kube", "s3_secret"]  # the operator tests' fixtures, reused here

ROOT = Path(__file__).resolve().parents[3]
CHART = ROOT / "charts" / "kubedrift"
RESTRICTED = "pod-security.kubernetes.io/enforce=restricted"


@dataclass
class Release:
    cluster: Cluster
    name: str
    namespace: str
    values: dict[str, Any] = field(default_factory=dict)

    def helm(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [str(self.cluster.helm_path), *args, "--namespace", self.namespace],
            capture_output=True,
            text=True,
            env=self.cluster.env(),
            timeout=300,
            check=False,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"helm {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result

    def _values_file(self, values: dict[str, Any]) -> str:
        path = self.cluster.local.state_dir / f"values-{self.name}-{uuid.uuid4().hex[:6]}.yaml"
        path.write_text(yaml.safe_dump(values))
        return str(path)

    def install(self, chart: Path = CHART, wait: bool = True) -> None:
        self.helm(
            "install",
            self.name,
            str(chart),
            "--take-ownership",
            "-f",
            self._values_file(self.values),
            *(["--wait", "--timeout", "180s"] if wait else []),
        )

    def upgrade(self, chart: Path) -> None:
        self.helm("upgrade", self.name, str(chart), "-f", self._values_file(self.values))

    def uninstall(self) -> None:
        self.helm("uninstall", self.name, "--wait", "--timeout", "120s")

    @property
    def operator_sa(self) -> str:
        return f"system:serviceaccount:{self.namespace}:kubedrift-operator"

    def operator_pod(self) -> dict[str, Any]:
        pods = self.cluster.api.get(
            f"/api/v1/namespaces/{self.namespace}/pods",
            labelSelector=f"app.kubernetes.io/instance={self.name},app.kubernetes.io/component=operator",
        )["items"]
        assert len(pods) == 1, [p["metadata"]["name"] for p in pods]
        return dict(pods[0])

    def operator_logs(self) -> str:
        return self.cluster.pod_logs(self.namespace, self.operator_pod()["metadata"]["name"])

    def operator_api(self) -> KubeApi:
        """The API as the operator's ServiceAccount sees it (a fresh token for it)."""
        token = self.cluster.api.post(
            f"/api/v1/namespaces/{self.namespace}/serviceaccounts/kubedrift-operator/token",
            {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {}},
        )["status"]["token"]
        config = yaml.safe_load(self.cluster.kubeconfig.read_text())["clusters"][0]["cluster"]
        ca = (self.cluster.kubeconfig.parent / config["certificate-authority"]).resolve()
        return KubeApi(Credentials(server=config["server"], ca_cert=ca, token=token))


def release_values(**overrides: Any) -> dict[str, Any]:
    """Values for a test release: a fast resync. The images and their pull policy are the chart's
    defaults, as a user gets them: the node's containerd holds both images under exactly the
    references the chart renders, so `IfNotPresent` runs them without a pull (no registry is
    reachable: a reference the node lacks fails to pull)."""
    values: dict[str, Any] = {"operator": {"resyncSeconds": 20}}
    values.update(overrides)
    return values


def create_namespace(cluster: Cluster, name: str, restricted: bool = True) -> None:
    cluster.api.post("/api/v1/namespaces", {"metadata": {"name": name}})
    if restricted:
        cluster.kubectl("label", "namespace", name, RESTRICTED)
    wait_for(lambda: cluster.get(f"/api/v1/namespaces/{name}/serviceaccounts/default"), "default SA")


@pytest.fixture
def release(cluster: Cluster, crds: str) -> Iterator[Release]:
    """A release (not yet installed) in a fresh namespace that enforces the restricted PSS;
    uninstalled and its namespace deleted afterwards."""
    suffix = uuid.uuid4().hex[:6]
    namespace = f"kd-{suffix}"
    create_namespace(cluster, namespace)
    rel = Release(cluster, f"kd{suffix}", namespace, release_values())
    try:
        yield rel
    finally:
        if rel.helm("status", rel.name, check=False).returncode == 0:
            rel.helm("uninstall", rel.name, "--wait", "--timeout", "120s", check=False)
        try:
            cluster.api.delete(f"/api/v1/namespaces/{namespace}")
        except ApiError as error:
            if error.status != 404:
                raise
