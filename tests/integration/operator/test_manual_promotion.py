"""`kubectl drift promote` against the real operator: the annotation, the copy Job, the promoted model.

Under `promotion.policy: Manual` a run promotes nothing by itself; `kubectl drift promote EXP
--wait` annotates the Experiment and returns once the operator has acknowledged it. The
operator then copies that Experiment's model to the production folder with a Job and records
it in `status.production` and the promotion history.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kubedrift.models.resources import ANNOTATION_PROMOTE, handled_trigger_key
from tests.fixtures.cluster import Cluster, wait_for
from tests.fixtures.s3 import S3Server
from tests.integration.operator.conftest import (
    ROOT,
    BikeData,
    Kube,
    OperatorProcess,
    bike_check,
    dump,
    wait_status,
)

pytestmark = pytest.mark.cluster


def kubectl_drift(cluster: Cluster, plugin_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`kubectl drift ...` through the real kubectl, which finds the plugin on PATH as pip installs it."""
    script = plugin_dir / "kubectl-drift"
    script.write_text(
        f"#!{sys.executable}\nimport sys\nfrom kubedrift.plugin.commands import main\nsys.exit(main())\n"
    )
    script.chmod(0o755)
    env = cluster.env() | {
        "PATH": f"{plugin_dir}{os.pathsep}{os.environ['PATH']}",
        "PYTHONPATH": str(ROOT),
        "COLUMNS": "100",
    }
    return subprocess.run(
        [str(cluster.kubectl_path), "drift", *args], capture_output=True, text=True, env=env, timeout=400
    )


def s3_object(s3: S3Server, uri: str) -> bytes:
    bucket, key = uri.removeprefix("s3://").split("/", 1)
    client = s3.client()
    return bytes(client.get_object(Bucket=bucket, Key=key)["Body"].read())


def test_kubectl_drift_promote_promotes_the_named_experiment_through_the_operator(
    cluster: Cluster,
    namespace: str,
    kube: Kube,
    operator: OperatorProcess,
    bike_bucket: BikeData,
    s3_secret: str,
    s3_server: S3Server,
    tmp_path: Path,
) -> None:
    grid = {"n_estimators": [5], "min_samples_split": [2, 64]}
    cluster.apply(bike_check("manual", bike_bucket, grid=grid, policy="Manual"), namespace)
    kube.annotate("driftcheck", "manual", "kubedrift.io/check-now", "1")
    status = wait_status(
        kube,
        "manual",
        lambda s: (s.get("run") or {}).get("phase") in ("Succeeded", "Failed"),
        "the retrain run",
        timeout=500,
    )
    assert status["run"]["phase"] == "Succeeded", dump(status)
    assert "production" not in status and "promoting" not in status, dump(status)  # Manual: nothing yet
    experiments = sorted(kube.experiments("manual"), key=lambda e: e["status"]["objective"])
    assert len(experiments) == 2 and all(e["status"]["phase"] == "Succeeded" for e in experiments)
    # The worse of the two: a manual promotion promotes what it is told, not the run's best.
    chosen = experiments[0]
    name = chosen["metadata"]["name"]
    assert name != status["run"]["bestExperiment"], dump([status["run"], experiments])

    result = kubectl_drift(cluster, tmp_path, "promote", name, "--wait", "--timeout", "300s", "-n", namespace)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "promote acknowledged" in result.stdout, result.stdout
    # Acknowledged: the operator recorded the annotation's value as handled.
    annotated = next(e for e in kube.experiments("manual") if e["metadata"]["name"] == name)
    value = annotated["metadata"]["annotations"][ANNOTATION_PROMOTE]
    assert kube.status("manual")["handledTriggers"][handled_trigger_key(ANNOTATION_PROMOTE, name)] == value

    status = wait_status(kube, "manual", lambda s: s.get("production") and not s.get("promoting"), "the copy")
    production = status["production"]
    assert production["experiment"] == name
    assert production["objective"] == pytest.approx(chosen["status"]["objective"])
    assert production["uri"] == bike_bucket.uri("reports/manual/production")
    assert [p["experiment"] for p in status["promotions"]] == [name]  # the history, newest first
    promoted = {c["type"]: c for c in status["conditions"]}["Promoted"]
    assert promoted["status"] == "True", promoted
    reasons = [e["reason"] for e in kube.events("manual")]
    assert "Promoting" in reasons and "Promoted" in reasons, reasons

    # The copy Job ran and the artifact at the destination is the chosen Experiment's model.
    jobs = [
        j for j in kube.jobs("manual") if j["metadata"]["labels"]["app.kubernetes.io/component"] == "promote"
    ]
    assert len(jobs) == 1 and jobs[0]["status"].get("succeeded") == 1, dump(jobs)
    pods = cluster.api.get(
        f"/api/v1/namespaces/{namespace}/pods", labelSelector=f"job-name={jobs[0]['metadata']['name']}"
    )["items"]
    copied = json.loads(pods[0]["status"]["containerStatuses"][0]["state"]["terminated"]["message"])
    source = chosen["status"]["modelUri"]
    assert copied["source"] == source
    assert copied["destination"].startswith(production["uri"] + "/")
    assert s3_object(s3_server, copied["destination"]) == s3_object(s3_server, source)
    wait_for(
        lambda: any(
            e["status"].get("promoted") for e in kube.experiments("manual") if e["metadata"]["name"] == name
        ),
        "the promoted Experiment to be marked",
    )
