"""The whole local cluster as one context manager: control plane plus one node.

The node is either the Python node agent (node="agent", the default for now) or a real node,
kubelet + containerd + runc (node="kubelet", see realnode.py). KUBEDRIFT_NODE=kubelet picks the
real node where no node is given. Used by `python -m tests.cluster up` and by the pytest
`cluster` fixture.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
from pathlib import Path
from types import TracebackType

from tests.cluster.binaries import Binaries, ensure_built
from tests.cluster.controlplane import ControlPlane
from tests.cluster.kubeapi import KubeApi
from tests.cluster.nodeagent import NodeAgent
from tests.cluster.processes import wait_until_gone
from tests.cluster.realnode import RealNode

NODE_KINDS = ("agent", "kubelet")


class LocalCluster:
    def __init__(
        self,
        binaries: Binaries | None = None,
        state_dir: Path | None = None,
        keep_state: bool = False,
        node: str | None = None,
    ):
        self.node = node or os.environ.get("KUBEDRIFT_NODE") or "agent"
        if self.node not in NODE_KINDS:
            raise ValueError(f"node must be one of {NODE_KINDS}, not {self.node!r}")
        self.binaries = binaries or ensure_built()
        self.state_dir = state_dir or Path(tempfile.mkdtemp(prefix="kubedrift-cluster-"))
        self.keep_state = keep_state
        self.real_node = RealNode(self.binaries, self.state_dir) if self.node == "kubelet" else None
        self.control_plane = ControlPlane(
            self.binaries, self.state_dir, node_addresses=self.real_node.addresses if self.real_node else None
        )
        self.node_agent: NodeAgent | None = None
        self.startup_seconds = 0.0
        self.cgroups_left: list[Path] = []
        self._log_handler: logging.Handler | None = None

    @property
    def kubeconfig(self) -> Path:
        return self.control_plane.kubeconfig

    @property
    def pods_dir(self) -> Path:
        return self.state_dir / "pods"

    def admin_api(self) -> KubeApi:
        return self.control_plane.admin_api()

    def start(self) -> LocalCluster:
        started = time.monotonic()
        self._log_to_file()
        try:
            self.control_plane.start()
            if self.real_node is not None:
                self.real_node.start(self.admin_api(), self.control_plane.apiserver_port)
            else:
                self.node_agent = NodeAgent(
                    self.admin_api(), self.state_dir, self.control_plane.apiserver_port
                )
                self.node_agent.start()
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - started
        return self

    def import_image(self, archive: Path) -> str:
        """Import an OCI/docker image archive into the real node's containerd (kubelet node only)."""
        if self.real_node is None:
            raise RuntimeError("images can only be imported into the real node (node='kubelet')")
        return self.real_node.import_image(archive)

    def ctr_hint(self) -> str:
        """How to run ctr against the real node's containerd by hand."""
        assert self.real_node is not None
        return " ".join([*self.real_node.containerd.ctr, "images", "import", "<archive.tar>"])

    def stop(self) -> list[int]:
        """Stop pods, then the control plane; returns PIDs of processes still alive (should be none)."""
        cgroups_left: list[Path] = []
        if self.node_agent is not None:
            self.node_agent.stop()
            self.node_agent = None
        if self.real_node is not None:
            cgroups_left = self.real_node.stop()
        self.control_plane.stop()
        leftovers = wait_until_gone(str(self.state_dir), timeout=10)
        self.cgroups_left = cgroups_left
        if self._log_handler is not None:
            logging.getLogger("tests.cluster").removeHandler(self._log_handler)
            self._log_handler.close()
        if not self.keep_state and not leftovers:
            shutil.rmtree(self.state_dir, ignore_errors=True)
        return leftovers

    def _log_to_file(self) -> None:
        (self.state_dir / "logs").mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(self.state_dir / "logs" / "node-agent.log")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(threadName)s %(message)s"))
        logger = logging.getLogger("tests.cluster")
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        self._log_handler = handler

    def __enter__(self) -> LocalCluster:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()
