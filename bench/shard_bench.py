"""Sharded checks: each index's time and peak memory, the merge's, and against one pod.

Runs the very commands the pods run (`kubedrift check --shard` with JOB_COMPLETION_INDEX,
then `kubedrift check --merge`), one after another on this machine, on generated data
(`generate.py`: 26 columns, 1M-row row groups) with the reference profile already stored, as
every check after the first has it. From the indexes' rows per second it says how many indexes
a 1B-row window needs to finish within 10 minutes. See bench/README.md for the method and numbers.

    python bench/shard_bench.py --rows 10000000 --shards 4
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from drift_bench import DATA, ROOT, Run, check_command, measure, source_env  # noqa: E402
from generate import ensure  # noqa: E402

JOB = "bench-check-29000000"
WINDOW_SECONDS = 600
TARGET_ROWS = 1_000_000_000


def sharded_config(single: list[str], shards: int) -> Path:
    """The single check's config with `shards` set (check_command wrote it beside the reports)."""
    path = Path(single[single.index("--config") + 1])
    config = json.loads(path.read_text()) | {"shards": shards}
    path.write_text(json.dumps(config))
    return path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000_000, help="rows per side")
    parser.add_argument("--shards", type=int, default=4)
    args = parser.parse_args()
    reference, current = ensure(DATA, args.rows)
    env = source_env(ROOT)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        single = check_command(reference, current, folder)
        measure(single, env)  # builds and stores the reference profile (not timed)
        one_pod = measure(single, env)
        sharded_config(single, args.shards)
        env |= {"KUBEDRIFT_JOB_NAME": JOB}  # the Indexed Job whose partials the merge reads
        indexes: list[Run] = []
        rows: list[int] = []
        for index in range(args.shards):
            indexes.append(measure([*single, "--shard"], env | {"JOB_COMPLETION_INDEX": str(index)}))
            rows.append(json.loads((folder / "termination-log").read_text())["rows"])
        merge = measure([*single, "--merge"], env)
    # One pod's throughput: its rows over its wall time, interpreter start and footers included.
    rows_per_second = sum(rows) / sum(run.seconds for run in indexes)
    budget = WINDOW_SECONDS - merge.seconds
    needed = math.ceil(TARGET_ROWS / (rows_per_second * budget)) if budget > 0 else None
    result = {
        "rows_per_side": args.rows,
        "shards": args.shards,
        "cores": len(os.sched_getaffinity(0)),
        "one_pod": vars(one_pod),
        "indexes": [vars(run) | {"rows": n} for run, n in zip(indexes, rows, strict=True)],
        "merge": vars(merge),
        "index_rows_per_second": round(rows_per_second),
        "indexes_for_1B_rows_in_10_min": needed,
    }
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
