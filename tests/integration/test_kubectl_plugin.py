"""`kubectl drift` against the real control plane, run through the real kubectl binary.

The Experiments and the DriftCheck (with its status, through the status
subresource) are created directly with the API, the way the operator would
leave them; the operator itself is not needed here. `kubectl drift promote --wait`
against the real operator is tests/integration/operator/test_manual_promotion.py.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubedrift import reports, storage
from kubedrift.models.resources import (
    ANNOTATION_CHECK_NOW,
    ANNOTATION_RETRAIN_NOW,
)
from tests.fixtures.cluster import Cluster
from tests.fixtures.reports import sample_report
from tests.fixtures.s3 import S3Server
from tests.unit.plugin.factories import driftcheck_wire

pytestmark = pytest.mark.cluster
ROOT = Path(__file__).resolve().parents[2]
API = "/apis/kubedrift.io/v1alpha1"
PRODUCTION = {
    "experiment": "bikes-r0-0",
    "objective": 0.70,
    "uri": "s3://reports/bikes/production/",
    "promotedAt": "2025-01-01T00:00:00Z",
}
GRID = [  # name, params, metrics
    ("bikes-r1-0", {"max_depth": 4, "n_estimators": 50, "random_state": 0}, {"avg_prec": 0.71, "f1": 0.52}),
    ("bikes-r1-1", {"max_depth": 8, "n_estimators": 50, "random_state": 0}, {"avg_prec": 0.78, "f1": 0.48}),
    ("bikes-r1-2", {"max_depth": 4, "n_estimators": 200, "random_state": 0}, {"avg_prec": 0.74, "f1": 0.61}),
]


@pytest.fixture(scope="module")
def plugin_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder on PATH with `kubectl-drift`, as `pip install` would put it: kubectl finds it there."""
    folder = tmp_path_factory.mktemp("plugins")
    script = folder / "kubectl-drift"
    script.write_text(
        f"#!{sys.executable}\nimport sys\nfrom kubedrift.plugin.commands import main\nsys.exit(main())\n"
    )
    script.chmod(0o755)
    return folder


@dataclass
class Plugin:
    cluster: Cluster
    plugin_dir: Path
    namespace: str

    def env(self, **extra: str) -> dict[str, str]:
        env = self.cluster.env() | {
            "PATH": f"{self.plugin_dir}{os.pathsep}{os.environ['PATH']}",
            "PYTHONPATH": str(ROOT),
            "COLUMNS": "100",
        }
        return env | extra

    def command(self, *args: str) -> list[str]:
        return [str(self.cluster.kubectl_path), "drift", *args]

    def __call__(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.command(*args),
            capture_output=True,
            text=True,
            env=env or self.env(),
            timeout=120,
            check=False,
        )

    def ok(self, *args: str) -> str:
        result = self(*args)
        assert result.returncode == 0, f"kubectl drift {' '.join(args)}: {result.returncode}\n{result.stderr}"
        return result.stdout


@pytest.fixture
def plugin(cluster: Cluster, crds: str, plugin_dir: Path, namespace: str) -> Plugin:
    return Plugin(cluster, plugin_dir, namespace)


def create(cluster: Cluster, namespace: str, plural: str, body: dict[str, Any]) -> None:
    """Create an object, then write its status through the status subresource, as the operator does."""
    status = body.pop("status", None)
    name = body["metadata"]["name"]
    cluster.api.post(f"{API}/namespaces/{namespace}/{plural}", body)
    if status is not None:
        cluster.api.merge_patch(f"{API}/namespaces/{namespace}/{plural}/{name}/status", {"status": status})


def patch_status(cluster: Cluster, namespace: str, plural: str, name: str, status: dict[str, Any]) -> None:
    cluster.api.merge_patch(f"{API}/namespaces/{namespace}/{plural}/{name}/status", {"status": status})


def get(cluster: Cluster, namespace: str, plural: str, name: str) -> dict[str, Any]:
    return cluster.api.get(f"{API}/namespaces/{namespace}/{plural}/{name}")


def experiment_body(
    name: str, params: dict[str, Any], metrics: dict[str, float], run: str = "r1"
) -> dict[str, Any]:
    return {
        "apiVersion": "kubedrift.io/v1alpha1",
        "kind": "Experiment",
        "metadata": {"name": name, "labels": {"kubedrift.io/check": "bikes", "kubedrift.io/run": run}},
        "spec": {
            "check": "bikes",
            "run": run,
            "index": int(name.rsplit("-", 1)[1]),
            "trialId": f"t-{name}",
            "estimator": "RandomForestClassifier",
            "params": params,
            "paramsSummary": " ".join(f"{k}={v}" for k, v in params.items()),
            "trainUri": "s3://bikes/train.parquet",
            "testUri": "s3://bikes/test.parquet",
            "objectiveMetric": "avg_prec",
        },
        "status": {
            "phase": "Succeeded",
            "metrics": metrics,
            "objective": metrics["avg_prec"],
            "dataVersion": "1a2b3c4d",
        },
    }


@pytest.fixture
def bikes(plugin: Plugin) -> Plugin:
    """A DriftCheck with a production model and the three Experiments of run r1, plus one of another check."""
    cluster, namespace = plugin.cluster, plugin.namespace
    create(cluster, namespace, "driftchecks", driftcheck_wire("bikes", status={"production": PRODUCTION}))
    for name, params, metrics in GRID:
        create(cluster, namespace, "experiments", experiment_body(name, params, metrics))
    other = experiment_body("taxis-r1-0", {"alpha": 1.0}, {"avg_prec": 0.5})
    other["metadata"]["labels"]["kubedrift.io/check"] = other["spec"]["check"] = "taxis"
    create(cluster, namespace, "experiments", other)
    return plugin


def test_exp_show_prints_the_comparison_table(bikes: Plugin) -> None:
    output = bikes.ok("exp", "show", "bikes", "-n", bikes.namespace)
    lines = output.splitlines()

    assert max(len(line) for line in lines) <= 100
    rows = [line for line in lines if line.strip().startswith("bikes-")]
    assert [row.split()[0] for row in rows] == ["bikes-r0-0", "bikes-r1-1", "bikes-r1-2", "bikes-r1-0"]
    assert "⚑" in rows[0] and "0.7" in rows[0]
    assert "★" in rows[1] and "0.78" in rows[1]
    assert "taxis" not in output


def test_exp_show_csv_md_and_json(bikes: Plugin) -> None:
    ns = ("--namespace", bikes.namespace)

    rows = list(csv.DictReader(io.StringIO(bikes.ok("exp", "show", "bikes", "--csv", *ns))))
    assert [row["experiment"] for row in rows] == ["bikes-r0-0", "bikes-r1-1", "bikes-r1-2", "bikes-r1-0"]
    assert rows[0]["baseline"] == "true" and rows[1]["best"] == "true"
    assert (rows[1]["avg_prec"], rows[1]["max_depth"], rows[1]["n_estimators"]) == ("0.78", "8", "50")

    markdown = bikes.ok("exp", "show", "bikes", "--md", *ns)
    assert "| **bikes-r1-1** ★ | Succeeded | 0.78 | 0.48 | 8 | 50 | 0 | 1a2b3c4d |" in markdown

    [table] = json.loads(bikes.ok("exp", "show", "bikes", "--json", "--only-changed", *ns))
    assert table["paramColumns"] == ["max_depth", "n_estimators"]
    assert table["objective"] == {"metric": "avg_prec", "goal": "maximize"}
    assert [row["experiment"] for row in table["rows"] if row["best"]] == ["bikes-r1-1"]


def test_exp_show_without_a_check_shows_every_check_and_sorts_by_request(bikes: Plugin) -> None:
    tables = json.loads(bikes.ok("-n", bikes.namespace, "exp", "show", "--json", "--sort-by", "f1"))

    assert [table["check"] for table in tables] == ["bikes", "taxis"]
    assert [row["experiment"] for row in tables[0]["rows"]] == [
        "bikes-r0-0",
        "bikes-r1-2",
        "bikes-r1-0",
        "bikes-r1-1",
    ]


def test_context_and_kubeconfig_flags_pick_the_namespace(bikes: Plugin, tmp_path: Path) -> None:
    config = yaml.safe_load(bikes.cluster.kubeconfig.read_text())
    current = next(c for c in config["contexts"] if c["name"] == config["current-context"])
    config["contexts"].append(
        {"name": "bikes-team", "context": {**current["context"], "namespace": bikes.namespace}}
    )
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(yaml.safe_dump(config))
    env = bikes.env()
    env.pop("KUBECONFIG")
    env["HOME"] = str(tmp_path)  # no ~/.kube/config either: only the flag can lead to the cluster

    result = bikes(
        "exp", "show", "bikes", "--json", "--kubeconfig", str(kubeconfig), "--context", "bikes-team", env=env
    )

    assert result.returncode == 0, result.stderr
    assert len(json.loads(result.stdout)[0]["rows"]) == 4


def test_run_and_retrain_annotate_the_driftcheck_and_nothing_else(bikes: Plugin) -> None:
    before = get(bikes.cluster, bikes.namespace, "driftchecks", "bikes")

    bikes.ok("run", "bikes", "-n", bikes.namespace)
    first = get(bikes.cluster, bikes.namespace, "driftchecks", "bikes")["metadata"]["annotations"]
    bikes.ok("run", "bikes", "-n", bikes.namespace)
    bikes.ok("retrain", "bikes", "-n", bikes.namespace)
    after = get(bikes.cluster, bikes.namespace, "driftchecks", "bikes")

    annotations = after["metadata"]["annotations"]
    assert annotations[ANNOTATION_CHECK_NOW] != first[ANNOTATION_CHECK_NOW]  # each run is a fresh trigger
    assert annotations[ANNOTATION_RETRAIN_NOW]
    assert after["spec"] == before["spec"]
    assert after["metadata"]["generation"] == before["metadata"]["generation"]


def test_wait_times_out_when_nobody_acknowledges(bikes: Plugin) -> None:
    stale = {"handledTriggers": {ANNOTATION_CHECK_NOW: "an-older-value"}}
    patch_status(bikes.cluster, bikes.namespace, "driftchecks", "bikes", stale)

    result = bikes("run", "bikes", "--wait", "--timeout", "2s", "-n", bikes.namespace)

    assert result.returncode == 1
    assert "timed out after 2s" in result.stderr and "operator running" in result.stderr


def test_missing_objects_are_named_in_the_error(bikes: Plugin) -> None:
    result = bikes("promote", "bikes-r9-9", "-n", bikes.namespace)

    assert result.returncode == 1
    assert f'experiment/bikes-r9-9 not found in namespace "{bikes.namespace}"' in result.stderr

    result = bikes("exp", "show", "trains", "-n", bikes.namespace)

    assert result.returncode == 1
    assert f'driftcheck/trains not found in namespace "{bikes.namespace}"' in result.stderr


@pytest.fixture
def report_bucket(s3: S3Server, plugin: Plugin) -> Iterator[tuple[Plugin, str]]:
    bucket = s3.create_bucket()
    folder = f"s3://{bucket}/bikes/checks/c1"
    reports.write_report(sample_report(folder), {"report.html": b"<html>drift</html>"}, s3.storage(folder))
    body = driftcheck_wire("bikes", reports_uri=f"s3://{bucket}")
    body["spec"]["storage"] |= {"endpoint": s3.endpoint, "region": "us-east-1"}
    body["status"] = {
        "lastCheck": {
            "time": "2025-03-01T12:00:00Z",
            "job": "bikes-check-1",
            "succeeded": True,
            "reportUri": folder,
        }
    }
    create(plugin.cluster, plugin.namespace, "driftchecks", body)
    yield plugin, folder


def test_report_prints_the_location_and_downloads_it(
    report_bucket: tuple[Plugin, str], s3: S3Server, tmp_path: Path
) -> None:
    plugin, folder = report_bucket
    env = plugin.env(**s3.env(), AWS_EC2_METADATA_DISABLED="true")

    printed = plugin("report", "bikes", "-n", plugin.namespace, env=env)
    html = plugin("report", "bikes", "-n", plugin.namespace, "-o", str(tmp_path / "out.html"), env=env)
    as_json = plugin("report", "bikes", "-n", plugin.namespace, "-o", str(tmp_path / "r.json"), env=env)

    assert printed.returncode == 0 and printed.stdout.strip() == folder
    assert html.returncode == 0, html.stderr
    assert (tmp_path / "out.html").read_text() == "<html>drift</html>"
    assert as_json.returncode == 0 and json.loads((tmp_path / "r.json").read_text())["check"] == "bikes"


def test_report_refuses_a_file_no_report_json_vouches_for(
    report_bucket: tuple[Plugin, str], s3: S3Server, tmp_path: Path
) -> None:
    plugin, folder = report_bucket
    storage.delete(storage.join(folder, "report.json"), s3.storage(folder))  # a lone HTML is left
    env = plugin.env(**s3.env(), AWS_EC2_METADATA_DISABLED="true")

    html = plugin("report", "bikes", "-n", plugin.namespace, "-o", str(tmp_path / "out.html"), env=env)

    assert html.returncode == 3
    assert "no complete report here (report.json, written last, is missing)" in html.stderr
    assert not (tmp_path / "out.html").exists()


def test_report_before_any_check_says_so(bikes: Plugin) -> None:
    result = bikes("report", "bikes", "-n", bikes.namespace)

    assert result.returncode != 0
    assert "has no report yet" in result.stderr


def test_history_prints_the_status_history_and_all_of_it_from_object_storage(
    s3: S3Server, plugin: Plugin
) -> None:
    """Issue 13: the status history as the operator leaves it (through the status subresource, so
    the CRD's schema accepts it), oldest window first with the trend; `--all` reads the append-only
    history in object storage with the caller's credentials."""
    from datetime import UTC, datetime, timedelta

    from kubedrift.history import record
    from kubedrift.models.results import HistoryEntry
    from kubedrift.models.windows import TimeWindow

    bucket = s3.create_bucket()
    reports_uri = f"s3://{bucket}"
    week, start = timedelta(days=7), datetime(2011, 2, 7, tzinfo=UTC)
    entries = [
        HistoryEntry(
            scheduled_at=start + i * week,
            checked_at=start + i * week + timedelta(minutes=2),
            window=TimeWindow(start=start + (i - 1) * week, end=start + i * week),
            reference_version="aaaa1111",
            current_version=f"cccc000{i}",
            dataset_drift=share >= 0.5,
            drift_share=share,
            drifted_columns=["temp", "hum"][: round(share * 2)],
            target_drift=share > 0.6,
            report_uri=f"{reports_uri}/bikes/{i}/",
            job=f"bikes-check-{i}",
        )
        for i, share in enumerate([0.1, 0.4, 0.7, 0.9])
    ]
    for entry in entries:
        assert record(entry, reports_uri, "bikes", s3.storage(reports_uri))
    body = driftcheck_wire("bikes", reports_uri=reports_uri)
    body["spec"]["storage"] |= {"endpoint": s3.endpoint, "region": "us-east-1"}
    body["status"] = {  # the status keeps the newest two, newest first
        "history": [
            {
                "time": e.checked_at.isoformat(),
                "job": e.job,
                "succeeded": True,
                "datasetDrift": e.dataset_drift,
                "driftShare": e.drift_share,
                "reportUri": e.report_uri,
                "scheduledAt": e.scheduled_at.isoformat(),
                "window": e.window.to_wire() if e.window else None,
                "driftedColumns": e.drifted_columns,
                "targetDrift": e.target_drift,
                "referenceVersion": e.reference_version,
                "currentVersion": e.current_version,
            }
            for e in reversed(entries[2:])
        ]
    }
    create(plugin.cluster, plugin.namespace, "driftchecks", body)
    env = plugin.env(**s3.env(), AWS_EC2_METADATA_DISABLED="true", COLUMNS="200")

    table = plugin("history", "bikes", "-n", plugin.namespace, env=env)
    assert table.returncode == 0, table.stderr
    assert "driftcheck/bikes: 2 checks (status); drift share ▆█" in table.stdout
    lines = [line for line in table.stdout.splitlines() if "2011-02-" in line]
    assert "2011-02-21T00:00+00:00" in lines[0] and "0.70" in lines[0] and "cccc0002" in lines[0]
    as_json = json.loads(plugin.ok("history", "bikes", "-n", plugin.namespace, "--json"))
    assert [row["drift_share"] for row in as_json] == [0.7, 0.9]

    everything = plugin("history", "bikes", "-n", plugin.namespace, "--all", "--json", env=env)
    assert everything.returncode == 0, everything.stderr
    rows = json.loads(everything.stdout)
    assert [row["job"] for row in rows] == [f"bikes-check-{i}" for i in range(4)]
    assert [row["current_version"] for row in rows] == [f"cccc000{i}" for i in range(4)]
