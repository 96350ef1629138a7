"""containerd (built from its Go module) inside the node's namespaces, with runc and CNI from Debian.

Its root (images, snapshots) is in the cluster's state directory; its state (socket, shims, runc's
state, pod netns pins) is under the node's private /run. Pods get their network from a CNI bridge
with host-local IPAM inside the node's network namespace; pod traffic leaving the node is
masqueraded (the host has no route to the pod subnet). The pod sandbox image is made locally
(ociimage.pause_image) and pinned, so the kubelet never tries to pull or collect it.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

from tests.cluster import ociimage
from tests.cluster.netns import POD_SUBNET, NodeNamespaces
from tests.cluster.processes import CLUSTER_MARKER, spawn, stop

SOCKET = "/run/containerd/containerd.sock"
K8S_NAMESPACE = "k8s.io"  # the containerd namespace the CRI plugin (and so the kubelet) uses
CNI_BIN_DIR = "/usr/lib/cni"  # Debian's containernetworking-plugins
RUNC = "/usr/sbin/runc"


class ContainerdError(RuntimeError):
    pass


class Containerd:
    def __init__(self, binaries_dir: Path, state_dir: Path, node: NodeNamespaces) -> None:
        self.binaries_dir = binaries_dir
        self.dir = state_dir / "node" / "containerd"
        self.log = state_dir / "logs" / "containerd.log"
        self.marker = str(state_dir)
        self.node = node
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def ctr(self) -> list[str]:
        return self.node.command(
            [str(self.binaries_dir / "ctr"), f"--address={SOCKET}", f"--namespace={K8S_NAMESPACE}"]
        )

    def start(self) -> None:
        config = self._write_config()
        env = {
            # The shim and runc are found on PATH; the CNI plugins call iptables.
            "PATH": f"{self.binaries_dir}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            CLUSTER_MARKER: self.marker,
        }
        self.process = spawn(
            self.node.command([str(self.binaries_dir / "containerd"), f"--config={config}"]),
            env=env,
            log=self.log,
        )
        self._wait_for_socket()
        # The sandbox image, and a small busybox image any test can run without importing one.
        for spec in (ociimage.pause_image(self.binaries_dir / "pause"), ociimage.busybox_image()):
            self.import_image(
                ociimage.write_archive(spec, self.dir / "images" / f"{spec.name.split('/')[-1]}.tar")
            )

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process, grace_seconds=5)
            self.process = None

    def import_image(self, archive: Path) -> str:
        """Import an OCI or docker image archive for the kubelet; returns what ctr said (the image names).

        Pods then use the image by its name with imagePullPolicy IfNotPresent (the default for any
        tag but `latest`) or Never.
        """
        result = subprocess.run(
            [*self.ctr, "images", "import", "--platform=linux/amd64", str(archive)],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if result.returncode != 0:
            raise ContainerdError(f"importing {archive} failed: {result.stderr.strip()}")
        return result.stdout

    def images(self) -> list[str]:
        result = subprocess.run(
            [*self.ctr, "images", "list", "--quiet"], capture_output=True, text=True, check=True
        )
        return result.stdout.split()

    def _wait_for_socket(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise ContainerdError(f"containerd exited with {self.process.returncode}; see {self.log}")
            probe = subprocess.run([*self.ctr, "version"], capture_output=True, check=False)
            if probe.returncode == 0:
                return
            time.sleep(0.2)
        raise ContainerdError(f"containerd did not start; see {self.log}")

    def _write_config(self) -> Path:
        cni_conf_dir = self.dir / "cni"
        cni_conf_dir.mkdir(parents=True, exist_ok=True)
        (cni_conf_dir / "10-kubedrift.conflist").write_text(json.dumps(_cni_config(), indent=2))
        config = self.dir / "config.toml"
        config.write_text(
            f"""\
version = 3
root = "{self.dir / "root"}"
state = "/run/containerd"
# Plugins that need host features we do not use; the node uses the overlayfs snapshotter only.
disabled_plugins = ["io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing",
  "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.zfs",
  "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.blockfile", "io.containerd.snapshotter.v1.erofs"]

[grpc]
  address = "{SOCKET}"

[plugins."io.containerd.cri.v1.images"]
  snapshotter = "overlayfs"
  [plugins."io.containerd.cri.v1.images".pinned_images]
    sandbox = "{ociimage.PAUSE_IMAGE}"

[plugins."io.containerd.cri.v1.runtime"]
  enable_selinux = false
  # The kubelet asks for negative OOM scores (-998 for the sandbox); our hosts refuse to lower
  # oom_score_adj even for root, and runc then fails with "can't get final child's PID from pipe".
  # This clamps them to containerd's own score (0).
  restrict_oom_score_adj = true
  [plugins."io.containerd.cri.v1.runtime".containerd]
    default_runtime_name = "runc"
    [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc.options]
        BinaryName = "{RUNC}"
        SystemdCgroup = false
  [plugins."io.containerd.cri.v1.runtime".cni]
    bin_dirs = ["{CNI_BIN_DIR}"]
    conf_dir = "{cni_conf_dir}"
    max_conf_num = 1

[plugins."io.containerd.grpc.v1.cri"]
  # kubectl exec/attach/port-forward: the kubelet proxies to this server, inside the node's network.
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
"""
        )
        return config


def _cni_config() -> dict[str, object]:
    return {
        "cniVersion": "1.0.0",
        "name": "kubedrift",
        "plugins": [
            {
                "type": "bridge",
                "bridge": "cni0",
                "isGateway": True,
                "ipMasq": True,  # the host has no route back to the pod subnet
                "hairpinMode": True,
                "ipam": {
                    "type": "host-local",
                    "ranges": [[{"subnet": POD_SUBNET}]],
                    "routes": [{"dst": "0.0.0.0/0"}],
                    "dataDir": "/run/cni-ipam",
                },
            },
            {"type": "portmap", "capabilities": {"portMappings": True}},
        ],
    }
