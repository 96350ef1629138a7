"""The real node: kubelet, kube-proxy and containerd in namespaces of their own, as one unit.

Start order: the cgroup root and its janitor, the node's namespaces and network (netns.py), the
forwarder to the apiserver (forwarder.py), containerd with the pause image (containerd.py), then
the kubelet and kube-proxy (kubelet.py); start() returns when the Node is Ready and the
`kubernetes` Service is routed. stop() kills the node's init, which takes every node process
and mount with it, then removes the cgroups. If the harness dies instead, the same happens
without it: see netns.py and janitor.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

from tests.cluster import certs, cgroups, forwarder
from tests.cluster.binaries import Binaries
from tests.cluster.containerd import Containerd
from tests.cluster.kubeapi import KubeApi
from tests.cluster.kubelet import NodeComponents, NodeConfig
from tests.cluster.netns import NodeAddresses, NodeNamespaces, pick_addresses
from tests.cluster.processes import CLUSTER_MARKER

PROJECT_ROOT = Path(__file__).resolve().parents[2]


class RealNode:
    def __init__(self, binaries: Binaries, state_dir: Path) -> None:
        self.binaries = binaries
        self.state_dir = state_dir
        self.cluster_id = uuid.uuid4().hex[:10]
        self.cgroup_root = f"kubedrift-{self.cluster_id}"
        self.addresses: NodeAddresses = pick_addresses(self.cluster_id)
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), CLUSTER_MARKER: str(state_dir)}
        self.namespaces = NodeNamespaces(state_dir, self.addresses, binaries.directory / "pause", env)
        self.containerd = Containerd(binaries.directory, state_dir, self.namespaces)
        self.components: NodeComponents | None = None
        self.forwarders: dict[int, subprocess.Popen[bytes]] = {}
        self.janitor: subprocess.Popen[bytes] | None = None

    def start(self, api: KubeApi, apiserver_port: int) -> None:
        try:
            self._start_janitor()
            cgroups.create_root(self.cgroup_root)
            self.namespaces.start()
            apiserver_url = f"https://{self.expose_host_port(apiserver_port)}"
            self.containerd.start()
            self.components = NodeComponents(
                NodeConfig(
                    binaries_dir=self.binaries.directory,
                    state_dir=self.state_dir,
                    apiserver_url=apiserver_url,
                    ca_cert=certs.cert_files(self.state_dir / "pki").ca_cert,
                    cgroup_root=f"/{self.cgroup_root}",
                    node_ip=self.addresses.node_ip,
                ),
                self.namespaces,
                certs.node_cert_files(self.state_dir / "pki"),
            )
            self.components.start()
            self.components.wait_until_ready(api)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> list[Path]:
        """Stop everything of the node; returns cgroup directories that could not be removed."""
        if self.components is not None:
            self.components.stop()
        self.containerd.stop()
        self.namespaces.stop()
        for process in self.forwarders.values():
            process.kill()
            process.wait()
        self.forwarders.clear()
        left = cgroups.remove_tree(self.cgroup_root)
        if self.janitor is not None:
            assert self.janitor.stdin is not None
            self.janitor.stdin.close()  # nothing left to do for it: it exits at once
            self.janitor.wait(timeout=30)
            self.janitor = None
        return left

    def import_image(self, archive: Path) -> str:
        """Import an OCI/docker image archive into the node's containerd (see Containerd.import_image)."""
        return self.containerd.import_image(archive)

    def expose_host_port(self, port: int) -> str:
        """Make the host's 127.0.0.1:port reachable from the node and its pods; returns host:port there."""
        if port not in self.forwarders:
            self.forwarders[port] = forwarder.start(self.addresses.host_ip, port, self.state_dir)
        return f"{self.addresses.host_ip}:{port}"

    def _start_janitor(self) -> None:
        # Not a cluster child (no PR_SET_PDEATHSIG): it must outlive a killed harness. Marked, so a
        # janitor that hangs shows up as a leftover process.
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "PYTHONPATH": str(PROJECT_ROOT),
            CLUSTER_MARKER: str(self.state_dir),
        }
        log = (self.state_dir / "logs" / "janitor.log").open("ab")
        try:
            self.janitor = subprocess.Popen(
                [sys.executable, "-m", "tests.cluster.janitor", self.cgroup_root],
                stdin=subprocess.PIPE,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
            )
        finally:
            log.close()
