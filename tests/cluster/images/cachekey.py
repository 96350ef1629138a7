"""Content keys: a hash of everything an image's build reads.

Which folders go into an image is read from its Dockerfile's COPY and ADD lines, never listed
here, so moving code between folders and editing the COPY lines needs no change in this file.
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import subprocess
from collections.abc import Iterable
from pathlib import Path


def instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) per instruction: continuation lines joined, comments dropped."""
    result: list[tuple[str, str]] = []
    pending = ""
    for line in dockerfile.read_text().splitlines():
        if not pending and line.lstrip().startswith("#"):
            continue
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        whole = (pending + line).strip()
        pending = ""
        if whole and not whole.startswith("#"):
            name, _, args = whole.partition(" ")
            result.append((name.upper(), args.strip()))
    return result


def copy_sources(dockerfile: Path) -> list[str]:
    """The build-context paths that COPY and ADD lines read (not those copied from a stage)."""
    sources: list[str] = []
    for name, args in instructions(dockerfile):
        if name not in ("COPY", "ADD"):
            continue
        words = json.loads(args) if args.startswith("[") else shlex.split(args)
        flags = [w for w in words if w.startswith("--")]
        if any(f.startswith("--from=") for f in flags):
            continue
        paths = [w for w in words if not w.startswith("--")]
        sources += paths[:-1]  # the last one is the destination
    return sources


def context_files(root: Path, sources: Iterable[str]) -> list[str]:
    """The files under `sources` that git knows or would add (so .gitignore'd caches are left out)."""
    result = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", *sources],
        cwd=root,
        capture_output=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"the images' keys need a git checkout: {result.stderr.decode().strip()}")
    return sorted({name for name in result.stdout.decode().split("\0") if name})


def hash_files(root: Path, names: Iterable[str]) -> str:
    """Names and contents; a symlink by its target (COPY keeps symlinks as links)."""
    digest = hashlib.sha256()
    for name in names:
        path = root / name
        if path.is_symlink():
            content = b"symlink:" + os.readlink(path).encode()
        elif path.is_file():
            content = path.read_bytes()
        else:
            continue  # deleted in the work tree but still in git's index
        digest.update(f"{name}\0{len(content)}\0".encode())
        digest.update(content)
    return digest.hexdigest()


def image_key(root: Path, dockerfile: Path, base_id: str, ref: str, recipe: str) -> str:
    """The key of one image: its Dockerfile, the files its COPY lines name, pyproject.toml and
    .dockerignore, the base image's id, the tag it is exported with, and how it is built."""
    names = {dockerfile.relative_to(root).as_posix(), "pyproject.toml", ".dockerignore"}
    names |= set(context_files(root, copy_sources(dockerfile)))
    parts = [hash_files(root, sorted(names)), base_id, ref, recipe]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]


def base_key(script: Path, recipe: str) -> str:
    return hashlib.sha256(script.read_bytes() + recipe.encode()).hexdigest()[:16]
