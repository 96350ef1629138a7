"""`kubectl drift` works once `kubectl-drift` is on PATH: pyproject must declare that script."""

from __future__ import annotations

import importlib
import tomllib
from pathlib import Path

import pytest

PYPROJECT = Path(__file__).resolve().parents[3] / "pyproject.toml"


def test_the_console_script_points_at_the_plugins_main() -> None:
    project = tomllib.loads(PYPROJECT.read_text())["project"]
    module_name, _, function = project["scripts"]["kubectl-drift"].partition(":")

    assert callable(getattr(importlib.import_module(module_name), function))
    assert any(dep.startswith("kubernetes") for dep in project["optional-dependencies"]["plugin"])


def test_exp_without_a_subcommand_prints_help_and_fails(capsys: pytest.CaptureFixture[str]) -> None:
    from kubedrift.plugin.commands import main

    assert main(["exp"]) == 2
    assert "show" in capsys.readouterr().out
