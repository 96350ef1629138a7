"""Drift check benchmark (not a test): kubedrift check vs Evidently 0.7 vs a read-only pass.

    python bench/drift_bench.py [--sizes 100000,1000000,5000000] [--repeat 3] [--no-evidently]
                                [--before SOURCE_TREE]

Each contender runs as its own child process over the same generated Parquet
files (bench/generate.py; cached in bench/.data/); wall time is measured around
the process, peak memory is its maximum RSS as GNU time (`apt install time`) reports it. The check is
`kubedrift check` exactly as a pod runs it (writing its JSON and HTML report to a
local folder), twice: without a reference profile (each run starts from an empty
reports folder, so it reads both sides and builds and stores the profile) and with
the stored profile (built by an untimed run first). `--before` also times the check
of another source tree (e.g. `git archive <commit>` unpacked), the same way as the
first. With --repeat N the fastest of N runs counts (the machine may be shared),
the contenders taking turns run by run; Evidently runs once per size. Results are
printed as a Markdown table and written to bench/.data/results.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = HERE / ".data"
EVIDENTLY_PYTHON = ROOT / ".venv-evidently" / "bin" / "python"
sys.path.insert(0, str(HERE))

from generate import ensure  # noqa: E402


@dataclass
class Run:
    seconds: float
    peak_mib: float


def measure(command: list[str], env: dict[str, str] | None = None, cwd: Path = ROOT) -> Run:
    """Wall time and peak RSS of the command. `python -m` puts its working directory first on
    sys.path, ahead of PYTHONPATH: it runs in the tree it is meant to import from.

    The peak is GNU time's (`%M`, apt's `time`): the command is its child, and time itself is
    small. A child of this process would not do: Linux carries the peak of the process that
    forks over `exec` into the child's `ru_maxrss`, and this one may have just generated data."""
    with tempfile.NamedTemporaryFile("r") as peak:
        timed = ["/usr/bin/time", "-f", "%M", "-o", peak.name, *command]
        started = time.perf_counter()
        child = subprocess.run(
            timed, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=cwd, check=False
        )
        seconds = time.perf_counter() - started
        if child.returncode != 0:
            raise RuntimeError(f"{command[:3]} failed: {child.stderr.decode()[-2000:]}")
        kib = int(peak.read().split()[-1])
    return Run(seconds=seconds, peak_mib=kib / 1024)


def source_env(root: Path) -> dict[str, str]:
    """An environment that imports kubedrift from `root` (all three packages: an editable
    install of another tree must not supply the jobs or the operator)."""
    return dict(os.environ, PYTHONPATH=os.pathsep.join(str(root / p) for p in ("", "operator", "jobs")))


@dataclass
class Contender:
    name: str
    command: list[str]
    env: dict[str, str]
    before_each: Callable[[], None] = lambda: None
    cwd: Path = ROOT


def best_of(contenders: list[Contender], repeat: int) -> dict[str, Run]:
    """The fastest of `repeat` runs of each, taking turns, so a burst of load elsewhere on the
    machine falls on all of them rather than on one."""
    runs: dict[str, list[Run]] = {c.name: [] for c in contenders}
    for _ in range(repeat):
        for contender in contenders:
            contender.before_each()
            runs[contender.name].append(measure(contender.command, contender.env, contender.cwd))
    return {name: min(found, key=lambda r: r.seconds) for name, found in runs.items()}


def check_command(reference: Path, current: Path, folder: Path) -> list[str]:
    config = folder / "config.json"
    config.write_text(
        json.dumps(
            {
                "check": "bench",
                "reference": {"uri": str(reference)},
                "current": {"uri": str(current)},
                "columns": {"target": "target"},
                "storage": {"reportsUri": str(folder / "reports")},
            }
        )
    )
    return [sys.executable, "-m", "kubedrift", "check", "--config", str(config),
            "--termination-message-path", str(folder / "termination-log")]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="100000,1000000,5000000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-evidently", action="store_true")
    parser.add_argument("--evidently-max", type=int, default=5_000_000, help="largest size Evidently runs at")
    parser.add_argument("--before", type=Path, help="also time the check of this source tree (no profile)")
    args = parser.parse_args()
    env = source_env(ROOT)
    results = []
    for rows in (int(s) for s in args.sizes.split(",")):
        reference, current = ensure(DATA, rows)
        with tempfile.TemporaryDirectory() as tmp:
            folders = {name: Path(tmp) / name for name in ("fresh", "stored", "before")}
            for folder in folders.values():
                folder.mkdir()
            reports = folders["fresh"] / "reports"
            readonly = [sys.executable, str(HERE / "readonly.py"), str(reference), str(current)]
            contenders = [
                Contender("read_columns", readonly, env),
                Contender("read_whole", [*readonly, "--whole"], env),
                Contender(
                    "kubedrift",
                    check_command(reference, current, folders["fresh"]),
                    env,
                    lambda reports=reports: shutil.rmtree(reports, ignore_errors=True),
                ),
                Contender("kubedrift_profile", check_command(reference, current, folders["stored"]), env),
            ]
            if args.before:
                before = check_command(reference, current, folders["before"])
                before_env = source_env(args.before)
                contenders.append(Contender("kubedrift_before", before, before_env, cwd=args.before))
            measure(contenders[3].command, env)  # builds the stored profile (not timed)
            row: dict[str, object] = {"rows_per_side": rows}
            row |= {name: asdict(run) for name, run in best_of(contenders, args.repeat).items()}
            if not args.no_evidently and rows <= args.evidently_max:
                row["evidently"] = asdict(
                    measure(
                        [
                            str(EVIDENTLY_PYTHON),
                            str(HERE / "evidently_preset.py"),
                            str(reference),
                            str(current),
                        ]
                    )
                )
        results.append(row)
        print(json.dumps(row), flush=True)
    (DATA / "results.json").write_text(json.dumps(results, indent=1))
    print(table(results))
    print()
    print(profile_table(results))


def _cell(run: dict) -> str:
    return f"{run['seconds']:.2f} s, {run['peak_mib']:.0f} MiB"


def table(results: list[dict]) -> str:
    lines = [
        "| rows/side | read-only (columns) | read-only (whole) | kubedrift check | Evidently 0.7 | "
        "speed-up vs Evidently | time vs read-only | peak vs read-only (columns / whole) | "
        "peak vs Evidently |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        ours, read, whole = r["kubedrift"], r["read_columns"], r["read_whole"]
        ev = r.get("evidently")
        speedup = f"{ev['seconds'] / ours['seconds']:.1f}×" if ev else "n/a"
        peak_vs_evidently = f"{ours['peak_mib'] / ev['peak_mib']:.3f}×" if ev else "n/a"
        cells = [
            f"{r['rows_per_side']:,}",
            _cell(read),
            _cell(whole),
            _cell(ours),
            _cell(ev) if ev else "not run",
            speedup,
            f"{ours['seconds'] / read['seconds']:.2f}×",
            f"{ours['peak_mib'] / read['peak_mib']:.2f}× / {ours['peak_mib'] / whole['peak_mib']:.2f}×",
            peak_vs_evidently,
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def profile_table(results: list[dict]) -> str:
    """The reference-profile goals: a check without one against the read-only pass, a check with
    one against the check without (and against the tree of `--before`, if timed)."""
    lines = [
        "| rows/side | read-only (columns) | check, no profile | check, stored profile | check before | "
        "no profile vs read-only | stored vs no profile | stored vs before |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        read, fresh, stored, before = (
            r["read_columns"],
            r["kubedrift"],
            r["kubedrift_profile"],
            r.get("kubedrift_before"),
        )
        cells = [
            f"{r['rows_per_side']:,}",
            _cell(read),
            _cell(fresh),
            _cell(stored),
            _cell(before) if before else "not run",
            f"{fresh['seconds'] / read['seconds']:.2f}×",
            f"{stored['seconds'] / fresh['seconds']:.2f}×",
            f"{stored['seconds'] / before['seconds']:.2f}×" if before else "n/a",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
