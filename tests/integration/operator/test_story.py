"""Issue 5, item 1: the seed's story, end to end, on the real control plane.

apply a DriftCheck (reference January 2011, current 2012) → check now → drift → a run of
6 combinations → every Experiment with metrics in `kubectl get experiments` → best in
the DriftCheck status → promoted under Auto → conditions and Events tell the story. Then a
second run re-evaluates the production model on its own test data, and Auto decides with that.

Every read and write goes to the real S3 server (versitygw) over TLS with its private CA, passed
by storage.caBundle, and the keys from the Secret (issue 11, proof 1).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest

from tests.fixtures.browser import browser, served
from tests.fixtures.cluster import Cluster, wait_for
from tests.fixtures.cluster_ui import plugin_on_path, ui_command, ui_env
from tests.fixtures.s3 import S3Server
from tests.fixtures.ui_walk import Expected, walk
from tests.integration.operator.conftest import (
    BikeData,
    Kube,
    OperatorProcess,
    bike_check,
    driftcheck_series,
    dump,
    scrape_metrics,
    wait_status,
)
from tests.unit.test_alerts import rule_test_on_series

UI_EXPECTED = Expected(
    namespace="",  # the test's namespace
    check="bikes",
    objective="avg_prec",
    grid_params=("n_estimators", "min_samples_split"),
    metrics=("avg_prec", "roc_auc"),
    columns=("temp", "season", "hr"),
)

pytestmark = pytest.mark.cluster


def stored_keys(server: S3Server, data: BikeData, prefix: str) -> set[str]:
    pages = server.client().get_paginator("list_objects_v2").paginate(Bucket=data.bucket, Prefix=prefix)
    return {item["Key"] for page in pages for item in page.get("Contents", [])}


def test_bike_story_end_to_end(
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
    cluster.apply(bike_check("bikes", bike_bucket), namespace)
    cluster.kubectl("wait", "-n", namespace, "--for=condition=Ready", "--timeout=60s", "driftcheck/bikes")
    cron = cluster.get(f"/apis/batch/v1/namespaces/{namespace}/cronjobs/bikes-check")
    assert cron is not None and cron["spec"]["concurrencyPolicy"] == "Forbid"
    pod_spec = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert pod_spec["securityContext"]["runAsNonRoot"] is True
    assert pod_spec["containers"][0]["securityContext"]["readOnlyRootFilesystem"] is True

    kube.annotate("driftcheck", "bikes", "kubedrift.io/check-now", "1")
    status = wait_status(kube, "bikes", lambda s: s.get("lastCheck"), "the first check", timeout=180)
    last = status["lastCheck"]
    assert last["succeeded"], dump(status)
    assert last["datasetDrift"] is True and last["driftShare"] >= 0.5, dump(last)
    assert last["reportUri"].startswith(bike_bucket.uri("reports/bikes/"))
    assert status["handledTriggers"]["kubedrift.io/check-now"] == "1"

    status = wait_status(
        kube,
        "bikes",
        lambda s: (s.get("run") or {}).get("phase") in ("Succeeded", "Failed"),
        "the retrain run",
        timeout=400,
    )
    run = status["run"]
    assert run["phase"] == "Succeeded" and run["trialsTotal"] == 6 and run["trialsSucceeded"] == 6, dump(
        [run, *(e["status"] for e in kube.experiments("bikes"))]
    )
    experiments = kube.experiments("bikes")
    assert len(experiments) == 6
    assert all(
        e["status"]["phase"] == "Succeeded" and "avg_prec" in e["status"]["metrics"] for e in experiments
    )
    best = max(experiments, key=lambda e: (e["status"]["objective"], -e["spec"]["index"]))
    assert run["bestExperiment"] == best["metadata"]["name"]
    assert run["bestObjective"] == pytest.approx(best["status"]["objective"])

    table = cluster.kubectl(
        "get",
        "experiments.kubedrift.io",
        "-n",
        namespace,
        "-l",
        "kubedrift.io/check=bikes",
        "--sort-by=.status.objective",
    ).stdout
    print(table)
    header = table.splitlines()[0].split()
    assert header[:5] == ["NAME", "CHECK", "RUN", "PARAMS", "OBJECTIVE"], table
    assert table.count("Succeeded") == 6 and "avg_prec=" in table

    status = wait_status(kube, "bikes", lambda s: s.get("production"), "Auto promotion", timeout=180)
    assert status["production"]["experiment"] == best["metadata"]["name"]
    assert status["production"]["uri"] == bike_bucket.uri("reports/bikes/production")
    promoted = {c["type"]: c for c in status["conditions"]}
    assert promoted["Ready"]["status"] == "True"
    assert promoted["Drifted"]["status"] == "True" and promoted["Drifted"]["reason"] == "DatasetDrift"
    assert promoted["Retraining"]["status"] == "False" and promoted["Retraining"]["reason"] == "RunSucceeded"
    assert promoted["Promoted"]["status"] == "True" and promoted["Promoted"]["reason"] == "AutoPromoted"
    wait_for(
        lambda: (
            kube.experiments("bikes") and any(e["status"].get("promoted") for e in kube.experiments("bikes"))
        ),
        "the promoted Experiment to be marked",
    )

    reasons = [e["reason"] for e in kube.events("bikes")]
    for reason in (
        "CheckStarted",
        "DriftDetected",
        "RetrainStarted",
        "RetrainSucceeded",
        "Promoting",
        "Promoted",
    ):
        assert reason in reasons, reasons
    described = cluster.kubectl("describe", "driftcheck", "bikes", "-n", namespace).stdout
    assert "DriftDetected" in described and "Promoted" in described
    listing = cluster.kubectl("get", "driftchecks", "-n", namespace).stdout
    assert "bikes" in listing and best["metadata"]["name"] in listing

    # Issue 10, items 2 and 5: every check, training and promotion pod ran on the real node from the
    # jobs image, restricted (the namespace enforces it), and `kubectl logs` reads the job's own lines.
    namespace_labels = cluster.api.get(f"/api/v1/namespaces/{namespace}")["metadata"]["labels"]
    assert namespace_labels["pod-security.kubernetes.io/enforce"] == "restricted"
    pods = cluster.api.get(f"/api/v1/namespaces/{namespace}/pods")["items"]
    assert {p["metadata"]["labels"]["app.kubernetes.io/component"] for p in pods} == {
        "check",
        "train",
        "promote",
    }
    for pod in pods:
        (container,) = pod["spec"]["containers"]
        context = container["securityContext"]
        assert container["image"] == cluster.images["jobs"], container["image"]
        assert pod["spec"]["securityContext"]["runAsUser"] == 65532 and context["runAsNonRoot"] is True
        assert context["readOnlyRootFilesystem"] is True and context["capabilities"]["drop"] == ["ALL"]
        assert context["allowPrivilegeEscalation"] is False
        assert pod["status"]["phase"] == "Succeeded", dump(pod["status"])
    check_pod = next(p for p in pods if p["metadata"]["labels"]["app.kubernetes.io/component"] == "check")
    logs = cluster.kubectl("logs", "-n", namespace, check_pod["metadata"]["name"]).stdout
    assert "check bikes: dataset drift, " in logs and "columns drifted" in logs, logs

    # Issue 11, proof 1: every pod reached the real S3 server over TLS, trusting its private CA
    # from storage.caBundle (never with verification off), signing with the keys from the Secret;
    # what they wrote is on that server, the only place the bike data exists.
    assert bike_bucket.endpoint.startswith("https://"), bike_bucket.endpoint
    for pod in pods:
        (container,) = pod["spec"]["containers"]
        env = {e["name"]: e for e in container["env"]}
        assert env["AWS_CA_BUNDLE"] == {"name": "AWS_CA_BUNDLE", "value": "/etc/kubedrift-ca/ca-bundle.pem"}
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            assert env[name]["valueFrom"]["secretKeyRef"]["name"] == s3_secret and "value" not in env[name]
        assert {"name": "ca-bundle", "mountPath": "/etc/kubedrift-ca", "readOnly": True} in container[
            "volumeMounts"
        ]
        ca_volume = next(v for v in pod["spec"]["volumes"] if v["name"] == "ca-bundle")
        assert ca_volume["configMap"]["name"] == "s3-ca", ca_volume
    written = stored_keys(s3_server, bike_bucket, "reports/bikes/")
    report = last["reportUri"].removeprefix(bike_bucket.uri("")).rstrip("/")
    assert {f"{report}/report.json", f"{report}/report.html"} <= written, sorted(written)
    assert any(key.startswith("reports/bikes/production/") for key in written), sorted(written)

    # exactly one Job per purpose: the check-now Job, the run's Job, the promotion Job
    jobs = sorted(j["metadata"]["labels"]["app.kubernetes.io/component"] for j in kube.jobs("bikes"))
    assert jobs == ["check", "promote", "train"], jobs
    metrics = operator.metrics()
    assert "kubedrift_drift_detected_total 1.0" in metrics
    assert 'kubedrift_experiments_total{phase="Succeeded"} 6.0' in metrics

    # Issue 14: the per-DriftCheck gauges the alerts read say what the DriftCheck's status says.
    status = kube.status("bikes")
    last = status["lastCheck"]
    assert last["targetDrift"] is True, dump(last)  # the story's target, high_demand, drifts
    series = driftcheck_series(scrape_metrics(operator, namespace, "bikes"), namespace, "bikes")
    assert series == {
        "kubedrift_check_drift_share": pytest.approx(last["driftShare"]),
        "kubedrift_check_drifted_columns": len(last["driftedColumns"]),
        "kubedrift_check_dataset_drifted": 1.0,
        "kubedrift_check_target_drifted": 1.0,
        "kubedrift_check_last_success_timestamp_seconds": pytest.approx(
            datetime.fromisoformat(last["time"]).timestamp()
        ),
        "kubedrift_check_failing": 0.0,
        "kubedrift_check_interval_seconds": 86400.0,  # "0 3 * * *", in UTC
        "kubedrift_production_objective": pytest.approx(status["production"]["objective"]),
        "kubedrift_run_best_objective": pytest.approx(status["run"]["bestObjective"]),
        "kubedrift_run_failed": 0.0,
    }, series
    # The chart's alerts on what the live operator exported: drift and target drift fire, nothing else.
    firing = {"KubedriftDriftDetected", "KubedriftTargetDrift"}
    rule_test = rule_test_on_series(series, namespace, "bikes", firing, tmp_path)
    assert rule_test.returncode == 0, rule_test.stdout + rule_test.stderr
    assert len(last["driftedColumns"]) > 0 and status["production"]["objective"] == pytest.approx(
        best["status"]["objective"]
    )

    # A second run after the promotion evaluates production on its test data as one more index
    # (no Experiment), and Auto compares with that. Same data and seed: the new best ties it.
    kube.annotate("driftcheck", "bikes", "kubedrift.io/retrain-now", "1")
    status = wait_status(
        kube,
        "bikes",
        lambda s: s["run"]["name"] != run["name"] and s["run"]["phase"] != "Running",
        "the second run",
        timeout=400,
    )
    second = status["run"]
    baseline = second.get("baseline") or {}
    assert second["phase"] == "Succeeded" and second["trialsTotal"] == 6, dump(second)
    assert baseline.get("phase") == "Succeeded" and baseline["experiment"] == best["metadata"]["name"]
    assert baseline["objective"] == pytest.approx(best["status"]["objective"]), dump(second)
    assert second["bestObjective"] == pytest.approx(baseline["objective"]), dump(second)
    job = cluster.get(f"/apis/batch/v1/namespaces/{namespace}/jobs/{second['job']}")
    assert job is not None and job["spec"]["completions"] == 7
    assert len(kube.experiments("bikes")) == 12
    promoted = {c["type"]: c for c in status["conditions"]}["Promoted"]
    assert promoted["reason"] == "NotImproved" and "on this run's test data" in promoted["message"], promoted
    assert status["production"]["experiment"] == best["metadata"]["name"]
    assert "PromotionSkipped" in [e["reason"] for e in kube.events("bikes")]

    # Issue 14, the web view: every page over the story through `kubectl drift ui`, in Chromium, with
    # the user's kubeconfig and, for the reports, the user's own S3 keys and the server's CA.
    started = time.monotonic()
    walk_story_ui(cluster, namespace, s3_server, tmp_path)
    record_timing("story: the web view's pages in Chromium (kubectl drift ui)", time.monotonic() - started)

    # A deleted DriftCheck leaves no series behind.
    cluster.kubectl("delete", "-n", namespace, "driftcheck", "bikes")
    wait_for(
        lambda: not driftcheck_series(operator.metrics(), namespace, "bikes"),
        "the deleted DriftCheck's series to go",
        timeout=30,
    )


def walk_story_ui(cluster: Cluster, namespace: str, s3_server: S3Server, tmp_path: Path) -> None:
    """The pages after the story's two runs: the newest run has the production row from the first."""
    env = ui_env(
        cluster,
        plugin_on_path(tmp_path / "plugins"),
        **s3_server.env(),
        AWS_CA_BUNDLE=str(s3_server.ca_bundle),
        AWS_EC2_METADATA_DISABLED="true",
    )
    shots = tmp_path / "screenshots"
    with served(ui_command(cluster, namespace), env) as base, browser(shots) as b:
        expected = replace(UI_EXPECTED, namespace=namespace)
        run = walk(b, base, expected, sort_metric="roc_auc")
    baseline = [r for r in run["table"]["rows"] if r["baseline"]]
    assert len(baseline) == 1 and baseline[0]["promoted"], baseline  # production, from the first run
    print(f"screenshots: {shots}")
