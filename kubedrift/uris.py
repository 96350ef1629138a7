"""Data locations as plain strings: `s3://bucket/key`, `file:///path` or a plain path.

Pure string work, apart from `kubedrift.storage` (which opens them), so the operator can
name where things go without importing any storage library.
"""

from __future__ import annotations

import fnmatch
import posixpath


def is_s3(uri: str) -> bool:
    return uri.startswith("s3://")


def local_path(uri: str) -> str:
    return uri.removeprefix("file://")


def join(base: str, *parts: str) -> str:
    """Join URI parts with exactly one slash between them."""
    return "/".join([base.rstrip("/"), *(p.strip("/") for p in parts if p)])


GLOB_CHARS = "*?["


def has_glob(uri: str) -> bool:
    return any(c in uri for c in GLOB_CHARS)


def normalised(uri: str) -> str:
    """The location as compared for sameness: `file://` dropped, `.`, `..` and doubled or trailing
    slashes resolved in a path; an S3 key is taken as written (its keys are plain strings), only
    without trailing slashes. A relative path stays relative: no machine's working directory."""
    if is_s3(uri):
        return uri.rstrip("/")
    return posixpath.normpath(local_path(uri))


def _matches(pattern: list[str], path: list[str], *, prefix: bool = False) -> bool:
    """Whether `path` matches `pattern` segment by segment, as fsspec's glob does (`*` stays within
    a segment, `**` spans any number); with `prefix`, whether something the pattern matches lies
    at or below `path`."""
    if not path:
        return prefix or not pattern or pattern == ["**"]
    if not pattern:
        return False
    if pattern[0] == "**":
        if prefix:
            return True
        return any(_matches(pattern[1:], path[i:]) for i in range(len(path) + 1))
    return fnmatch.fnmatchcase(path[0], pattern[0]) and _matches(pattern[1:], path[1:], prefix=prefix)


def overlaps(first: str, second: str) -> bool:
    """Whether two data locations may share files: the same location, one a folder or prefix that
    holds the other (at a path boundary), or a glob that picks the other, a folder above it or
    something inside it. Two different globs are not compared: only a listing could tell."""
    a, b = normalised(first), normalised(second)
    if a == b:
        return True
    if is_s3(a) != is_s3(b) or (has_glob(a) and has_glob(b)):
        return False
    if not has_glob(a) and not has_glob(b):
        return a.startswith(b.rstrip("/") + "/") or b.startswith(a.rstrip("/") + "/")
    pattern, path = (a.split("/"), b.split("/")) if has_glob(a) else (b.split("/"), a.split("/"))
    picks_it_or_above = any(_matches(pattern, path[:end]) for end in range(1, len(path) + 1))
    return picks_it_or_above or _matches(pattern, path, prefix=True)
