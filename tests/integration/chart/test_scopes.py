"""Issue 6, item 2 (namespaced mode): the operator watches only the listed namespaces, and its
ServiceAccount is refused everything outside them — by `kubectl auth can-i` and by real calls."""

from __future__ import annotations

import uuid

import pytest

from tests.cluster.kubeapi import ApiError
from tests.fixtures.cluster import Cluster, wait_for
from tests.integration.chart.conftest import Release, create_namespace
from tests.integration.operator.conftest import GROUP_PATH, BikeData, bike_check

pytestmark = pytest.mark.cluster


def can_i(cluster: Cluster, release: Release, verb: str, resource: str, namespace: str) -> str:
    result = cluster.kubectl(
        "auth", "can-i", verb, resource, "-n", namespace, f"--as={release.operator_sa}", check=False
    )
    return result.stdout.strip()


def status_code(call: object) -> int:
    try:
        call()  # type: ignore[operator]
    except ApiError as error:
        return error.status
    return 200


def test_namespaced_mode_watches_and_touches_only_its_namespaces(
    cluster: Cluster, release: Release, namespace: str, bike_bucket: BikeData
) -> None:
    other = f"kd-other-{uuid.uuid4().hex[:6]}"
    create_namespace(cluster, other)
    cluster.kubectl("label", "namespace", namespace, "pod-security.kubernetes.io/enforce=restricted")
    cluster.api.post(
        f"/api/v1/namespaces/{other}/secrets", {"metadata": {"name": "s3"}, "stringData": {"k": "v"}}
    )
    try:
        release.values |= {"watchNamespaces": [namespace], "crds": {"enabled": False}}
        release.install()

        assert can_i(cluster, release, "list", "driftchecks.kubedrift.io", namespace) == "yes"
        assert can_i(cluster, release, "create", "cronjobs.batch", namespace) == "yes"
        for verb, resource, where in [
            ("get", "secrets", other),
            ("get", "secrets", namespace),  # no Secrets anywhere: job pods get credentials via secretKeyRef
            ("list", "driftchecks.kubedrift.io", other),
            ("create", "jobs.batch", other),
            ("list", "driftchecks.kubedrift.io", "kube-system"),
        ]:
            assert can_i(cluster, release, verb, resource, where) == "no", (verb, resource, where)
        assert (
            cluster.get(f"/apis/rbac.authorization.k8s.io/v1/clusterroles/{release.name}-kubedrift-operator")
            is None
        )

        api = release.operator_api()
        assert status_code(lambda: api.get(f"{GROUP_PATH}/namespaces/{namespace}/driftchecks")) == 200
        assert status_code(lambda: api.get(f"/api/v1/namespaces/{other}/secrets/s3")) == 403
        assert status_code(lambda: api.get(f"{GROUP_PATH}/namespaces/{other}/driftchecks")) == 403
        assert status_code(lambda: api.get(f"{GROUP_PATH}/driftchecks")) == 403  # no cluster-wide list

        # The operator reconciles in its namespace (with only the Role) and leaves the other alone.
        for where in (namespace, other):
            cluster.apply(bike_check("bikes", bike_bucket), where)
        wait_for(
            lambda: cluster.get(f"/apis/batch/v1/namespaces/{namespace}/cronjobs/bikes-check"), "the CronJob"
        )
        ready = cluster.kubectl(
            "wait", "-n", namespace, "--for=condition=Ready", "--timeout=60s", "driftcheck/bikes", check=False
        )
        assert ready.returncode == 0, ready.stderr + release.operator_logs()[-3000:]
        untouched = cluster.get(f"{GROUP_PATH}/namespaces/{other}/driftchecks/bikes") or {}
        assert not untouched.get("status")
        assert cluster.get(f"/apis/batch/v1/namespaces/{other}/cronjobs/bikes-check") is None
        # The chart made the job ServiceAccount; the operator, told so, did not touch it.
        job_sa = cluster.get(f"/api/v1/namespaces/{namespace}/serviceaccounts/kubedrift-job")
        assert job_sa is not None and job_sa["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "Helm"
    finally:
        cluster.api.delete(f"/api/v1/namespaces/{other}")
