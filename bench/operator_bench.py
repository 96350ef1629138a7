"""Operator benchmark (not a test): scale and result latency, on the local control plane.

    PYTHONPATH=. .venv/bin/python bench/operator_bench.py [--checks 1000] [--trials 20]

1. Scale: 1,000 DriftChecks are created at once (16 client threads); we measure the
   time from the first create to every one of them reporting Ready=True (polled once
   a second through a list), and the operator process's peak RSS (VmHWM from /proc).
2. Latency: one DriftCheck's retrain run of N real `kubedrift train` trials (bike data,
   the tests' versitygw S3 server over TLS); a poller (every 50 ms) notes when each training pod is first
   seen terminated and when its Experiment's status is first seen terminal. The delay
   is the difference (so it includes up to 2 × 50 ms of polling and the API round trips).

The operator runs as a separate process (`python -m kubedrift operator`) with the
admin kubeconfig, like in the e2e tests but without the RBAC setup.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.cluster.harness import LocalCluster  # noqa: E402
from tests.cluster.kubeapi import KubeApi  # noqa: E402
from tests.fixtures.s3 import S3Server, running_s3_server  # noqa: E402

GROUP = "/apis/kubedrift.io/v1alpha1"


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def driftcheck(name: str, bucket: str, endpoint: str, grid: dict[str, Any] | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "schedule": "0 3 * * *",
        "reference": {"uri": f"s3://{bucket}/reference.parquet"},
        "current": {"uri": f"s3://{bucket}/2012.parquet"},
        "columns": {"target": "high_demand", "exclude": ["dteday", "casual", "registered", "cnt"]},
        "storage": {
            "reportsUri": f"s3://{bucket}/reports",
            "endpoint": endpoint,
            "secretRef": {"name": "s3"},
            "caBundle": {"configMapRef": {"name": "s3-ca", "key": "ca.crt"}},
        },
        "retrain": {
            "trigger": "Manual",
            "train": {"uri": f"s3://{bucket}/2011.parquet"},
            "test": {"uri": f"s3://{bucket}/2012.parquet"},
            "model": {"estimator": "RandomForestClassifier", "params": {"n_jobs": 1}},
            "grid": grid or {"n_estimators": [5]},
            "objective": {"metric": "avg_prec"},
            "parallelism": 4,
        },
    }
    return {
        "apiVersion": "kubedrift.io/v1alpha1",
        "kind": "DriftCheck",
        "metadata": {"name": name},
        "spec": spec,
    }


def start_operator(kubeconfig: Path, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "KUBECONFIG": str(kubeconfig),
        "PYTHONPATH": str(ROOT),
        "KUBEDRIFT_METRICS_PORT": "0",
    }
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "kubedrift", "operator", "-A", "--liveness", ""],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def ready(item: dict[str, Any]) -> bool:
    return any(
        c["type"] == "Ready" and c["status"] == "True"
        for c in (item.get("status") or {}).get("conditions", [])
    )


def scale(api: KubeApi, pid: int, namespace: str, count: int) -> dict[str, float]:
    api.post("/api/v1/namespaces", {"metadata": {"name": namespace}})
    started = time.monotonic()
    with ThreadPoolExecutor(16) as pool:
        list(
            pool.map(
                lambda i: api.post(
                    f"{GROUP}/namespaces/{namespace}/driftchecks",
                    driftcheck(f"dc-{i:04d}", "bench", "http://127.0.0.1:1"),
                ),
                range(count),
            )
        )
    created = time.monotonic() - started
    while True:
        items = api.get(f"{GROUP}/namespaces/{namespace}/driftchecks")["items"]
        if sum(ready(i) for i in items) == count:
            break
        if time.monotonic() - started > 600:
            raise RuntimeError("not all DriftChecks became Ready within 10 minutes")
        time.sleep(1.0)
    return {
        "create_seconds": created,
        "all_ready_seconds": time.monotonic() - started,
        "peak_rss_mb": peak_rss_mb(pid),
    }


def latency(api: KubeApi, cluster: LocalCluster, namespace: str, trials: int) -> dict[str, Any]:
    with running_s3_server(Path(tempfile.mkdtemp(prefix="kubedrift-bench-s3-"))) as server:
        return _latency(api, server, server.pod_endpoint(cluster.real_node), namespace, trials)


def _latency(api: KubeApi, server: S3Server, endpoint: str, namespace: str, trials: int) -> dict[str, Any]:
    client = server.client()
    client.create_bucket(Bucket="bikes")
    data = ROOT / "examples" / "bike-sharing" / "data"
    for name in ("reference.parquet", "2011.parquet", "2012.parquet"):
        client.upload_file(str(data / name), "bikes", name)
    api.post("/api/v1/namespaces", {"metadata": {"name": namespace}})
    api.post(
        f"/api/v1/namespaces/{namespace}/secrets", {"metadata": {"name": "s3"}, "stringData": server.env()}
    )
    api.post(
        f"/api/v1/namespaces/{namespace}/configmaps",
        {"metadata": {"name": "s3-ca"}, "data": {"ca.crt": server.ca_pem.decode()}},
    )
    grid = {"n_estimators": list(range(2, 2 + trials))}
    body = driftcheck("lat", "bikes", endpoint, grid)
    body["metadata"]["annotations"] = {"kubedrift.io/retrain-now": "bench"}
    api.post(f"{GROUP}/namespaces/{namespace}/driftchecks", body)
    pod_done: dict[int, float] = {}
    exp_done: dict[int, float] = {}
    deadline = time.monotonic() + 900
    while len(exp_done) < trials and time.monotonic() < deadline:
        now = time.monotonic()
        for pod in api.get(f"/api/v1/namespaces/{namespace}/pods", labelSelector="kubedrift.io/check=lat")[
            "items"
        ]:
            index = (pod["metadata"].get("annotations") or {}).get("batch.kubernetes.io/job-completion-index")
            if index is not None and pod["status"].get("phase") in ("Succeeded", "Failed"):
                pod_done.setdefault(int(index), now)
        for exp in api.get(f"{GROUP}/namespaces/{namespace}/experiments")["items"]:
            if (exp.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
                exp_done.setdefault(exp["spec"]["index"], now)
        time.sleep(0.05)
    delays = sorted(exp_done[i] - pod_done[i] for i in exp_done if i in pod_done)
    if not delays:
        raise RuntimeError("no trial finished")
    return {
        "trials": len(delays),
        "p50_seconds": statistics.median(delays),
        "p95_seconds": delays[min(len(delays) - 1, round(0.95 * (len(delays) - 1)))],
        "max_seconds": delays[-1],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--checks", type=int, default=1000)
    parser.add_argument("--trials", type=int, default=20)
    args = parser.parse_args()
    with LocalCluster() as cluster:
        api = cluster.admin_api()
        kubectl = str(cluster.binaries.kubectl)
        env = {**os.environ, "KUBECONFIG": str(cluster.kubeconfig)}
        subprocess.run(
            [kubectl, "apply", "-f", str(ROOT / "charts/kubedrift/files/crds")], env=env, check=True
        )
        subprocess.run(
            [
                kubectl,
                "wait",
                "--for=condition=Established",
                "crd/driftchecks.kubedrift.io",
                "crd/experiments.kubedrift.io",
            ],
            env=env,
            check=True,
        )
        log = Path(tempfile.mkdtemp(prefix="kubedrift-bench-")) / "operator.log"
        operator = start_operator(cluster.kubeconfig, log)
        try:
            time.sleep(3)
            results: dict[str, Any] = {"scale": scale(api, operator.pid, "bench-scale", args.checks)}
            print(json.dumps(results), flush=True)
            results["latency"] = latency(api, cluster, "bench-latency", args.trials)
            results["peak_rss_mb_end"] = peak_rss_mb(operator.pid)
            print(json.dumps(results, indent=1))
        finally:
            operator.terminate()
            operator.wait(timeout=30)
            print(f"operator log: {log}", file=sys.stderr)
    threading.Event().wait(0)


if __name__ == "__main__":
    main()
