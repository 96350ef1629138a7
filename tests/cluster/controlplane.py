"""etcd, kube-apiserver, kube-controller-manager and kube-scheduler on loopback, started and
stopped as one unit.

The apiserver is configured for the real node's kubelet (realnode.py): it advertises the node's
gateway address (where a forwarder leads back to loopback, see forwarder.py) as the `kubernetes`
Service's endpoint, authorizes kubelets with the Node authorizer and calls their API with a client
certificate signed by the cluster CA.

Everything lives in one state directory (certs, etcd data, logs, kubeconfig); ports are free ports
picked at start, so several clusters (one per engineer's test run) can share a machine.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import urllib3
import yaml

from tests.cluster import certs
from tests.cluster.binaries import Binaries
from tests.cluster.kubeapi import ApiError, Credentials, KubeApi
from tests.cluster.kubelet import NODE_NAME, kubeconfig
from tests.cluster.netns import NodeAddresses
from tests.cluster.processes import CLUSTER_MARKER, spawn, stop

STARTUP_TIMEOUT = 120.0  # generous: a loaded 2-core machine can be slow, a normal start takes ~10 s
SERVICE_CLUSTER_IP_RANGE = "10.0.0.0/24"


class ControlPlaneError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class ControlPlane:
    binaries: Binaries
    state_dir: Path
    node_addresses: NodeAddresses  # the real node's link (netns.py)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    apiserver_port: int = 0

    @property
    def kubeconfig(self) -> Path:
        return self.state_dir / "kubeconfig"

    @property
    def server(self) -> str:
        return f"https://127.0.0.1:{self.apiserver_port}"

    @property
    def cert_files(self) -> certs.CertFiles:
        return certs.cert_files(self.state_dir / "pki")

    def log(self, component: str) -> Path:
        return self.state_dir / "logs" / f"{component}.log"

    def admin_api(self, timeout: float = 30.0) -> KubeApi:
        files = self.cert_files
        return KubeApi(
            Credentials(self.server, files.ca_cert, files.admin_cert, files.admin_key), timeout=timeout
        )

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        """Start all components and wait until the cluster can run pods; stop all on failure."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        node = self.node_addresses
        files = certs.generate(self.state_dir / "pki", extra_serving_ips=(node.host_ip,))
        certs.generate_node(self.state_dir / "pki", NODE_NAME, node.node_ip)
        deadline = time.monotonic() + STARTUP_TIMEOUT
        try:
            etcd_url = self._start_etcd()
            self._wait_for_etcd(etcd_url, deadline)
            self._start_apiserver(etcd_url, files)
            self._write_kubeconfig(files)
            api = self.admin_api(timeout=10)
            self._wait(lambda: _ok(api, "/readyz"), "kube-apiserver", deadline)
            self._start_controller_manager(files)
            # Pods are rejected until their namespace's default ServiceAccount exists, and their
            # ca.crt comes from the kube-root-ca.crt ConfigMap: both mean the controllers work.
            self._wait(
                lambda: _ok(api, "/api/v1/namespaces/default/serviceaccounts/default"),
                "kube-controller-manager (default ServiceAccount)",
                deadline,
            )
            self._wait(
                lambda: _ok(api, "/api/v1/namespaces/default/configmaps/kube-root-ca.crt"),
                "kube-controller-manager (kube-root-ca.crt)",
                deadline,
            )
            self._start_scheduler()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        # Reverse start order: the controller manager and apiserver shut down cleanly while etcd is up.
        for name in reversed(list(self.processes)):
            stop(self.processes.pop(name), grace_seconds=10)

    # -- components --------------------------------------------------------------------------

    def _spawn(self, name: str, argv: list[str]) -> None:
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), CLUSTER_MARKER: str(self.state_dir)}
        self.processes[name] = spawn(argv, env=env, log=self.log(name), cwd=self.state_dir)

    def _start_etcd(self) -> str:
        client, peer = free_port(), free_port()
        client_url, peer_url = f"http://127.0.0.1:{client}", f"http://127.0.0.1:{peer}"
        self._spawn(
            "etcd",
            [
                str(self.binaries.etcd),
                "--name=default",
                f"--data-dir={self.state_dir / 'etcd'}",
                f"--listen-client-urls={client_url}",
                f"--advertise-client-urls={client_url}",
                f"--listen-peer-urls={peer_url}",
                f"--initial-advertise-peer-urls={peer_url}",
                f"--initial-cluster=default={peer_url}",
                # Test data is throwaway: skipping fsync makes every write much faster on a busy disk.
                "--unsafe-no-fsync",
                "--log-level=warn",
            ],
        )
        return client_url

    def _wait_for_etcd(self, url: str, deadline: float) -> None:
        def healthy() -> bool:
            try:
                with urllib.request.urlopen(url + "/health", timeout=2) as response:
                    return b'"true"' in response.read()
            except OSError:
                return False

        self._wait(healthy, "etcd", deadline)

    def _start_apiserver(self, etcd_url: str, files: certs.CertFiles) -> None:
        self.apiserver_port = free_port()
        self._spawn("kube-apiserver", self._apiserver_argv(etcd_url, files))

    def _apiserver_argv(self, etcd_url: str, files: certs.CertFiles) -> list[str]:
        node = certs.node_cert_files(self.state_dir / "pki")
        return [
            str(self.binaries.kube_apiserver),
            f"--etcd-servers={etcd_url}",
            "--bind-address=127.0.0.1",
            f"--advertise-address={self.node_addresses.host_ip}",
            f"--secure-port={self.apiserver_port}",
            f"--cert-dir={self.state_dir / 'pki'}",
            f"--tls-cert-file={files.serving_cert}",
            f"--tls-private-key-file={files.serving_key}",
            f"--client-ca-file={files.ca_cert}",
            "--authorization-mode=Node,RBAC",
            "--service-account-issuer=https://kubernetes.default.svc",
            f"--service-account-key-file={files.service_account_public_key}",
            f"--service-account-signing-key-file={files.service_account_key}",
            f"--service-cluster-ip-range={SERVICE_CLUSTER_IP_RANGE}",
            # Pods reach the apiserver through the `kubernetes` Service: it leads to the advertised address.
            "--endpoint-reconciler-type=lease",
            "--allow-privileged=true",
            "--enable-admission-plugins=NodeRestriction",
            f"--kubelet-client-certificate={node.apiserver_kubelet_client_cert}",
            f"--kubelet-client-key={node.apiserver_kubelet_client_key}",
            f"--kubelet-certificate-authority={self.cert_files.ca_cert}",
            "--kubelet-preferred-address-types=InternalIP",
            "--v=1",
        ]

    def _start_scheduler(self) -> None:
        node = certs.node_cert_files(self.state_dir / "pki")
        path = self.state_dir / "scheduler.kubeconfig"
        path.write_text(
            yaml.safe_dump(
                kubeconfig(self.server, self.cert_files.ca_cert, node.scheduler_cert, node.scheduler_key)
            )
        )
        path.chmod(0o600)
        self._spawn(
            "kube-scheduler",
            [
                str(self.binaries.kube_scheduler),
                f"--kubeconfig={path}",
                f"--authentication-kubeconfig={path}",
                f"--authorization-kubeconfig={path}",
                "--bind-address=127.0.0.1",
                f"--secure-port={free_port()}",
                "--leader-elect=false",
                "--v=1",
            ],
        )

    def _start_controller_manager(self, files: certs.CertFiles) -> None:
        self._spawn(
            "kube-controller-manager",
            [
                str(self.binaries.kube_controller_manager),
                f"--kubeconfig={self.kubeconfig}",
                f"--authentication-kubeconfig={self.kubeconfig}",
                f"--authorization-kubeconfig={self.kubeconfig}",
                "--bind-address=127.0.0.1",
                f"--secure-port={free_port()}",
                "--controllers=*",  # all default controllers: job, cronjob, garbage-collector, namespace, ...
                "--leader-elect=false",
                f"--service-account-private-key-file={files.service_account_key}",
                f"--root-ca-file={files.ca_cert}",
                f"--cluster-signing-cert-file={files.ca_cert}",
                f"--cluster-signing-key-file={files.ca_key}",
                f"--service-cluster-ip-range={SERVICE_CLUSTER_IP_RANGE}",
                "--use-service-account-credentials=false",
                "--v=1",
            ],
        )

    def _write_kubeconfig(self, files: certs.CertFiles) -> None:
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": "kubedrift-test",
                    "cluster": {"server": self.server, "certificate-authority": str(files.ca_cert)},
                }
            ],
            "users": [
                {
                    "name": "admin",
                    "user": {"client-certificate": str(files.admin_cert), "client-key": str(files.admin_key)},
                }
            ],
            "contexts": [
                {
                    "name": "kubedrift-test",
                    "context": {"cluster": "kubedrift-test", "user": "admin", "namespace": "default"},
                }
            ],
            "current-context": "kubedrift-test",
        }
        self.kubeconfig.write_text(yaml.safe_dump(config, sort_keys=False))
        self.kubeconfig.chmod(0o600)

    def _wait(self, ready: Callable[[], bool], what: str, deadline: float) -> None:
        while not ready():
            for name, process in self.processes.items():
                if process.poll() is not None:
                    raise ControlPlaneError(
                        f"{name} exited with {process.returncode} while waiting for {what}:\n"
                        + _tail(self.log(name))
                    )
            if time.monotonic() > deadline:
                raise ControlPlaneError(f"timed out waiting for {what}; logs in {self.state_dir / 'logs'}")
            time.sleep(0.2)


def _ok(api: KubeApi, path: str) -> bool:
    try:
        api.get_text(path)
    except (ApiError, OSError, urllib3.exceptions.HTTPError):
        return False
    return True


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
