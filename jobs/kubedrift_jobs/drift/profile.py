"""A reference profile: everything a check needs of one reference column, without the column.

Built once per reference data version and stored beside the reports (`profile_store.py`), so a
later check of the same reference reads only the current data. Exact up to EXACT_LIMIT_ROWS
stored values: a check on a profile gives the very scores and verdicts of a check on the column
(the check itself always goes through a profile: without a stored one it builds it from the
column first). Past it, numbers are kept as a sketch, whose scores carry an error bound.

One form serves both column types, so neither the declared or inferred type (decided on the
current data) nor the drift settings change what is kept:

  sorted  numbers (float, integer): every finite non-null value, sorted, in the column's own type
  counts  sorted distinct non-null values and how often each occurs: text, bool, decimals, and
          numbers where at least half the values repeat (the same values, run-length coded)
  none    nothing but the counts: an all-null column, or a type no test takes (dates, lists)
  sketch  numbers past EXACT_LIMIT_ROWS stored values: a KLL sketch of the finite values and
          their smallest and largest `sketch.TAIL` exactly (`sketch.py`), no longer exact: its
          scores come with error bounds (`sketch_scores.py`)

A column's profile is one Arrow IPC stream (`to_bytes`): a batch of `values` (and `counts`),
with the counts and the summary in the schema's metadata; a sketch's bytes (DataSketches' own
serialization) are one binary value of a `sketch` column, beside one null `values` of the
column's type and the tails as one list each (`lowTail`, `highTail`). Nothing is pickled.
Partial profiles of disjoint rows merge (`merge.py`). The format version changes with anything
that changes the bytes' meaning.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field

from kubedrift.models.base import Model
from kubedrift.models.report import NumericalSummary
from kubedrift.models.results import DataFingerprint
from kubedrift.models.windows import TimeWindow
from kubedrift_jobs.drift import sketch as kll
from kubedrift_jobs.drift.binning import distinct_count
from kubedrift_jobs.drift.samples import NumericalSample, arrow_kind, numerical_sample, numerical_summary

FORMAT_VERSION = 2  # 2: the sketch form
Form = Literal["sorted", "counts", "none", "sketch"]
# Numbers with more stored values (all finite ones sorted, or distinct ones counted) become a
# sketch: 5M float64 values are 40 MB per column to store and read on every check.
EXACT_LIMIT_ROWS = 5_000_000
METADATA_KEY = b"kubedrift.profile"


@dataclass(frozen=True)
class ColumnProfile:
    """One reference column as the check needs it (see the module's docstring for the forms)."""

    name: str
    rows: int  # rows that have the column
    nulls: int  # Arrow nulls among them
    form: Form
    values: pa.Array  # sorted; every value (sorted form) or each distinct one (counts form)
    counts: np.ndarray | None = None  # counts form: occurrences of each value
    infinite: int = 0  # ±inf values (counted as missing, like NaN and nulls)
    summary: NumericalSummary | None = None  # of the finite values, for numbers
    # Distinct finite values, for numbers; of a merge with a sketch, the largest part's (a lower bound).
    finite_distinct: int | None = None
    sketch: bytes | None = None  # sketch form: the serialized KLL sketch of the finite values
    tails: kll.Tails | None = None  # sketch form: its smallest and largest values, exact
    _numbers: list[NumericalSample] = field(default_factory=list, repr=False, compare=False)
    _kll: list[kll.kll_doubles_sketch] = field(default_factory=list, repr=False, compare=False)

    @property
    def arrow_type(self) -> pa.DataType:
        return self.values.type

    @property
    def finite(self) -> int:
        """Finite values (what a numerical test counts)."""
        return self.summary.count if self.summary is not None else 0

    def kll(self) -> kll.kll_doubles_sketch:
        """The sketch form's sketch (deserialized once)."""
        if self.sketch is None:
            raise ValueError(f"the profile of {self.name!r} is {self.form}, not a sketch")
        if not self._kll:
            self._kll.append(kll.from_bytes(self.sketch))
        return self._kll[0]

    def numerical(self) -> NumericalSample:
        """The column as the numerical tests take it: finite values as float64, sorted."""
        if self.form == "sketch":
            raise ValueError(f"the profile of {self.name!r} is a sketch: its values are not kept")
        if not self._numbers:  # cached: the numerical path and the float categories both ask
            self._numbers.append(self._numerical())
        return self._numbers[0]

    def _numerical(self) -> NumericalSample:
        if self.form == "none":
            return NumericalSample(rows=self.rows, values=np.empty(0, dtype=np.float64))
        floats = _floats(self.values)
        if self.form == "sorted":
            return NumericalSample(rows=self.rows, values=floats, infinite=self.infinite)
        assert self.counts is not None
        finite = np.isfinite(floats)
        # A cast keeps order (it never swaps two values), so repeating sorted values stays sorted.
        values = np.repeat(floats[finite], self.counts[finite])
        return NumericalSample(rows=self.rows, values=values, infinite=self.infinite)

    def distinct(self) -> tuple[pa.Array, np.ndarray]:
        """Each distinct non-null value, sorted, and how often it occurs."""
        if self.form == "sketch":
            raise ValueError(f"the profile of {self.name!r} is a sketch: its values are not kept")
        if self.form == "counts":
            assert self.counts is not None
            return self.values, self.counts
        if self.form == "none" or len(self.values) == 0:
            return self.values, np.zeros(0, dtype=np.int64)
        sorted_values = self.values.to_numpy(zero_copy_only=False)
        starts = np.flatnonzero(np.concatenate([[True], sorted_values[1:] != sorted_values[:-1]]))
        counts = np.diff(np.append(starts, sorted_values.size))
        return pa.array(sorted_values[starts], type=self.values.type), counts


def build(name: str, column: pa.ChunkedArray, exact_limit: int | None = None) -> ColumnProfile:
    """The profile of one reference column (the rows of the files that have it); numbers with
    more than `exact_limit` (default EXACT_LIMIT_ROWS) stored values as a sketch."""
    return limited(_exact(name, column), exact_limit)


def limited(profile: ColumnProfile, exact_limit: int | None = None) -> ColumnProfile:
    """The profile, or its sketch form when it is numbers with more than `exact_limit` (default
    EXACT_LIMIT_ROWS) stored values (the values no longer kept)."""
    small = len(profile.values) <= (EXACT_LIMIT_ROWS if exact_limit is None else exact_limit)
    if profile.form not in ("sorted", "counts") or profile.summary is None or small:
        return profile
    floats = _floats(profile.values)
    if profile.form == "sorted":
        sketch, tails = kll.of_values(floats), kll.tails_of_sorted(floats)
    else:
        assert profile.counts is not None
        sketch, tails = kll.of_counts(floats, profile.counts), kll.tails_of_counts(floats, profile.counts)
    return ColumnProfile(
        name=profile.name,
        rows=profile.rows,
        nulls=profile.nulls,
        form="sketch",
        values=pa.array([], profile.values.type),
        infinite=profile.infinite,
        summary=profile.summary,  # exact: built from the values before they went
        finite_distinct=profile.finite_distinct,
        sketch=kll.to_bytes(sketch),
        tails=tails,
    )


def _exact(name: str, column: pa.ChunkedArray) -> ColumnProfile:
    column = column.cast(column.type.value_type) if pa.types.is_dictionary(column.type) else column
    rows, nulls = len(column), column.null_count
    kind = arrow_kind(column.type)
    if nulls == rows or kind in ("null", "other"):
        return ColumnProfile(name=name, rows=rows, nulls=nulls, form="none", values=pa.array([], column.type))
    if kind == "floating" and not pa.types.is_decimal(column.type):
        sample = numerical_sample(column)
        return numbers(name, rows, nulls, pa.array(sample.values), sample.infinite, sample)
    if kind == "integer":
        ints = np.sort(column.drop_null().to_numpy())
        sample = NumericalSample(rows=rows, values=ints.astype(np.float64))
        return numbers(name, rows, nulls, pa.array(ints, type=column.type), 0, sample)
    counted = pc.value_counts(column.drop_null().combine_chunks())
    values, counts = counted.field("values"), counted.field("counts")
    order = pc.sort_indices(values)
    values, counts = values.take(order), np.asarray(counts.take(order).to_numpy(), dtype=np.int64)
    profile = ColumnProfile(name=name, rows=rows, nulls=nulls, form="counts", values=values, counts=counts)
    if kind == "floating":  # decimals: numbers too
        profile = with_summary(profile, profile.numerical())
    return profile


# Numbers whose distinct values are at most this share of all are kept as counts (run-length).
COUNTS_FORM_SHARE = 0.5


def numbers(
    name: str, rows: int, nulls: int, values: pa.Array, infinite: int, sample: NumericalSample
) -> ColumnProfile:
    """The exact profile of numbers: `values` the sorted finite ones, `sample` them as floats."""
    profile = ColumnProfile(
        name=name, rows=rows, nulls=nulls, form="sorted", values=values, infinite=infinite
    )
    sorted_values = sample.values
    if sorted_values.size:
        repeats = int(np.count_nonzero(sorted_values[1:] == sorted_values[:-1]))
        if sorted_values.size - repeats <= sorted_values.size * COUNTS_FORM_SHARE:
            distinct, counts = profile.distinct()
            profile = ColumnProfile(
                name=name,
                rows=rows,
                nulls=nulls,
                form="counts",
                values=distinct,
                counts=counts,
                infinite=infinite,
            )
    return with_summary(profile, sample, sorted_values.size - repeats if sorted_values.size else 0)


def with_summary(
    profile: ColumnProfile, sample: NumericalSample, distinct: int | None = None
) -> ColumnProfile:
    with np.errstate(over="ignore", invalid="ignore"):  # finite values near ±1.8e308 overflow sums
        summary = numerical_summary(sample.values) if sample.values.size else None
    kept = ColumnProfile(
        name=profile.name,
        rows=profile.rows,
        nulls=profile.nulls,
        form=profile.form,
        values=profile.values,
        counts=profile.counts,
        infinite=profile.infinite,
        summary=summary,
        finite_distinct=distinct_count(sample.values) if distinct is None else distinct,
    )
    kept._numbers.append(sample)
    return kept


def _floats(values: pa.Array) -> np.ndarray:
    return np.asarray(pc.cast(values, pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64)


def to_bytes(profile: ColumnProfile) -> bytes:
    """One column's profile as an Arrow IPC stream."""
    arrays = [profile.values] + ([pa.array(profile.counts, pa.int64())] if profile.counts is not None else [])
    names = ["values"] + (["counts"] if profile.counts is not None else [])
    if profile.sketch is not None:
        # One row: a null of the column's type (for the type), the sketch, and each tail as a list.
        assert profile.tails is not None
        arrays = [pa.nulls(1, profile.values.type), pa.array([profile.sketch], pa.binary())]
        arrays += [_one_list(tail) for tail in profile.tails]
        names = ["values", "sketch", "lowTail", "highTail"]
    header = {
        "format": FORMAT_VERSION,
        "name": profile.name,
        "rows": profile.rows,
        "nulls": profile.nulls,
        "form": profile.form,
        "infinite": profile.infinite,
        "summary": profile.summary.model_dump() if profile.summary else None,  # json keeps ±inf
        "finiteDistinct": profile.finite_distinct,
    }
    batch = pa.record_batch(arrays, names=names)
    batch = batch.replace_schema_metadata({METADATA_KEY: json.dumps(header).encode()})
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, batch.schema) as writer:
        writer.write_batch(batch)
    return bytes(sink.getvalue())


def _one_list(values: np.ndarray) -> pa.Array:
    return pa.ListArray.from_arrays(pa.array([0, values.size], pa.int32()), pa.array(values, pa.float64()))


class NotAProfile(ValueError):
    """Bytes that are not a column profile of this format."""


def from_bytes(data: bytes | pa.Buffer) -> ColumnProfile:
    try:
        table = pa.ipc.open_stream(pa.py_buffer(data)).read_all()
        header = json.loads((table.schema.metadata or {})[METADATA_KEY])
    except (pa.ArrowInvalid, KeyError, ValueError) as error:
        raise NotAProfile(f"not a column profile ({error.__class__.__name__})") from error
    if header.get("format") != FORMAT_VERSION:
        raise NotAProfile(
            f"column profile format {header.get('format')}, this kubedrift reads {FORMAT_VERSION}"
        )
    values = table.column("values").combine_chunks()
    counts = None
    if "counts" in table.column_names:
        counts = np.asarray(table.column("counts").to_numpy(), dtype=np.int64)
    summary = header.get("summary")
    sketch, tails = None, None
    if "sketch" in table.column_names:
        sketch, values = table.column("sketch")[0].as_py(), values.slice(0, 0)
        tails = (_list_values(table.column("lowTail")), _list_values(table.column("highTail")))
    return ColumnProfile(
        name=header["name"],
        rows=int(header["rows"]),
        nulls=int(header["nulls"]),
        form=header["form"],
        values=values,
        counts=counts,
        infinite=int(header["infinite"]),
        summary=NumericalSummary.model_validate(summary) if summary else None,
        finite_distinct=header.get("finiteDistinct"),
        sketch=sketch,
        tails=tails,
    )


def _list_values(column: pa.ChunkedArray) -> np.ndarray:
    return np.asarray(column.combine_chunks().flatten().to_numpy(zero_copy_only=False), dtype=np.float64)


class ReferenceVersion(Model):
    """What a profile was built from: the reference data version and the rows of it that were read.

    The content hash covers every file's name, size and footer (`DataFingerprint`); a window over
    partitions is in it through its files, but a window over a timestamp column reads some rows of
    the same files, so the window and the row filter count too."""

    content_hash: str = Field(description="The reference's DataFingerprint content hash.")
    schema_hash: str = Field(description="The reference's unified schema.")
    rows: int = Field(description="Rows read (in the window).")
    window: TimeWindow | None = Field(default=None, description="The window read, if any.")
    row_filter: str | None = Field(default=None, description="The row filter of a timestamp window.")

    @classmethod
    def of(cls, fingerprint: DataFingerprint, row_filter: object = None) -> ReferenceVersion:
        return cls(
            content_hash=fingerprint.content_hash,
            schema_hash=fingerprint.schema_hash,
            rows=fingerprint.rows,
            window=fingerprint.window,
            row_filter=None if row_filter is None else str(row_filter),
        )

    @property
    def key(self) -> str:
        """The profile's folder name: one per reference version (not per format: a new format
        finds the old profile, says why it is refused and writes over it)."""
        return hashlib.sha256(self.model_dump_json().encode()).hexdigest()[:16]


class ProfileFile(Model):
    """A column file as profile.json vouches for it.

    CRC-32 and size, not SHA-256 as for reports: they refuse a torn, truncated or changed file
    alike, at a third of the cost (a 5M-row profile is 600 MB to check on every use). Neither is
    a signature: whoever can change a column file can rewrite profile.json too."""

    file: str = Field(description="The column's file in the profile's folder.")
    crc32: int = Field(description="CRC-32 of its bytes.")
    size: int = Field(description="Its size in bytes.")


class ProfileManifest(Model):
    """profile.json, written last: its presence claims the profile complete, and it vouches for
    every column file by its digest."""

    format: int = Field(description="The profile format version.")
    reference: ReferenceVersion = Field(description="What the profile was built from.")
    columns: dict[str, ProfileFile] = Field(description="Column name → its file.")


def column_file(name: str) -> str:
    """A column's file name: column names may hold any character, file names should not."""
    return f"{hashlib.sha256(name.encode()).hexdigest()[:16]}.arrow"


def vouch(file: str, data: bytes | pa.Buffer) -> ProfileFile:
    return ProfileFile(file=file, crc32=zlib.crc32(data), size=len(data))


def manifest_rejection(data: bytes, expected: ReferenceVersion) -> str | None:
    """Why a stored profile.json is not a profile of `expected` in this format, or None."""
    try:
        header = json.loads(data)
    except ValueError:
        return "profile.json is not JSON"
    if not isinstance(header, dict) or header.get("format") != FORMAT_VERSION:
        found = header.get("format") if isinstance(header, dict) else None
        return f"profile format {found}, this kubedrift reads and writes format {FORMAT_VERSION}"
    try:
        manifest = ProfileManifest.model_validate(header)
    except ValueError as error:
        return f"profile.json does not describe a profile ({error.__class__.__name__})"
    if manifest.reference != expected:
        theirs, ours = manifest.reference, expected
        if theirs.content_hash != ours.content_hash:
            return (
                f"built from reference data version {theirs.content_hash[:8]}, "
                f"not {ours.content_hash[:8]} (the data read now)"
            )
        return "built from other rows of the same reference files (another window, filter or schema)"
    return None


def column_rejection(data: bytes | pa.Buffer, name: str, vouched: ProfileFile) -> str | None:
    """Why a column file's bytes are not the ones profile.json vouches for, or None."""
    if vouch(vouched.file, data) != vouched:
        return f"column {name!r}: its file differs from the one profile.json vouches for (CRC-32, size)"
    return None
