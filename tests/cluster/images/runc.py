"""One command in an unpacked image, the way the chart runs it: as the image's USER, read-only
root filesystem, an empty /tmp, no capabilities, no network. runc does the isolation."""

from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path

from .unpack import Unpacked


def run_in_image(
    image: Unpacked, args: list[str], state: Path, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    bundle = state / f"bundle-{uuid.uuid4().hex[:12]}"
    bundle.mkdir(parents=True)
    subprocess.run(["runc", "spec", "--bundle", str(bundle)], check=True)
    spec = json.loads((bundle / "config.json").read_text())
    uid, _, gid = str(image.config.get("User") or "0").partition(":")
    spec["root"] = {"path": str(image.rootfs), "readonly": True}
    spec["process"].update(
        terminal=False,
        args=args,
        env=image.config.get("Env") or [],
        cwd=image.config.get("WorkingDir") or "/",
        user={"uid": int(uid), "gid": int(gid or uid)},
        capabilities={},
    )
    tmp = {"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "mode=1777"]}
    spec["mounts"].append(tmp)
    (bundle / "config.json").write_text(json.dumps(spec))
    command = ["runc", "--root", str(state / "runc"), "run", "--bundle", str(bundle), bundle.name]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
