"""The command line that runs one container in its own private mount namespace.

`unshare --mount --propagation private` gives the process a copy of the host's mounts; a short
shell prelude bind-mounts the pod's volume directories, the service-account token and the
termination-message file at the paths the pod spec names, then execs the container's command.
The mounts are invisible to every other process and vanish with the namespace. Mount points
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


def prelude(mounts: Sequence[Mount], working_dir: str) -> str:
    """Shell commands that set up the mounts and working directory, ending in `exec "$@"`."""
    lines = ["set -e"]
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
    quoted_dir = shlex.quote(working_dir)
    lines.append(f"mkdir -p {quoted_dir} && cd {quoted_dir}")
    lines.append('exec "$@"')
    return "\n".join(lines)


def sandboxed_argv(command: Sequence[str], mounts: Sequence[Mount], working_dir: str) -> list[str]:
    unshare = shutil.which("unshare") or "/usr/bin/unshare"
    return [
        unshare,
        "--mount",
        "--propagation",
        "private",
        "/bin/sh",
        "-c",
        prelude(mounts, working_dir),
        "container",
        *command,
    ]


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
