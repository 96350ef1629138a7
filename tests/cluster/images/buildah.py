"""buildah with its storage under the kubedrift cache, not in /var/lib/containers: overridable
with $KUBEDRIFT_CACHE, outside the clone, and separate from any other use of buildah here."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


class Buildah:
    def __init__(self, home: Path, tmp: Path) -> None:
        # overlay keeps one copy of the base; vfs (slower, bigger) works on any filesystem.
        driver = os.environ.get("KUBEDRIFT_BUILDAH_DRIVER", "overlay")
        self.global_args = [
            f"--root={home / 'storage'}",
            f"--runroot={home / 'run'}",
            f"--storage-driver={driver}",
        ]
        # buildah puts large temporary files under TMPDIR (default /var/tmp): keep them ours.
        self.env = {**os.environ, "TMPDIR": str(tmp)}

    def run(self, *args: str, capture: bool = False) -> str:
        """Run one buildah command; its progress goes to our stderr unless captured."""
        result = subprocess.run(
            ["buildah", *self.global_args, *args],
            env=self.env,
            stdout=subprocess.PIPE if capture else sys.stderr,
            stderr=sys.stderr,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"buildah {args[0]} failed with exit code {result.returncode}; see above")
        return result.stdout.strip() if capture else ""

    def has_image(self, name: str) -> bool:
        result = subprocess.run(
            ["buildah", *self.global_args, "inspect", "--type=image", name],
            env=self.env,
            capture_output=True,
            check=False,
        )
        return result.returncode == 0
