"""What every batch job shares: reading its config, writing its termination
message, and turning kubedrift's errors into exit codes.

A job's contract with the operator is small: exit 0 when it ran (whatever it
found), otherwise the error's exit code; either way a compact JSON document at
the termination-message path, which the kubelet copies into the pod status
where the operator reads it. It must stay under 4 KiB and always be valid JSON.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import ValidationError

from kubedrift.errors import ConfigError, KubedriftError
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

FAILURE_MESSAGE_LIMIT = 2000  # the JobFailure document must stay far below the 4 KiB limit


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


def termination_message_path(explicit: str | None = None) -> Path:
    return Path(explicit or os.environ.get(ENV_TERMINATION_MESSAGE_PATH) or DEFAULT_TERMINATION_MESSAGE_PATH)


def fit_message(document: dict[str, Any], shrink: Callable[[dict[str, Any]], dict[str, Any] | None]) -> str:
    """Serialise `document` to at most TERMINATION_MESSAGE_LIMIT bytes.

    `shrink` returns a smaller document (e.g. with a list cut in half and
    `truncated: true`), or None when it cannot shrink any further; the result is
    deterministic for the same input and always valid JSON.
    """
    current: dict[str, Any] | None = document
    while current is not None:
        text = json.dumps(current, separators=(",", ":"), sort_keys=True)
        if len(text.encode()) < TERMINATION_MESSAGE_LIMIT:
            return text
        current = shrink(current)
    raise ValueError("the summary cannot be made to fit a termination message")


def write_termination_message(text: str, path: str | None = None) -> None:
    target = termination_message_path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    except OSError as error:  # a job must not fail because of its report channel
        print(f"warning: cannot write termination message to {target}: {error}", file=sys.stderr)


def run_job(body: Callable[[], str], termination_path: str | None = None) -> int:
    """Run a job's body; it returns its summary text. Errors become exit codes.

    The one-line reason goes to stderr and, as a JobFailure document, to the
    termination message, so `kubectl describe pod` and the operator both see it.
    """
    try:
        summary = body()
    except KubedriftError as error:
        failure = JobFailure(reason=error.reason, message=shorten(error.message, FAILURE_MESSAGE_LIMIT))
        print(f"error: {error.reason}: {error.message}", file=sys.stderr)
        write_termination_message(json.dumps({"error": failure.to_wire()}), termination_path)
        return error.exit_code
    write_termination_message(summary, termination_path)
    return 0
