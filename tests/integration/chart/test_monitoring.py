"""Issue 14, item 5: the chart's PrometheusRule, ServiceMonitor and Grafana dashboard ConfigMap, as
`helm template` renders them, are valid objects: a server-side dry run on the test cluster checks
them against prometheus-operator's own CRDs (the files of its Go module, installed here) and the
apiserver's schemas, with unknown fields refused."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from tests.fixtures.cluster import Cluster
from tests.integration.chart.conftest import CHART

pytestmark = pytest.mark.cluster

MONITORING_CRDS = ("prometheusrules", "servicemonitors")
MONITORING_KINDS = ("PrometheusRule", "ServiceMonitor", "ConfigMap")


@pytest.fixture
def monitoring_crds(cluster: Cluster) -> Iterator[None]:
    """prometheus-operator's PrometheusRule and ServiceMonitor CRDs, Established; removed afterwards
    so that no other test runs against a cluster that has them."""
    files = [
        cluster.local.binaries.prometheus_operator_crds / f"monitoring.coreos.com_{n}.yaml"
        for n in MONITORING_CRDS
    ]
    args = [arg for path in files for arg in ("-f", str(path))]
    # Server-side: these CRDs are too large for client-side apply's last-applied annotation.
    cluster.kubectl("apply", "--server-side", *args)
    try:
        names = [f"crd/{n}.monitoring.coreos.com" for n in MONITORING_CRDS]
        cluster.kubectl("wait", "--for=condition=Established", "--timeout=60s", *names)
        yield
    finally:
        cluster.kubectl("delete", "--wait", *args, timeout=120)


def render(cluster: Cluster, namespace: str) -> list[dict[str, Any]]:
    values = [
        "prometheusRule.enabled=true",
        "grafanaDashboard.enabled=true",
        "metrics.serviceMonitor.enabled=true",
    ]
    result = subprocess.run(
        [str(cluster.helm_path), "template", "kd", str(CHART), "--namespace", namespace]
        + [arg for value in values for arg in ("--set", value)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc and doc["kind"] in MONITORING_KINDS]


def dry_run(cluster: Cluster, namespace: str, docs: list[dict[str, Any]]) -> subprocess.CompletedProcess[str]:
    return cluster.kubectl(
        "apply",
        "--dry-run=server",
        "--validate=strict",
        "-n",
        namespace,
        "-f",
        "-",
        stdin=yaml.safe_dump_all(docs),
        check=False,
    )


def test_rendered_rule_monitor_and_dashboard_pass_their_crd_schemas(
    cluster: Cluster, namespace: str, monitoring_crds: None
) -> None:
    docs = render(cluster, namespace)
    assert sorted(doc["kind"] for doc in docs) == sorted(MONITORING_KINDS)
    result = dry_run(cluster, namespace, docs)
    assert result.returncode == 0, result.stderr
    for kind in ("prometheusrule.monitoring.coreos.com", "servicemonitor.monitoring.coreos.com", "configmap"):
        assert f"{kind}/" in result.stdout and "(server dry run)" in result.stdout, result.stdout

    # The schemas are in force: a malformed duration and an unknown field are refused.
    (rule,) = [doc for doc in docs if doc["kind"] == "PrometheusRule"]
    rule["spec"]["groups"][0]["rules"][2]["for"] = "15 minutes"
    refused = dry_run(cluster, namespace, [rule])
    assert refused.returncode != 0 and "spec.groups[0].rules[2].for" in refused.stderr, refused.stderr
    (monitor,) = [doc for doc in docs if doc["kind"] == "ServiceMonitor"]
    monitor["spec"]["endpoints"][0]["honourLabels"] = True
    refused = dry_run(cluster, namespace, [monitor])
    assert refused.returncode != 0 and "honourLabels" in refused.stderr, refused.stderr
