"""`python -m tests.cluster up`: start the local cluster and keep it running until Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from tests.cluster.harness import LocalCluster


def up(state_dir: Path | None, load_images: bool = True) -> int:
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    cluster = LocalCluster(state_dir=state_dir, keep_state=state_dir is not None, load_images=load_images)
    cluster.start()
    try:
        print(f"cluster ready in {cluster.startup_seconds:.1f} s", file=sys.stderr)
        loaded = ", ".join(f"{name}: {ref}" for name, ref in cluster.images.items())
        print(f"real node (kubelet + containerd) with kubedrift's images ({loaded})", file=sys.stderr)
        print(f"import more images with: {cluster.ctr_hint()}", file=sys.stderr)
        chart = "helm install kubedrift charts/kubedrift -n kubedrift-system --create-namespace"
        print(f"install the chart: {chart}", file=sys.stderr)
        print(f"kubectl: {cluster.binaries.kubectl}  helm: {cluster.binaries.helm}", file=sys.stderr)
        print(f"export KUBECONFIG={cluster.kubeconfig}", flush=True)
        print("Ctrl-C stops it.", file=sys.stderr, flush=True)
        while not stop.wait(1.0):
            pass
    finally:
        leftovers = cluster.stop()
    if leftovers:
        print(f"processes left running: {leftovers}", file=sys.stderr)
        return 1
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.cluster")
    commands = parser.add_subparsers(dest="command", required=True)
    up_parser = commands.add_parser("up", help="start the cluster and keep it running until Ctrl-C")
    up_parser.add_argument(
        "--state-dir", type=Path, help="keep certs, etcd data and logs here (kept after stop)"
    )
    up_parser.add_argument(
        "--no-images", action="store_true", help="don't import kubedrift's images (only busybox is there)"
    )
    args = parser.parse_args()
    return up(args.state_dir, load_images=not args.no_images)


if __name__ == "__main__":
    sys.exit(main())
