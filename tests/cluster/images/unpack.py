"""A docker archive (as `buildah push docker-archive:` writes it) unpacked into a root filesystem,
layer by layer as a container runtime would, whiteouts included."""

from __future__ import annotations

import json
import shutil
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"


@dataclass(frozen=True)
class Unpacked:
    rootfs: Path
    tags: list[str]
    config: dict[str, Any]  # the image config's "config": User, Entrypoint, Cmd, Env, WorkingDir


def unpack(archive: Path, into: Path) -> Unpacked:
    rootfs = into / "rootfs"
    rootfs.mkdir(parents=True)
    with tarfile.open(archive) as outer:
        manifest = json.load(_member(outer, "manifest.json"))[0]
        config = json.load(_member(outer, manifest["Config"]))
        for layer in manifest["Layers"]:
            _apply_layer(outer, layer, rootfs)
    return Unpacked(rootfs, manifest.get("RepoTags") or [], config.get("config") or {})


def _member(outer: tarfile.TarFile, name: str) -> Any:
    file = outer.extractfile(name)
    assert file is not None, f"{name} is not a file in the archive"
    return file


def _apply_layer(outer: tarfile.TarFile, name: str, rootfs: Path) -> None:
    # Listing first is cheap (tarfile seeks past file data); extracting is left to tar, which is fast.
    with tarfile.open(fileobj=_member(outer, name)) as layer:
        names = [m.name.removeprefix("./") for m in layer if Path(m.name).name.startswith(WHITEOUT)]
    for opaque in (n for n in names if Path(n).name == OPAQUE):
        for old in (rootfs / opaque).parent.iterdir():  # an opaque directory hides the lower layers
            _remove(old)
    tar = subprocess.Popen(["tar", "-x", "-p", "--numeric-owner", "-C", str(rootfs)], stdin=subprocess.PIPE)
    assert tar.stdin is not None
    with tar.stdin:
        shutil.copyfileobj(_member(outer, name), tar.stdin, 1 << 20)
    if tar.wait() != 0:
        raise RuntimeError(f"tar could not unpack layer {name}")
    for marker in names:
        hidden = Path(marker).name.removeprefix(WHITEOUT)
        if hidden != OPAQUE.removeprefix(WHITEOUT):
            _remove(rootfs / Path(marker).parent / hidden)
        _remove(rootfs / marker)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)
