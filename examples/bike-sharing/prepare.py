"""Turn the UCI Bike Sharing hourly data into the Parquet files of this example.

Source: bike-sharing-hourly.csv beside this script, the UCI Bike Sharing dataset
(Hadi Fanaee-T and Joao Gama, 2013; CC BY 4.0) in a variant with readable labels
and some missing `weekday` and `weathersit` values.

Writes data/:
  2011.parquet, 2012.parquet     one year each (train = 2011, test / current = 2012)
  reference.parquet              January 2011, as in Evidently's bike example
  current/week-1..3.parquet      the weeks after it (29 Jan - 21 Feb 2011)
  daily/dt=YYYY-MM-DD/part-0.parquet
                                 every day of 2011-2012 as its own partition (731), for the
                                 windowed DriftCheck (driftcheck-windows.yaml); not committed:
                                 `python examples/bike-sharing/prepare.py --daily` makes them

`high_demand` is the classification target: an hour whose `cnt` is above the
75th percentile of 2011 (computed on the reference year only, so the test year
does not leak into the label).

Run: python examples/bike-sharing/prepare.py [--daily]
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "bike-sharing-hourly.csv"
OUT = HERE / "data"
HIGH_DEMAND_QUANTILE = 0.75
WEEKS = [("2011-01-29", "2011-02-07"), ("2011-02-07", "2011-02-14"), ("2011-02-15", "2011-02-21")]


def load() -> pd.DataFrame:
    frame = pd.read_csv(SOURCE, parse_dates=["dteday"])
    hour = frame["hr"].str.extract(r"^(\d+)(am|pm)$")
    frame["hour"] = hour[0].astype(int) % 12 + (hour[1] == "pm") * 12
    frame = frame.sort_values(["dteday", "hour"], kind="stable").reset_index(drop=True)
    threshold = frame.loc[frame["dteday"].dt.year == 2011, "cnt"].quantile(HIGH_DEMAND_QUANTILE)
    frame["high_demand"] = (frame["cnt"] > threshold).astype("int64")
    return frame.drop(columns=["hour"])


def write(frame: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pandas(frame.reset_index(drop=True), preserve_index=False)
    pq.write_table(table, path, compression="zstd")
    print(f"{path.relative_to(HERE)}: {len(frame)} rows")


def between(frame: pd.DataFrame, start: str, end: str) -> pd.DataFrame:
    return frame[(frame["dteday"] >= start) & (frame["dteday"] < end)]


def write_daily(frame: pd.DataFrame, out: Path = OUT / "daily") -> None:
    """One Hive-style partition per day, as production data lands: dt=2011-01-01/part-0.parquet."""
    days = 0
    for day, rows in frame.groupby(frame["dteday"].dt.strftime("%Y-%m-%d"), sort=True):
        path = out / f"dt={day}" / "part-0.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        table = pa.Table.from_pandas(rows.reset_index(drop=True), preserve_index=False)
        pq.write_table(table, path, compression="zstd")
        days += 1
    print(f"{out.relative_to(HERE)}/: {days} daily partitions, {len(frame)} rows")


def main() -> None:
    frame = load()
    if "--daily" in sys.argv[1:]:
        write_daily(frame)
        return
    write(frame[frame["dteday"].dt.year == 2011], OUT / "2011.parquet")
    write(frame[frame["dteday"].dt.year == 2012], OUT / "2012.parquet")
    write(between(frame, "2011-01-01", "2011-01-29"), OUT / "reference.parquet")
    for number, (start, end) in enumerate(WEEKS, start=1):
        write(between(frame, start, end), OUT / "current" / f"week-{number}.parquet")


if __name__ == "__main__":
    main()
