"""Issue 2, item 8: stopping the cluster leaves no etcd, apiserver, controller manager or pod process.

Each case starts its own cluster with `python -m tests.cluster up` (as a developer would), runs a
pod, stops the harness, and looks in /proc for any process carrying the cluster's marker. (The
session's own cluster is checked the same way when the `cluster` fixture tears down.)

Issue 10: with the real node, also no container process, cgroup, veth, mount or network namespace
is left, and nothing is written to the host directories the node mounts over (they are empty mount
points on the host: the node's tmpfs and bind mounts live only in its own mount namespace). The
state dir is deep enough that a unix socket under it would pass the kernel's 107-byte limit of a
socket's path: the node must keep its sockets elsewhere (the kubelet's pod-resources socket once
did not, and the kubelet failed to start under a long pytest tmp path).
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.cluster import cgroups
from tests.cluster.kubelet import KUBELET_ROOT
from tests.cluster.netns import PRIVATE_DIRS
from tests.cluster.processes import processes_marked, wait_until_gone
from tests.fixtures.cluster import wait_for
from tests.integration.manifests import pod

pytestmark = pytest.mark.cluster
ROOT = Path(__file__).resolve().parents[2]
# The host paths the node mounts over (a tmpfs each, and the kubelet's root dir bound from the state dir).
MOUNT_POINTS = (*PRIVATE_DIRS, KUBELET_ROOT)
SOCKET_PATH_MAX = 107  # sizeof(sockaddr_un.sun_path) - 1
SO_NETNS_COOKIE = 71  # include/uapi/asm-generic/socket.h
NETNS_COOKIE = (
    "import socket; "
    f"print(int.from_bytes(socket.socket().getsockopt(socket.SOL_SOCKET, {SO_NETNS_COOKIE}, 8), 'little'))"
)


@pytest.mark.parametrize(
    "stop_signal",
    [signal.SIGINT, signal.SIGTERM, signal.SIGKILL],
    ids=["ctrl-c", "sigterm", "harness-killed"],
)
def test_stopping_the_harness_leaves_no_process(tmp_path: Path, stop_signal: signal.Signals) -> None:
    state_dir = tmp_path / ("deep-state-dir-" * 5) / "cluster"
    assert len(str(state_dir)) > SOCKET_PATH_MAX
    on_the_host = _files_under(MOUNT_POINTS)
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
        config = yaml.safe_load((state_dir / "node" / "kubelet-config.yaml").read_text())
        container_pids = _container_pids(config["cgroupRoot"])
        assert container_pids, "the sleeper's process was not found"
        node_netns = _net_namespaces([*processes_marked(str(state_dir)), *container_pids])
        assert len(node_netns) >= 2, node_netns  # the node's own and the sleeper pod's

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
    _assert_real_node_gone(state_dir, container_pids, node_netns)
    assert _files_under(MOUNT_POINTS) - on_the_host == set(), "the node wrote to the host's directories"


def _container_pids(cgroup_root: str) -> list[int]:
    """Host PIDs of the sleeper's `sleep` in this node's cgroups (containers carry no marker)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if (
                entry.name.isdigit()
                and (entry / "cmdline").read_bytes() == b"sleep\x00600\x00"
                and f"{cgroup_root.rstrip('/')}/" in (entry / "cgroup").read_text()
            ):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def _net_namespace_cookie(path: str) -> int | None:
    """The cookie of the network namespace at path (a /proc ns link or fd, a bind mount): unlike the
    namespace's inode number, which the kernel hands to a new namespace once this one is gone, a
    cookie is never reused."""
    result = subprocess.run(
        ["nsenter", f"--net={path}", sys.executable, "-c", NETNS_COOKIE],
        capture_output=True,
        text=True,
        check=False,
    )
    return int(result.stdout) if result.returncode == 0 else None


def _net_namespaces(pids: list[int]) -> dict[int, int]:
    """The network namespaces (inode → cookie) of these processes, other than this process's own."""
    host = os.stat("/proc/self/ns/net").st_ino
    paths: dict[int, str] = {}
    for pid in pids:
        with contextlib.suppress(OSError):
            paths.setdefault(os.stat(f"/proc/{pid}/ns/net").st_ino, f"/proc/{pid}/ns/net")
    paths.pop(host, None)
    cookies = {inode: _net_namespace_cookie(path) for inode, path in paths.items()}
    return {inode: cookie for inode, cookie in cookies.items() if cookie is not None}


def _net_namespace_holders() -> dict[int, list[str]]:
    """Every network namespace something on the host holds (a process's own, an open fd, a bind
    mount), by inode, with the paths to enter it by."""
    held: dict[int, list[str]] = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        links = [proc / "ns" / "net"]
        with contextlib.suppress(OSError):
            links += list((proc / "fd").iterdir())
        for link in links:
            with contextlib.suppress(OSError):
                target = os.readlink(link)
                if target.startswith("net:["):
                    held.setdefault(int(target[5:-1]), []).append(str(link))
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        root, mount_point = line.split()[3:5]
        if root.startswith("net:["):
            held.setdefault(int(root[5:-1]), []).append(mount_point)
    return held


def _node_net_namespaces_left(node: dict[int, int]) -> list[str]:
    """Paths through which one of the node's network namespaces (inode → cookie) is still held."""
    return [
        path
        for inode, paths in _net_namespace_holders().items()
        if inode in node
        for path in paths
        if _net_namespace_cookie(path) == node[inode]  # not a new namespace that got the same inode
    ]


def _files_under(directories: tuple[str, ...]) -> set[str]:
    return {
        os.path.join(top, name)
        for directory in directories
        for top, dirs, files in os.walk(directory)
        for name in (*dirs, *files)
    }


def _assert_real_node_gone(state_dir: Path, container_pids: list[int], node_netns: dict[int, int]) -> None:
    assert not [pid for pid in container_pids if Path(f"/proc/{pid}").exists()], "a container survived"
    config = yaml.safe_load((state_dir / "node" / "kubelet-config.yaml").read_text())
    cgroup_root = config["cgroupRoot"].strip("/")
    left = wait_for(
        lambda: not [h for h in cgroups.hierarchies() if (h / cgroup_root).exists()] or None,
        "the janitor to remove the node's cgroups",
        timeout=30,
    )
    assert left
    assert _node_net_namespaces_left(node_netns) == [], "a network namespace of the node is held"
    host_ip = str(ipaddress.ip_address(config["address"]) - 1)  # the host's end of the /30

    def veth_gone() -> bool:
        addresses = subprocess.run(["ip", "-4", "-o", "addr"], capture_output=True, text=True, check=True)
        return f" {host_ip}/" not in addresses.stdout

    # The kernel frees a network namespace, and the veth in it, in a work queue after its last
    # user is gone (cleanup_net), not when the last process dies: on a busy machine that takes a
    # while. (A namespace that something still holds, a leak, fails the assertion above.)
    wait_for(veth_gone, "the kernel to remove the node's veth with its network namespace", timeout=30)
    assert str(state_dir) not in Path("/proc/self/mountinfo").read_text(), "a mount of the node is left"


def _kubectl(state_dir: Path) -> str:
    # The harness prints where kubectl is; the cached build is the same for every cluster.
    from tests.cluster.binaries import ensure_built

    del state_dir
    return str(ensure_built(build=False).kubectl)
