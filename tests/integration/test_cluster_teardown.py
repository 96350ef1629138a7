"""Issue 2, item 8: stopping the cluster leaves no etcd, apiserver, controller manager or pod process.

Each case starts its own cluster with `python -m tests.cluster up` (as a developer would), runs a
pod, stops the harness, and looks in /proc for any process carrying the cluster's marker. (The
session's own cluster is checked the same way when the `cluster` fixture tears down.)

Issue 10: with the real node, also no container process, cgroup, veth or mount is left.
"""

from __future__ import annotations

import ipaddress
import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.cluster import cgroups
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
        [sys.executable, "-m", "tests.cluster", "up", "--state-dir", str(state_dir), "--no-images"],
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
            input=json.dumps(pod("sleeper", "sleep 600")),
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
        container_pids = _container_pids()
        assert container_pids, "the sleeper's process was not found"

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
    _assert_real_node_gone(state_dir, container_pids)


def _container_pids() -> list[int]:
    """Host PIDs of the sleeper's `sleep` (containers carry no marker: find them by command)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "cmdline").read_bytes() == b"sleep\x00600\x00":
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def _assert_real_node_gone(state_dir: Path, container_pids: list[int]) -> None:
    assert not [pid for pid in container_pids if Path(f"/proc/{pid}").exists()], "a container survived"
    config = yaml.safe_load((state_dir / "node" / "kubelet-config.yaml").read_text())
    cgroup_root = config["cgroupRoot"].strip("/")
    left = wait_for(
        lambda: not [h for h in cgroups.hierarchies() if (h / cgroup_root).exists()] or None,
        "the janitor to remove the node's cgroups",
        timeout=30,
    )
    assert left
    node_ip = config["address"]
    addresses = subprocess.run(["ip", "-4", "-o", "addr"], capture_output=True, text=True, check=True).stdout
    host_ip = str(ipaddress.ip_address(node_ip) - 1)  # the host's end of the /30
    assert f" {host_ip}/" not in addresses, "the node's veth is still there"
    assert str(state_dir) not in Path("/proc/self/mountinfo").read_text(), "a mount of the node is left"


def _kubectl(state_dir: Path) -> str:
    # The harness prints where kubectl is; the cached build is the same for every cluster.
    from tests.cluster.binaries import ensure_built

    del state_dir
    return str(ensure_built().kubectl)
