"""Sharded checks: each index's time and peak memory, the merge's, and against one pod.

Runs the very commands the pods run (`kubedrift check --shard` with JOB_COMPLETION_INDEX,
then `kubedrift check --merge`), one after another on this machine, on generated data
(`generate.py`: 26 columns, 1M-row row groups). The first sharded check has no reference
profile: its merge step builds it (one row group at a time past the exact limit) and stores it.
The second has it, as every later check of the same reference does. From the indexes' rows per
second the bench says how many indexes a 1B-row window needs to finish within 10 minutes, and
with `--exact` it scores every column exactly, in this process, to give each sketch-based
score's error. See bench/README.md for the method and numbers.

    python bench/shard_bench.py --rows 100000000 --shards 4 --exact
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from drift_bench import DATA, ROOT, check_command, measure, source_env  # noqa: E402
from generate import ensure  # noqa: E402

WINDOW_SECONDS = 600
TARGET_ROWS = 1_000_000_000


def sharded_config(single: list[str], shards: int) -> None:
    """The single check's config with `shards` set (check_command wrote it beside the reports)."""
    path = Path(single[single.index("--config") + 1])
    path.write_text(json.dumps(json.loads(path.read_text()) | {"shards": shards}))


def sharded_check(
    single: list[str], env: dict[str, str], folder: Path, shards: int, job: str
) -> dict[str, Any]:
    """One sharded check, its indexes one after another, then its merge."""
    env = env | {"KUBEDRIFT_JOB_NAME": job}  # the Indexed Job whose partials the merge reads
    indexes = []
    for index in range(shards):
        run = measure([*single, "--shard"], env | {"JOB_COMPLETION_INDEX": str(index)})
        rows = json.loads((folder / "termination-log").read_text())["rows"]
        indexes.append(vars(run) | {"rows": rows})
    merge = measure([*single, "--merge"], env)
    summary = json.loads((folder / "termination-log").read_text())
    return {"indexes": indexes, "merge": vars(merge), "report": summary["reportUri"]}


def exact_errors(report_uri: str, reference: Path, current: Path) -> list[dict[str, Any]]:
    """Every sketch-based score of the report against the same test's exact score, one column at a
    time, both sides read whole and profiled without a limit (this process is no pod)."""
    import pyarrow.parquet as pq

    from kubedrift.models.report import DriftReport
    from kubedrift_jobs.drift.column_check import ColumnPlan, check_column
    from kubedrift_jobs.drift.profile import build

    report = DriftReport.model_validate_json((Path(report_uri) / "report.json").read_text())
    rows = []
    for result in [*report.columns, *filter(None, [report.target])]:
        if result.score_error is None or result.score is None:
            continue
        plan = ColumnPlan(name=result.name, role=result.role, declared=result.column_type)
        sides = [pq.read_table(path, columns=[result.name]).column(0) for path in (reference, current)]
        exact = check_column(plan, build(result.name, sides[0], sys.maxsize), sides[1], report.settings)
        del sides
        assert exact.score is not None
        rows.append(
            {
                "column": result.name,
                "test": result.method,
                "sketch": result.score,
                "bound": result.score_error,
                "exact": exact.score,
                "error": abs(result.score - exact.score),
                "within": abs(result.score - exact.score) <= result.score_error,
                "uncertain": result.uncertain,
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000_000, help="rows per side")
    parser.add_argument("--shards", type=int, default=4)
    parser.add_argument("--one-pod", action="store_true", help="also time the single-pod check (big at 100M)")
    parser.add_argument("--exact", action="store_true", help="each sketch-based score's error against exact")
    args = parser.parse_args()
    reference, current = ensure(DATA, args.rows)
    env = source_env(ROOT)
    result: dict[str, Any] = {"rows_per_side": args.rows, "shards": args.shards, "cores": os.cpu_count()}
    with tempfile.TemporaryDirectory(dir=DATA) as tmp:
        folder = Path(tmp)
        single = check_command(reference, current, folder)
        sharded_config(single, args.shards)
        result["first"] = sharded_check(single, env, folder, args.shards, "bench-check-29000000")
        result["stored"] = sharded_check(single, env, folder, args.shards, "bench-check-29000001")
        if args.one_pod:
            sharded_config(single, 1)
            result["one_pod"] = vars(measure(single, env))
        if args.exact:
            result["errors"] = exact_errors(result["stored"]["report"], reference, current)
    # One index's throughput: its rows over its wall time, interpreter start and footers included.
    indexes = result["stored"]["indexes"]
    rows_per_second = sum(i["rows"] for i in indexes) / sum(i["seconds"] for i in indexes)
    budget = WINDOW_SECONDS - result["stored"]["merge"]["seconds"]
    result["index_rows_per_second"] = round(rows_per_second)
    result["indexes_for_1B_rows_in_10_min"] = math.ceil(TARGET_ROWS / (rows_per_second * budget))
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
