"""Issue 16 on the real control plane: a check sharded over 4 indexes gives the single pod's verdicts.

Two DriftChecks read the same data from the S3 server: one with `check.shards: 4`, one without.
The current data is three Parquet files of uneven row groups (one file without a column), so each
of the 4 indexes reads a share of it. Proofs:

- the sharded check runs as an Indexed Job of 4 indexes on the real node, each index profiling
  some rows (its termination message), then one merge Job owned by it;
- its report has the same per-column scores, drifted flags and dataset verdict as the single pod's
  report, and its `status.lastCheck` the same verdict, recorded under the Indexed Job's name;
- the partials are gone once the check is recorded;
- a failed index fails the check as ShardFailed naming the index, with no merge, and the history
  keeps the check recorded before it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from kubedrift.storage import RowGroup
from kubedrift_jobs.drift.partials import assign
from tests.fixtures.cluster import Cluster
from tests.fixtures.s3 import S3Server
from tests.integration.operator.conftest import (
    S3_CA_CONFIG_MAP,
    S3_CA_KEY,
    Kube,
    OperatorProcess,
    dump,
    wait_status,
)
from tests.integration.test_reference_profiles import table

pytestmark = pytest.mark.cluster

JSON = dict[str, Any]
ROWS = 4000
SHARDS = 4


def check(name: str, bucket: str, endpoint: str, shards: int) -> JSON:
    return {
        "apiVersion": "kubedrift.io/v1alpha1",
        "kind": "DriftCheck",
        "metadata": {"name": name},
        "spec": {
            "schedule": "0 3 * * *",
            "reference": {"uri": f"s3://{bucket}/reference.parquet"},
            "current": {"uri": f"s3://{bucket}/current/"},
            "columns": {"target": "target"},
            "check": {"shards": shards},
            "storage": {
                "reportsUri": f"s3://{bucket}/reports",
                "endpoint": endpoint,
                "region": "us-east-1",
                "secretRef": {"name": "s3"},
                "caBundle": {"configMapRef": {"name": S3_CA_CONFIG_MAP, "key": S3_CA_KEY}},
            },
        },
    }


def upload_data(server: S3Server, bucket: str, folder: Path) -> None:
    """A reference of one file; a current of three files of uneven row groups, one without i_wide."""
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(table(ROWS, 1, 0.0), folder / "reference.parquet")
    server.upload(bucket, "reference.parquet", folder / "reference.parquet")
    current = table(ROWS, 2, 0.3).drop_columns(["t_day"])  # keep the files small: no dates
    cuts = [0, ROWS // 2, ROWS * 3 // 4, ROWS]
    for number in range(3):
        part = current.slice(cuts[number], cuts[number + 1] - cuts[number])
        if number == 1:
            part = part.drop_columns(["i_wide"])
        path = folder / f"part-{number}.parquet"
        pq.write_table(part, path, row_group_size=ROWS // 7 + number)
        server.upload(bucket, f"current/part-{number}.parquet", path)


def read_json(server: S3Server, bucket: str, uri: str) -> JSON:
    key = uri.removeprefix(f"s3://{bucket}/").rstrip("/")
    return dict(json.loads(server.client().get_object(Bucket=bucket, Key=key)["Body"].read()))


def verdicts(report: JSON) -> list[JSON]:
    """Per column: what the check decided (not how long it took)."""
    columns = [*report["columns"], *(report[r] for r in ("target", "prediction") if report.get(r))]
    keep = ("name", "status", "method", "score", "adjustedScore", "threshold", "drifted", "rowsCurrent")
    return [{k: c.get(k) for k in keep} for c in columns]


def test_four_shards_give_exactly_the_single_pods_verdicts(
    cluster: Cluster,
    operator: OperatorProcess,
    namespace: str,
    kube: Kube,
    s3_server: S3Server,
    s3_secret: str,
    tmp_path: Path,
) -> None:
    bucket = s3_server.create_bucket()
    upload_data(s3_server, bucket, tmp_path / "data")
    endpoint = s3_server.pod_endpoint(cluster)
    for name, shards in (("single", 1), ("sharded", SHARDS)):
        cluster.apply(check(name, bucket, endpoint, shards), namespace)
        kube.annotate("driftcheck", name, "kubedrift.io/check-now", "1")

    statuses = {
        name: wait_status(kube, name, lambda s: s.get("lastCheck"), f"{name}'s check", timeout=420)
        for name in ("single", "sharded")
    }
    for name, status in statuses.items():
        assert status["lastCheck"]["succeeded"] is True, f"{name}: {dump(status)}\n{operator.logs()[-3000:]}"

    # The sharded check ran as an Indexed Job of 4 indexes, each with rows of its own, then a merge.
    jobs = {j["metadata"]["name"]: j for j in kube.jobs("sharded")}
    sharded_name = statuses["sharded"]["lastCheck"]["job"]
    sharded = jobs[sharded_name]
    assert (sharded["spec"]["completionMode"], sharded["spec"]["completions"]) == ("Indexed", SHARDS)
    assert sharded["spec"]["parallelism"] == SHARDS
    merges = [
        j for j in jobs.values() if j["metadata"]["labels"].get("kubedrift.io/merge-of") == sharded_name
    ]
    assert len(merges) == 1 and merges[0]["metadata"]["ownerReferences"][0]["name"] == sharded_name
    pods = kube.list("/api/v1/namespaces/{ns}/pods", f"batch.kubernetes.io/job-name={sharded_name}")
    shares = sorted(
        (json.loads(p["status"]["containerStatuses"][0]["state"]["terminated"]["message"]) for p in pods),
        key=lambda m: m["index"],
    )
    assert [s["index"] for s in shares] == list(range(SHARDS)), dump(shares)
    assert all(s["rows"] > 0 for s in shares) and sum(s["rows"] for s in shares) == ROWS
    for pod in pods:  # the hardened job pod, as a single-pod check's
        container = pod["spec"]["containers"][0]
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert container["securityContext"]["allowPrivilegeEscalation"] is False
        assert pod["spec"]["securityContext"]["runAsNonRoot"] is True

    # The same verdicts, column by column, and the same dataset verdict.
    single_last, sharded_last = statuses["single"]["lastCheck"], statuses["sharded"]["lastCheck"]
    reports = {
        name: read_json(
            s3_server, bucket, statuses[name]["lastCheck"]["reportUri"].rstrip("/") + "/report.json"
        )
        for name in statuses
    }
    assert verdicts(reports["sharded"]) == verdicts(reports["single"])
    assert reports["sharded"]["dataset"] == reports["single"]["dataset"]
    assert reports["sharded"]["current"]["contentHash"] == reports["single"]["current"]["contentHash"]
    tested = [c for c in reports["single"]["columns"] if c["status"] == "tested"]
    assert len(tested) >= 7 and any(c["drifted"] for c in tested), dump(reports["single"]["dataset"])
    for field in ("datasetDrift", "driftShare", "driftedColumns", "targetDrift"):
        assert sharded_last.get(field) == single_last.get(field), field
    assert [r["job"] for r in statuses["sharded"]["history"]] == [sharded_name]

    # The partials served and are gone.
    listed = s3_server.client().list_objects_v2(Bucket=bucket, Prefix="reports/sharded/partials/")
    assert listed.get("KeyCount", 0) == 0, dump(listed.get("Contents"))


def corrupt(path: Path) -> None:
    """Garbage over the first page header: the footer reads, the first column of its row group does not."""
    data = bytearray(path.read_bytes())
    data[4:204] = bytes([0xAB]) * 200
    path.write_bytes(bytes(data))


def test_a_failed_index_fails_the_check_as_shard_failed_naming_it_and_loses_nothing(
    cluster: Cluster,
    operator: OperatorProcess,
    namespace: str,
    kube: Kube,
    s3_server: S3Server,
    s3_secret: str,
    tmp_path: Path,
) -> None:
    bucket, folder = s3_server.create_bucket(), tmp_path / "data"
    upload_data(s3_server, bucket, folder)
    cluster.apply(check("broken", bucket, s3_server.pod_endpoint(cluster), SHARDS), namespace)
    kube.annotate("driftcheck", "broken", "kubedrift.io/check-now", "1")
    first = wait_status(kube, "broken", lambda s: s.get("lastCheck"), "the first check", timeout=300)
    assert first["lastCheck"]["succeeded"] is True, dump(first)

    # A late file lands whose data pages are broken: only the index whose share holds it fails.
    late = folder / "part-3.parquet"
    pq.write_table(table(500, 3, 0.0).drop_columns(["t_day"]), late)
    corrupt(late)
    s3_server.upload(bucket, "current/part-3.parquet", late)
    groups = [
        RowGroup(file=f"{bucket}/current/{path.name}", index=i, rows=meta.row_group(i).num_rows)
        for path in sorted(folder.glob("part-*.parquet"))
        for meta in [pq.ParquetFile(path).metadata]
        for i in range(meta.num_row_groups)
    ]
    failing = next(
        i for i, share in enumerate(assign(groups, SHARDS)) if any("part-3" in g.file for g in share)
    )
    kube.annotate("driftcheck", "broken", "kubedrift.io/check-now", "2")
    first_job = first["lastCheck"]["job"]
    status = wait_status(
        kube,
        "broken",
        lambda s: s.get("lastCheck", {}).get("job") != first_job,
        "the second check",
        timeout=300,
    )

    last = status["lastCheck"]
    assert (last["succeeded"], last["reason"]) == (False, "ShardFailed"), dump(status)
    assert last["message"].startswith(f"index {failing} of {SHARDS} failed: DataUnreadable: "), last[
        "message"
    ]
    stalled = kube.condition("broken", "Stalled")
    assert (stalled["status"], stalled["reason"]) == ("True", "ShardFailed")
    events = [e for e in kube.events("broken") if e["reason"] == "CheckFailed"]
    assert events and "ShardFailed" in events[0]["message"]
    # Nothing recorded before is lost, and the failed Job gets no merge.
    assert [r["job"] for r in status["history"]] == [last["job"], first_job]
    assert status["history"][1]["reportUri"] == first["lastCheck"]["reportUri"]
    merges = [
        j for j in kube.jobs("broken") if j["metadata"]["labels"].get("kubedrift.io/merge-of") == last["job"]
    ]
    assert merges == []
