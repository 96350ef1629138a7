"""Benchmark (not a test): the training job's own overhead against model fit time, and peak memory.

Runs each index of the bike-sharing grid the way a pod does — a fresh
`python -m kubedrift train --index i` process — and records:

* wall time of the process (interpreter start to exit), measured here;
* the job's stage timings (read, prepare, fit, predict, write), from its trial.json;
* start-up = wall − the job's own total (interpreter, imports, config, exit);
* peak RSS of the process, from os.wait4's rusage (ru_maxrss, KiB on Linux);
* the size of the model artifact.

Then the whole grid through the local process pool (`run_grid`), for the
wall-clock time of a local run.

Usage: python bench/train_bench.py [--trees 350 400 450 500] [--splits 28 46 64] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "examples" / "bike-sharing" / "data"


def config(reports: Path, trees: list[int], splits: list[int]) -> dict[str, Any]:
    return {
        "check": "bikes",
        "run": "bench",
        "columns": {"target": "high_demand", "exclude": ["dteday", "casual", "registered", "cnt"]},
        "storage": {"reportsUri": str(reports)},
        "retrain": {
            "train": {"uri": str(DATA / "2011.parquet")},
            "test": {"uri": str(DATA / "2012.parquet")},
            "model": {"estimator": "RandomForestClassifier", "params": {"n_jobs": 1}},
            "grid": {"n_estimators": trees, "min_samples_split": splits},
            "metrics": ["avg_prec", "roc_auc", "accuracy", "f1", "log_loss"],
            "objective": {"metric": "avg_prec"},
        },
    }


def run_pod_like(config_path: Path, index: int, termination: Path) -> dict[str, float]:
    env = os.environ | {"KUBEDRIFT_TERMINATION_MESSAGE_PATH": str(termination)}
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "kubedrift", "train", "--config", str(config_path), "--index", str(index)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    if process.returncode != 0:
        raise SystemExit(f"index {index} failed: {termination.read_text()}")
    return {"wall": wall, "peak_rss_mib": usage.ru_maxrss / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--trees", type=int, nargs="+", default=[350, 400, 450, 500])
    parser.add_argument("--splits", type=int, nargs="+", default=[28, 46, 64])
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="kubedrift-bench-"))
    out.mkdir(parents=True, exist_ok=True)
    reports = out / "reports"
    spec = config(reports, args.trees, args.splits)
    config_path = out / "train.yaml"
    config_path.write_text(yaml.safe_dump(spec))
    size = len(args.trees) * len(args.splits)

    rows = []
    for index in range(size):
        measured = run_pod_like(config_path, index, out / f"termination-{index}")
        trial = json.loads((reports / "bikes" / "bench" / str(index) / "trial.json").read_text())
        timings = trial["timings"]
        model = reports / "bikes" / "bench" / str(index) / "model.skops"
        rows.append(
            {
                "index": index,
                "params": {k: trial["summary"]["params"][k] for k in ("n_estimators", "min_samples_split")},
                "start": measured["wall"] - timings["total"],
                **{
                    k: timings[k] for k in ("validate", "read", "prepare", "fit", "predict", "write", "total")
                },
                "wall": measured["wall"],
                "peak_rss_mib": measured["peak_rss_mib"],
                "model_mib": model.stat().st_size / 2**20,
                "avg_prec": trial["summary"]["metrics"]["avg_prec"],
            }
        )
        print(json.dumps(rows[-1]), flush=True)

    from kubedrift.local.grid_runner import run_grid
    from kubedrift.models.jobconfig import TrainJobConfig

    local_config = TrainJobConfig.model_validate({**spec, "run": "bench-local"})
    started = time.perf_counter()
    local = run_grid(local_config, progress=False)
    local_wall = time.perf_counter() - started

    def total(key: str) -> float:
        return sum(r[key] for r in rows)

    other = total("wall") - total("fit") - total("predict")
    print()
    print(
        f"grid: {size} RandomForestClassifier trials, "
        f"n_estimators {args.trees} × min_samples_split {args.splits}"
    )
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    print("| stage (sum over trials, s) | seconds | share of wall |")
    print("| --- | ---: | ---: |")
    for key in ("start", "validate", "read", "prepare", "fit", "predict", "write"):
        print(f"| {key} | {total(key):.2f} | {total(key) / total('wall'):.1%} |")
    print(f"| wall (one process per trial) | {total('wall'):.2f} | 100% |")
    print(
        f"job overhead (everything but fit and predict) {other:.2f} s = {other / total('wall'):.1%} of wall"
    )
    print(
        f"per trial: start median {statistics.median(r['start'] for r in rows):.2f} s, "
        f"fit median {statistics.median(r['fit'] for r in rows):.2f} s, "
        f"write median {statistics.median(r['write'] for r in rows):.2f} s"
    )
    print(
        f"peak RSS per trial: max {max(r['peak_rss_mib'] for r in rows):.0f} MiB, "
        f"min {min(r['peak_rss_mib'] for r in rows):.0f} MiB; "
        f"model size max {max(r['model_mib'] for r in rows):.0f} MiB"
    )
    print(f"local pool: {len(local.outcomes)} trials on {local.workers} workers in {local_wall:.1f} s")
    print(f"artifacts in {out}")


if __name__ == "__main__":
    main()
