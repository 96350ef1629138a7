"""Small rules written once: the validation-error line, text shortening, NotFound, the flag name."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from kubedrift import errors
from kubedrift.models.driftcheck import DriftCheckSpec
from kubedrift.models.jobconfig import CheckJobConfig
from kubedrift.models.validation import first_error
from kubedrift.text import shorten


def spec_error() -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        DriftCheckSpec.model_validate({"reference": {"uri": "/r.parquet"}})
    return caught.value


def test_one_line_per_validation_error_with_an_optional_root() -> None:
    error = spec_error()
    first = error.errors()[0]
    assert first_error(error) == f"{'.'.join(map(str, first['loc']))}: {first['msg']}"
    assert first_error(error, "spec") == f"spec.{first_error(error)}"


def test_the_operator_and_the_jobs_word_a_validation_error_the_same_way(tmp_path: Path) -> None:
    from kubedrift_jobs.runtime import load_config

    config = tmp_path / "config.json"
    config.write_text(json.dumps({"check": "bikes"}))
    with pytest.raises(errors.ConfigError) as caught:
        load_config(CheckJobConfig, str(config))
    with pytest.raises(ValidationError) as direct:
        CheckJobConfig.model_validate({"check": "bikes"})
    assert caught.value.message == f"invalid config {config}: {first_error(direct.value)}"


def test_shorten_marks_the_cut() -> None:
    assert shorten("abcdef", 6) == "abcdef"
    assert shorten("abcdef", 4) == "abc…" and len(shorten("x" * 5000, 2000)) == 2000


def test_condition_messages_are_shortened_by_the_one_summariser() -> None:
    from kubedrift_operator.reconcile.conditions import CONDITION_MESSAGE_LIMIT, set_condition

    [condition] = set_condition([], "Ready", "False", "X", "m" * 5000, 1, datetime.now(UTC))
    assert condition.message == shorten("m" * 5000, CONDITION_MESSAGE_LIMIT)


def test_a_failed_jobs_message_is_shortened_by_the_one_summariser(tmp_path: Path) -> None:
    from kubedrift_jobs.runtime import FAILURE_MESSAGE_LIMIT, run_job

    def body() -> str:
        raise errors.DataUnreadable("d" * 5000)

    path = tmp_path / "termination"
    assert run_job(body, str(path)) == errors.DataUnreadable.exit_code
    assert json.loads(path.read_text())["error"]["message"] == shorten("d" * 5000, FAILURE_MESSAGE_LIMIT)


def test_there_is_one_not_found() -> None:
    from kubedrift.plugin import commands
    from kubedrift_operator import api

    assert commands.NotFound is errors.NotFound
    assert issubclass(api.NotFound, errors.NotFound) and issubclass(api.NotFound, api.ApiError)
    assert api.NotFound(404, "gone").message == "HTTP 404: gone"


@pytest.mark.parametrize("command", ["check", "train"])
def test_check_and_train_take_the_same_termination_message_flag(command: str) -> None:
    from kubedrift.cli import build_parser

    args = build_parser().parse_args([command, "--termination-message-path", "/tmp/t"])
    assert args.termination_message_path == "/tmp/t"
