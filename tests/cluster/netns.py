"""The real node's own namespaces: its network, its mounts and its processes, created by the harness.

One process, the node's init (the `pause` binary, which reaps orphans), is started by `unshare`
in a new network, mount and PID namespace. Everything of the node (containerd, its shims, the
kubelet, kube-proxy, the CNI bridge, every pod and its mounts) is started inside those namespaces
with `nsenter`, so:

- the cluster network (bridge, pod network namespaces, kube-proxy's iptables rules) exists only
  in the node's network namespace; a veth pair links it to the host, nothing else leaves it;
- every mount (container root filesystems, volumes, pod netns pins, a tmpfs on /run) exists only
  in the node's mount namespace and vanishes with it;
- when the node's init dies, the kernel kills every process in the node's PID namespace,
  containers included. The init dies with the harness: `unshare --kill-child` plus the
  harness's PR_SET_PDEATHSIG (processes.spawn), so a kill -9 of the harness takes the whole node
  down and the namespaces with it. Only cgroups outlive processes: see janitor.py.

Addresses: the veth's host side is the node's gateway and where pods reach services that listen
on the host's loopback (through forwarder.py); the node side is the node's InternalIP, where the
apiserver (on the host) reaches the kubelet for logs, exec and port-forward.
"""

from __future__ import annotations

import ipaddress
import random
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from tests.cluster.processes import spawn, stop

# Per-cluster /30 links are carved from here; pods use the same subnet in every node (each node's
# network is private to its namespace, and pod traffic leaving it is masqueraded).
LINK_RANGE = ipaddress.ip_network("10.250.0.0/16")
POD_SUBNET = "10.244.0.0/24"
CLUSTER_CIDR = "10.244.0.0/16"
NODE_INTERFACE = "eth0"

# The kernel settings the kubelet insists on (it would write them: they are not per namespace).
# The node sees these values in files bind-mounted over its own /proc/sys; the host is untouched.
KUBELET_KERNEL_DEFAULTS = {
    "vm/overcommit_memory": "1",
    "vm/panic_on_oom": "0",
    "kernel/panic": "10",
    "kernel/panic_on_oops": "1",
    "kernel/keys/root_maxkeys": "1000000",
    "kernel/keys/root_maxbytes": "25000000",
}
# Directories whose host paths containerd, libcni and the kubelet hard-code; each gets a private tmpfs.
PRIVATE_DIRS = ("/run", "/var/lib/cni", "/var/log/containers")


class NodeNamespaceError(RuntimeError):
    pass


@dataclass(frozen=True)
class NodeAddresses:
    host_link: str  # the host's end of the veth
    host_ip: str
    node_ip: str
    prefix_length: int = 30


def pick_addresses(cluster_id: str) -> NodeAddresses:
    """A /30 from LINK_RANGE that no host interface or route uses yet."""
    taken = [ipaddress.ip_network(net, strict=False) for net in _host_networks()]
    subnets = list(LINK_RANGE.subnets(new_prefix=30))
    for subnet in random.sample(subnets, 200):
        if not any(subnet.overlaps(net) for net in taken):
            host, node = list(subnet.hosts())
            return NodeAddresses(host_link=f"kd{cluster_id[:10]}", host_ip=str(host), node_ip=str(node))
    raise NodeNamespaceError(f"no free /30 in {LINK_RANGE}")


def _host_networks() -> list[str]:
    addresses = _run(["ip", "-4", "-o", "addr", "show"]).split()
    routes = _run(["ip", "-4", "route", "show"]).splitlines()
    found = [word for word in addresses if "/" in word and word[0].isdigit()]
    found += [line.split()[0] for line in routes if line and line.split()[0][0].isdigit()]
    return found


class NodeNamespaces:
    def __init__(
        self, state_dir: Path, addresses: NodeAddresses, init_binary: Path, env: Mapping[str, str]
    ) -> None:
        self.state_dir = state_dir
        self.addresses = addresses
        self.init_binary = init_binary
        self.env = dict(env)
        self.init_process: subprocess.Popen[bytes] | None = None
        self.init_pid = 0  # the node's PID 1, as the host sees it

    def start(self) -> None:
        self.init_process = spawn(
            [
                "unshare",
                "--net",
                "--mount",
                "--pid",
                "--fork",
                "--kill-child",
                "--mount-proc",
                "--propagation=private",
                str(self.init_binary),
            ],
            env=self.env,
            log=self.state_dir / "logs" / "node-init.log",
        )
        self.init_pid = self._wait_for_child(self.init_process)
        self._link()
        self._private_mounts()

    def stop(self) -> None:
        """Kill the node's PID 1: the kernel kills every other process of the node with it."""
        if self.init_process is not None:
            stop(self.init_process, grace_seconds=0)
            self.init_process = None

    def command(self, argv: Sequence[str]) -> list[str]:
        """argv, run inside the node's network, mount and PID namespaces."""
        return ["nsenter", f"--target={self.init_pid}", "--net", "--mount", "--pid", "--", *argv]

    def run(self, argv: Sequence[str], timeout: float = 60) -> str:
        return _run(self.command(argv), timeout=timeout)

    # -- setup -------------------------------------------------------------------------------

    def _wait_for_child(self, process: subprocess.Popen[bytes]) -> int:
        deadline = time.monotonic() + 10
        children = Path(f"/proc/{process.pid}/task/{process.pid}/children")
        while time.monotonic() < deadline:
            if process.poll() is not None:
                log = (self.state_dir / "logs" / "node-init.log").read_text(errors="replace")
                raise NodeNamespaceError(f"unshare exited with {process.returncode}: {log}")
            pids = children.read_text().split() if children.exists() else []
            if pids:
                return int(pids[0])
            time.sleep(0.02)
        raise NodeNamespaceError("the node's init process did not start")

    def _link(self) -> None:
        a = self.addresses
        _run(
            [
                "ip",
                "link",
                "add",
                a.host_link,
                "type",
                "veth",
                "peer",
                "name",
                NODE_INTERFACE,
                "netns",
                str(self.init_pid),
            ]
        )
        _run(["ip", "addr", "add", f"{a.host_ip}/{a.prefix_length}", "dev", a.host_link])
        _run(["ip", "link", "set", a.host_link, "up"])
        # The host never routes what the node sends (to it, it is only ever addressed): whatever
        # the host's ip_forward is, nothing from the node or its pods leaves through another link.
        host_forwarding(a.host_link).write_text("0\n")
        for argv in (
            ["ip", "link", "set", "lo", "up"],
            ["ip", "addr", "add", f"{a.node_ip}/{a.prefix_length}", "dev", NODE_INTERFACE],
            ["ip", "link", "set", NODE_INTERFACE, "up"],
            ["ip", "route", "add", "default", "via", a.host_ip],
            # The node routes between its pods' bridge and the link (these are per-namespace settings).
            ["sysctl", "-q", "-w", "net.ipv4.ip_forward=1"],
        ):
            self.run(argv)

    def _private_mounts(self) -> None:
        for directory in PRIVATE_DIRS:
            Path(directory).mkdir(parents=True, exist_ok=True)  # a mount point needs a directory
            self.run(["mount", "-t", "tmpfs", "-o", "mode=755", "tmpfs", directory])
        overrides = self.state_dir / "node" / "sysctl"
        overrides.mkdir(parents=True, exist_ok=True)
        for name, value in KUBELET_KERNEL_DEFAULTS.items():
            file = overrides / name.replace("/", ".")
            file.write_text(value + "\n")
            self.run(["mount", "--bind", str(file), f"/proc/sys/{name}"])


def host_forwarding(link: str) -> Path:
    """The host's switch for forwarding packets received on `link` (IPv4, per interface)."""
    return Path("/proc/sys/net/ipv4/conf") / link / "forwarding"


def _run(argv: Sequence[str], timeout: float = 60) -> str:
    result = subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout, check=False)
    if result.returncode != 0:
        raise NodeNamespaceError(f"{' '.join(argv)} failed ({result.returncode}): {result.stderr.strip()}")
    return result.stdout
