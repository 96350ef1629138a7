"""Drift check benchmark (not a test): kubedrift check vs Evidently 0.7 vs a read-only pass.

    python bench/drift_bench.py [--sizes 100000,1000000,5000000] [--repeat 3] [--no-evidently]

Each contender runs as its own child process over the same generated Parquet
files (bench/generate.py; cached in bench/.data/); wall time is measured around
the process, peak memory is the child's maximum RSS from wait4(). The check is
`kubedrift check` exactly as a pod runs it (writing its JSON and HTML report to a
local folder). With --repeat N the fastest of N runs counts (the machine may be
shared); Evidently runs once per size. Results are printed as a Markdown table and
written to bench/.data/results.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
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


def measure(command: list[str], env: dict[str, str] | None = None) -> Run:
    started = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    stderr = child.stderr.read().decode() if child.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{command[:3]} failed: {stderr[-2000:]}")
    return Run(seconds=seconds, peak_mib=usage.ru_maxrss / 1024)  # ru_maxrss is KiB on Linux


def best(command: list[str], repeat: int, env: dict[str, str] | None = None) -> Run:
    runs = [measure(command, env) for _ in range(repeat)]
    return min(runs, key=lambda r: r.seconds)


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
    args = parser.parse_args()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    results = []
    for rows in (int(s) for s in args.sizes.split(",")):
        reference, current = ensure(DATA, rows)
        with tempfile.TemporaryDirectory() as tmp:
            row: dict[str, object] = {"rows_per_side": rows}
            row["read_columns"] = asdict(
                best(
                    [sys.executable, str(HERE / "readonly.py"), str(reference), str(current)],
                    args.repeat,
                    env,
                )
            )
            row["read_whole"] = asdict(
                best(
                    [sys.executable, str(HERE / "readonly.py"), str(reference), str(current), "--whole"],
                    args.repeat,
                    env,
                )
            )
            row["kubedrift"] = asdict(best(check_command(reference, current, Path(tmp)), args.repeat, env))
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


if __name__ == "__main__":
    main()
