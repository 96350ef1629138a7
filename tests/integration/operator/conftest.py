"""The operator under test: a separate process, bound to exactly the chart's RBAC rules.

`operator_rbac` creates the operator's ServiceAccount and a ClusterRole made from
charts/kubedrift/files/operator-rbac-rules.yaml (the list the chart renders), and mints
a token for it; `operator` runs `python -m kubedrift operator` with a kubeconfig that
holds only that token. Job pods run `kubedrift check|train|promote-copy` from the jobs image on
the real node, against the S3 server on the host, which the node exposes to them; they reach it
over TLS, trusting its private CA through storage.caBundle, with keys from the Secret.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from tests.cluster.kubeapi import ApiError
from tests.fixtures.cluster import Cluster, wait_for
from tests.fixtures.s3 import S3Server

ROOT = Path(__file__).resolve().parents[3]
RULES = ROOT / "charts" / "kubedrift" / "files" / "operator-rbac-rules.yaml"
BIKES = ROOT / "examples" / "bike-sharing" / "data"
OPERATOR_NAMESPACE = "kubedrift-system"
OPERATOR_SA = "kubedrift-operator"
GROUP_PATH = "/apis/kubedrift.io/v1alpha1"
JSON = dict[str, Any]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def operator_kubeconfig(cluster: Cluster, crds: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A kubeconfig holding only a token of the operator's ServiceAccount, bound to the chart's rules."""
    api = cluster.api
    for path, body in [
        ("/api/v1/namespaces", {"metadata": {"name": OPERATOR_NAMESPACE}}),
        (f"/api/v1/namespaces/{OPERATOR_NAMESPACE}/serviceaccounts", {"metadata": {"name": OPERATOR_SA}}),
        (
            "/apis/rbac.authorization.k8s.io/v1/clusterroles",
            {"metadata": {"name": "kubedrift-operator"}, "rules": yaml.safe_load(RULES.read_text())},
        ),
        (
            "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
            {
                "metadata": {"name": "kubedrift-operator"},
                "roleRef": {
                    "apiGroup": "rbac.authorization.k8s.io",
                    "kind": "ClusterRole",
                    "name": "kubedrift-operator",
                },
                "subjects": [
                    {"kind": "ServiceAccount", "name": OPERATOR_SA, "namespace": OPERATOR_NAMESPACE}
                ],
            },
        ),
    ]:
        try:
            api.post(path, body)
        except ApiError as error:
            if error.status != 409:
                raise
    wait_for(
        lambda: cluster.get(f"/api/v1/namespaces/{OPERATOR_NAMESPACE}/serviceaccounts/{OPERATOR_SA}"),
        "the SA",
    )
    token = api.post(
        f"/api/v1/namespaces/{OPERATOR_NAMESPACE}/serviceaccounts/{OPERATOR_SA}/token",
        {
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenRequest",
            "spec": {"expirationSeconds": 86400},
        },
    )["status"]["token"]
    admin = yaml.safe_load(cluster.kubeconfig.read_text())
    server_cluster = admin["clusters"][0]["cluster"]
    ca = server_cluster.get("certificate-authority")
    if ca and not Path(ca).is_absolute():
        server_cluster = {
            **server_cluster,
            "certificate-authority": str((cluster.kubeconfig.parent / ca).resolve()),
        }
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "local", "cluster": server_cluster}],
        "users": [{"name": OPERATOR_SA, "user": {"token": token}}],
        "contexts": [{"name": "operator", "context": {"cluster": "local", "user": OPERATOR_SA}}],
        "current-context": "operator",
    }
    path = tmp_path_factory.mktemp("operator") / "kubeconfig"
    path.write_text(yaml.safe_dump(config))
    return path


@dataclass
class OperatorProcess:
    kubeconfig: Path
    log_dir: Path
    env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None
    starts: int = 0
    health_port: int = 0
    metrics_port: int = 0

    @property
    def log(self) -> Path:
        return self.log_dir / f"operator-{self.starts}.log"

    def start(self) -> OperatorProcess:
        self.starts += 1
        self.health_port, self.metrics_port = free_port(), free_port()
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("KUBERNETES_")},
            "KUBECONFIG": str(self.kubeconfig),
            # The three source roots (pyproject's pythonpath): the operator under test is this
            # tree's, whatever an editable install of another checkout points at.
            "PYTHONPATH": os.pathsep.join(str(ROOT / d) for d in (".", "operator", "jobs")),
            "KUBEDRIFT_METRICS_PORT": str(self.metrics_port),
            "KUBEDRIFT_RESYNC_SECONDS": "20",
            **self.env,
        }
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "kubedrift",
                    "operator",
                    "-A",
                    "--liveness",
                    f"http://127.0.0.1:{self.health_port}/healthz",
                ],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
            )
        try:
            wait_for(self.healthy, "the operator's liveness endpoint", timeout=60)
        except BaseException:
            self.stop()
            raise
        return self

    def healthy(self) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            raise AssertionError(f"the operator exited with {self.proc.returncode}:\n{self.logs()[-3000:]}")
        try:
            with urllib.request.urlopen(
                f"http://127.0.0.1:{self.health_port}/healthz", timeout=2
            ) as response:
                return bool(response.status == 200)
        except OSError:
            return False

    def metrics(self) -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=5) as response:
            return str(response.read().decode())

    def kill(self) -> None:
        """SIGKILL: no cleanup, no goodbye, like an OOM kill or a node loss."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def crashed(self, timeout: float) -> int:
        """Wait for the operator to exit by itself (an armed crash point); its exit code."""
        assert self.proc is not None
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"the operator did not exit:\n{self.logs()[-3000:]}") from None

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)

    def logs(self) -> str:
        return "".join(p.read_text(errors="replace") for p in sorted(self.log_dir.glob("operator-*.log")))


@pytest.fixture
def operator(cluster: Cluster, operator_kubeconfig: Path, tmp_path: Path) -> Iterator[OperatorProcess]:
    # The jobs image as the node's containerd knows it (the chart's default reference), with the
    # operator's default pull policy (IfNotPresent): the node has it, nothing is pulled.
    env = {"KUBEDRIFT_JOB_IMAGE": cluster.images["jobs"]}
    process = OperatorProcess(operator_kubeconfig, tmp_path, env=env).start()
    try:
        yield process
    finally:
        process.stop()
        logs = process.logs()
        assert "AWS_SECRET_ACCESS_KEY=" not in logs and "kubedrift-test-secret" not in logs


@dataclass(frozen=True)
class BikeData:
    bucket: str
    endpoint: str

    def uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"


@pytest.fixture(scope="session")
def bike_bucket(cluster: Cluster, s3_server: S3Server) -> BikeData:
    bucket = s3_server.create_bucket()
    for path in BIKES.rglob("*.parquet"):
        s3_server.upload(bucket, str(path.relative_to(BIKES)), path)
    # Pods reach the host's S3 server through the node's link to the host (so can this process),
    # over TLS with the server's private CA.
    return BikeData(bucket, s3_server.pod_endpoint(cluster))


S3_CA_CONFIG_MAP, S3_CA_KEY = "s3-ca", "ca.crt"


def create_s3_access(
    cluster: Cluster, namespace: str, server: S3Server, credentials: dict[str, str], secret: str = "s3"
) -> str:
    """What a DriftCheck of bike_check needs to reach the server: the Secret with `credentials` and
    the ConfigMap with the server's CA bundle (storage.caBundle). Returns the Secret's name."""
    core = f"/api/v1/namespaces/{namespace}"
    cluster.api.post(f"{core}/secrets", {"metadata": {"name": secret}, "stringData": credentials})
    if cluster.get(f"{core}/configmaps/{S3_CA_CONFIG_MAP}") is None:
        ca = {"metadata": {"name": S3_CA_CONFIG_MAP}, "data": {S3_CA_KEY: server.ca_pem.decode()}}
        cluster.api.post(f"{core}/configmaps", ca)
    return secret


def termination_messages(pod: JSON) -> list[str]:
    """Every termination message of a pod's containers (init ones included), current and last."""
    status = pod.get("status") or {}
    messages = []
    for container in [*status.get("initContainerStatuses", []), *status.get("containerStatuses", [])]:
        for state in (container.get("state") or {}, container.get("lastState") or {}):
            if message := (state.get("terminated") or {}).get("message"):
                messages.append(message)
    return messages


@pytest.fixture
def s3_secret(cluster: Cluster, namespace: str, s3_server: S3Server) -> str:
    """The Secret `s3` with the root account's keys, and the server's CA bundle beside it."""
    return create_s3_access(cluster, namespace, s3_server, s3_server.env())


def bike_check(
    name: str, data: BikeData, *, grid: JSON | None = None, policy: str = "Auto", **overrides: Any
) -> JSON:
    """The seed's story as a DriftCheck: reference January 2011, current 2012, retrain on drift."""
    spec: JSON = {
        "schedule": "0 3 * * *",
        "reference": {"uri": data.uri("reference.parquet")},
        "current": {"uri": data.uri("2012.parquet")},
        "columns": {"target": "high_demand", "exclude": ["dteday", "casual", "registered", "cnt"]},
        "storage": {
            "reportsUri": data.uri("reports"),
            "endpoint": data.endpoint,
            "region": "us-east-1",
            "secretRef": {"name": "s3"},
            "caBundle": {"configMapRef": {"name": S3_CA_CONFIG_MAP, "key": S3_CA_KEY}},
        },
        "retrain": {
            "trigger": "OnDrift",
            "train": {"uri": data.uri("2011.parquet")},
            "test": {"uri": data.uri("2012.parquet")},
            "model": {"estimator": "RandomForestClassifier", "params": {"n_jobs": 1}},
            "grid": grid if grid is not None else {"n_estimators": [5, 10], "min_samples_split": [2, 16, 64]},
            "metrics": ["avg_prec", "roc_auc"],
            "objective": {"metric": "avg_prec", "goal": "maximize"},
            "parallelism": 2,
        },
        "promotion": {"policy": policy},
    }
    for key, value in overrides.items():
        spec[key] = value
    return {
        "apiVersion": "kubedrift.io/v1alpha1",
        "kind": "DriftCheck",
        "metadata": {"name": name},
        "spec": spec,
    }


class Kube:
    """Reads for the assertions, through the admin API."""

    def __init__(self, cluster: Cluster, namespace: str) -> None:
        self.cluster, self.namespace = cluster, namespace

    def driftcheck(self, name: str) -> JSON:
        return self.cluster.api.get(f"{GROUP_PATH}/namespaces/{self.namespace}/driftchecks/{name}")

    def status(self, name: str) -> JSON:
        return dict(self.driftcheck(name).get("status") or {})

    def condition(self, name: str, type_: str) -> JSON:
        return next((c for c in self.status(name).get("conditions", []) if c["type"] == type_), {})

    def list(self, path: str, selector: str | None = None) -> list[JSON]:
        query = {"labelSelector": selector} if selector else {}
        return list(self.cluster.api.get(path.format(ns=self.namespace), **query)["items"])

    def jobs(self, check: str) -> list[JSON]:
        return self.list("/apis/batch/v1/namespaces/{ns}/jobs", f"kubedrift.io/check={check}")

    def experiments(self, check: str) -> list[JSON]:
        return self.list(GROUP_PATH + "/namespaces/{ns}/experiments", f"kubedrift.io/check={check}")

    def events(self, name: str) -> list[JSON]:
        return [e for e in self.list("/api/v1/namespaces/{ns}/events") if e["involvedObject"]["name"] == name]

    def annotate(self, kind: str, name: str, key: str, value: str) -> None:
        self.cluster.kubectl("annotate", "-n", self.namespace, "--overwrite", kind, name, f"{key}={value}")

    def pod_runs(self) -> list[JSON]:
        return self.cluster.container_runs(self.namespace)


@pytest.fixture
def kube(cluster: Cluster, namespace: str) -> Kube:
    return Kube(cluster, namespace)


def dump(obj: Any) -> str:
    return json.dumps(obj, indent=1, default=str)[:4000]


def scrape_metrics(operator: OperatorProcess, namespace: str, name: str, timeout: float = 60) -> str:
    """The operator's /metrics text once it holds the per-DriftCheck series of `name`: the text a
    Prometheus scrape would store, e.g. to turn into promtool's input series."""

    def holding() -> str | None:
        text = operator.metrics()
        return text if driftcheck_series(text, namespace, name) else None

    return wait_for(holding, f"the series of DriftCheck {namespace}/{name}", timeout=timeout)


def driftcheck_series(metrics: str, namespace: str, name: str) -> dict[str, float]:
    """The per-DriftCheck gauges of one DriftCheck in a /metrics text: metric name to value."""
    series = {}
    for family in text_string_to_metric_families(metrics):
        for sample in family.samples:
            if sample.labels == {"namespace": namespace, "driftcheck": name}:
                series[sample.name] = sample.value
    return series


def wait_status(kube: Kube, name: str, predicate: Any, what: str, timeout: float = 180) -> JSON:
    return wait_for(lambda: (lambda s: s if predicate(s) else None)(kube.status(name)), what, timeout=timeout)


__all__ = [
    "BikeData",
    "Kube",
    "OperatorProcess",
    "bike_check",
    "create_s3_access",
    "driftcheck_series",
    "dump",
    "scrape_metrics",
    "time",
    "wait_status",
]
