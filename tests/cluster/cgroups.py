"""The real node's cgroup subtree: created before the kubelet starts, removed after the node is gone.

The kubelet (cgroupfs driver) puts every pod under its `cgroupRoot`; each cluster gets its own root,
`/kubedrift-<id>`, in every mounted cgroup v1 hierarchy (and the v2 one, if mounted), so nothing
of one cluster is mixed with another's or with the host's. The kubelet refuses to start unless the
root exists already. Cgroup directories outlive their processes, so whoever stops the node (or the
janitor, when the harness was killed) removes the subtree with remove_tree().
"""

from __future__ import annotations

import time
from pathlib import Path

CGROUP_FS = Path("/sys/fs/cgroup")


def hierarchies() -> list[Path]:
    """The mount points of the cgroup hierarchies (v1 controllers, name=systemd, unified)."""
    mounts = []
    for line in Path("/proc/self/mounts").read_text().splitlines():
        _device, mount_point, fs_type, *_ = line.split()
        if fs_type in ("cgroup", "cgroup2") and mount_point.startswith(str(CGROUP_FS)):
            mounts.append(Path(mount_point))
    return mounts


def create_root(name: str) -> None:
    for hierarchy in hierarchies():
        root = hierarchy / name
        root.mkdir(exist_ok=True)
        # A new cpuset cgroup starts with no CPUs and no memory nodes: nothing could run in it.
        for knob in ("cpuset.cpus", "cpuset.mems"):
            if (root / knob).exists() and not (root / knob).read_text().strip():
                (root / knob).write_text((hierarchy / knob).read_text())


def remove_tree(name: str, timeout: float = 20.0) -> list[Path]:
    """Remove the subtree, deepest first; returns directories that could not be removed in time.

    A cgroup can only be removed once its last process has exited, so this retries while the
    node's processes are dying.
    """
    deadline = time.monotonic() + timeout
    while True:
        left = []
        for hierarchy in hierarchies():
            root = hierarchy / name
            if not root.exists():
                continue
            for directory in sorted((p for p in root.rglob("*") if p.is_dir()), key=_depth, reverse=True):
                _rmdir(directory, left)
            _rmdir(root, left)
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.2)


def _depth(path: Path) -> int:
    return len(path.parts)


def _rmdir(directory: Path, left: list[Path]) -> None:
    try:
        directory.rmdir()
    except FileNotFoundError:
        pass
    except OSError:
        left.append(directory)
