"""The chart's alert rules (charts/kubedrift/files/alerts.yaml), checked and tested by the real promtool
on synthetic series (alerts.test.yaml): each alert fires when and only when it should."""

from __future__ import annotations

import subprocess
from functools import cache
from pathlib import Path

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
