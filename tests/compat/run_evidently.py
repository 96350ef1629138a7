"""Run Evidently 0.7 in its own venv, as a subprocess, and read its per-column verdicts.

The venv is made by the setup step (`make evidently`, a prerequisite of `make test`), never
by a test: when it is missing or out of date the tests fail and say how to make it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
VENV_SCRIPT = ROOT / "scripts" / "evidently-venv.sh"
RUNNER = Path(__file__).with_name("evidently_runner.py")

# Evidently's stat-test names where ours differ.
OUR_NAMES = {"ed": "energy_distance", "mannw": "mannwhitney"}


class EvidentlyMissing(RuntimeError):
    """The Evidently venv is absent or not the one scripts/evidently-venv.sh pins."""


def evidently_python(venv: Path | None = None) -> Path:
    """The Evidently venv's interpreter, checked against the requirement the setup script pins."""
    venv = venv or ROOT / os.environ.get("EVIDENTLY_VENV", ".venv-evidently")
    pinned = re.search(r'^REQUIREMENT="(.*)"$', VENV_SCRIPT.read_text(), re.MULTILINE)
    assert pinned, f"{VENV_SCRIPT} no longer pins REQUIREMENT"
    marker, python = venv / ".installed", venv / "bin" / "python"
    installed = marker.read_text().strip() if marker.is_file() else None
    if installed != pinned[1] or not python.exists():
        found = "is missing" if installed is None else f"has {installed!r}, not {pinned[1]!r}"
        raise EvidentlyMissing(
            f"the Evidently venv {venv} {found}: run `make evidently` "
            "(or `bash scripts/evidently-venv.sh`) first; `make test` does it"
        )
    return python


def evidently_drift(reference: Path, current: Path, options: dict[str, Any] | None = None) -> dict[str, Any]:
    python = evidently_python()
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump({"reference": str(reference), "current": str(current), "options": options or {}}, handle)
    done = subprocess.run(
        [str(python), str(RUNNER), handle.name], capture_output=True, text=True, timeout=900, check=False
    )
    Path(handle.name).unlink()
    if done.returncode != 0:
        raise RuntimeError(f"Evidently failed:\n{done.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(done.stdout)
    for column in result["columns"].values():
        column["method"] = OUR_NAMES.get(column["method"], column["method"])
    return result
