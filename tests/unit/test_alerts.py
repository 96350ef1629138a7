"""The chart's alert rules (charts/kubedrift/files/alerts.yaml), checked and tested by the real promtool
on synthetic series (alerts.test.yaml): each alert fires when and only when it should."""

from __future__ import annotations

import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "charts" / "kubedrift" / "files" / "alerts.yaml"
RULE_TESTS = Path(__file__).with_name("alerts.test.yaml")


@cache
def promtool() -> str:
    from tests.cluster.binaries import ensure_built

    return str(ensure_built(build=False).promtool)


def run_promtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([promtool(), *args], capture_output=True, text=True, check=False, timeout=120)


def test_promtool_checks_the_rules() -> None:
    result = run_promtool("check", "rules", str(RULES))
    assert result.returncode == 0 and "SUCCESS: 5 rules found" in result.stdout, result.stdout + result.stderr


def test_each_alert_fires_on_its_synthetic_series_and_not_on_healthy_ones() -> None:
    result = run_promtool("test", "rules", str(RULE_TESTS))
    assert result.returncode == 0 and "SUCCESS" in result.stdout, result.stdout + result.stderr


def test_every_alert_is_tested_both_silent_and_firing() -> None:
    alerts = {
        rule["alert"] for group in yaml.safe_load(RULES.read_text())["groups"] for rule in group["rules"]
    }
    cases = [
        case for test in yaml.safe_load(RULE_TESTS.read_text())["tests"] for case in test["alert_rule_test"]
    ]
    assert {case["alertname"] for case in cases if case["exp_alerts"] == []} == alerts
    assert {case["alertname"] for case in cases if case["exp_alerts"]} == alerts


def _rules() -> list[dict[str, Any]]:
    return [rule for group in yaml.safe_load(RULES.read_text())["groups"] for rule in group["rules"]]


def rule_test_on_series(
    series: dict[str, float], namespace: str, driftcheck: str, firing: set[str], directory: Path
) -> subprocess.CompletedProcess[str]:
    """`promtool test rules` over one DriftCheck's gauges held at `series` for 30 minutes: at the end,
    exactly the alerts in `firing` fire for it, with the labels and annotations the rules give."""
    labels = f'{{namespace="{namespace}", driftcheck="{driftcheck}"}}'

    def filled(template: str) -> str:
        return template.replace("{{ $labels.namespace }}", namespace).replace(
            "{{ $labels.driftcheck }}", driftcheck
        )

    cases = []
    for rule in _rules():
        expected = {
            "exp_labels": {**rule["labels"], "namespace": namespace, "driftcheck": driftcheck},
            "exp_annotations": {key: filled(text) for key, text in rule["annotations"].items()},
        }
        cases.append(
            {
                "eval_time": "30m",
                "alertname": rule["alert"],
                "exp_alerts": [expected] if rule["alert"] in firing else [],
            }
        )
    test = {
        "rule_files": [str(RULES)],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [
                    {"series": name + labels, "values": f"{value:.6f}x30"} for name, value in series.items()
                ],
                "alert_rule_test": cases,
            }
        ],
    }
    path = directory / "live-series.test.yaml"
    path.write_text(yaml.safe_dump(test))
    return run_promtool("test", "rules", str(path))


def test_the_rule_test_helper_fails_when_an_expected_alert_does_not_fire(tmp_path: Path) -> None:
    healthy = {"kubedrift_check_dataset_drifted": 0.0, "kubedrift_check_failing": 0.0}
    assert rule_test_on_series(healthy, "shop", "bikes", set(), tmp_path).returncode == 0
    wrong = rule_test_on_series(healthy, "shop", "bikes", {"KubedriftDriftDetected"}, tmp_path)
    assert wrong.returncode != 0 and "KubedriftDriftDetected" in wrong.stdout + wrong.stderr
    drifted = {**healthy, "kubedrift_check_dataset_drifted": 1.0}
    assert rule_test_on_series(drifted, "shop", "bikes", {"KubedriftDriftDetected"}, tmp_path).returncode == 0
