"""The read-only baseline: read every column of both files, as the check does, and nothing else.

    python bench/readonly.py REFERENCE CURRENT [--whole]

Column by column (default): each column of each side is read through
kubedrift.storage and converted to numpy, two columns at a time on a thread pool,
exactly the access pattern of the check. `--whole` reads each file's whole table
at once instead, the way a pandas-based tool would.
"""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor

import pyarrow.parquet as pq

from kubedrift.storage import open_parquet


def column_by_column(reference: str, current: str) -> int:
    sides = [open_parquet(reference), open_parquet(current)]

    def read(name: str) -> int:
        return sum(len(side.column(name).to_numpy()) for side in sides)

    with ThreadPoolExecutor(max_workers=2) as pool:
        return sum(pool.map(read, sides[0].column_names))


def whole(reference: str, current: str) -> int:
    tables = [pq.read_table(path) for path in (reference, current)]
    return sum(len(c.to_numpy()) for t in tables for c in t.columns)


if __name__ == "__main__":
    reader = whole if "--whole" in sys.argv else column_by_column
    print(reader(sys.argv[1], sys.argv[2]))
