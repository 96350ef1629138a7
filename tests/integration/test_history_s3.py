"""The append-only drift history against the real S3 server: an entry is written once however many
writers race for its scheduled time (a conditional PUT), and asking whether an entry exists (the
check job's first request) fails as precisely as a data read: with the S3 code, not a bare status."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from threading import Barrier

import pytest

from kubedrift.errors import TransientError, UnknownAccessKey
from kubedrift.history import entry_uri, read_history, record, recorded
from kubedrift.models.results import HistoryEntry
from kubedrift.storage import read_bytes
from tests.fixtures.faultproxy import Fault, FaultProxy
from tests.fixtures.s3 import S3Server

pytestmark = pytest.mark.s3
AT = datetime(2011, 3, 7, tzinfo=UTC)
WRITERS = 8


def entry(writer: int) -> HistoryEntry:
    return HistoryEntry(
        scheduled_at=AT,
        checked_at=datetime(2011, 3, 7, 0, 5, writer % 60, tzinfo=UTC),
        dataset_drift=False,
        drift_share=0.0,
        report_uri=f"s3://b/reports/bikes/writer-{writer}",
    )


def test_of_many_writers_racing_for_one_scheduled_time_exactly_one_records(s3: S3Server) -> None:
    bucket = s3.create_bucket()
    reports = f"s3://{bucket}/reports"
    storage = s3.storage(reports)
    start = Barrier(WRITERS)

    def write(writer: int) -> bool:
        start.wait()  # all PUTs leave together: none of them can see another's entry first
        return record(entry(writer), reports, "bikes", storage)

    with ThreadPoolExecutor(max_workers=WRITERS) as pool:
        wrote = list(pool.map(write, range(WRITERS)))
    assert wrote.count(True) == 1, wrote
    winner = wrote.index(True)
    stored = HistoryEntry.model_validate_json(read_bytes(entry_uri(reports, "bikes", AT), storage))
    assert stored == entry(winner)  # the winner's entry, not overwritten by a loser
    assert recorded(reports, "bikes", AT, storage)
    assert record(entry(99), reports, "bikes", storage) is False  # later, too
    assert read_history(reports, "bikes", storage) == [entry(winner)]


def test_an_entry_is_not_mistaken_for_one_whose_name_it_begins(s3: S3Server) -> None:
    # The existence check lists the key as a prefix: a longer key beside it is not the entry.
    bucket = s3.create_bucket()
    reports = f"s3://{bucket}/reports"
    storage = s3.storage(reports)
    s3.client().put_object(
        Bucket=bucket, Key=entry_uri(reports, "bikes", AT)[len(f"s3://{bucket}/") :] + ".bak", Body=b"{}"
    )
    assert not recorded(reports, "bikes", AT, storage)
    assert record(entry(1), reports, "bikes", storage)
    assert recorded(reports, "bikes", AT, storage)


def test_asking_for_an_entry_says_slowdown_not_a_bare_503(s3: S3Server, fault_proxy: FaultProxy) -> None:
    bucket = s3.create_bucket()
    reports = f"s3://{bucket}/reports"
    fault_proxy.inject(Fault("status", status=503, code="SlowDown"))
    with pytest.raises(TransientError, match="kept answering SlowDown on ListObjectsV2"):
        recorded(reports, "bikes", AT, s3.storage(reports).model_copy(update={"endpoint": fault_proxy.url}))


def test_asking_for_an_entry_with_an_unknown_key_says_so(
    s3: S3Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    bucket = s3.create_bucket()
    reports = f"s3://{bucket}/reports"
    for key, value in s3.wrong_access_key_env().items():
        monkeypatch.setenv(key, value)
    with pytest.raises(UnknownAccessKey, match="InvalidAccessKeyId on ListObjectsV2"):
        recorded(reports, "bikes", AT, s3.storage(reports))


def test_a_server_without_conditional_writes_gets_a_look_before_the_write(
    s3: S3Server, fault_proxy: FaultProxy
) -> None:
    bucket = s3.create_bucket()
    reports = f"s3://{bucket}/reports"
    storage = s3.storage(reports).model_copy(update={"endpoint": fault_proxy.url})
    fault_proxy.inject(Fault("status", status=501, code="NotImplemented", method="PUT", times=1))
    assert record(entry(1), reports, "bikes", storage)
    assert [s.status for s in fault_proxy.faulted()] == [501]
    assert record(entry(2), reports, "bikes", storage) is False
    assert read_history(reports, "bikes", storage) == [entry(1)]
