"""The images' content keys: which files an image's build reads comes from its Dockerfile's COPY
lines, so a change to those files builds the image anew and a change elsewhere does not."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.cluster.images.cachekey import copy_sources, image_key
from tests.cluster.images.chartrefs import default_refs
from tests.unit.test_chart import env_of, operator_container, render

ROOT = Path(__file__).resolve().parents[2]


def test_copy_sources_of_the_real_dockerfiles() -> None:
    for name in ("jobs", "operator"):
        sources = copy_sources(ROOT / "images" / name / "Dockerfile")
        assert {"pyproject.toml", "README.md", "kubedrift"} <= set(sources)
        assert "/opt/kubedrift" not in sources  # copied from the build stage, not the context


def test_copy_sources_forms(tmp_path: Path) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(
        "# COPY commented ./out\n"
        "FROM base AS build\n"
        "COPY --chown=1:1 a b ./\n"
        'copy ["c d", "/dst/"]\n'
        "COPY e \\\n"
        "     f /dst\n"
        "ADD g /g\n"
        "COPY --from=build /opt /opt\n"
    )
    assert copy_sources(dockerfile) == ["a", "b", "c d", "e", "f", "g"]


def _repo(tmp_path: Path) -> Path:
    for name, text in {
        "Dockerfile": "FROM x\nCOPY pyproject.toml ./\nCOPY pkg ./pkg\n",
        "pyproject.toml": "[project]\n",
        "pkg/mod.py": "A = 1\n",
        "other/mod.py": "B = 1\n",
    }.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run(["git", "add", "."], cwd=tmp_path, check=True)
    return tmp_path


def test_key_follows_copied_files_only(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    dockerfile = repo / "Dockerfile"

    def key() -> str:
        return image_key(repo, dockerfile, "base-id", "r:1", "recipe")

    first = key()
    (repo / "other" / "mod.py").write_text("B = 2\n")
    assert key() == first  # not copied into the image
    (repo / "pkg" / "new.py").write_text("")  # untracked but not ignored: COPY takes it
    assert key() != first
    (repo / "pkg" / "new.py").unlink()
    assert key() == first
    (repo / ".gitignore").write_text("__pycache__/\n")
    (repo / "pkg" / "__pycache__").mkdir()
    (repo / "pkg" / "__pycache__" / "mod.pyc").write_bytes(b"x")
    assert key() == first
    dockerfile.write_text(dockerfile.read_text() + "COPY other ./other\n")
    second = key()
    assert second != first
    (repo / "other" / "mod.py").write_text("B = 3\n")
    assert key() != second
    assert image_key(repo, dockerfile, "another-base", "r:1", "recipe") != key()
    assert image_key(repo, dockerfile, "base-id", "r:2", "recipe") != key()


def test_refs_are_what_the_chart_renders_by_default() -> None:
    docs = render()
    container = operator_container(docs)
    assert default_refs(ROOT / "charts" / "kubedrift") == {
        "operator": container["image"],
        "jobs": env_of(container)["KUBEDRIFT_JOB_IMAGE"],
    }
