"""Issue 5, items 2, 3, 4 and 8: spec edits and suspend, garbage collection, rejected
manifests, least privilege."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
import yaml

from tests.fixtures.cluster import Cluster, wait_for
from tests.integration.operator.conftest import (
    OPERATOR_NAMESPACE,
    OPERATOR_SA,
    RULES,
    BikeData,
    Kube,
    OperatorProcess,
    bike_check,
    wait_status,
)

pytestmark = pytest.mark.cluster


def _only(items: list[dict[str, Any]], what: str) -> dict[str, Any]:
    assert len(items) == 1, f"expected exactly one {what}, found {[i['metadata']['name'] for i in items]}"
    return items[0]


def test_spec_edits_update_children_suspend_and_deletion_collects_everything(
    cluster: Cluster,
    namespace: str,
    kube: Kube,
    operator: OperatorProcess,
    bike_bucket: BikeData,
    s3_secret: str,
) -> None:
    check = bike_check("edits", bike_bucket, grid={"n_estimators": [3]}, policy="Manual")
    cluster.apply(check, namespace)
    cluster.kubectl("wait", "-n", namespace, "--for=condition=Ready", "--timeout=60s", "driftcheck/edits")
    cronjobs = "/apis/batch/v1/namespaces/{ns}/cronjobs"
    configmaps = "/api/v1/namespaces/{ns}/configmaps"
    selector = "kubedrift.io/check=edits"
    assert _only(kube.list(cronjobs, selector), "CronJob")["spec"]["schedule"] == "0 3 * * *"

    # 2a. schedule edit: the same CronJob changes, nothing is added
    edited = copy.deepcopy(check)
    edited["spec"]["schedule"] = "*/30 * * * *"
    edited["spec"]["timeZone"] = "Europe/Berlin"
    cluster.apply(edited, namespace)
    wait_for(
        lambda: [c for c in kube.list(cronjobs, selector) if c["spec"]["schedule"] == "*/30 * * * *"],
        "the CronJob to follow the new schedule",
    )
    cron = _only(kube.list(cronjobs, selector), "CronJob")
    assert cron["spec"]["timeZone"] == "Europe/Berlin"
    _only(kube.list(configmaps, selector), "ConfigMap")
    wait_status(kube, "edits", lambda s: s.get("observedGeneration") == 2, "observedGeneration 2", timeout=60)

    # 2b. suspend suspends the CronJob, and Ready says so
    edited["spec"]["suspend"] = True
    cluster.apply(edited, namespace)
    wait_for(
        lambda: _only(kube.list(cronjobs, selector), "CronJob")["spec"]["suspend"], "the CronJob to suspend"
    )
    wait_for(
        lambda: "suspended" in kube.condition("edits", "Ready").get("message", ""), "Ready to say suspended"
    )

    # 2c. a grid edit changes the next run: retrain now, with 2 combinations instead of 1
    edited["spec"]["retrain"]["grid"] = {"n_estimators": [3, 4]}
    cluster.apply(edited, namespace)
    wait_status(kube, "edits", lambda s: s.get("observedGeneration") == 4, "observedGeneration 4", timeout=60)
    kube.annotate("driftcheck", "edits", "kubedrift.io/retrain-now", "a")
    status = wait_status(
        kube,
        "edits",
        lambda s: (s.get("run") or {}).get("phase") == "Succeeded",
        "the manual run",
        timeout=240,
    )
    assert status["run"]["trialsTotal"] == 2 and status["run"]["reason"] == "Manual"
    assert status["handledTriggers"]["kubedrift.io/retrain-now"] == "a"
    assert len(kube.experiments("edits")) == 2
    _only([j for j in kube.jobs("edits") if j["metadata"]["labels"].get("kubedrift.io/run")], "run Job")
    # the same annotation value again is not a new request
    kube.annotate("driftcheck", "edits", "kubedrift.io/retrain-now", "a")
    assert len(kube.experiments("edits")) == 2

    # 3. deleting the DriftCheck garbage-collects everything it owns
    cluster.kubectl("delete", "driftcheck", "edits", "-n", namespace, "--wait=true", "--timeout=60s")

    def gone() -> bool:
        return not (
            kube.list(cronjobs, selector)
            or kube.list(configmaps, selector)
            or kube.jobs("edits")
            or kube.experiments("edits")
        )

    wait_for(gone, "CronJob, ConfigMaps, Jobs and Experiments to be garbage-collected", timeout=120)


def _invalid_manifests(data: BikeData) -> list[tuple[str, Any, str]]:
    """(what is wrong, how to break the spec, a word the error must contain)."""

    def retrain(key: str, value: Any) -> Any:
        return lambda s: s["retrain"].__setitem__(key, value)

    return [
        ("cron with two fields", lambda s: s.__setitem__("schedule", "* *"), "schedule"),
        ("cron with four fields", lambda s: s.__setitem__("schedule", "0 * * *"), "schedule"),
        ("schedule of the wrong type", lambda s: s.__setitem__("schedule", 5), "schedule"),
        ("suspend not a boolean", lambda s: s.__setitem__("suspend", "yes"), "suspend"),
        ("ftp reference", lambda s: s.__setitem__("reference", {"uri": "ftp://x/y.parquet"}), "uri"),
        ("http current", lambda s: s.__setitem__("current", {"uri": "http://x/y.parquet"}), "uri"),
        ("reference without uri", lambda s: s.__setitem__("reference", {}), "uri"),
        ("missing current", lambda s: s.pop("current"), "current"),
        ("missing storage", lambda s: s.pop("storage"), "storage"),
        ("gs reports", lambda s: s["storage"].__setitem__("reportsUri", "gs://bucket/r"), "reportsUri"),
        ("endpoint not a URL", lambda s: s["storage"].__setitem__("endpoint", "minio:9000"), "endpoint"),
        (
            "empty secret name",
            lambda s: s["storage"].__setitem__("secretRef", {"name": ""}),
            "secretRef.name",
        ),
        ("drift share 0", lambda s: s.__setitem__("drift", {"datasetDriftShare": 0}), "datasetDriftShare"),
        (
            "drift share 1.5",
            lambda s: s.__setitem__("drift", {"datasetDriftShare": 1.5}),
            "datasetDriftShare",
        ),
        ("unknown stat test", lambda s: s.__setitem__("drift", {"numerical": {"method": "magic"}}), "method"),
        (
            "negative threshold",
            lambda s: s.__setitem__("drift", {"categorical": {"threshold": -1}}),
            "threshold",
        ),
        ("unknown correction", lambda s: s.__setitem__("drift", {"correction": "sidak"}), "correction"),
        ("target excluded", lambda s: s["columns"].__setitem__("exclude", ["high_demand"]), "columns.target"),
        ("unknown estimator", lambda s: s["retrain"]["model"].__setitem__("estimator", "SVC"), "estimator"),
        ("empty grid list", retrain("grid", {"n_estimators": []}), "n_estimators"),
        ("unknown goal", retrain("objective", {"metric": "avg_prec", "goal": "up"}), "goal"),
        ("regression metric for a classifier", retrain("objective", {"metric": "rmse"}), "metrics must fit"),
        ("unknown metric", retrain("metrics", ["avg_prec", "mape"]), "metrics"),
        ("parallelism 0", retrain("parallelism", 0), "parallelism"),
        ("too many retries", retrain("backoffLimitPerIndex", 11), "backoffLimitPerIndex"),
        ("negative seed", retrain("randomSeed", -1), "randomSeed"),
        ("unknown trigger", retrain("trigger", "Sometimes"), "trigger"),
        ("retrain without test data", lambda s: s["retrain"].pop("test"), "test"),
        ("unknown promotion policy", lambda s: s.__setitem__("promotion", {"policy": "Always"}), "policy"),
        (
            "negative improvement",
            lambda s: s.__setitem__("promotion", {"minImprovement": -0.1}),
            "minImprovement",
        ),
        ("a typo in a field name", lambda s: s.__setitem__("schedulee", "0 * * * *"), "schedulee"),
    ]


def test_invalid_manifests_are_rejected_with_a_message_naming_the_problem(
    cluster: Cluster, namespace: str, crds: str, bike_bucket: BikeData
) -> None:
    cases = _invalid_manifests(bike_bucket)
    assert len(cases) >= 20
    failures = []
    for index, (what, breaks, word) in enumerate(cases):
        manifest = bike_check(f"bad-{index}", bike_bucket)
        breaks(manifest["spec"])
        result = cluster.kubectl("apply", "-n", namespace, "-f", "-", stdin=json.dumps(manifest), check=False)
        if result.returncode == 0 or word not in result.stderr:
            failures.append(f"{what}: rc={result.returncode} {result.stderr.strip()[:300]}")
    assert not failures, "\n".join(failures)
    assert kube_list_empty(cluster, namespace)


def kube_list_empty(cluster: Cluster, namespace: str) -> bool:
    return not cluster.api.get(f"/apis/kubedrift.io/v1alpha1/namespaces/{namespace}/driftchecks")["items"]


def test_the_operator_has_only_the_charts_permissions(
    cluster: Cluster, operator: OperatorProcess, namespace: str
) -> None:
    rules = yaml.safe_load(RULES.read_text())
    assert all("secrets" not in rule["resources"] for rule in rules)
    assert all("*" not in rule["verbs"] and "*" not in rule["resources"] for rule in rules)
    user = f"system:serviceaccount:{OPERATOR_NAMESPACE}:{OPERATOR_SA}"

    def can(*args: str) -> bool:
        result = cluster.kubectl("auth", "can-i", *args, "--as", user, check=False)
        return result.stdout.strip() == "yes"

    assert can("list", "driftchecks.kubedrift.io", "-A")
    assert can("update", "driftchecks.kubedrift.io", "--subresource=status", "-n", namespace)
    assert can("create", "jobs.batch", "-n", namespace)
    assert not can("get", "secrets", "-n", namespace)
    assert not can("list", "secrets", "-A")
    assert not can("update", "driftchecks.kubedrift.io", "-n", namespace)  # spec is the user's
    assert not can("delete", "jobs.batch", "-n", namespace)
    assert not can("create", "rolebindings.rbac.authorization.k8s.io", "-n", namespace)
    # and the operator under test really runs as that ServiceAccount
    assert OPERATOR_SA in operator.kubeconfig.read_text()


def test_local_paths_stall_in_the_cluster_with_a_reason_and_no_children(
    cluster: Cluster, operator: OperatorProcess, namespace: str, kube: Kube, bike_bucket: BikeData
) -> None:
    """The file `kubedrift run` accepts is applied, but no pod could read it: Stalled, nothing started."""
    manifest = bike_check("local", bike_bucket)
    manifest["spec"]["current"] = {"uri": "file:///data/2012.parquet"}
    cluster.kubectl("apply", "-n", namespace, "-f", "-", stdin=json.dumps(manifest))

    status = wait_status(
        kube,
        "local",
        lambda s: any(c["type"] == "Stalled" and c["status"] == "True" for c in s.get("conditions", [])),
        "the local-path DriftCheck to stall",
    )
    stalled = next(c for c in status["conditions"] if c["type"] == "Stalled")
    assert stalled["reason"] == "LocalPath"
    assert stalled["message"].startswith("spec.current.uri is a local path (file:///data/2012.parquet)")
    assert kube.condition("local", "Ready")["status"] == "False"
    warnings = wait_for(  # Events are posted after the status write
        lambda: [e["reason"] for e in kube.events("local") if e["type"] == "Warning"], "a Warning Event"
    )
    assert warnings == ["LocalPath"]
    assert kube.list("/apis/batch/v1/namespaces/{ns}/cronjobs") == []
    assert kube.list("/apis/batch/v1/namespaces/{ns}/jobs") == []
