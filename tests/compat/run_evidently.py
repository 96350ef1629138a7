"""Run Evidently 0.7 in its own venv, as a subprocess, and read its per-column verdicts."""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
VENV_SCRIPT = ROOT / "scripts" / "evidently-venv.sh"
RUNNER = Path(__file__).with_name("evidently_runner.py")
PYTHON = ROOT / ".venv-evidently" / "bin" / "python"

# Evidently's stat-test names where ours differ.
OUR_NAMES = {"ed": "energy_distance", "mannw": "mannwhitney"}


def ensure_venv() -> Path:
    """Create the Evidently venv once (cached; the script is a no-op when it is current)."""
    subprocess.run(["bash", str(VENV_SCRIPT)], check=True, timeout=900)
    return PYTHON


def evidently_drift(reference: Path, current: Path, options: dict[str, Any] | None = None) -> dict[str, Any]:
    python = ensure_venv()
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
