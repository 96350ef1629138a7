"""Builds what is missing: the base image once, then each image whose content key has no archive.

A run with nothing to build only hashes files and looks for archives, without buildah and without
the lock. Building happens under an exclusive lock on the cache, so concurrent runs (other
worktrees, CI) wait for each other instead of sharing buildah's storage mid-build; archives appear
by an atomic rename, so one that exists is complete.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .buildah import Buildah
from .cachekey import base_key, image_key
from .chartrefs import default_refs

ROOT = Path(__file__).resolve().parents[3]
BASE_SCRIPT = Path(__file__).with_name("base.sh")
# What the base gets besides its files: the official python image's environment and command.
BASE_CONFIG = (
    "--env=PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "--env=LANG=C.UTF-8",
    "--cmd=python3",
)
# chroot isolation works inside containers and VMs alike; pip reaches PyPI over the host network.
BUILD_FLAGS = ("--isolation=chroot", "--network=host", "--pull=never", "--format=docker", "--layers=false")


# Where Debian (the base too) keeps its CA bundle. The build's RUN steps see the host's bundle
# there, so pip trusts what the host trusts (a TLS-inspecting proxy's CA, say); the images keep
# their own, as the mount is not part of any layer.
CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"


def host_trust() -> list[str]:
    bundle = os.environ.get("SSL_CERT_FILE") or CA_BUNDLE
    return [f"--volume={bundle}:{CA_BUNDLE}:ro"] if Path(bundle).is_file() else []


def cache_home() -> Path:
    cache = os.environ.get("KUBEDRIFT_CACHE") or Path(
        os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache", "kubedrift"
    )
    return Path(cache) / "images"


def log(message: str) -> None:
    print(f"images: {message}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Image:
    name: str  # the folder under images/
    dockerfile: Path
    ref: str  # as the chart renders it by default
    archive: Path


def base_tag() -> str:
    return f"localhost/kubedrift-base:{base_key(BASE_SCRIPT, ' '.join(BASE_CONFIG))}"


def base_id_file(home: Path) -> Path:
    return home / f"base-{base_tag().rpartition(':')[2]}.id"


def build_recipe() -> str:
    """How images are built: a change to the build code (this file, buildah.py) builds anew."""
    here = Path(__file__).parent
    return "".join((here / name).read_text() for name in ("build.py", "buildah.py"))


def planned_images(home: Path, base_id: str) -> list[Image]:
    """Every images/*/Dockerfile with the archive its current content key names."""
    refs = default_refs(ROOT / "charts" / "kubedrift")
    images = []
    for dockerfile in sorted(ROOT.glob("images/*/Dockerfile")):
        name = dockerfile.parent.name
        if name not in refs:
            raise RuntimeError(f"{dockerfile}: no chart value names this image (see chartrefs.py)")
        key = image_key(ROOT, dockerfile, base_id, refs[name], build_recipe())
        images.append(Image(name, dockerfile, refs[name], home / f"{name}-{key}.tar"))
    return images


def expected_archives(home: Path | None = None) -> list[Image]:
    """The archives of the current sources, built or not; empty when no base was ever built."""
    home = home or cache_home()
    ids = base_id_file(home)
    return planned_images(home, ids.read_text().strip()) if ids.exists() else []


@contextmanager
def exclusive(home: Path) -> Iterator[None]:
    with open(home / "lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log("waiting for another build of the images to finish")
            fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def ensure_base(buildah: Buildah, home: Path, tmp: Path) -> str:
    """The base image's id, made from Debian packages on first use."""
    tag, ids = base_tag(), base_id_file(home)
    if ids.exists() and buildah.has_image(tag):
        return ids.read_text().strip()
    log(f"making the base image {tag} with mmdebstrap (about 1.5 min)")
    started = time.monotonic()
    rootfs = tmp / "base.tar"
    _run([str(BASE_SCRIPT), str(rootfs)])
    container = buildah.run("from", "scratch", capture=True)
    try:
        buildah.run("add", "--quiet", container, str(rootfs), "/")
        buildah.run("config", *BASE_CONFIG, container)
        buildah.run("commit", "--quiet", f"--iidfile={tmp / 'base.id'}", container, tag)
    finally:
        buildah.run("rm", container, capture=True)
    _replace(ids, (tmp / "base.id").read_text().strip())
    log(f"base image made in {time.monotonic() - started:.0f} s")
    return ids.read_text().strip()


def build_image(buildah: Buildah, image: Image, base: str, tmp: Path) -> None:
    log(f"building {image.ref} from {image.dockerfile.relative_to(ROOT)}")
    started = time.monotonic()
    buildah.run(
        "bud",
        *BUILD_FLAGS,
        *host_trust(),
        f"--build-arg=PYTHON_IMAGE={base}",
        f"--file={image.dockerfile}",
        f"--tag={image.ref}",  # the archive names its source's tags too: only this one
        str(ROOT),
    )
    partial = tmp / image.archive.name
    buildah.run("push", "--quiet", image.ref, f"docker-archive:{partial}:{image.ref}")
    buildah.run("rmi", image.ref, capture=True)  # the archive is the cache; storage keeps only the base
    os.replace(partial, image.archive)
    prune(image)
    size = image.archive.stat().st_size / 1e6
    log(f"{image.archive} ({size:.0f} MB) in {time.monotonic() - started:.0f} s")


def prune(image: Image, keep: int = 3) -> None:
    """Keep the newest few archives per image: worktrees sharing the cache each find theirs."""
    archives = sorted(image.archive.parent.glob(f"{image.name}-*.tar"), key=lambda p: p.stat().st_mtime)
    for old in archives[:-keep]:
        old.unlink()


def ensure_images() -> list[Image]:
    home = cache_home()
    home.mkdir(parents=True, exist_ok=True)
    images = expected_archives(home)
    if images and all(image.archive.exists() for image in images):
        return images
    with exclusive(home):
        scratch = home / "tmp"
        shutil.rmtree(scratch, ignore_errors=True)  # leftovers of killed runs: nobody else builds now
        scratch.mkdir()
        tmp = Path(tempfile.mkdtemp(dir=scratch))
        try:
            buildah = Buildah(home, tmp)
            buildah.run("rm", "--all", capture=True)  # working containers of killed runs
            base = base_tag()
            images = planned_images(home, ensure_base(buildah, home, tmp))
            for image in images:
                if not image.archive.exists():
                    build_image(buildah, image, base, tmp)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return images


def _replace(path: Path, text: str) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text + "\n")
    os.replace(partial, path)


def _run(command: list[str]) -> None:
    result = subprocess.run(command, stdout=sys.stderr, stderr=sys.stderr, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{command[0]} failed with exit code {result.returncode}; see above")
