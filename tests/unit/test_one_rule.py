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
from kubedrift.models.resources import API_VERSION, DRIFTCHECK, DriftCheck
from kubedrift.models.validation import field_error, first_error, invalid_message, spec_problem
from kubedrift.text import shorten


def spec_error() -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        DriftCheckSpec.model_validate({"reference": {"uri": "/r.parquet"}})
    return caught.value


def test_one_line_per_validation_error_is_the_apiservers_line_with_an_optional_root() -> None:
    error = spec_error()
    first = error.errors()[0]
    assert first_error(error) == field_error(first)[0]
    assert first_error(error, "spec") == field_error({**first, "loc": ("spec", *first["loc"])})[0]
    assert first_error(error, "spec") == "spec.current: Required value"


def test_the_jobs_the_plugin_the_operator_and_the_local_run_word_an_error_with_one_formatter(
    tmp_path: Path,
) -> None:
    from kubedrift.plugin.kube import _parse
    from kubedrift_jobs.runtime import load_config

    # The jobs: a config the operator wrote.
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"check": "bikes"}))
    with pytest.raises(errors.ConfigError) as caught:
        load_config(CheckJobConfig, str(config))
    with pytest.raises(ValidationError) as direct:
        CheckJobConfig.model_validate({"check": "bikes"})
    line = field_error(direct.value.errors()[0])[0]
    assert caught.value.message == f"invalid config {config}: {line}"

    # The plugin: a DriftCheck read from the cluster; the operator: its Stalled message;
    # the local run: what `kubectl apply` would print. All start from the same line.
    manifest = {"apiVersion": API_VERSION, "kind": "DriftCheck", "metadata": {"name": "bikes"}, "spec": {}}
    with pytest.raises(ValidationError) as resource:
        DriftCheck.model_validate(manifest)
    line = field_error(resource.value.errors()[0])[0]
    assert line.startswith("spec.") and line.endswith(": Required value")
    with pytest.raises(errors.ConfigError) as plugin:
        _parse(DriftCheck, manifest, DRIFTCHECK)
    assert f"({line})" in plugin.value.message
    with pytest.raises(ValidationError) as spec:
        DriftCheckSpec.model_validate({})
    assert spec_problem(spec.value).split("; ")[0] == line
    assert f"* {line}" in invalid_message("DriftCheck", "bikes", resource.value).splitlines()


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
