"""What every batch job shares: reading its config, writing its termination
message, and turning kubedrift's errors into exit codes.

A job's contract with the operator is small: exit 0 when it ran (whatever it
found), otherwise the error's exit code; either way a compact JSON document at
the termination-message path, which the kubelet copies into the pod status
where the operator reads it. It must stay under 4 KiB and always be valid JSON.

The limit is in bytes as the kubelet reads the file: the UTF-8 of the JSON text,
escapes included (`json.dumps` writes a non-ASCII character as `\\uXXXX`, six
bytes). So every message is measured after serialising and cut in characters
before serialising, never after: a cut never splits a character or an escape.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import ValidationError

from kubedrift.errors import ConfigError, DataError, KubedriftError, ReportsUnwritable
from kubedrift.models.base import Model
from kubedrift.models.jobconfig import (
    DEFAULT_TERMINATION_MESSAGE_PATH,
    ENV_CONFIG,
    ENV_TERMINATION_MESSAGE_PATH,
)
from kubedrift.models.results import TERMINATION_MESSAGE_LIMIT, JobFailure
from kubedrift.models.validation import first_error
from kubedrift.text import shorten

M = TypeVar("M", bound=Model)

FAILURE_MESSAGE_LIMIT = 2000  # characters; the bytes are bounded again after escaping


def load_config(model: type[M], path: str | None = None) -> M:
    """Read the job config from `path`, or from the file named by $KUBEDRIFT_CONFIG."""
    path = path or os.environ.get(ENV_CONFIG)
    if not path:
        raise ConfigError(f"no config: pass --config or set {ENV_CONFIG}")
    try:
        data = yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError) as error:
        raise ConfigError(f"cannot read config {path}: {error}") from error
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise ConfigError(f"invalid config {path}: {first_error(error)}") from error


@contextmanager
def writing_reports(location: str) -> Iterator[None]:
    """Name a failed report or artifact write for what it is: storage.reportsUri can't be written.

    Storage reports a refused write as it reports a refused read (unreadable data,
    access denied); said of a write, that misleads. Transient trouble stays
    transient (worth a retry).
    """
    try:
        yield
    except (DataError, ConfigError) as error:
        if isinstance(error, ReportsUnwritable):
            raise
        cause = error.__cause__
        why = (
            f"{cause.strerror}: {cause.filename}"
            if isinstance(cause, OSError) and cause.strerror
            else error.message
        )
        raise ReportsUnwritable(
            f"cannot write to storage.reportsUri {location}: {why}; point it at a writable "
            "folder or bucket (and, on S3, check that the credentials may write there)"
        ) from error


def termination_message_path(explicit: str | None = None) -> Path:
    return Path(explicit or os.environ.get(ENV_TERMINATION_MESSAGE_PATH) or DEFAULT_TERMINATION_MESSAGE_PATH)


def encoded_size(document: Any) -> int:
    """Bytes of `document` as a termination message: its JSON text, escapes included, in UTF-8."""
    return len(_serialise(document).encode())


def _serialise(document: Any) -> str:
    return json.dumps(document, separators=(",", ":"), sort_keys=True)


def fit_message(document: dict[str, Any], shrink: Callable[[dict[str, Any]], dict[str, Any] | None]) -> str:
    """Serialise `document` to fewer than TERMINATION_MESSAGE_LIMIT bytes.

    `shrink` returns a smaller document (e.g. with a list cut in half and
    `truncated: true`), or None when it cannot shrink any further; then the
    longest strings are cut (a report location of thousands of non-ASCII
    characters, say). The result is deterministic for the same input and always
    valid JSON.
    """
    current: dict[str, Any] | None = document
    last = document
    while current is not None:
        last = current
        if encoded_size(current) < TERMINATION_MESSAGE_LIMIT:
            return _serialise(current)
        current = shrink(current)
    return _serialise(_cut_strings(last))


def _cut_strings(document: dict[str, Any]) -> dict[str, Any]:
    """Shorten the longest string value until the document fits; the last resort of `fit_message`."""
    current = json.loads(_serialise(document))  # a deep copy
    while encoded_size(current) >= TERMINATION_MESSAGE_LIMIT:
        holder, key, text = max(_strings(current), key=lambda found: len(found[2]), default=(None, None, ""))
        if holder is None or len(text) <= 1:
            return {"truncated": True}
        holder[key] = shorten(text, len(text) // 2)
    return current


def _strings(value: Any) -> list[tuple[Any, Any, str]]:
    """(container, key, text) for every string value inside `value`."""
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else []
    found: list[tuple[Any, Any, str]] = []
    for key, item in items:
        if isinstance(item, str):
            found.append((value, key, item))
        else:
            found.extend(_strings(item))
    return found


def failure_message(reason: str, message: str) -> str:
    """`{"error": JobFailure}` in fewer than TERMINATION_MESSAGE_LIMIT bytes, the message cut if need be.

    The cut is found by bisection on the number of characters kept, measured after
    escaping; the cut is marked with an ellipsis like every `shorten`.
    """

    def document(text: str) -> dict[str, Any]:
        return {"error": JobFailure(reason=reason, message=text).to_wire()}

    text = shorten(message, FAILURE_MESSAGE_LIMIT)
    if encoded_size(document(text)) < TERMINATION_MESSAGE_LIMIT:
        return _serialise(document(text))
    low, high = 1, len(text)  # document(shorten(text, low)) fits ("…" alone), document(text) does not
    while high - low > 1:
        middle = (low + high) // 2
        if encoded_size(document(shorten(text, middle))) < TERMINATION_MESSAGE_LIMIT:
            low = middle
        else:
            high = middle
    return _serialise(document(shorten(text, low)))


def write_termination_message(text: str, path: str | None = None) -> None:
    target = termination_message_path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    except OSError as error:  # a job must not fail because of its report channel
        print(f"warning: cannot write termination message to {target}: {error}", file=sys.stderr)


def run_job(body: Callable[[], str], termination_path: str | None = None) -> int:
    """Run a job's body; it returns its summary text. Errors become exit codes.

    The one-line reason goes to stderr and, as a JobFailure document, to the
    termination message, so `kubectl describe pod` and the operator both see it.
    An unexpected exception (a bug) still leaves a bounded record (reason
    `Error`) before its traceback, so the pod never fails without a word.
    """
    try:
        summary = body()
    except KubedriftError as error:
        print(f"error: {error.reason}: {error.message}", file=sys.stderr)
        write_termination_message(failure_message(error.reason, error.message), termination_path)
        return error.exit_code
    except Exception as error:
        write_termination_message(
            failure_message("Error", f"{type(error).__name__}: {error}"), termination_path
        )
        raise
    write_termination_message(summary, termination_path)
    return 0
