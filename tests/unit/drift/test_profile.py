"""A column's reference profile: its forms, its bytes, and why a stored one is refused."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import numpy as np
import pyarrow as pa
import pytest

from kubedrift.models.results import DataFingerprint
from kubedrift.models.windows import TimeWindow
from kubedrift_jobs.drift.binning import distinct_count
from kubedrift_jobs.drift.profile import (
    FORMAT_VERSION,
    ColumnProfile,
    NotAProfile,
    ProfileManifest,
    ReferenceVersion,
    build,
    column_rejection,
    from_bytes,
    manifest_rejection,
    to_bytes,
    vouch,
)
from kubedrift_jobs.drift.samples import numerical_sample, numerical_summary

RNG = np.random.default_rng(7)
CONTINUOUS = pa.chunked_array([pa.array([3.5, None, np.nan, np.inf]), pa.array(RNG.normal(size=500))])
TIES = pa.chunked_array([pa.array(np.round(RNG.gamma(2, 3, 1000), 0))])
SMALL_INTS = pa.chunked_array(
    [pa.array(RNG.integers(0, 5, 300), pa.int32()), pa.array([None, 4], pa.int32())]
)
WIDE_INTS = pa.chunked_array([pa.array(RNG.integers(-(10**12), 10**12, 400), pa.int64())])
TEXT = pa.chunked_array([pa.array(["b", None, "a", "b"]), pa.array(["c", "b"])])
DICTIONARY = pa.chunked_array([pa.array(["x", "y", "x", None]).dictionary_encode()])
DECIMALS = pa.chunked_array(
    [pa.array([Decimal("1.50"), Decimal("2.25"), None, Decimal("1.50")], pa.decimal128(5, 2))]
)
BOOLS = pa.chunked_array([pa.array([True, False, True, None])])
DATES = pa.chunked_array([pa.array([dt.date(2024, 1, 1), None])])
NULLS = pa.chunked_array([pa.array([None, None], pa.float64())])

NUMBERS = {"continuous": CONTINUOUS, "ties": TIES, "small_ints": SMALL_INTS, "wide_ints": WIDE_INTS}
EVERY_KIND = NUMBERS | {"text": TEXT, "dictionary": DICTIONARY, "decimals": DECIMALS, "bools": BOOLS}


@pytest.mark.parametrize(
    ("column", "form"),
    [
        (CONTINUOUS, "sorted"),
        (WIDE_INTS, "sorted"),
        (TIES, "counts"),  # at least half the values repeat: run-length coded
        (SMALL_INTS, "counts"),
        (TEXT, "counts"),
        (DECIMALS, "counts"),
        (DATES, "none"),  # no test takes dates: nothing but the counts
        (NULLS, "none"),
    ],
)
def test_each_kind_of_column_is_kept_in_its_form(column: pa.ChunkedArray, form: str) -> None:
    profile = build("c", column)
    assert profile.form == form
    assert (profile.rows, profile.nulls) == (len(column), column.null_count)


@pytest.mark.parametrize("name", [*sorted(NUMBERS), "decimals"])
def test_the_numbers_are_the_numerical_sample_of_the_column(name: str) -> None:
    column = EVERY_KIND[name]
    expected = numerical_sample(column)
    for profile in (build(name, column), from_bytes(to_bytes(build(name, column)))):
        got = profile.numerical()
        assert got.values.dtype == np.float64 and np.array_equal(got.values, expected.values)
        assert (got.rows, got.missing, got.infinite) == (expected.rows, expected.missing, expected.infinite)
        assert profile.summary == numerical_summary(expected.values)
        assert profile.finite_distinct == distinct_count(expected.values)


@pytest.mark.parametrize("name", sorted(EVERY_KIND))
def test_distinct_values_and_counts_are_those_of_the_rows(name: str) -> None:
    column = EVERY_KIND[name]
    plain = column.cast(column.type.value_type) if pa.types.is_dictionary(column.type) else column
    rows = [
        v for v in plain.to_pylist() if v is not None and not (isinstance(v, float) and not np.isfinite(v))
    ]
    expected = sorted({v: rows.count(v) for v in rows}.items())
    values, counts = from_bytes(to_bytes(build(name, column))).distinct()
    got = list(zip(values.to_pylist(), counts.tolist(), strict=True))
    assert [v for v, _ in got] == sorted(v for v, _ in got)
    if name != "continuous":  # continuous keeps finite values only; NaN/inf are missing
        assert got == expected
    assert values.type == plain.type  # int32 stays int32, decimal(5, 2) stays decimal(5, 2)


def test_bytes_round_trip_keeps_everything() -> None:
    for name, column in (EVERY_KIND | {"dates": DATES, "nulls": NULLS}).items():
        profile = build(name, column)
        back = from_bytes(to_bytes(profile))
        fields = ("name", "rows", "nulls", "form", "infinite", "summary", "finite_distinct")
        assert [getattr(back, f) for f in fields] == [getattr(profile, f) for f in fields]
        assert back.values.equals(profile.values) and back.arrow_type == profile.arrow_type
        assert (back.counts is None) == (profile.counts is None)
        if profile.counts is not None:
            assert back.counts is not None and back.counts.tolist() == profile.counts.tolist()


def test_the_bytes_are_arrow_ipc_and_deterministic() -> None:
    data = to_bytes(build("c", CONTINUOUS))
    assert data == to_bytes(build("c", CONTINUOUS))
    table = pa.ipc.open_stream(pa.py_buffer(data)).read_all()
    header = json.loads(table.schema.metadata[b"kubedrift.profile"])
    assert header["format"] == FORMAT_VERSION and header["infinite"] == 1 and table.num_rows == 501


def test_bytes_of_another_format_or_no_profile_are_refused() -> None:
    with pytest.raises(NotAProfile, match="not a column profile"):
        from_bytes(b"PAR1 not arrow")
    batch = pa.record_batch([pa.array([1.0])], names=["values"]).replace_schema_metadata(
        {b"kubedrift.profile": json.dumps({"format": FORMAT_VERSION + 1}).encode()}
    )
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, batch.schema) as writer:
        writer.write_batch(batch)
    with pytest.raises(
        NotAProfile, match=f"format {FORMAT_VERSION + 1}, this kubedrift reads {FORMAT_VERSION}"
    ):
        from_bytes(bytes(sink.getvalue()))


def fingerprint(content_hash: str = "a" * 64, window: TimeWindow | None = None) -> DataFingerprint:
    return DataFingerprint(
        uri="s3://b/ref",
        files=1,
        size=10,
        rows=100,
        content_hash=content_hash,
        schema_hash="s" * 16,
        window=window,
    )


def manifest_bytes(version: ReferenceVersion, format_version: int = FORMAT_VERSION) -> bytes:
    manifest = ProfileManifest(format=FORMAT_VERSION, reference=version, columns={})
    document = json.loads(manifest.model_dump_json())
    document["format"] = format_version
    return json.dumps(document).encode()


def test_a_profile_of_this_version_and_format_is_accepted() -> None:
    version = ReferenceVersion.of(fingerprint())
    assert manifest_rejection(manifest_bytes(version), version) is None


def test_stale_or_foreign_profiles_are_refused_with_the_reason() -> None:
    ours = ReferenceVersion.of(fingerprint())
    other_data = ReferenceVersion.of(fingerprint(content_hash="b" * 64))
    january = TimeWindow(
        start=dt.datetime(2024, 1, 1, tzinfo=dt.UTC), end=dt.datetime(2024, 2, 1, tzinfo=dt.UTC)
    )
    other_window = ReferenceVersion.of(fingerprint(window=january))
    other_rows = ReferenceVersion.of(fingerprint(), row_filter="(ts >= 2024-01-01)")
    assert manifest_rejection(manifest_bytes(ours, FORMAT_VERSION + 1), ours) == (
        f"profile format {FORMAT_VERSION + 1}, this kubedrift reads and writes format {FORMAT_VERSION}"
    )
    assert manifest_rejection(manifest_bytes(other_data), ours) == (
        "built from reference data version bbbbbbbb, not aaaaaaaa (the data read now)"
    )
    for other in (other_window, other_rows):
        assert "other rows of the same reference files" in str(
            manifest_rejection(manifest_bytes(other), ours)
        )
    assert manifest_rejection(b"{not json", ours) == "profile.json is not JSON"
    assert "does not describe a profile" in str(manifest_rejection(b'{"format": %d}' % FORMAT_VERSION, ours))


def test_the_folder_key_follows_the_data_version_window_and_rows_only() -> None:
    keys = {
        ReferenceVersion.of(fingerprint()).key,
        ReferenceVersion.of(fingerprint(content_hash="b" * 64)).key,
        ReferenceVersion.of(fingerprint(), row_filter="x").key,
    }
    assert len(keys) == 3
    moved = fingerprint().model_copy(update={"uri": "s3://elsewhere/ref"})
    assert ReferenceVersion.of(moved).key == ReferenceVersion.of(fingerprint()).key  # a copy is the same data


def test_a_changed_column_file_is_refused() -> None:
    data = to_bytes(build("c", TEXT))
    vouched = vouch("f.arrow", data)
    assert column_rejection(data, "c", vouched) is None
    tampered = bytearray(data)
    tampered[-20] ^= 1
    assert "differs from the one profile.json vouches for" in str(
        column_rejection(bytes(tampered), "c", vouched)
    )


def test_numerical_is_computed_once() -> None:
    profile: ColumnProfile = from_bytes(to_bytes(build("c", WIDE_INTS)))
    assert profile.numerical() is profile.numerical()


def test_old_profiles_are_dropped_newest_kept_and_the_current_never() -> None:
    from kubedrift_jobs.drift.profile_store import profiles_to_drop

    written = {"a": 10.0, "b": 50.0, "c": 30.0, "d": 40.0, "e": 20.0, "torn": 0.0, "now": 5.0}
    assert profiles_to_drop(written, keep="now", kept=4) == ["e", "a", "torn"]  # b, d, c stay with now
    assert profiles_to_drop(written, keep="now", kept=1) == ["b", "d", "c", "e", "a", "torn"]
    assert profiles_to_drop({"now": 1.0, "x": 2.0}, keep="now", kept=4) == []
    assert profiles_to_drop({}, keep="now") == []
