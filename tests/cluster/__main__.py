"""`python -m tests.cluster up`: start the local cluster and keep it running until Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from tests.cluster.harness import NODE_KINDS, LocalCluster


def up(state_dir: Path | None, node: str | None) -> int:
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    cluster = LocalCluster(state_dir=state_dir, keep_state=state_dir is not None, node=node)
    cluster.start()
    try:
        print(f"cluster ready in {cluster.startup_seconds:.1f} s", file=sys.stderr)
        if cluster.real_node is None:
            print(f"pod logs: {cluster.pods_dir}/<namespace>/<pod>/<container>.log", file=sys.stderr)
        else:
            print(
                f"real node (kubelet + containerd); import images with: {cluster.ctr_hint()}", file=sys.stderr
            )
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
        "--node",
        choices=NODE_KINDS,
        help="agent: the Python node agent; kubelet: a real node (default: $KUBEDRIFT_NODE, else agent)",
    )
    args = parser.parse_args()
    return up(args.state_dir, args.node)


if __name__ == "__main__":
    sys.exit(main())
