"""Which report files a report.json vouches for (pure: no storage)."""

from __future__ import annotations

from kubedrift import reports
from tests.fixtures.reports import sample_report


def test_a_listed_file_with_its_digest_is_vouched_for() -> None:
    report = sample_report("s3://r/c1").model_copy(
        update={"files": {"report.html": reports.file_digest(b"<html>")}}
    )
    assert reports.mismatch(report, "report.html", b"<html>") is None
    assert reports.mismatch(report, "report.html", b"<html") == (
        "its SHA-256 differs from the one report.json records"
    )
    assert reports.mismatch(report, "extra.png", b"") == "report.json does not list it"


def test_a_version_1_report_json_vouches_by_its_presence() -> None:
    old = sample_report("s3://r/c1").model_copy(update={"schema_version": 1})
    assert reports.mismatch(old, "report.html", b"anything") is None


def test_a_digest_is_the_sha256_and_size() -> None:
    digest = reports.file_digest(b"abc")
    assert digest.size == 3
    assert digest.sha256 == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
