"""The suite's credential scan itself: it finds what it looks for, where the cluster leaves it.

The cluster's scan (tests/fixtures/cluster.py) reads container logs after their pods are gone,
through hard links PodLogKeeper makes; these check that a log the kubelet deleted, and what was
written to it after the link, are still scanned, and that a rotated, gzipped log is read too.
"""

from __future__ import annotations

import base64
import gzip
from pathlib import Path

from tests.fixtures.cluster import PodLogKeeper
from tests.fixtures.leaks import credential_values, fragments, scan_files
from tests.fixtures.s3 import ADDED_ACCOUNTS, ROOT, WRONG_SECRET, Account


def test_a_deleted_container_log_is_still_scanned_with_what_came_after_the_link(tmp_path: Path) -> None:
    pod_logs, kept = tmp_path / "pod-logs", tmp_path / "kept"
    log = pod_logs / "ns_pod_uid" / "check" / "0.log"
    log.parent.mkdir(parents=True)
    log.write_text("starting\n")
    keeper = PodLogKeeper(pod_logs, kept, interval=3600).start()  # sweeps by hand below
    keeper.sweep()
    with log.open("a") as out:
        out.write(f"oops {ROOT.secret_key}\n")  # the container goes on writing to the same file
    log.unlink()  # what the kubelet does once the pod is deleted
    (pod_logs / "ns_pod_uid" / "check" / "0.log.20261201-000000.gz").write_bytes(
        gzip.compress(base64.b64encode(WRONG_SECRET.secret_key.encode()))
    )
    keeper.stop()  # a last sweep
    assert keeper.errors == {}
    found, read = scan_files([kept], credential_values())
    assert sorted(Path(p).name for p in found) == ["00000-ns_pod_uid_check_0.log"]
    assert found[str(kept / "00000-ns_pod_uid_check_0.log")] == [ROOT.secret_key]
    assert read == len(f"starting\noops {ROOT.secret_key}\n")
    # a gzipped rotation of a log is read unpacked (here, straight from the kubelet's folder)
    found, _ = scan_files([pod_logs], credential_values())
    assert list(found.values()) == [[base64.b64encode(WRONG_SECRET.secret_key.encode()).decode().rstrip("=")]]


def test_accounts_added_later_are_looked_for() -> None:
    added = Account("kd-added-later-key", "Zr8+Lq2WvX7/NpK4")
    assert added.secret_key not in credential_values()
    ADDED_ACCOUNTS.append(added)
    try:
        assert {added.access_key, added.secret_key} <= credential_values()
    finally:
        ADDED_ACCOUNTS.remove(added)


def test_fragments() -> None:
    assert fragments("abcdef") == {"abcd", "bcde", "cdef"}
    assert fragments("abc") == set()
