"""The whole local cluster as one context manager: the control plane plus one real node
(kubelet + containerd + runc, see realnode.py) with kubedrift's images loaded.

Used by `python -m tests.cluster up` and by the pytest `cluster` fixture.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from pathlib import Path
from types import TracebackType

from tests.cluster.binaries import Binaries, ensure_built
from tests.cluster.controlplane import ControlPlane
from tests.cluster.images.build import Image, expected_archives
from tests.cluster.kubeapi import KubeApi
from tests.cluster.processes import wait_until_gone
from tests.cluster.realnode import RealNode


class ImagesMissing(RuntimeError):
    pass


class LocalCluster:
    def __init__(
        self,
        binaries: Binaries | None = None,
        state_dir: Path | None = None,
        keep_state: bool = False,
        load_images: bool = True,
    ):
        self.binaries = binaries or ensure_built()
        self.state_dir = state_dir or Path(tempfile.mkdtemp(prefix="kubedrift-cluster-"))
        self.keep_state = keep_state
        self.load_images = load_images
        self.real_node = RealNode(self.binaries, self.state_dir)
        self.control_plane = ControlPlane(
            self.binaries, self.state_dir, node_addresses=self.real_node.addresses
        )
        self.startup_seconds = 0.0
        self.images: dict[str, str] = {}  # image name (jobs, operator) → its ref in the node's containerd
        self.cgroups_left: list[Path] = []
        self._log_handler: logging.Handler | None = None

    @property
    def kubeconfig(self) -> Path:
        return self.control_plane.kubeconfig

    def admin_api(self) -> KubeApi:
        return self.control_plane.admin_api()

    def start(self) -> LocalCluster:
        started = time.monotonic()
        self._log_to_file()
        try:
            archives = self._archives() if self.load_images else []
            self.control_plane.start()
            self.real_node.start(self.admin_api(), self.control_plane.apiserver_port)
            for image in archives:
                self.import_image(image.archive)
                self.images[image.name] = image.ref
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - started
        return self

    def _archives(self) -> list[Image]:
        """The built images; building is `make images`' job, never a test's."""
        images = expected_archives()
        missing = [str(i.archive) for i in images if not i.archive.exists()] or ([] if images else ["all"])
        if missing:
            raise ImagesMissing(f"kubedrift's images are not built ({', '.join(missing)}): run `make images`")
        return images

    def import_image(self, archive: Path) -> str:
        """Import an OCI/docker image archive into the node's containerd; returns its ref."""
        return self.real_node.import_image(archive)

    def ctr_hint(self) -> str:
        """How to run ctr against the node's containerd by hand."""
        return " ".join([*self.real_node.containerd.ctr, "images", "import", "<archive.tar>"])

    def stop(self) -> list[int]:
        """Stop the node, then the control plane; returns PIDs of processes still alive (should be none)."""
        self.cgroups_left = self.real_node.stop()
        self.control_plane.stop()
        leftovers = wait_until_gone(str(self.state_dir), timeout=10)
        if self._log_handler is not None:
            logging.getLogger("tests.cluster").removeHandler(self._log_handler)
            self._log_handler.close()
        if not self.keep_state and not leftovers:
            shutil.rmtree(self.state_dir, ignore_errors=True)
        return leftovers

    def _log_to_file(self) -> None:
        (self.state_dir / "logs").mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(self.state_dir / "logs" / "harness.log")
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
