"""The built images, run without a cluster: unpacked from the archives `make images` exported
(containerd imports the same files) and started with runc as the chart starts them.

The archives are built before pytest starts (the `images` prerequisite of `make test`); a test
never builds them. Missing archives fail here, loudly: they are what a cluster would run.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cluster.images.build import cache_home, expected_archives
from tests.cluster.images.chartrefs import default_refs
from tests.cluster.images.runc import run_in_image
from tests.cluster.images.unpack import Unpacked, unpack

CHART = Path(__file__).resolve().parents[2] / "charts" / "kubedrift"


def _unpacked(name: str, tmp_path_factory: pytest.TempPathFactory) -> Unpacked:
    images = {image.name: image for image in expected_archives()}
    if name not in images or not images[name].archive.exists():
        pytest.fail(
            f"no {name} image archive for the current sources under {cache_home()}: "
            "run `make images` (make test does it before pytest starts)"
        )
    return unpack(images[name].archive, tmp_path_factory.mktemp(name))


@pytest.fixture(scope="module")
def jobs(tmp_path_factory: pytest.TempPathFactory) -> Unpacked:
    return _unpacked("jobs", tmp_path_factory)


@pytest.fixture(scope="module")
def operator(tmp_path_factory: pytest.TempPathFactory) -> Unpacked:
    return _unpacked("operator", tmp_path_factory)


def entrypoint(image: Unpacked) -> list[str]:
    return list(image.config.get("Entrypoint") or [])


@pytest.mark.parametrize("name", ["jobs", "operator"])
def test_tagged_as_the_chart_renders_and_non_root(name: str, request: pytest.FixtureRequest) -> None:
    image: Unpacked = request.getfixturevalue(name)
    assert image.tags == [default_refs(CHART)[name]]
    assert image.config["User"] == "65532:65532"


@pytest.mark.parametrize("name", ["jobs", "operator"])
def test_the_non_root_user_has_a_name(name: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    """kopf asks getpass.getuser() for its identity; a UID without a passwd entry crashed it."""
    image: Unpacked = request.getfixturevalue(name)
    result = run_in_image(image, ["python", "-c", "import getpass; print(getpass.getuser())"], tmp_path)
    assert (result.returncode, result.stdout.strip()) == (0, "nonroot"), result.stderr


@pytest.mark.parametrize("command", ["check", "train", "promote-copy"])
def test_jobs_image_runs_each_job_command(jobs: Unpacked, command: str, tmp_path: Path) -> None:
    result = run_in_image(jobs, [*entrypoint(jobs), command, "--help"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"kubedrift {command}" in result.stdout


def test_jobs_image_runs_as_65532_with_its_data_libraries(jobs: Unpacked, tmp_path: Path) -> None:
    script = "import os, pandas, pyarrow, sklearn, s3fs, skops; print(os.getuid(), os.getgid())"
    result = run_in_image(jobs, ["python", "-c", script], tmp_path)
    assert (result.returncode, result.stdout.strip()) == (0, "65532 65532"), result.stderr


def test_operator_image_starts_the_operator(operator: Unpacked, tmp_path: Path) -> None:
    assert entrypoint(operator) == ["kubedrift", "operator"]  # the chart's command, too
    result = run_in_image(operator, [*entrypoint(operator), "--help"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "--all-namespaces" in result.stdout


@pytest.mark.parametrize("module", ["pandas", "sklearn", "pyarrow", "s3fs"])
def test_operator_image_has_no_data_libraries(operator: Unpacked, module: str, tmp_path: Path) -> None:
    result = run_in_image(operator, ["python", "-c", f"import {module}"], tmp_path)
    assert result.returncode == 1
    assert f"No module named '{module}'" in result.stderr


def test_operator_image_has_its_api_libraries(operator: Unpacked, tmp_path: Path) -> None:
    script = "import kopf, kubernetes, aiohttp, prometheus_client"
    result = run_in_image(operator, ["python", "-c", script], tmp_path)
    assert result.returncode == 0, result.stderr
