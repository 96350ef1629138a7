"""Windowed check benchmark (not a test): does a 7-day window cost more when the dataset has more
partitions outside it? (issue 13, test 7)

    PYTHONPATH=.:jobs .venv/bin/python bench/window_bench.py [--years 1 2 4] [--repeat 5] [--no-s3]

For each size a synthetic daily dataset (`dt=YYYY-MM-DD/part-0.parquet`, 24 hourly rows a day, the
bike-sharing example's columns) ends on the same day, so every size has the same last 7 days and
only the partitions before them differ. The check is the check job's own `checked()` in this
process (the interpreter start is the same for every size), each run with a fresh reports folder so
the history never skips it; the fastest of --repeat runs counts (the machine may be shared), and
the median is shown beside it. `select` is opening the window alone (listing its partitions and
reading their footers), the part that could follow the dataset's size. Layouts:
- partition, local files and the tests' S3 server (versitygw over TLS; `make cluster-binaries`);
- column (contrast): the same days as one file a month with a timestamp column `ts`; a window over
  a column lists every file and reads every footer's statistics, so it grows with the dataset.
Results are printed as a Markdown table and written to bench/.data/window-results.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = HERE / ".data" / "windows"
LAST_DAY = date(2026, 11, 30)
AT = datetime.combine(LAST_DAY + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
HOURS = 24
COLUMNS = {"target": "high_demand", "categorical": ["season", "weathersit", "workingday"]}


def _day(day: date, rng: np.random.Generator) -> pa.Table:
    hours = np.arange(HOURS)
    temp = np.clip(rng.normal(0.5 + 0.3 * np.sin(day.timetuple().tm_yday / 58), 0.1, HOURS), 0, 1)
    return pa.table(
        {
            "ts": pa.array(
                [datetime.combine(day, datetime.min.time()) + timedelta(hours=int(h)) for h in hours]
            ),
            "hr": hours,
            "temp": temp,
            "hum": np.clip(rng.normal(0.6, 0.15, HOURS), 0, 1),
            "windspeed": np.abs(rng.normal(0.2, 0.1, HOURS)),
            "season": np.full(HOURS, (day.month % 12) // 3 + 1),
            "weathersit": rng.integers(1, 4, HOURS),
            "workingday": np.full(HOURS, int(day.weekday() < 5)),
            "high_demand": (temp + rng.normal(0, 0.1, HOURS) > 0.55).astype(int),
        }
    )


def ensure(years: int) -> tuple[Path, Path, int]:
    """The partitioned and the monthly-file (column) datasets of `years` years ending LAST_DAY."""
    root = DATA / f"{years}y"
    days = [LAST_DAY - timedelta(days=n) for n in range(365 * years)][::-1]
    partitioned, monthly = root / "partitioned", root / "monthly"
    if not (root / ".done").exists():
        rng = np.random.default_rng(years)
        months: dict[str, list[pa.Table]] = {}
        for day in days:
            table = _day(day, rng)
            folder = partitioned / f"dt={day.isoformat()}"
            folder.mkdir(parents=True, exist_ok=True)
            pq.write_table(table.drop(["ts"]), folder / "part-0.parquet")
            months.setdefault(day.strftime("%Y-%m"), []).append(table)
        monthly.mkdir(parents=True, exist_ok=True)
        for month, tables in months.items():
            pq.write_table(pa.concat_tables(tables), monthly / f"{month}.parquet", row_group_size=HOURS * 7)
        (root / ".done").touch()
    reference = DATA / "reference.parquet"
    if not reference.exists():
        rng = np.random.default_rng(0)
        first = date(2020, 1, 1)
        pq.write_table(
            pa.concat_tables([_day(first + timedelta(days=n), rng) for n in range(365)]).drop(["ts"]),
            reference,
        )
    return partitioned, monthly, len(days)


def config(
    current: dict[str, Any], reference: str, reports: str, storage: dict[str, Any] | None = None
) -> Any:
    from kubedrift.models.jobconfig import CheckJobConfig

    return CheckJobConfig.model_validate(
        {
            "check": "bench",
            "reference": {"uri": reference},
            "current": current | {"window": {"last": "7d"}},
            "columns": COLUMNS | ({"exclude": ["ts"]} if current["time"].get("column") else {}),
            "storage": {"reportsUri": reports} | (storage or {}),
        }
    )


def timed(action: Callable[[], Any], repeat: int) -> tuple[float, float]:
    seconds = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        seconds.append(time.perf_counter() - started)
    return min(seconds), statistics.median(seconds)


def measure(make: Callable[[str], Any], repeat: int, reports_root: str) -> dict[str, float]:
    """Best and median seconds of a whole check and of opening its window alone."""
    from kubedrift.datasets import open_source
    from kubedrift.models.results import CheckSummary
    from kubedrift_jobs.drift.job import checked

    runs = iter(range(10**6))

    def check() -> None:
        result = checked(make(f"{reports_root}/run-{next(runs)}"), workers=2, scheduled_at=AT)
        assert isinstance(result, CheckSummary), result  # a fresh history: never skipped

    def select() -> None:
        cfg = make(f"{reports_root}/select")
        data = open_source(cfg.current, AT, None, cfg.storage)
        assert len(data.files) in (1, 2, 7) and data.num_rows == 7 * HOURS, (len(data.files), data.num_rows)

    check()  # warm: imports and first-use caches are the same for every size
    best, median = timed(check, repeat)
    select_best, select_median = timed(select, repeat)
    return {"check": best, "check_median": median, "select": select_best, "select_median": select_median}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--years", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-s3", action="store_true")
    args = parser.parse_args()
    results: list[dict[str, Any]] = []
    reference = str(DATA / "reference.parquet")
    with tempfile.TemporaryDirectory(prefix="window-bench-") as scratch:
        sets = {years: ensure(years) for years in args.years}
        for years, (partitioned, monthly, days) in sets.items():
            for layout, uri, time_layout in (
                ("partition, local", partitioned, {"partition": "dt=%Y-%m-%d"}),
                ("column, local", monthly, {"column": "ts"}),
            ):
                made = measure(
                    lambda reports, uri=uri, t=time_layout: config(
                        {"uri": str(uri), "time": t}, reference, reports
                    ),
                    args.repeat,
                    f"{scratch}/{years}-{layout.split(',')[0]}",
                )
                files = days if layout.startswith("partition") else len(list(monthly.glob("*.parquet")))
                results.append({"layout": layout, "years": years, "partitions": days, "files": files} | made)
                print(results[-1], flush=True)
        if not args.no_s3:
            results += _on_s3(sets, reference, Path(scratch), args.repeat)
    DATA.mkdir(parents=True, exist_ok=True)
    (DATA.parent / "window-results.json").write_text(json.dumps(results, indent=1))
    head = "| layout | years | days | files | check ms (best, median) | select ms (best, median) |"
    print(head)
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for r in results:
        ms = {k: f"{1000 * v:.0f}" for k, v in r.items() if isinstance(v, float)}
        times = f"{ms['check']}, {ms['check_median']} | {ms['select']}, {ms['select_median']}"
        print(f"| {r['layout']} | {r['years']} | {r['partitions']} | {r['files']} | {times} |")


def _on_s3(
    sets: dict[int, tuple[Path, Path, int]], reference: str, scratch: Path, repeat: int
) -> list[dict[str, Any]]:
    from kubedrift.storage import filesystem
    from tests.fixtures.s3 import running_s3_server

    results = []
    with running_s3_server(scratch / "s3") as server:
        os.environ.update(
            server.env() | {"AWS_CA_BUNDLE": str(server.ca_bundle), "AWS_EC2_METADATA_DISABLED": "true"}
        )
        settings = {"endpoint": server.endpoint, "region": "us-east-1"}
        for years, (partitioned, _, days) in sets.items():
            bucket = server.create_bucket()
            fs = filesystem(f"s3://{bucket}", server.storage(f"s3://{bucket}/reports"))
            fs.put(str(partitioned) + "/", f"{bucket}/daily/", recursive=True)
            fs.put_file(reference, f"{bucket}/reference.parquet")
            made = measure(
                lambda reports, b=bucket: config(
                    {"uri": f"s3://{b}/daily/", "time": {"partition": "dt=%Y-%m-%d"}},
                    f"s3://{b}/reference.parquet",
                    reports,
                    settings,
                ),
                repeat,
                f"s3://{bucket}/reports",
            )
            results.append(
                {"layout": "partition, S3", "years": years, "partitions": days, "files": days} | made
            )
            print(results[-1], flush=True)
    return results


if __name__ == "__main__":
    main()
