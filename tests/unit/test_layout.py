"""The source layout: one path per file, and layering contracts that can fail."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Each package and the folder it lives in (pyproject's three source roots).
PACKAGES = {
    "kubedrift": ROOT / "kubedrift",
    "kubedrift_operator": ROOT / "operator" / "kubedrift_operator",
    "kubedrift_jobs": ROOT / "jobs" / "kubedrift_jobs",
}


def test_no_symlinks_in_the_source_trees() -> None:
    linked = [
        path
        for root in (ROOT / "kubedrift", ROOT / "operator", ROOT / "jobs")
        for path in root.rglob("*")
        if path.is_symlink()
    ]
    assert linked == []


def test_every_package_is_imported_from_its_one_folder() -> None:
    import kubedrift
    import kubedrift_jobs
    import kubedrift_operator

    for module in (kubedrift, kubedrift_operator, kubedrift_jobs):
        assert module.__file__ is not None
        assert Path(module.__file__).resolve().parent == PACKAGES[module.__name__]


def test_the_standard_librarys_operator_is_not_shadowed() -> None:
    code = "import operator, sys; assert operator.__file__.startswith(sys.base_prefix), operator.__file__"
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


def _lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(str(tree / d) for d in (".", "operator", "jobs"))}
    return subprocess.run(
        [str(Path(sys.executable).parent / "lint-imports"), "--config", str(tree / "pyproject.toml")],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def _copy_sources(tree: Path) -> None:
    shutil.copy(ROOT / "pyproject.toml", tree)
    for source in PACKAGES.values():
        shutil.copytree(source, tree / source.relative_to(ROOT), ignore=shutil.ignore_patterns("__pycache__"))


# A forbidden import added to one file, the contract it breaks and the chain lint-imports reports.
FORBIDDEN_IMPORTS = [
    (
        "operator/kubedrift_operator/names.py",
        "kubedrift_jobs.train.job",
        "the operator and the jobs are independent of each other",
        "kubedrift_operator.names -> kubedrift_jobs.train.job",
    ),
    (
        "kubedrift/decisions.py",
        "pandas",
        "the loop's pure parts import no Kubernetes client, data or estimator library",
        "kubedrift.decisions -> pandas",
    ),
    (
        "kubedrift/local/manifest.py",
        "kubedrift_operator.names",
        "the local run uses the jobs, never the operator",
        "kubedrift.local.manifest -> kubedrift_operator.names",
    ),
]


def test_the_contracts_hold_and_break_on_a_forbidden_import(tmp_path: Path) -> None:
    _copy_sources(tmp_path)
    kept = _lint_imports(tmp_path)
    assert kept.returncode == 0, kept.stdout + kept.stderr

    for file, module, contract, chain in FORBIDDEN_IMPORTS:
        source = tmp_path / file
        original = source.read_text()
        source.write_text(original + f"\nimport {module}  # noqa\n")
        broken = _lint_imports(tmp_path)
        source.write_text(original)
        assert broken.returncode != 0, file
        assert f"{contract} BROKEN" in broken.stdout, broken.stdout
        assert chain in broken.stdout, broken.stdout
