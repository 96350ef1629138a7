"""The kubelet and kube-proxy (built from the pinned k8s.io/kubernetes), inside the node's namespaces.

The kubelet talks to containerd over its socket in the node's /run, reaches the apiserver through
the forwarder on the veth's host side, and serves its own API (logs, exec, port-forward) on the
node's InternalIP with a certificate signed by the cluster CA. It authenticates callers by client
certificate (the apiserver's is signed by the same CA) and authorizes them with the apiserver
(webhook). Our hosts have cgroup v1 only: the kubelet refuses it unless `failCgroupV1: false`.

kube-proxy (iptables mode, in the node's network namespace) makes the `kubernetes` Service work
for pods: 10.0.0.1:443 is rewritten to the apiserver's advertised address, the forwarder.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

from tests.cluster import certs
from tests.cluster.containerd import SOCKET
from tests.cluster.kubeapi import ApiError, KubeApi
from tests.cluster.netns import CLUSTER_CIDR, NodeNamespaces
from tests.cluster.processes import CLUSTER_MARKER, spawn, stop

NODE_NAME = "kubedrift-local"  # tests may pin pods to it
KUBELET_PORT = 10250
# The kubelet binds unix sockets under its root dir (pod-resources, device-plugins, plugins), and a
# socket's path may not exceed 107 bytes: a deep state dir (pytest's tmp_path under a long clone
# path) would break them. So the node sees the state dir's kubelet folder at the kubelet's own
# default path, bind-mounted in its private mount namespace (gone with the node).
KUBELET_ROOT = "/var/lib/kubelet"
READY_TIMEOUT = 120.0


class KubeletError(RuntimeError):
    pass


@dataclass(frozen=True)
class NodeConfig:
    binaries_dir: Path
    state_dir: Path
    apiserver_url: str  # as seen from inside the node (the forwarder)
    ca_cert: Path
    cgroup_root: str  # e.g. /kubedrift-<id>, created beforehand (cgroups.create_root)
    node_ip: str


class NodeComponents:
    def __init__(self, config: NodeConfig, node: NodeNamespaces, node_certs: certs.NodeCertFiles) -> None:
        self.config = config
        self.node = node
        self.certs = node_certs
        self.dir = config.state_dir / "node"
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    def log(self, component: str) -> Path:
        return self.config.state_dir / "logs" / f"{component}.log"

    def start(self) -> None:
        self._start_kubelet()
        self._start_kube_proxy()

    def stop(self) -> None:
        for name in reversed(list(self.processes)):
            stop(self.processes.pop(name), grace_seconds=5)

    def wait_until_ready(self, api: KubeApi, timeout: float = READY_TIMEOUT) -> None:
        """The Node is registered and Ready (containerd answered, CNI configured) and kube-proxy synced."""

        def ready() -> bool:
            try:
                node = api.get(f"/api/v1/nodes/{NODE_NAME}")
            except (ApiError, OSError):
                return False
            conditions = node.get("status", {}).get("conditions", [])
            return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)

        self._wait(ready, "the node to be Ready", timeout)
        self._wait(self._proxy_synced, "kube-proxy's rules for the kubernetes Service", timeout)

    def _proxy_synced(self) -> bool:
        try:
            rules = self.node.run(["iptables-save", "-t", "nat"])
        except RuntimeError:
            return False
        return "default/kubernetes:https cluster IP" in rules

    def _spawn(self, name: str, argv: list[str]) -> None:
        env = {
            "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            CLUSTER_MARKER: str(self.config.state_dir),
        }
        self.processes[name] = spawn(self.node.command(argv), env=env, log=self.log(name))

    def _kubeconfig(self, name: str, cert: Path, key: Path) -> Path:
        path = self.dir / f"{name}.kubeconfig"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(kubeconfig(self.config.apiserver_url, self.config.ca_cert, cert, key)))
        path.chmod(0o600)
        return path

    def _start_kubelet(self) -> None:
        on_disk = self.dir / "kubelet"
        on_disk.mkdir(parents=True, exist_ok=True)
        Path(KUBELET_ROOT).mkdir(parents=True, exist_ok=True)  # a mount point needs a directory
        self.node.run(["mount", "--bind", str(on_disk), KUBELET_ROOT])
        root = Path(KUBELET_ROOT)
        kubeconfig_path = self._kubeconfig(
            "kubelet", self.certs.kubelet_client_cert, self.certs.kubelet_client_key
        )
        config_path = self.dir / "kubelet-config.yaml"
        config_path.write_text(yaml.safe_dump(self._kubelet_config(root)))
        self._spawn(
            "kubelet",
            [
                str(self.config.binaries_dir / "kubelet"),
                f"--config={config_path}",
                f"--kubeconfig={kubeconfig_path}",
                f"--root-dir={root}",
                f"--hostname-override={NODE_NAME}",
                f"--node-ip={self.config.node_ip}",
                "--v=2",
            ],
        )

    def _kubelet_config(self, root: Path) -> dict[str, object]:
        return {
            "apiVersion": "kubelet.config.k8s.io/v1beta1",
            "kind": "KubeletConfiguration",
            "failCgroupV1": False,  # our hosts have cgroup v1 only
            "cgroupDriver": "cgroupfs",
            "cgroupRoot": self.config.cgroup_root,
            "containerRuntimeEndpoint": f"unix://{SOCKET}",
            "address": self.config.node_ip,
            "port": KUBELET_PORT,
            "readOnlyPort": 0,
            "healthzBindAddress": "127.0.0.1",
            "tlsCertFile": str(self.certs.kubelet_serving_cert),
            "tlsPrivateKeyFile": str(self.certs.kubelet_serving_key),
            "authentication": {
                "anonymous": {"enabled": False},
                "webhook": {"enabled": True},
                "x509": {"clientCAFile": str(self.config.ca_cert)},
            },
            "authorization": {"mode": "Webhook"},
            "clusterDomain": "cluster.local",
            "resolvConf": "",  # there is no DNS in the node; pods get an empty resolv.conf
            "failSwapOn": False,
            "podLogsDir": str(self.dir / "pod-logs"),
            # A test machine's disk is shared: evict only when it is really full, never collect
            # the images the tests imported (they cannot be pulled again).
            "evictionHard": {
                "memory.available": "100Mi",
                "nodefs.available": "1%",
                "imagefs.available": "1%",
                "nodefs.inodesFree": "1%",
            },
            "imageGCHighThresholdPercent": 100,
            "imageGCLowThresholdPercent": 99,
            "serializeImagePulls": False,
            # Report faster than the defaults so tests see status changes quickly.
            "nodeStatusUpdateFrequency": "5s",
            "syncFrequency": "10s",
            "fileCheckFrequency": "5s",
        }

    def _start_kube_proxy(self) -> None:
        kubeconfig_path = self._kubeconfig(
            "kube-proxy", self.certs.kube_proxy_cert, self.certs.kube_proxy_key
        )
        config_path = self.dir / "kube-proxy-config.yaml"
        config_path.write_text(
            yaml.safe_dump(
                {
                    "apiVersion": "kubeproxy.config.k8s.io/v1alpha1",
                    "kind": "KubeProxyConfiguration",
                    "clientConnection": {"kubeconfig": str(kubeconfig_path)},
                    "hostnameOverride": NODE_NAME,
                    "mode": "iptables",
                    "clusterCIDR": CLUSTER_CIDR,
                    "metricsBindAddress": "127.0.0.1:10249",
                    "healthzBindAddress": "127.0.0.1:10256",
                    # Conntrack limits and timeouts are host-wide sysctls: leave them alone.
                    "conntrack": {
                        "maxPerCore": 0,
                        "min": 0,
                        "tcpEstablishedTimeout": "0s",
                        "tcpCloseWaitTimeout": "0s",
                    },
                    "iptables": {"localhostNodePorts": False},
                }
            )
        )
        self._spawn(
            "kube-proxy", [str(self.config.binaries_dir / "kube-proxy"), f"--config={config_path}", "--v=1"]
        )

    def _wait(self, ready: Callable[[], bool], what: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not ready():
            for name, process in self.processes.items():
                if process.poll() is not None:
                    raise KubeletError(
                        f"{name} exited with {process.returncode} while waiting for {what}:\n"
                        + _tail(self.log(name))
                    )
            if time.monotonic() > deadline:
                raise KubeletError(f"timed out waiting for {what}; logs in {self.config.state_dir / 'logs'}")
            time.sleep(0.25)


def kubeconfig(server: str, ca_cert: Path, cert: Path, key: Path) -> dict[str, object]:
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": "kubedrift-test", "cluster": {"server": server, "certificate-authority": str(ca_cert)}}
        ],
        "users": [{"name": "user", "user": {"client-certificate": str(cert), "client-key": str(key)}}],
        "contexts": [{"name": "kubedrift-test", "context": {"cluster": "kubedrift-test", "user": "user"}}],
        "current-context": "kubedrift-test",
    }


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
