"""The chart, rendered by the real helm (the one the test control plane is built with), no cluster."""

from __future__ import annotations

import json
import re
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubedrift.models.crd import crd_manifests
from kubedrift.monitoring import METRIC_LABELS, METRIC_NAMES
from kubedrift_operator.settings import restricted_container_security_context, restricted_pod_security_context

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "charts" / "kubedrift"
RULES = yaml.safe_load((CHART / "files" / "operator-rbac-rules.yaml").read_text())
NAMESPACED = ["--set-json", 'watchNamespaces=["team-a","team-b"]']
ALERTS = CHART / "files" / "alerts.yaml"
DASHBOARD = CHART / "files" / "grafana-dashboard.json"
MONITORING = ["--set", "prometheusRule.enabled=true", "--set", "grafanaDashboard.enabled=true"]


@cache
def helm() -> str:
    from tests.cluster.binaries import ensure_built

    return str(ensure_built(build=False).helm)


def run_helm(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([helm(), *args], capture_output=True, text=True, check=False)


def render(*args: str) -> list[dict[str, Any]]:
    result = run_helm("template", "kd", str(CHART), "--namespace", "kd-system", *args)
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def of_kind(docs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [doc for doc in docs if doc["kind"] == kind]


def operator_container(docs: list[dict[str, Any]]) -> dict[str, Any]:
    (deployment,) = of_kind(docs, "Deployment")
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    return dict(container)


def env_of(container: dict[str, Any]) -> dict[str, str]:
    return {e["name"]: e.get("value", "") for e in container["env"]}


@pytest.mark.parametrize(
    "args",
    [
        [],
        NAMESPACED,
        ["--set", "metrics.serviceMonitor.enabled=true"],
        ["--set", "crds.enabled=false"],
        MONITORING,
    ],
    ids=["default", "namespaced", "servicemonitor", "no-crds", "alerts-and-dashboard"],
)
def test_lint_passes(args: list[str]) -> None:
    result = run_helm("lint", "--strict", str(CHART), *args)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--set", "operator.wrokers=3"], "additional properties 'wrokers' not allowed"),
        (["--set", "watchNamespace={a}"], "additional properties 'watchNamespace' not allowed"),
        (["--set", "operator.workers=many"], "got string, want integer"),
        (["--set", "crds.keep=maybe"], "got string, want boolean"),
        (["--set", "operator.logFormat=xml"], "operator/logFormat"),
    ],
)
def test_schema_rejects_typos_and_wrong_types(args: list[str], message: str) -> None:
    result = run_helm("template", "kd", str(CHART), *args)
    assert result.returncode != 0 and message in result.stderr, result.stderr


def test_crds_are_the_generated_files_with_keep_policy() -> None:
    rendered = {crd["metadata"]["name"]: crd for crd in of_kind(render(), "CustomResourceDefinition")}
    generated = {crd["metadata"]["name"]: crd for crd in map(yaml.safe_load, crd_manifests().values())}
    assert rendered.keys() == generated.keys()
    for name, crd in rendered.items():
        assert crd["spec"] == generated[name]["spec"]
        assert crd["metadata"]["annotations"] == {"helm.sh/resource-policy": "keep"}
    unkept = of_kind(render("--set", "crds.keep=false"), "CustomResourceDefinition")
    assert unkept and all("annotations" not in crd["metadata"] for crd in unkept)
    assert of_kind(render("--set", "crds.enabled=false"), "CustomResourceDefinition") == []


def test_cluster_wide_mode_binds_the_rules_file_in_a_cluster_role() -> None:
    docs = render()
    (role,) = of_kind(docs, "ClusterRole")
    assert role["rules"] == RULES
    (binding,) = of_kind(docs, "ClusterRoleBinding")
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "kubedrift-operator", "namespace": "kd-system"}
    ]
    assert of_kind(docs, "Role") == []
    container = operator_container(docs)
    assert "--all-namespaces" in container["args"]
    assert env_of(container)["KUBEDRIFT_MANAGE_JOB_SERVICE_ACCOUNT"] == "true"


def test_namespaced_mode_has_roles_per_namespace_and_nothing_cluster_wide() -> None:
    docs = render(*NAMESPACED)
    assert of_kind(docs, "ClusterRole") == [] and of_kind(docs, "ClusterRoleBinding") == []
    roles = of_kind(docs, "Role")
    assert sorted(r["metadata"]["namespace"] for r in roles) == ["team-a", "team-b"]
    assert all(r["rules"] == RULES for r in roles)
    assert sorted(b["metadata"]["namespace"] for b in of_kind(docs, "RoleBinding")) == ["team-a", "team-b"]
    container = operator_container(docs)
    assert [a for a in container["args"] if "namespace" in a] == ["--namespace=team-a", "--namespace=team-b"]
    assert env_of(container)["KUBEDRIFT_MANAGE_JOB_SERVICE_ACCOUNT"] == "false"
    job_sas = [sa for sa in of_kind(docs, "ServiceAccount") if sa["metadata"]["name"] == "kubedrift-job"]
    assert sorted(sa["metadata"]["namespace"] for sa in job_sas) == ["team-a", "team-b"]
    assert all(sa["automountServiceAccountToken"] is False for sa in job_sas)


def test_operator_pod_is_restricted_with_an_explicit_command() -> None:
    (deployment,) = of_kind(render(), "Deployment")
    spec = deployment["spec"]
    assert spec["replicas"] == 1 and spec["strategy"] == {"type": "Recreate"}
    pod = spec["template"]["spec"]
    assert pod["securityContext"] == restricted_pod_security_context()
    container = operator_container([deployment])
    assert container["command"] == ["kubedrift", "operator"]
    assert container["securityContext"] == restricted_container_security_context()
    assert {"mountPath": "/tmp", "name": "tmp"} in container["volumeMounts"]
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz" and container["readinessProbe"]
    assert "--log-format=json" in container["args"] and container["resources"]["limits"]["memory"]


def test_job_settings_reach_the_operator_and_default_to_the_operators_own() -> None:
    env = env_of(operator_container(render()))
    assert json.loads(env["KUBEDRIFT_JOB_POD_SECURITY_CONTEXT"]) == restricted_pod_security_context()
    assert json.loads(env["KUBEDRIFT_JOB_SECURITY_CONTEXT"]) == restricted_container_security_context()
    assert env["KUBEDRIFT_JOB_IMAGE"] == "ghcr.io/kubedrift/jobs:0.1.0"
    assert env["KUBEDRIFT_JOB_SERVICE_ACCOUNT"] == "kubedrift-job"
    custom = env_of(
        operator_container(
            render(
                "--set",
                "jobs.image.repository=reg/jobs",
                "--set",
                "jobs.image.tag=abc",
                "--set",
                "jobs.podSecurityContext.runAsUser=1234",
                "--set",
                "jobs.serviceAccount.name=trainer",
            )
        )
    )
    assert (
        custom["KUBEDRIFT_JOB_IMAGE"] == "reg/jobs:abc"
        and custom["KUBEDRIFT_JOB_SERVICE_ACCOUNT"] == "trainer"
    )
    assert json.loads(custom["KUBEDRIFT_JOB_POD_SECURITY_CONTEXT"])["runAsUser"] == 1234


def test_service_monitor_is_optional() -> None:
    assert of_kind(render(), "ServiceMonitor") == []
    (monitor,) = of_kind(render("--set", "metrics.serviceMonitor.enabled=true"), "ServiceMonitor")
    assert monitor["spec"]["endpoints"][0]["port"] == "metrics"
    # The DriftCheck's `namespace` label of the per-DriftCheck series survives the scrape.
    assert monitor["spec"]["endpoints"][0]["honorLabels"] is True


def test_alerts_and_dashboard_render_only_when_enabled_and_as_their_files() -> None:
    assert of_kind(render(), "PrometheusRule") == [] and of_kind(render(), "ConfigMap") == []
    docs = render(*MONITORING, "--set", "prometheusRule.labels.release=monitoring")
    (rule,) = of_kind(docs, "PrometheusRule")
    assert rule["spec"] == yaml.safe_load(ALERTS.read_text())
    assert rule["metadata"]["labels"]["release"] == "monitoring"
    (dashboard,) = of_kind(docs, "ConfigMap")
    assert dashboard["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert json.loads(dashboard["data"]["kubedrift.json"]) == json.loads(DASHBOARD.read_text())
    # Another sidecar label instead of the usual one (null removes a default key in Helm).
    relabel = [
        "--set",
        "grafanaDashboard.labels.grafana_dashboard=null",
        "--set-string",
        "grafanaDashboard.labels.dash=1",
    ]
    (relabelled,) = of_kind(render(*MONITORING, *relabel), "ConfigMap")
    assert relabelled["metadata"]["labels"]["dash"] == "1"
    assert "grafana_dashboard" not in relabelled["metadata"]["labels"]


def test_each_alert_names_its_driftcheck_with_a_describe_hint() -> None:
    rules = [rule for group in yaml.safe_load(ALERTS.read_text())["groups"] for rule in group["rules"]]
    assert [rule["alert"] for rule in rules] == [
        "KubedriftDriftDetected",
        "KubedriftTargetDrift",
        "KubedriftCheckFailing",
        "KubedriftCheckStale",
        "KubedriftRetrainFailed",
    ]
    for rule in rules:
        assert rule["labels"]["severity"] in {"warning", "critical"}, rule
        assert "{{ $labels.namespace }}/{{ $labels.driftcheck }}" in rule["annotations"]["summary"], rule
        hint = "kubectl describe driftcheck -n {{ $labels.namespace }} {{ $labels.driftcheck }}"
        assert hint in rule["annotations"]["description"], rule


def metric_names(text: str) -> set[str]:
    return set(re.findall(r"\bkubedrift_[a-z_]+", text))


def test_alerts_and_dashboard_use_only_the_exported_series_and_labels() -> None:
    alerts, dashboard = ALERTS.read_text(), DASHBOARD.read_text()
    assert metric_names(alerts) and metric_names(alerts) <= METRIC_NAMES.keys()
    # The dashboard draws every exported series.
    assert metric_names(dashboard) == METRIC_NAMES.keys()
    assert set(re.findall(r"\$labels\.(\w+)", alerts)) == set(METRIC_LABELS)
    exprs = [t["expr"] for panel in json.loads(dashboard)["panels"] for t in panel["targets"]]
    used = {label for expr in exprs for label in re.findall(r"(\w+)=~", expr)}
    used |= set(re.findall(r"\{\{(\w+)\}\}", dashboard))
    assert used == set(METRIC_LABELS)


def test_every_value_is_in_the_readme_table() -> None:
    readme = (CHART / "README.md").read_text()

    def leaves(node: dict[str, Any], prefix: str = "") -> list[str]:
        out = []
        for key, sub in node.get("properties", {}).items():
            out += (
                leaves(sub, f"{prefix}{key}.") if sub.get("additionalProperties") is False else [prefix + key]
            )
        return out

    schema = json.loads((CHART / "values.schema.json").read_text())
    missing = [path for path in leaves(schema) if f"`{path}`" not in readme]
    assert missing == []
