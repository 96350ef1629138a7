"""Issue 6, item 3: `helm upgrade` changes a CRD (the chart templates the generated CRDs), and
`helm uninstall` keeps the CRDs and every DriftCheck, as the chart README says."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from tests.fixtures.cluster import Cluster, wait_for
from tests.integration.chart.conftest import CHART, Release
from tests.integration.operator.conftest import GROUP_PATH, BikeData, bike_check

pytestmark = pytest.mark.cluster

NOTE = "A field the upgrade test adds: proof that helm upgrade changed the CRD."


def chart_with_a_new_crd_field(tmp_path: Path) -> Path:
    """A copy of the chart, one minor version up, whose DriftCheck CRD has a new optional field."""
    chart = tmp_path / "kubedrift"
    shutil.copytree(CHART, chart)
    meta = yaml.safe_load((chart / "Chart.yaml").read_text())
    (chart / "Chart.yaml").write_text(yaml.safe_dump({**meta, "version": "0.2.0"}))
    crd_file = chart / "files" / "crds" / "driftchecks.kubedrift.io.yaml"
    crd = yaml.safe_load(crd_file.read_text())
    spec = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
    spec["properties"]["upgradeNote"] = {"type": "string", "description": NOTE}
    crd_file.write_text(yaml.safe_dump(crd, sort_keys=False))
    return chart


def explain(cluster: Cluster, field: str) -> str:
    result = cluster.kubectl("explain", f"driftchecks.kubedrift.io.{field}", check=False)
    return result.stdout + result.stderr


def test_upgrade_changes_a_crd_and_uninstall_keeps_crds_and_driftchecks(
    cluster: Cluster, release: Release, namespace: str, bike_bucket: BikeData, tmp_path: Path
) -> None:
    release.install(wait=False)
    assert NOTE not in explain(cluster, "spec.upgradeNote")

    release.upgrade(chart_with_a_new_crd_field(tmp_path))
    wait_for(
        lambda: NOTE in explain(cluster, "spec.upgradeNote"), "kubectl explain to show the new field", 60
    )
    check = bike_check("kept", bike_bucket)
    check["spec"]["upgradeNote"] = "accepted by the upgraded schema"
    cluster.apply(check, namespace)

    release.upgrade(CHART)  # and back: the shipped CRD again, for every other test
    wait_for(lambda: NOTE not in explain(cluster, "spec.upgradeNote"), "the field to go again", 60)

    release.uninstall()
    for crd in ("driftchecks.kubedrift.io", "experiments.kubedrift.io"):
        kept = cluster.get(f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{crd}")
        assert kept is not None and kept["metadata"].get("deletionTimestamp") is None
    assert cluster.get(f"{GROUP_PATH}/namespaces/{namespace}/driftchecks/kept") is not None
    # Everything else of the release is gone.
    assert cluster.api.get(f"/apis/apps/v1/namespaces/{release.namespace}/deployments")["items"] == []
    assert (
        cluster.get(f"/apis/rbac.authorization.k8s.io/v1/clusterroles/{release.name}-kubedrift-operator")
        is None
    )
    assert cluster.get(f"/api/v1/namespaces/{release.namespace}/serviceaccounts/kubedrift-operator") is None
