"""Tiny OCI image archives made locally: the pod sandbox ("pause") image and small test images.

No registry is reachable, so images are written as OCI image-layout tar archives (one
uncompressed layer) and imported into the node's containerd (containerd.Containerd.import_image),
the same way the kubedrift images built with buildah are. The archive names the image with the
`io.containerd.image.name` annotation, which `ctr images import` uses as the image's name.
Archives are deterministic (fixed timestamps and owners): the same inputs give the same digests.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

BUSYBOX = Path("/bin/busybox")  # Debian's busybox-static: one static binary, every applet
BUSYBOX_APPLETS = (
    "sh", "cat", "echo", "sleep", "touch", "ls", "id", "wget", "dd", "head", "mkdir", "grep",
    "test", "true", "false", "env", "ps", "kill", "nc", "date", "hostname", "ip", "mount", "rm", "httpd",
)  # fmt: skip
PAUSE_IMAGE = "kubedrift.local/pause:1"
BUSYBOX_IMAGE = "kubedrift.local/busybox:1"


@dataclass
class ImageSpec:
    name: str  # e.g. kubedrift.local/busybox:1 (a tag that is not `latest`: never pulled)
    entrypoint: list[str]
    files: dict[str, tuple[bytes, int]] = field(default_factory=dict)  # path -> (content, mode)
    symlinks: dict[str, str] = field(default_factory=dict)  # path -> target
    directories: tuple[str, ...] = ("proc", "sys", "dev", "etc", "tmp", "var/run")
    env: tuple[str, ...] = ("PATH=/bin",)
    user: str = ""


def write_archive(spec: ImageSpec, archive: Path) -> Path:
    layer = _layer(spec)
    config = _json(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": {"Entrypoint": spec.entrypoint, "Env": list(spec.env), "User": spec.user},
            "rootfs": {"type": "layers", "diff_ids": [_digest(layer)]},
        }
    )
    manifest = _json(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": _descriptor("application/vnd.oci.image.config.v1+json", config),
            "layers": [_descriptor("application/vnd.oci.image.layer.v1.tar", layer)],
        }
    )
    manifest_descriptor = _descriptor("application/vnd.oci.image.manifest.v1+json", manifest)
    manifest_descriptor["annotations"] = {
        "io.containerd.image.name": spec.name,
        "org.opencontainers.image.ref.name": spec.name.rsplit(":", 1)[-1],
    }
    index = _json(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [manifest_descriptor],
        }
    )
    archive.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive, "w") as tar:
        _add(tar, "oci-layout", _json({"imageLayoutVersion": "1.0.0"}))
        _add(tar, "index.json", index)
        for blob in (layer, config, manifest):
            _add(tar, "blobs/sha256/" + _digest(blob).split(":", 1)[1], blob)
    return archive


def pause_image(pause_binary: Path) -> ImageSpec:
    return ImageSpec(
        name=PAUSE_IMAGE,
        entrypoint=["/pause"],
        files={"pause": (pause_binary.read_bytes(), 0o755)},
        user="65535",  # the pause process needs no privileges
    )


def busybox_image() -> ImageSpec:
    """A shell and the usual tools in one static binary (from the host's busybox-static package)."""
    return ImageSpec(
        name=BUSYBOX_IMAGE,
        entrypoint=["/bin/sh"],
        files={"bin/busybox": (BUSYBOX.read_bytes(), 0o755)},
        symlinks={f"bin/{applet}": "busybox" for applet in BUSYBOX_APPLETS},
    )


def _layer(spec: ImageSpec) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        parents = {str(Path(p).parent) for p in [*spec.files, *spec.symlinks]} - {"."}
        for directory in sorted(set(spec.directories) | parents):
            info = tarfile.TarInfo(directory)
            info.type, info.mode = tarfile.DIRTYPE, 0o1777 if directory == "tmp" else 0o755
            tar.addfile(info)
        for path, (content, mode) in sorted(spec.files.items()):
            info = tarfile.TarInfo(path)
            info.size, info.mode = len(content), mode
            tar.addfile(info, io.BytesIO(content))
        for path, target in sorted(spec.symlinks.items()):
            info = tarfile.TarInfo(path)
            info.type, info.linkname, info.mode = tarfile.SYMTYPE, target, 0o777
            tar.addfile(info)
    return buffer.getvalue()


def _json(value: object) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


def _digest(blob: bytes) -> str:
    return "sha256:" + hashlib.sha256(blob).hexdigest()


def _descriptor(media_type: str, blob: bytes) -> dict[str, object]:
    return {"mediaType": media_type, "digest": _digest(blob), "size": len(blob)}


def _add(tar: tarfile.TarFile, name: str, content: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode = len(content), 0o644
    tar.addfile(info, io.BytesIO(content))
