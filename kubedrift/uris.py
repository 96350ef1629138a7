"""Data locations as plain strings: `s3://bucket/key`, `file:///path` or a plain path.

Pure string work, apart from `kubedrift.storage` (which opens them), so the operator can
name where things go without importing any storage library.
"""

from __future__ import annotations


def is_s3(uri: str) -> bool:
    return uri.startswith("s3://")


def local_path(uri: str) -> str:
    return uri.removeprefix("file://")


def join(base: str, *parts: str) -> str:
    """Join URI parts with exactly one slash between them."""
    return "/".join([base.rstrip("/"), *(p.strip("/") for p in parts if p)])
