"""Issue 2, item 8: stopping the cluster leaves no etcd, apiserver, controller manager or pod process.

Each case starts its own cluster with `python -m tests.cluster up` (as a developer would), runs a
pod, stops the harness, and looks in /proc for any process carrying the cluster's marker. (The
session's own cluster is checked the same way when the `cluster` fixture tears down.)
"""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cluster.processes import processes_marked, wait_until_gone
from tests.fixtures.cluster import wait_for
from tests.integration.manifests import pod

pytestmark = pytest.mark.cluster
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "stop_signal",
    [signal.SIGINT, signal.SIGTERM, signal.SIGKILL],
    ids=["ctrl-c", "sigterm", "harness-killed"],
)
def test_stopping_the_harness_leaves_no_process(tmp_path: Path, stop_signal: signal.Signals) -> None:
    state_dir = tmp_path / "cluster"
    harness = subprocess.Popen(
        [sys.executable, "-m", "tests.cluster", "up", "--state-dir", str(state_dir)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert harness.stdout is not None
        line = harness.stdout.readline()  # blocks until the cluster is ready
        assert line.startswith("export KUBECONFIG="), line + (harness.stderr.read() if harness.stderr else "")
        kubeconfig = line.strip().split("=", 1)[1]
        kubectl = _kubectl(state_dir)
        subprocess.run(
            [kubectl, "--kubeconfig", kubeconfig, "apply", "-f", "-"],
            check=True,
            text=True,
            input=__import__("json").dumps(pod("sleeper", "sleep 600")),
            capture_output=True,
        )

        def running() -> bool:
            phase = subprocess.run(
                [
                    kubectl,
                    "--kubeconfig",
                    kubeconfig,
                    "get",
                    "pod",
                    "sleeper",
                    "-o",
                    "jsonpath={.status.phase}",
                ],
                capture_output=True,
                text=True,
                check=False,
            ).stdout
            return phase == "Running"

        wait_for(running, "the pod to run", timeout=60)
        # etcd, kube-apiserver, kube-controller-manager and the pod's process at least.
        assert len(processes_marked(str(state_dir))) >= 4

        harness.send_signal(stop_signal)
        harness.wait(timeout=90)
    finally:
        if harness.poll() is None:
            harness.kill()
            harness.wait()
    leftovers = wait_until_gone(str(state_dir), timeout=15)
    assert leftovers == [], [Path(f"/proc/{pid}/cmdline").read_bytes()[:200] for pid in leftovers]
    if stop_signal != signal.SIGKILL:
        assert harness.returncode == 0


def _kubectl(state_dir: Path) -> str:
    # The harness prints where kubectl is; the cached build is the same for every cluster.
    from tests.cluster.binaries import ensure_built

    del state_dir
    return str(ensure_built().kubectl)
