"""`kubectl drift ui` with a user whose RBAC lets them read DriftChecks but not Experiments.

The objects are created directly with the API, as the operator would leave them (no operator
needed); the pages over the bike-sharing story itself are walked in
tests/integration/operator/test_story.py, which shares the story's cluster state.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures.browser import browser, served
from tests.fixtures.cluster import Cluster
from tests.fixtures.cluster_ui import plugin_on_path, service_account_kubeconfig, ui_command, ui_env
from tests.fixtures.ui_walk import get_json
from tests.integration.test_kubectl_plugin import GRID, PRODUCTION, create, experiment_body
from tests.unit.plugin.factories import driftcheck_wire

pytestmark = pytest.mark.cluster
HISTORY = [
    {"time": f"2025-03-0{day}T06:00:00Z", "job": f"bikes-check-{day}", "succeeded": True, "driftShare": share}
    for day, share in ((2, 0.8), (1, 0.2))
]


def grant_driftchecks_only(cluster: Cluster, namespace: str, account: str) -> None:
    rbac = f"/apis/rbac.authorization.k8s.io/v1/namespaces/{namespace}"
    cluster.api.post(f"/api/v1/namespaces/{namespace}/serviceaccounts", {"metadata": {"name": account}})
    rules = [{"apiGroups": ["kubedrift.io"], "resources": ["driftchecks"], "verbs": ["get", "list"]}]
    cluster.api.post(f"{rbac}/roles", {"metadata": {"name": "driftcheck-reader"}, "rules": rules})
    cluster.api.post(
        f"{rbac}/rolebindings",
        {
            "metadata": {"name": "driftcheck-reader"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "driftcheck-reader"},
            "subjects": [{"kind": "ServiceAccount", "name": account, "namespace": namespace}],
        },
    )


def test_a_user_who_cannot_list_experiments_is_told_so_on_the_run_page(
    cluster: Cluster, crds: str, namespace: str, tmp_path: Path
) -> None:
    create(
        cluster,
        namespace,
        "driftchecks",
        driftcheck_wire("bikes", status={"production": PRODUCTION, "history": HISTORY}),
    )
    for name, params, metrics in GRID:
        create(cluster, namespace, "experiments", experiment_body(name, params, metrics))
    grant_driftchecks_only(cluster, namespace, "viewer")
    kubeconfig = service_account_kubeconfig(cluster, namespace, "viewer", tmp_path / "viewer.kubeconfig")
    plugins = plugin_on_path(tmp_path / "plugins")
    run_path = f"checks/{namespace}/bikes/runs/r1"
    headline = f"forbidden: you cannot list experiments in namespace {namespace}"

    # The admin sees the run: the 403 below is the viewer's RBAC, not a broken page.
    with served(ui_command(cluster, namespace), ui_env(cluster, plugins)) as base:
        rows = get_json(f"{base}{run_path}.json")["table"]["rows"]
        assert [r["experiment"] for r in rows if r["best"]] == ["bikes-r1-1"] and len(rows) == 4

    shots = tmp_path / "screenshots"
    viewer = ui_command(cluster, namespace, "--kubeconfig", str(kubeconfig))
    with served(viewer, ui_env(cluster, plugins)) as base, browser(shots) as b:
        overview = b.open(base, "viewer-overview")
        assert overview.status == 200 and overview.console_errors == [] and overview.left_loopback() == []
        assert "bikes" in b.text("table.checks")

        check = b.open(f"{base}checks/{namespace}/bikes", "viewer-check")
        assert check.status == 200 and check.console_errors == []
        assert headline in b.text("main")  # the check is readable, its runs are not: said in place
        assert b.figure("drift-share")["data"][0]["y"] == [0.2, 0.8]

        run = b.open(base + run_path, "viewer-run-forbidden", plotted=False)
        assert run.status == 403, run
        assert [e for e in run.console_errors if "403" not in e] == []  # the browser logs the 403 itself
        assert b.text(".error .headline") == headline
        assert b.page.locator("table.experiments").count() == 0
        assert "Traceback" not in b.page.content()
        twin = b.page.request.get(f"{base}{run_path}.json")
        assert twin.status == 403 and twin.json()["error"] == headline
    assert (shots / "viewer-run-forbidden.png").stat().st_size > 0
