"""Issue 13, backfill and re-runs, on the real control plane and node: `kubectl drift backfill`
over daily partitions records one history entry per weekly window, in window order, never retrains,
and a second identical backfill adds nothing; `kubectl drift run --at` checks the window of that
time."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from tests.fixtures.cluster import Cluster, wait_for
from tests.fixtures.s3 import S3Server
from tests.integration.operator.conftest import (
    BIKES,
    ROOT,
    BikeData,
    Kube,
    OperatorProcess,
    bike_check,
    dump,
)

pytestmark = pytest.mark.cluster

JSON = dict[str, Any]
MONDAYS = [datetime(2011, 2, 7, tzinfo=UTC) + timedelta(weeks=w) for w in range(6)]  # 7 Feb .. 14 Mar
PREFIX = "daily"


def upload_daily_partitions(s3_server: S3Server, data: BikeData, tmp: Path, first: date, last: date) -> int:
    """2011's rows as Hive-style daily partitions `daily/dt=YYYY-MM-DD/part-0.parquet`, first..last."""
    table = pq.read_table(BIKES / "2011.parquet")
    days = pc.cast(table["dteday"], "date32")
    count = 0
    day = first
    while day <= last:
        rows = table.filter(pc.equal(days, day))
        path = tmp / f"{day}.parquet"
        pq.write_table(rows, path)
        s3_server.upload(data.bucket, f"{PREFIX}/dt={day:%Y-%m-%d}/part-0.parquet", path)
        count += 1
        day += timedelta(days=1)
    return count


def plugin(
    cluster: Cluster, namespace: str, *args: str, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """`kubectl drift ...` as kubectl runs it: the plugin's entry point, with the admin kubeconfig."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(str(ROOT / d) for d in (".", "operator", "jobs")),
        "COLUMNS": "100",
    }
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from kubedrift.plugin.commands import main; sys.exit(main())",
            *args,
            "--kubeconfig",
            str(cluster.kubeconfig),
            "-n",
            namespace,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def history_keys(s3_server: S3Server, data: BikeData, check: str) -> list[str]:
    client = s3_server.client()
    listed = client.list_objects_v2(Bucket=data.bucket, Prefix=f"reports/{check}/history/")
    return sorted(item["Key"].rsplit("/", 1)[-1] for item in listed.get("Contents", []))


def read_json(s3_server: S3Server, data: BikeData, uri: str) -> JSON:
    key = uri.removeprefix(f"s3://{data.bucket}/")
    body = s3_server.client().get_object(Bucket=data.bucket, Key=key)["Body"].read()
    return dict(json.loads(body))


def stamp(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def weekly_check(name: str, data: BikeData) -> JSON:
    """Mondays at midnight UTC: the last 7 days of the daily partitions against January 2011."""
    check = bike_check(name, data, grid={"n_estimators": [3]}, policy="Manual")
    check["spec"]["schedule"] = "0 0 * * 1"
    check["spec"]["current"] = {
        "uri": data.uri(f"{PREFIX}/"),
        "time": {"partition": "dt=%Y-%m-%d"},
        "window": {"last": "7d"},
    }
    return check


def test_a_backfill_records_each_weekly_window_once_in_order_and_never_retrains(
    cluster: Cluster,
    namespace: str,
    kube: Kube,
    operator: OperatorProcess,
    bike_bucket: BikeData,
    s3_server: S3Server,
    s3_secret: str,
    tmp_path: Path,
    record_timing: Callable[[str, float], None],
) -> None:
    name = "weekly"
    # The windows of 7 Feb .. 14 Mar read 31 Jan .. 13 Mar; a few days either side stay unread.
    upload_daily_partitions(s3_server, bike_bucket, tmp_path, date(2011, 1, 28), date(2011, 3, 17))
    cluster.apply(weekly_check(name, bike_bucket), namespace)
    cluster.kubectl("wait", "-n", namespace, "--for=condition=Ready", "--timeout=60s", f"driftcheck/{name}")

    started = time.monotonic()
    done = plugin(
        cluster, namespace, "backfill", name, "--from", "2011-02-07", "--to", "2011-03-14", "--wait"
    )
    record_timing("backfill of 6 weekly windows, 2 at a time", time.monotonic() - started)
    assert done.returncode == 0, done.stdout + done.stderr + dump(kube.status(name))
    assert "6 scheduled times of '0 0 * * 1' in the range" in done.stdout
    assert "backfill Succeeded: 6 of 6 windows checked, 0 failed" in done.stdout

    status = kube.status(name)
    backfill = status["backfill"]
    assert (backfill["phase"], backfill["total"], backfill["done"], backfill["failed"]) == (
        "Succeeded",
        6,
        6,
        0,
    )
    assert not backfill.get("inFlight")
    # one entry per week, in window order, each reading the 7 days before its Monday
    history = [r for r in status["history"] if r.get("scheduledAt")]
    by_time = sorted(history, key=lambda r: r["scheduledAt"])
    assert [r["scheduledAt"] for r in by_time] == [stamp(m) for m in MONDAYS], dump(status["history"])
    assert [r["scheduledAt"] for r in history] in (
        [stamp(m) for m in MONDAYS],
        [stamp(m) for m in reversed(MONDAYS)],
    )
    for record, monday in zip(by_time, MONDAYS, strict=True):
        assert record["window"] == {"start": stamp(monday - timedelta(days=7)), "end": stamp(monday)}
        assert record["succeeded"] is True
    keys = history_keys(s3_server, bike_bucket, name)
    assert keys == [f"{m:%Y%m%dT%H%M%SZ}.json" for m in MONDAYS]
    for key, monday in zip(keys, MONDAYS, strict=True):
        entry = read_json(s3_server, bike_bucket, bike_bucket.uri(f"reports/{name}/history/{key}"))
        assert entry["scheduledAt"] == stamp(monday) and entry["window"]["end"] == stamp(monday)
    # a backfill never retrains unless asked, drift or not
    assert "run" not in status and kube.experiments(name) == []
    jobs = [
        j for j in kube.jobs(name) if "kubedrift.io/scheduled-at" in (j["metadata"].get("annotations") or {})
    ]
    assert sorted(j["metadata"]["annotations"]["kubedrift.io/scheduled-at"] for j in jobs) == [
        stamp(m) for m in MONDAYS
    ]
    # at most 2 at a time: no Job started before two earlier ones had finished
    spans = sorted(
        (j["status"]["startTime"], j["status"].get("completionTime") or "~") for j in jobs if j.get("status")
    )
    for index, (start, _) in enumerate(spans):
        running = [s for s in spans[:index] if s[1] > start]
        assert len(running) < 2, spans

    # the same backfill again: the plugin sees it handled and annotates nothing
    again = plugin(cluster, namespace, "backfill", name, "--from", "2011-02-07", "--to", "2011-03-14")
    assert again.returncode == 0 and "already handled" in again.stderr
    # asked again with a new value: every Job runs, every window is already recorded, nothing is added
    again = plugin(
        cluster,
        namespace,
        "backfill",
        name,
        "--from",
        "2011-02-07",
        "--to",
        "2011-03-14",
        "--again",
        "--wait",
    )
    assert again.returncode == 0, again.stdout + again.stderr
    assert "backfill Succeeded: 6 of 6 windows checked, 0 failed" in again.stdout
    after = kube.status(name)
    assert history_keys(s3_server, bike_bucket, name) == keys
    assert sorted(r["scheduledAt"] for r in after["history"] if r.get("scheduledAt")) == [
        stamp(m) for m in MONDAYS
    ]
    assert "run" not in after


def test_run_at_checks_the_window_of_that_time(
    cluster: Cluster,
    namespace: str,
    kube: Kube,
    operator: OperatorProcess,
    bike_bucket: BikeData,
    s3_server: S3Server,
    s3_secret: str,
    tmp_path: Path,
) -> None:
    name = "rerun"
    upload_daily_partitions(s3_server, bike_bucket, tmp_path, date(2011, 2, 26), date(2011, 3, 9))
    cluster.apply(weekly_check(name, bike_bucket), namespace)
    cluster.kubectl("wait", "-n", namespace, "--for=condition=Ready", "--timeout=60s", f"driftcheck/{name}")

    refused = plugin(cluster, namespace, "run", name, "--at", "2099-01-01")
    assert refused.returncode == 2 and "is in the future" in refused.stderr

    at = datetime(2011, 3, 7, tzinfo=UTC)
    done = plugin(
        cluster, namespace, "run", name, "--at", "2011-03-07T00:00:00Z", "--wait", "--timeout", "5m"
    )
    assert done.returncode == 0, done.stdout + done.stderr + dump(kube.status(name))
    assert f"check of the window of {stamp(at)}: Succeeded" in done.stdout

    status = kube.status(name)
    assert status["checkAt"]["phase"] == "Succeeded" and status["checkAt"]["scheduledAt"] == stamp(at)
    last = status["lastCheck"]
    assert last["job"] == status["checkAt"]["job"] and last["succeeded"], dump(last)
    window = {"start": stamp(at - timedelta(days=7)), "end": stamp(at)}
    assert last["current"]["window"] == window
    report = read_json(s3_server, bike_bucket, last["reportUri"].rstrip("/") + "/report.json")
    assert report["scheduledAt"] == stamp(at)
    assert report["current"]["window"] == window
    assert sorted(report["filesRead"]["current"]) == [
        f"dt={day:%Y-%m-%d}/part-0.parquet"
        for day in (date(2011, 2, 28) + timedelta(days=d) for d in range(7))
    ]
    assert "run" not in status

    # a value the operator refuses (written by hand, past the plugin): an Event and the condition say why
    kube.annotate("driftcheck", name, "kubedrift.io/check-at", "2011-03-07")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        condition = kube.condition(name, "Rerunning")
        if condition.get("reason") == "CheckAtRefused":
            break
        time.sleep(1)
    assert condition["reason"] == "CheckAtRefused" and "has no offset" in condition["message"], condition
    # Events are posted after the status write that decided them.
    wait_for(
        lambda: any(e["reason"] == "CheckAtRefused" for e in kube.events(name)),
        "the CheckAtRefused Event",
        timeout=30,
    )
    assert kube.condition(name, "Ready")["status"] == "True"
