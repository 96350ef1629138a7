"""The bad-data corpus: plausible mistakes in real Parquet files, through the check and training
jobs' own entrypoints (`kubedrift check`, `main_index`), as a pod runs them.

Every case ends with its documented exit code (docs/troubleshooting.md), a reason that names the
column or file at fault (in the termination message for a failure; in the report's column entry
or trial.json for a check that ran), a termination message under 4 KiB in bytes, and no earlier
report or artifact changed: all cases share one reports folder that starts with a good check and
a good trial, and every file in it is compared before and after each case.
"""

from __future__ import annotations

import decimal
import hashlib
import json
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from kubedrift.cli import main as cli
from kubedrift.models.report import ColumnResult, DriftReport
from kubedrift.models.results import TERMINATION_MESSAGE_LIMIT, CheckSummary
from kubedrift_jobs.train.job import main_index
from tests.fixtures.train_data import synthetic_table, train_config, write_config

# Many names whose every character is escaped (\uXXXX, six bytes) in the JSON of a termination message.
WIDE = [f"температура_{i:03d}_ß✓" for i in range(400)]


def table(rows: int = 200, seed: int = 0, **columns: Any) -> pa.Table:
    """A check table: x (float), k (int codes), s (text), plus `columns` (arrays or pa.Arrays)."""
    rng = np.random.default_rng(seed)
    base: dict[str, Any] = {
        "x": rng.normal(size=rows),
        "k": rng.integers(0, 4, size=rows),
        "s": rng.choice(["a", "b", "c"], size=rows),
    }
    return pa.table(base | columns)


def write(folder: Path, name: str, data: pa.Table) -> str:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(data, path)
    return str(path)


# ---- what a case builds: the files, and the config fields they need --------------------------------


@dataclass(frozen=True)
class Case:
    id: str
    job: Literal["check", "train"]
    build: Callable[[Path], dict[str, Any]]
    exit_code: int
    reason: str | None = None  # the error reason; None when the job ran (exit 0)
    names: tuple[str, ...] = ()  # what the message (or the column's report entry) must say
    column: str | None = None  # exit 0 check: the column whose report entry names the problem
    status: str | None = None  # and its status
    extra: Callable[[dict[str, Any]], None] | None = field(default=None, compare=False)


def check_files(reference: pa.Table | None = None, current: pa.Table | None = None, **config: Any) -> Any:
    def build(folder: Path) -> dict[str, Any]:
        ref = write(folder, "reference.parquet", reference if reference is not None else table(seed=1))
        cur = write(folder, "current.parquet", current if current is not None else table(seed=2))
        return {"reference": {"uri": ref}, "current": {"uri": cur}} | config

    return build


def check_parts(reference: list[pa.Table], current: list[pa.Table], **config: Any) -> Any:
    """Multi-file datasets: part-1.parquet, part-2.parquet, ... in a folder per side."""

    def build(folder: Path) -> dict[str, Any]:
        for side, parts in (("reference", reference), ("current", current)):
            for i, part in enumerate(parts, 1):
                write(folder / side, f"part-{i}.parquet", part)
        return {"reference": {"uri": str(folder / "reference")}, "current": {"uri": str(folder / "current")}}

    return lambda folder: build(folder) | config


def train_files(
    train: pa.Table | list[pa.Table] | None = None, test: pa.Table | None = None, **config: Any
) -> Any:
    def build(folder: Path) -> dict[str, Any]:
        if isinstance(train, list):
            for i, part in enumerate(train, 1):
                write(folder / "train", f"part-{i}.parquet", part)
            train_uri = str(folder / "train")
        else:
            train_uri = write(
                folder, "train.parquet", train if train is not None else synthetic_table(300, 1)
            )
        test_uri = write(folder, "test.parquet", test if test is not None else synthetic_table(200, 2))
        return {"train": train_uri, "test": test_uri} | config

    return build


def corrupt(build: Callable[[Path], dict[str, Any]], side: str, how: Callable[[Path], None]) -> Any:
    """Build the files, then damage one of them (the current file, or a part of a folder)."""

    def damaged(folder: Path) -> dict[str, Any]:
        config = build(folder)
        uri = Path(config[side]["uri"] if side in ("reference", "current") else config[side])
        how(uri if uri.is_file() else sorted(uri.glob("*.parquet"))[-1])
        return config

    return damaged


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def not_parquet(path: Path) -> None:
    path.write_text("date,count\n2012-01-01,3\n")


def synthetic(**columns: Any) -> pa.Table:
    data = synthetic_table(300, 1)
    for name, raw in columns.items():
        values = raw if isinstance(raw, pa.Array) else pa.array(raw)
        index = data.schema.get_field_index(name)
        data = data.set_column(index, name, values) if index >= 0 else data.append_column(name, values)
    return data


def decimals(values: np.ndarray, scale: int = 2) -> pa.Array:
    return pa.array([decimal.Decimal(f"{v:.{scale}f}") for v in values], pa.decimal128(12, scale))


def nulls(rows: int) -> pa.Array:
    return pa.nulls(rows)  # Arrow type `null`: what pandas writes for an all-None object column


def with_inf(values: np.ndarray, every: int, sign: float = 1.0) -> np.ndarray:
    out = values.astype(float).copy()
    out[::every] = sign * np.inf
    return out


RNG = np.random.default_rng(7)
WIDE_TABLE = pa.table({name: RNG.normal(size=40) for name in WIDE})
WIDE_SHIFTED = pa.table({name: RNG.normal(loc=5, size=40) for name in WIDE})
DRIFTED_SUMMARY_CUT: Callable[[dict[str, Any]], None] = lambda m: (  # noqa: E731
    CheckSummary.model_validate(m).truncated is True
)

CASES = [
    # -- termination messages stay below 4 KiB in bytes, non-ASCII names and all
    Case(
        "wide-non-ascii-missing-named-column",
        "check",
        check_files(
            WIDE_TABLE.append_column("zielgröße", pa.array(RNG.normal(size=40))),
            WIDE_TABLE,
            columns={"target": "zielgröße"},
        ),
        4,
        "DataUnreadable",
        ("zielgröße", "current"),
    ),
    Case(
        "wide-non-ascii-all-drifted",
        "check",
        check_files(WIDE_TABLE, WIDE_SHIFTED),
        0,
        column=WIDE[0],
        status="tested",
    ),
    Case(
        "wide-non-ascii-type-conflict",
        "check",
        check_files(WIDE_TABLE, WIDE_TABLE.set_column(399, WIDE[399], pa.array(["x"] * 40))),
        4,
        "DataUnreadable",
        (WIDE[399],),
    ),
    Case(
        "train-wide-non-ascii-unknown-column",
        "train",
        train_files(
            synthetic_table(300, 1).append_column("ü", pa.array(RNG.normal(size=300))),
            columns={"target": "y", "numerical": [f"fehlt_ü_{i}_" + "é" * 240 for i in range(8)]},
        ),
        4,
        "DataUnreadable",
        ("fehlt_ü_", "train.parquet"),
    ),
    Case(
        "train-wide-non-ascii-target-missing",
        "train",
        train_files(pa.table({name: RNG.normal(size=300) for name in WIDE}), columns={"target": "ziel_ü"}),
        4,
        "DataUnreadable",
        ("ziel_ü", "columns.target"),
    ),
    # -- multi-file datasets: one unified schema, per-column row counts, conflicts name the file
    Case(
        "column-only-in-later-reference-file",
        "check",
        check_parts(
            [table(100, 1), table(100, 3, late=RNG.normal(size=100))],
            [table(200, 2, late=RNG.normal(size=200))],
        ),
        0,
        names=("1 of 2 reference files", "100 of 200 rows"),
        column="late",
        status="tested",
    ),
    Case(
        "column-missing-from-first-current-file",
        "check",
        check_parts(
            [table(200, 1, extra=RNG.normal(size=200))],
            [table(50, 2), table(150, 4, extra=RNG.normal(size=150))],
        ),
        0,
        names=("1 of 2 current files", "150 of 200 rows"),
        column="extra",
        status="tested",
    ),
    Case(
        "column-in-no-current-file",
        "check",
        check_parts([table(200, 1, gone=RNG.normal(size=200))], [table(100, 2), table(100, 4)]),
        0,
        names=("not in the current data",),
        column="gone",
        status="missing",
    ),
    Case(
        "type-conflict-between-reference-files",
        "check",
        check_parts([table(100, 1), table(100, 3, k=pa.array(["one"] * 100))], [table(200, 2)]),
        4,
        "DataUnreadable",
        ("'k'", "part-1.parquet", "part-2.parquet"),
    ),
    Case(
        "type-conflict-between-current-files-bool-vs-int",
        "check",
        check_parts(
            [table(200, 1)], [table(100, 2, flag=pa.array([True] * 100)), table(100, 4, flag=np.arange(100))]
        ),
        4,
        "DataUnreadable",
        ("'flag'", "part-2.parquet"),
    ),
    Case(
        "int-in-one-file-double-in-another-widens",
        "check",
        check_parts(
            [table(100, 1, n=np.arange(100)), table(100, 3, n=RNG.normal(size=100))],
            [table(200, 2, n=RNG.normal(size=200))],
        ),
        0,
        column="n",
        status="tested",
    ),
    Case(
        "dictionary-text-in-one-file-plain-in-another",
        "check",
        check_parts(
            [table(100, 1), table(100, 3, s=pa.array(["a", "b"] * 50).dictionary_encode())], [table(200, 2)]
        ),
        0,
        column="s",
        status="tested",
    ),
    Case(
        "corrupt-second-current-file",
        "check",
        corrupt(check_parts([table(200, 1)], [table(100, 2), table(100, 4)]), "current", not_parquet),
        4,
        "DataUnreadable",
        ("part-2.parquet",),
    ),
    Case(
        "truncated-second-reference-file",
        "check",
        corrupt(check_parts([table(100, 1), table(100, 3)], [table(200, 2)]), "reference", truncate),
        4,
        "DataUnreadable",
        ("part-2.parquet",),
    ),
    Case(
        "empty-file-among-current-files",
        "check",
        check_parts([table(200, 1)], [table(0, 2), table(200, 4)]),
        0,
        column="x",
        status="tested",
    ),
    Case(
        "train-column-only-in-later-train-file",
        "train",
        train_files(
            [synthetic_table(150, 1), synthetic(late=pa.array(RNG.normal(size=300)))],
            synthetic_table(200, 2).append_column("late", pa.array(RNG.normal(size=200))),
        ),
        0,
        names=("late",),
        extra=lambda trial: trial["features"]["numerical"].count("late") == 1,
    ),
    Case(
        "train-column-only-in-later-train-file-not-in-test",
        "train",
        train_files([synthetic_table(150, 1), synthetic(late=pa.array(RNG.normal(size=300)))]),
        4,
        "DataUnreadable",
        ("'late'", "test.parquet"),
    ),
    Case(
        "train-type-conflict-between-train-files",
        "train",
        train_files([synthetic_table(150, 1), synthetic(x1=pa.array(["a"] * 300))]),
        4,
        "DataUnreadable",
        ("'x1'", "part-2.parquet"),
    ),
    # -- decimals are numbers on both sides
    Case(
        "decimal-inferred-numerical",
        "check",
        check_files(
            table(seed=1, d=decimals(RNG.normal(size=200))), table(seed=2, d=decimals(RNG.normal(size=200)))
        ),
        0,
        column="d",
        status="tested",
        extra=lambda r: r["columnType"] == "numerical",
    ),
    Case(
        "decimal-declared-numerical",
        "check",
        check_files(
            table(seed=1, d=decimals(RNG.normal(size=200))),
            table(seed=2, d=decimals(RNG.normal(1, size=200))),
            columns={"numerical": ["d"]},
        ),
        0,
        column="d",
        status="tested",
        extra=lambda r: r["typeSource"] == "spec",
    ),
    Case(
        "decimal-reference-double-current",
        "check",
        check_files(table(seed=1, d=decimals(RNG.normal(size=200))), table(seed=2, d=RNG.normal(size=200))),
        0,
        column="d",
        status="tested",
    ),
    Case(
        "decimal-38-digits",
        "check",
        check_files(
            table(
                seed=1, d=pa.array([decimal.Decimal(10**30 + i) for i in range(200)], pa.decimal128(38, 0))
            ),
            table(
                seed=2,
                d=pa.array([decimal.Decimal(10**30 + 2 * i) for i in range(200)], pa.decimal128(38, 0)),
            ),
        ),
        0,
        column="d",
        status="tested",
    ),
    Case(
        "train-decimal-feature",
        "train",
        train_files(
            synthetic(x2=decimals(RNG.normal(size=300))),
            synthetic_table(200, 2).set_column(1, "x2", decimals(RNG.normal(size=200))),
        ),
        0,
        names=("x2",),
        extra=lambda trial: "x2" in trial["features"]["numerical"],
    ),
    # -- ±inf is missing on both sides, and the column is named
    Case(
        "inf-in-reference-values",
        "check",
        check_files(table(seed=1, x=with_inf(RNG.normal(size=200), 10))),
        0,
        names=("±inf", "20 reference"),
        column="x",
        status="tested",
    ),
    Case(
        "minus-inf-in-current-values",
        "check",
        check_files(current=table(seed=2, x=with_inf(RNG.normal(size=200), 4, -1))),
        0,
        names=("±inf", "50 current"),
        column="x",
        status="tested",
    ),
    Case(
        "all-current-values-inf",
        "check",
        check_files(current=table(seed=2, x=np.full(200, np.inf))),
        0,
        names=("±inf",),
        column="x",
        status="empty",
    ),
    Case(
        "train-inf-in-train-feature",
        "train",
        train_files(synthetic(x1=with_inf(RNG.normal(size=300), 7))),
        0,
        names=("'x1'", "±inf", "train data"),
    ),
    Case(
        "train-inf-in-test-feature",
        "train",
        train_files(
            test=synthetic_table(200, 2).set_column(0, "x1", pa.array(with_inf(RNG.normal(size=200), 5, -1)))
        ),
        0,
        names=("'x1'", "±inf", "test data"),
    ),
    Case(
        "train-inf-in-regression-target",
        "train",
        train_files(
            synthetic(y=with_inf(RNG.normal(size=300), 9)),
            synthetic_table(200, 2).set_column(3, "y", pa.array(RNG.normal(size=200))),
            estimator="RandomForestRegressor",
            metrics=["rmse", "r2"],
            objective={"metric": "rmse", "goal": "minimize"},
        ),
        0,
        names=("'y'", "±inf", "rows dropped"),
    ),
    Case(
        "train-every-target-inf",
        "train",
        train_files(
            synthetic(y=np.full(300, np.inf)),
            estimator="RandomForestRegressor",
            metrics=["rmse"],
            objective={"metric": "rmse", "goal": "minimize"},
        ),
        4,
        "DataUnreadable",
        ("'y'",),
    ),
    Case(
        "train-values-beyond-float32",
        "train",
        train_files(synthetic(x1=np.where(np.arange(300) % 50 == 0, 1e300, RNG.normal(size=300)))),
        5,
        "TrainingFailed",
        ("'x1'", "3.4e38"),
    ),
    Case(
        "huge-finite-values",
        "check",
        check_files(table(seed=1, x=np.where(np.arange(200) % 20 == 0, 1e300, RNG.normal(size=200)))),
        0,
        column="x",
        status="tested",
    ),
    # -- nulls
    Case(
        "arrow-null-type-current",
        "check",
        check_files(table(seed=1, v=RNG.normal(size=200)), table(seed=2, v=nulls(200))),
        0,
        names=("current",),
        column="v",
        status="all_null",
    ),
    Case(
        "arrow-null-type-both-sides",
        "check",
        check_files(table(seed=1, v=nulls(200)), table(seed=2, v=nulls(200))),
        0,
        names=("reference",),
        column="v",
        status="all_null",
    ),
    Case(
        "arrow-null-type-declared-numerical",
        "check",
        check_files(
            table(seed=1, v=nulls(200)), table(seed=2, v=RNG.normal(size=200)), columns={"numerical": ["v"]}
        ),
        0,
        names=("reference",),
        column="v",
        status="all_null",
    ),
    Case(
        "all-nan-floats",
        "check",
        check_files(current=table(seed=2, x=np.full(200, np.nan))),
        0,
        names=("current",),
        column="x",
        status="empty",
    ),
    Case(
        "train-arrow-null-type-feature",
        "train",
        train_files(synthetic(v=nulls(300))),
        0,
        names=("v",),
        extra=lambda trial: trial["features"]["skipped"] == ["v"],
    ),
    Case(
        "train-target-all-null",
        "train",
        train_files(synthetic(y=pa.nulls(300, pa.int64()))),
        4,
        "DataUnreadable",
        ("'y'",),
    ),
    # -- small samples
    Case(
        "one-current-row",
        "check",
        check_files(current=table(1, seed=2)),
        0,
        names=("small sample", "1 current value"),
        column="x",
        status="tested",
    ),
    Case(
        "five-reference-rows",
        "check",
        check_files(reference=table(5, seed=1)),
        0,
        names=("small sample", "5 reference values"),
        column="x",
        status="tested",
    ),
    # -- degenerate samples for the stat tests: no warning, no crash
    Case(
        "t-test-zeros-vs-ones",
        "check",
        check_files(
            table(seed=1, c=np.zeros(200)),
            table(seed=2, c=np.ones(200)),
            drift={"perColumn": {"c": {"method": "t_test"}}},
        ),
        0,
        names=(),
        column="c",
        status="tested",
        extra=lambda r: r["score"] == 0.0 and r["drifted"],
    ),
    Case(
        "anderson-all-constant",
        "check",
        check_files(
            table(seed=1, c=np.full(200, 3.0)),
            table(seed=2, c=np.full(200, 3.0)),
            drift={"perColumn": {"c": {"method": "anderson"}}},
        ),
        0,
        names=("constant",),
        column="c",
        status="tested",
        extra=lambda r: r["score"] == 1.0 and not r["drifted"],
    ),
    Case(
        "cramer-von-mises-one-current-value",
        "check",
        check_files(current=table(1, seed=2), drift={"perColumn": {"x": {"method": "cramer_von_mises"}}}),
        0,
        names=("undefined",),
        column="x",
        status="tested",
        extra=lambda r: not r["drifted"],
    ),
    # -- where the reports go
    Case(
        "reports-uri-is-a-file",
        "check",
        check_files(storage={"reportsUri": "{folder}/a-file"}),
        2,
        "ReportsUnwritable",
        ("storage.reportsUri", "a-file"),
    ),
    Case(
        "train-reports-uri-below-a-file",
        "train",
        train_files(storage={"reportsUri": "{folder}/a-file/reports"}),
        2,
        "ReportsUnwritable",
        ("storage.reportsUri", "a-file"),
    ),
    # -- long-standing ones, kept in the corpus so they stay right
    Case(
        "current-file-missing",
        "check",
        lambda folder: check_files()(folder) | {"current": {"uri": str(folder / "nowhere.parquet")}},
        3,
        "DataNotFound",
        ("nowhere.parquet",),
    ),
    Case(
        "current-has-no-rows",
        "check",
        check_files(current=table(0, seed=2)),
        3,
        "DataNotFound",
        ("current.parquet",),
    ),
    Case(
        "current-not-parquet",
        "check",
        corrupt(check_files(), "current", not_parquet),
        4,
        "DataUnreadable",
        ("current.parquet",),
    ),
    Case(
        "text-in-reference-numbers-in-current",
        "check",
        check_files(table(seed=1, v=pa.array(["1"] * 200)), table(seed=2, v=np.arange(200))),
        4,
        "DataUnreadable",
        ("'v'",),
    ),
    Case(
        "declared-numerical-holds-text",
        "check",
        check_files(columns={"numerical": ["s"]}),
        4,
        "DataUnreadable",
        ("'s'",),
    ),
    Case(
        "timestamp-column-is-reported",
        "check",
        check_files(
            table(seed=1, t=pa.array(np.arange(200), pa.timestamp("s"))),
            table(seed=2, t=pa.array(np.arange(200), pa.timestamp("s"))),
        ),
        0,
        names=("timestamp",),
        column="t",
        status="unsupported",
    ),
    Case(
        "quotes-and-newlines-in-a-name",
        "check",
        check_files(
            table(seed=1, **{'say "hi"\nnow': RNG.normal(size=200)}),
            table(seed=2),
            columns={"numerical": ['say "hi"\nnow']},
        ),
        4,
        "DataUnreadable",
        ('say "hi"',),
    ),
    Case(
        "train-test-lacks-a-feature",
        "train",
        train_files(test=synthetic_table(200, 2).drop_columns(["x2"])),
        4,
        "DataUnreadable",
        ("'x2'", "test.parquet"),
    ),
    Case(
        "train-target-missing",
        "train",
        train_files(synthetic_table(300, 1).drop_columns(["y"])),
        4,
        "DataUnreadable",
        ("'y'",),
    ),
    Case(
        "train-no-rows",
        "train",
        train_files(synthetic_table(300, 1).slice(0, 0)),
        4,
        "DataUnreadable",
        ("'y'",),
    ),
    Case(
        "train-file-truncated",
        "train",
        corrupt(train_files(), "train", truncate),
        4,
        "DataUnreadable",
        ("train.parquet",),
    ),
]


def test_the_corpus_is_big_enough() -> None:
    assert len(CASES) >= 40 and len({c.id for c in CASES}) == len(CASES)


# ---- running a case ---------------------------------------------------------------------------------


def snapshot(folder: Path) -> dict[str, str]:
    """Every recorded file's digest; reference profiles aside: they are a cache of the reference,
    and a check that stores one prunes the older ones by design (each case's reference is new)."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and "profiles" not in p.relative_to(folder).parts
    }


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shared reports folder, holding a good check's report and a good trial's artifacts."""
    folder = tmp_path_factory.mktemp("corpus")
    good = folder / "good"
    code, _ = run_check(good, check_files()(good), folder / "reports")
    assert code == 0
    code, _ = run_train(good, train_files()(good), folder / "reports", "r0")
    assert code == 0
    assert any(p.name == "report.json" for p in (folder / "reports").rglob("*"))
    assert (folder / "reports" / "synthetic" / "r0" / "0" / "model.skops").is_file()
    return folder / "reports"


def run_check(folder: Path, fields: dict[str, Any], reports: Path) -> tuple[int, bytes]:
    config = {"check": "corpus", "storage": {"reportsUri": str(reports)}} | fields
    path = folder / "check.json"
    path.write_text(json.dumps(config))
    termination = folder / "termination-log"
    code = cli(["check", "--config", str(path), "--termination-message-path", str(termination)])
    return code, termination.read_bytes()


def run_train(folder: Path, fields: dict[str, Any], reports: Path, run: str) -> tuple[int, bytes]:
    fields = dict(fields)
    storage = fields.pop("storage", None)
    columns = fields.pop("columns", None)
    retrain = {k: fields.pop(k) for k in ("metrics", "objective") if k in fields}
    config = train_config(
        fields.pop("train"), fields.pop("test"), str(reports), columns=columns, storage=storage, **fields
    )
    config["run"] = run
    config["retrain"] |= retrain
    path = write_config(folder / "train.yaml", config)
    termination = folder / "termination-log"
    code = main_index(path, 0, termination_path=str(termination))
    return code, termination.read_bytes()


def placed(fields: dict[str, Any], folder: Path) -> dict[str, Any]:
    """`{folder}` in a reportsUri becomes the case's folder (where `a-file` is a regular file)."""
    if "storage" in fields:
        (folder / "a-file").write_text("not a folder")
        uri = fields["storage"]["reportsUri"].format(folder=folder)
        fields = fields | {"storage": {"reportsUri": uri}}
    return fields


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_data(case: Case, reports: Path, tmp_path: Path) -> None:
    before = snapshot(reports)
    fields = placed(case.build(tmp_path), tmp_path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if case.job == "check":
            code, raw = run_check(tmp_path, fields, reports)
        else:
            code, raw = run_train(tmp_path, fields, reports, f"r-{case.id}")

    assert len(raw) < TERMINATION_MESSAGE_LIMIT, f"{len(raw)} bytes"
    message = json.loads(raw.decode("utf-8"))
    after = snapshot(reports)
    assert {k: after.get(k) for k in before} == before, "an earlier report or artifact changed"
    stat_warnings = [w for w in caught if issubclass(w.category, RuntimeWarning)]
    assert stat_warnings == [], [str(w.message) for w in stat_warnings]
    assert code == case.exit_code, message

    if case.reason is not None:
        assert message["error"]["reason"] == case.reason
        for name in case.names:
            assert name in message["error"]["message"], message["error"]["message"]
        return
    if case.job == "check":
        summary = CheckSummary.model_validate(message)
        report = DriftReport.model_validate_json((Path(summary.report_uri) / "report.json").read_text())
        results: dict[str, ColumnResult] = {c.name: c for c in report.columns}
        entry = results[case.column or ""]
        assert entry.status == case.status, entry
        said = " ".join([entry.reason or "", *entry.notes])
        for name in case.names:
            assert name in said, said
        if case.extra is not None:
            assert case.extra(entry.to_wire()), entry
        if case.id == "wide-non-ascii-all-drifted":
            assert summary.truncated and summary.columns_drifted == len(WIDE)
        return
    trial = json.loads((reports / "synthetic" / f"r-{case.id}" / "0" / "trial.json").read_text())
    said = json.dumps(trial, ensure_ascii=False)
    for name in case.names:
        assert name in said, trial["warnings"]
    if case.extra is not None:
        assert case.extra(trial), trial
