"""The README's first command, `make example`, as a newcomer runs it: on a clean copy of the example."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# What `make example` runs, word for word (the Makefile says `$(BIN)/kubedrift run ...`).
COMMAND = ["run", "examples/bike-sharing/driftcheck-local.yaml"]


def test_make_example_prints_the_drift_six_trials_a_table_and_a_promotion(
    tmp_path: Path, record_timing: Callable[[str, float], None]
) -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert "$(BIN)/kubedrift " + " ".join(COMMAND) in makefile, "this is no longer what `make example` runs"
    # A clean copy: the example's files without any `out/` an earlier run left behind.
    example = tmp_path / "examples" / "bike-sharing"
    shutil.copytree(ROOT / "examples" / "bike-sharing", example, ignore=shutil.ignore_patterns("out"))
    console_script = Path(sys.executable).parent / "kubedrift"  # the installed entry point, not -m

    started = time.monotonic()
    result = subprocess.run(
        [str(console_script), *COMMAND],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={"COLUMNS": "100", "PATH": f"{console_script.parent}:/usr/bin:/bin", "HOME": str(tmp_path)},
        timeout=900,
    )
    seconds = time.monotonic() - started
    record_timing(f"`kubedrift {' '.join(COMMAND)}` (make example), wall", seconds)

    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    header = [line for line in out.splitlines() if line.split()[:2] == ["Experiment", "#"]]
    assert len(header) == 1, out  # the comparison table, once
    rows = [line for line in out.splitlines() if re.match(r"exp-[0-9a-f]{8}\b", line)]
    assert len(rows) >= 6, out  # one row per trial of the 2 × 3 grid
    assert sum("★" in row for row in rows) == 1, out  # the best one is starred
    best = rows[0].split()[0]
    promoted = re.search(
        r"^promoted (exp-[0-9a-f]{8}) \(avg_prec=[0-9.]+ against [^)]*\) to (\S+)$", out, re.MULTILINE
    )
    assert promoted, out
    assert promoted[1] == best
    model = Path(promoted[2])
    assert model.is_relative_to(tmp_path) or not model.is_absolute(), model  # in the copy, not the clone
    assert model.as_posix().endswith("examples/bike-sharing/out/bikes/production/model.skops"), model
    assert (tmp_path / model).is_file()
