"""The command line that runs one container in its own private mount and PID namespaces.

`unshare --mount --propagation private` gives the process a copy of the host's mounts; a short
shell prelude bind-mounts the pod's volume directories, the service-account token and the
termination-message file at the paths the pod spec names, then runs the container's command.
The mounts are invisible to every other process and vanish with the namespace.

The shell stays as the namespace's PID 1 and forwards SIGTERM/SIGINT to the command. The PID
namespace is what guarantees cleanup: when PID 1 dies, the kernel kills every process in it, and
`--kill-child` kills PID 1 when unshare dies, which happens when the harness dies (PDEATHSIG).
So even a harness killed with SIGKILL leaves no container process (or its children) behind. Mount points
that do not exist yet are created (as empty directories or files) on whatever filesystem is
visible at that path: the host's for top-level paths, a volume's for paths nested inside it.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Mount:
    source: Path
    target: str
    read_only: bool = False


def _under(path: Path | str, ancestor: str) -> bool:
    return Path(path).is_relative_to(ancestor)


def mount_order(mounts: Sequence[Mount]) -> list[Mount]:
    """Parents before children, so a volume nested inside another lands on top of it; and a
    mount that would hide another mount's source (an emptyDir at /tmp while the volume
    directories live under /tmp) after that mount, together with everything nested in it."""
    late: list[Mount] = [m for m in mounts if any(o is not m and _under(o.source, m.target) for o in mounts)]
    late += [m for m in mounts if m not in late and any(_under(m.target, t.target) for t in late)]
    early = [m for m in mounts if m not in late]

    def depth(m: Mount) -> int:
        return len(Path(m.target).parts)

    return sorted(early, key=depth) + sorted(late, key=depth)


# Where host paths that a volume would hide wait while the volumes are mounted (a tmpfs of the
# namespace's own, so nothing appears on the host).
STASH = "/mnt"


def outermost(paths: Sequence[str]) -> list[str]:
    """The paths that are not inside another of them (keeping a folder keeps its contents)."""
    real = sorted({str(Path(p).resolve()) for p in paths})
    return [p for p in real if not any(o != p and _under(p, o) for o in real)]


def hidden_by(mounts: Sequence[Mount], keep_visible: Sequence[str]) -> list[str]:
    """The host paths the container needs (its Python, the project) that a volume would hide:
    e.g. an emptyDir at /tmp while the project was cloned under /tmp."""
    return [path for path in keep_visible if any(_under(path, m.target) for m in mounts)]


def prelude(mounts: Sequence[Mount], working_dir: str, keep_visible: Sequence[str] = ()) -> str:
    """Shell commands that set up the mounts and working directory, then run "$@" as a child."""
    lines = ["set -e"]
    hidden = hidden_by(mounts, keep_visible)
    if hidden:
        lines.append(f"mount -t tmpfs kubedrift-stash {STASH}")
    for number, path in enumerate(hidden):
        lines += [f"mkdir {STASH}/{number}", f"mount --bind {shlex.quote(path)} {STASH}/{number}"]
    for mount in mount_order(mounts):
        target = shlex.quote(mount.target)
        if mount.source.is_dir():
            lines.append(f"[ -d {target} ] || mkdir -p {target}")
        else:
            lines.append(f"mkdir -p {shlex.quote(str(Path(mount.target).parent))}")
            lines.append(f"[ -e {target} ] || : > {target}")
        lines.append(f"mount --bind {shlex.quote(str(mount.source))} {target}")
        if mount.read_only:
            lines.append(f"mount -o remount,bind,ro {target}")
    for number, path in enumerate(hidden):
        lines += [f"mkdir -p {shlex.quote(path)}", f"mount --bind {STASH}/{number} {shlex.quote(path)}"]
    quoted_dir = shlex.quote(working_dir)
    lines.append(f"mkdir -p {quoted_dir} && cd {quoted_dir}")
    lines.extend(SUPERVISE)
    return "\n".join(lines)


# Run the command as a child; PID 1 ignores signals it has no handler for, so forward them.
# `wait` returns early when a trap runs: wait again until the child is really gone.
SUPERVISE = [
    "set +e",
    '"$@" &',
    "child=$!",
    "trap 'kill -TERM $child 2>/dev/null' TERM",
    "trap 'kill -INT $child 2>/dev/null' INT",
    'while :; do wait "$child"; status=$?; kill -0 "$child" 2>/dev/null || break; done',
    'exit "$status"',
]


def sandboxed_argv(
    command: Sequence[str], mounts: Sequence[Mount], working_dir: str, keep_visible: Sequence[str] = ()
) -> list[str]:
    unshare = shutil.which("unshare") or "/usr/bin/unshare"
    namespaces = ["--mount", "--propagation", "private", "--pid", "--fork", "--kill-child"]
    script = prelude(mounts, working_dir, keep_visible)
    return [unshare, *namespaces, "/bin/sh", "-c", script, "container", *command]


def check_available() -> None:
    """Fail early and clearly where private mount namespaces are not allowed (not root, no unshare)."""

    result = subprocess.run(
        [shutil.which("unshare") or "unshare", "--mount", "--propagation", "private", "true"],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(
            "the node agent needs private mount namespaces (run as root with util-linux's unshare): "
            + result.stderr.strip()
        )
