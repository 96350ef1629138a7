"""Ctrl-C during `kubedrift run`'s grid: queued trials never start, running ones stop with all
they started, the run's folder says it was interrupted, one line, and the command dies of SIGINT
within 5 s (a shell shows $? = 130, and a calling shell loop stops); a rerun succeeds.

The signal goes to the whole process group, as a terminal's Ctrl-C does (the command runs in
its own session here, so the group is exactly the command and what it started), or to the main
process only, as `kill -INT <pid>` does: the workers never see it, and the run must stop them.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "bike-sharing"
EXIT_WITHIN = 5.0


def session_processes(session: int) -> list[tuple[int, str]]:
    """(pid, state) of every process of `session`, zombies included."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == session:
            found.append((int(entry), fields[0]))
    return found


def trial_folders(out: Path) -> dict[str, list[str]]:
    """Run folder name -> the trial indexes with artifacts in it."""
    runs = {}
    for run in sorted((out / "bikes").glob("local-*")):
        runs[run.name] = sorted(p.name for p in run.iterdir() if p.is_dir())
    return runs


def as_in_a_terminal() -> None:
    """A command run in a terminal's foreground gets SIGINT's default action. The test runner may
    have inherited SIGINT ignored (a run started in the background of a script: `cmd &`), and an
    ignored signal stays ignored across exec, so the command would never see the Ctrl-C."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.fixture
def slow_example(tmp_path: Path) -> Path:
    """The example with bigger forests, so each trial takes seconds and the signal lands mid-grid."""
    shutil.copytree(EXAMPLE / "data", tmp_path / "data")
    manifest = yaml.safe_load((EXAMPLE / "driftcheck-local.yaml").read_text())
    manifest["spec"]["retrain"]["grid"]["n_estimators"] = [300, 400]
    path = tmp_path / "driftcheck.yaml"
    path.write_text(yaml.safe_dump(manifest))
    return path


@pytest.mark.parametrize(
    ("workers", "to"),
    [("2", "group"), ("1", "group"), ("2", "main process")],
    ids=["2-workers", "1-worker", "2-workers-main-process-only"],
)
def test_ctrl_c_stops_the_grid_marks_the_run_and_a_rerun_succeeds(
    slow_example: Path, workers: str, to: str
) -> None:
    out = slow_example.parent / "out"
    stdout, stderr = slow_example.parent / "stdout", slow_example.parent / "stderr"
    env = {"PATH": "/usr/bin:/bin", "COLUMNS": "100"}
    command = [sys.executable, "-m", "kubedrift", "run", str(slow_example), "--workers", workers]
    with stdout.open("w") as out_file, stderr.open("w") as err_file:
        process = subprocess.Popen(
            command,
            stdout=out_file,
            stderr=err_file,
            env=env,
            start_new_session=True,
            preexec_fn=as_in_a_terminal,
        )
    try:
        deadline = time.monotonic() + 300
        while "retrain run" not in stdout.read_text():
            assert process.poll() is None, stderr.read_text()
            assert time.monotonic() < deadline, "the grid never started"
            time.sleep(0.2)
        time.sleep(2.0)  # the first trials are training
        signalled = time.monotonic()
        if to == "group":
            os.killpg(process.pid, signal.SIGINT)
        else:
            os.kill(process.pid, signal.SIGINT)
        code = process.wait(timeout=30)
        took = time.monotonic() - signalled
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    assert code == -signal.SIGINT, stderr.read_text()
    assert took < EXIT_WITHIN, f"exit took {took:.1f}s"
    # Nothing of the run is alive after the exit; killed workers may linger as zombies until reaped.
    assert [p for p in session_processes(process.pid) if p[1] != "Z"] == []
    time.sleep(2.0)
    assert session_processes(process.pid) == []

    lines = [line for line in stderr.read_text().splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("interrupted: run local-"), lines
    assert "Traceback" not in stdout.read_text()
    ((run_name, trials),) = trial_folders(out).items()
    record = json.loads((out / "bikes" / run_name / "interrupted.json").read_text())
    assert record["state"] == "Interrupted" and record["run"] == run_name
    assert record["neverStarted"], "the signal came mid-grid: some trials were still queued"
    assert sorted(record["finished"] + record["stopped"] + record["neverStarted"]) == list(range(6))
    # Only the trials that finished before the signal left artifacts; nothing starts later.
    assert trials == sorted(str(i) for i in record["finished"])
    time.sleep(1.0)
    assert trial_folders(out) == {run_name: trials}
    assert not (out / "bikes" / "production").exists()

    rerun = subprocess.run(
        [*command, "--json"], capture_output=True, text=True, env=env, timeout=600, check=False
    )
    assert rerun.returncode == 0, rerun.stderr
    outcome = json.loads(rerun.stdout)
    assert outcome["run"]["id"] != run_name and len(outcome["run"]["trials"]) == 6
    assert outcome["promotion"]["promoted"] is True
