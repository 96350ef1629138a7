"""Generated benchmark data: 20 numerical + 5 categorical feature columns and a numerical target.

The current side shifts a third of the numerical columns and two categorical
ones, so the check has real work on both verdicts. Written in row groups of
1M rows, so generating 5M rows a side never holds more than one row group.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

NUMERICAL = 20
CATEGORICAL = 5
ROW_GROUP = 1_000_000
CATEGORIES = [3, 7, 12, 30, 60]


def _chunk(rows: int, rng: np.random.Generator, shifted: bool) -> pa.Table:
    columns: dict[str, np.ndarray] = {}
    for i in range(NUMERICAL):
        shift = 0.3 if shifted and i % 3 == 0 else 0.0
        if i % 4 == 0:
            values = rng.normal(shift, 1.0, rows)
        elif i % 4 == 1:
            values = rng.lognormal(shift, 0.7, rows)
        elif i % 4 == 2:
            values = rng.uniform(0, 10 + 5 * shift, rows)
        else:
            values = np.round(rng.gamma(2.0 + shift, 3.0, rows), 2)  # many ties
        if i % 5 == 0:
            values[rng.random(rows) < 0.02] = np.nan
        columns[f"num_{i:02d}"] = values
    cats: dict[str, pa.Array] = {}
    for j, k in enumerate(CATEGORIES):
        weights = np.arange(1, k + 1, dtype=float)
        if shifted and j in (1, 3):
            weights = weights[::-1]
        codes = rng.choice(k, rows, p=weights / weights.sum())
        labels = pa.array([f"cat{j}_{v:02d}" for v in range(k)])
        cats[f"cat_{j}"] = pa.DictionaryArray.from_arrays(pa.array(codes.astype(np.int32)), labels).cast(
            pa.string()
        )
    target = columns["num_00"] * 2 + columns["num_01"] + rng.normal(0, 1, rows)
    return pa.table({**columns, **cats, "target": target})


def write_side(path: Path, rows: int, seed: int, shifted: bool) -> None:
    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    writer: pq.ParquetWriter | None = None
    try:
        for start in range(0, rows, ROW_GROUP):
            chunk = _chunk(min(ROW_GROUP, rows - start), rng, shifted)
            writer = writer or pq.ParquetWriter(path, chunk.schema, compression="snappy")
            writer.write_table(chunk, row_group_size=ROW_GROUP)
    finally:
        if writer:
            writer.close()


def ensure(folder: Path, rows: int) -> tuple[Path, Path]:
    reference, current = folder / f"{rows}" / "reference.parquet", folder / f"{rows}" / "current.parquet"
    if not reference.exists():
        write_side(reference, rows, seed=1, shifted=False)
    if not current.exists():
        write_side(current, rows, seed=2, shifted=True)
    return reference, current
