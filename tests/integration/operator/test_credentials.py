"""No run leaks the storage credentials: a real check, retrain and promotion, then every output scanned.

The Secret holds values found nowhere else (an account of the S3 server made for this test), so
finding one of them, plain or base64, in anything the run left behind is a leak: the
DriftCheck and its Experiments (status included), Events, the operator's log, every pod's
output, every termination message, and every object the jobs wrote to storage.
"""

from __future__ import annotations

import base64

import pytest

from tests.fixtures.cluster import Cluster
from tests.fixtures.s3 import Account, S3Server
from tests.integration.operator.conftest import (
    BikeData,
    Kube,
    OperatorProcess,
    bike_check,
    create_s3_access,
    dump,
    termination_messages,
    wait_status,
)

pytestmark = pytest.mark.cluster

CANARY_KEY = "AKIAKDCANARY7Q3Z9W1X"
CANARY_SECRET = "kd-canary-6f1e0b9c4a2d-never-print-me"


def leaks(text: str) -> list[str]:
    forms = {CANARY_KEY, CANARY_SECRET}
    forms |= {base64.b64encode(v.encode()).decode().rstrip("=") for v in (CANARY_KEY, CANARY_SECRET)}
    return sorted(form for form in forms if form in text)


def stored_objects(data: BikeData, s3: S3Server, prefix: str) -> dict[str, bytes]:
    client = s3.client()
    keys = [
        item["Key"]
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=data.bucket, Prefix=prefix)
        for item in page.get("Contents", [])
    ]
    return {key: client.get_object(Bucket=data.bucket, Key=key)["Body"].read() for key in keys}


def test_status_never_holds_credentials(
    cluster: Cluster,
    namespace: str,
    kube: Kube,
    operator: OperatorProcess,
    bike_bucket: BikeData,
    s3_server: S3Server,
) -> None:
    canary = s3_server.add_account(Account(CANARY_KEY, CANARY_SECRET), role="admin")
    create_s3_access(cluster, namespace, s3_server, canary.env())
    grid = {"n_estimators": [5], "min_samples_split": [2, 16]}
    cluster.apply(bike_check("canary", bike_bucket, grid=grid), namespace)
    kube.annotate("driftcheck", "canary", "kubedrift.io/check-now", "1")
    status = wait_status(kube, "canary", lambda s: s.get("production"), "check, retrain and promotion", 600)
    assert status["lastCheck"]["succeeded"] and status["run"]["phase"] == "Succeeded", dump(status)

    pods = cluster.api.get(f"/api/v1/namespaces/{namespace}/pods")["items"]
    components = {p["metadata"].get("labels", {}).get("app.kubernetes.io/component") for p in pods}
    assert {"check", "train", "promote"} <= components, components
    messages = [m for pod in pods for m in termination_messages(pod)]
    assert len(messages) >= 4, dump(pods)  # one check, two trials, one copy: all of them reported
    names = [p["metadata"]["name"] for p in pods]
    pod_output = {name: cluster.pod_logs(namespace, name) for name in names}  # kubectl logs
    assert sum(map(bool, pod_output.values())) >= 3, pod_output
    objects = stored_objects(bike_bucket, s3_server, "reports/canary/")
    assert any(key.endswith("report.json") for key in objects) and any(
        "/production/" in key for key in objects
    ), sorted(objects)

    scanned: dict[str, str] = {
        "the DriftCheck": dump(kube.driftcheck("canary")) + str(kube.driftcheck("canary")),
        "the Experiments": str(kube.experiments("canary")),
        "the Events": str(kube.list("/api/v1/namespaces/{ns}/events")),
        "the operator's log": operator.logs(),
        **{f"pod {name}'s output": text for name, text in pod_output.items()},
        **{f"termination message {i}": message for i, message in enumerate(messages)},
        **{f"s3 object {key}": body.decode("latin-1") for key, body in objects.items()},
    }
    assert {what: found for what, text in scanned.items() if (found := leaks(text))} == {}
