"""Child manifests: pure builders, checked without a cluster."""

from __future__ import annotations

import json

import pytest

from kubedrift.errors import PERMANENT_EXIT_CODES
from kubedrift.models.driftcheck import DriftCheckSpec
from kubedrift.models.resources import DriftCheck, ObjectMeta
from kubedrift_operator import names
from kubedrift_operator.build import check as build_check
from kubedrift_operator.build import run as build_run
from kubedrift_operator.build.common import ANNOTATION_HASH
from kubedrift_operator.cache import slim
from kubedrift_operator.observe import job_scheduled_at
from kubedrift_operator.settings import Settings
from tests.unit.operator import factories as f


def parsed(body: dict) -> DriftCheck:
    return DriftCheck(
        metadata=ObjectMeta.model_validate(body["metadata"]), spec=DriftCheckSpec.model_validate(body["spec"])
    )


def test_cron_job_is_hardened_and_forbids_overlap() -> None:
    body = f.driftcheck()
    cron = build_check.cron_job(parsed(body), Settings(job_image="img:1"))
    spec = cron["spec"]
    assert spec["concurrencyPolicy"] == "Forbid" and spec["successfulJobsHistoryLimit"] == 3
    assert cron["metadata"]["ownerReferences"][0] == {
        "apiVersion": "kubedrift.io/v1alpha1",
        "kind": "DriftCheck",
        "name": "bikes",
        "uid": "uid-bikes",
        "controller": True,
        "blockOwnerDeletion": True,
    }
    pod = spec["jobTemplate"]["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert container["image"] == "img:1" and container["args"] == ["check"]
    assert (
        pod["securityContext"]["runAsNonRoot"]
        and pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
    )
    assert container["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    assert {"name": "tmp", "emptyDir": {}} in pod["volumes"]
    assert pod["automountServiceAccountToken"] is False and pod["serviceAccountName"] == "kubedrift-job"
    # credentials only as references to the Secret
    secret_env = [e for e in container["env"] if "secretKeyRef" in e.get("valueFrom", {})]
    assert [e["valueFrom"]["secretKeyRef"]["name"] for e in secret_env] == ["s3", "s3"]
    assert all("value" not in e for e in secret_env)


def test_a_scheduled_check_pod_learns_its_job_name_and_an_operator_made_one_its_time() -> None:
    """The CronJob controller puts the scheduled-timestamp annotation on the Job only (its
    getJobFromTemplate2 copies the job template's annotations onto the Job; the Job controller does
    not pass them on to pods), so the pod gets the Job's name (`<cronjob>-<unix minutes>`) through
    the downward API; Jobs the operator makes say the time outright."""
    check = parsed(f.driftcheck())
    cron_env = build_check.cron_job(check, Settings())["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    (job_name,) = [e for e in cron_env["containers"][0]["env"] if e["name"] == "KUBEDRIFT_JOB_NAME"]
    assert job_name["valueFrom"] == {
        "fieldRef": {"fieldPath": "metadata.labels['batch.kubernetes.io/job-name']"}
    }
    assert "KUBEDRIFT_SCHEDULED_AT" not in {e["name"] for e in cron_env["containers"][0]["env"]}
    at = f.NOW.replace(microsecond=123)
    for job in (
        build_check.check_now_job(check, Settings(), "1", at),
        build_check.recheck_job(check, Settings(), at, 2),
    ):
        env = {e["name"]: e for e in job["spec"]["template"]["spec"]["containers"][0]["env"]}
        assert env["KUBEDRIFT_SCHEDULED_AT"]["value"] == "2026-03-01T12:00:00Z"
        assert "KUBEDRIFT_JOB_NAME" in env
        # the operator reads the time back from what its cache keeps of a Job: metadata and status
        assert job_scheduled_at(slim("Job", job)) == at.replace(microsecond=0)
    assert names.recheck_job("bikes", "t", 1) != names.recheck_job("bikes", "t", 2)


def test_time_zone_and_suspend_follow_the_spec_and_change_the_hash() -> None:
    body = f.driftcheck()
    first = build_check.cron_job(parsed(body), Settings())
    body["spec"].update(suspend=True, timeZone="Europe/Berlin")
    second = build_check.cron_job(parsed(body), Settings())
    assert second["spec"]["suspend"] is True and second["spec"]["timeZone"] == "Europe/Berlin"
    assert (
        first["metadata"]["annotations"][ANNOTATION_HASH]
        != second["metadata"]["annotations"][ANNOTATION_HASH]
    )
    assert build_check.cron_job(parsed(body), Settings()) == second  # deterministic


def test_config_map_holds_the_check_config_without_credentials() -> None:
    body = f.driftcheck()
    config = build_check.config_map(parsed(body))
    text = config["data"]["config.json"]
    assert '"check": "bikes"' in text and "s3://bikes/current/" in text
    # the Secret is named, never read: the operator has no credential to put here
    assert '"secretRef"' in text and '"name": "s3"' in text


def test_run_job_is_indexed_with_a_failure_policy() -> None:
    body = f.driftcheck()
    body["spec"]["retrain"].update(parallelism=4, backoffLimitPerIndex=2, maxFailedIndexes=3)
    job = build_run.run_job(parsed(body), "r123456", Settings())
    spec = job["spec"]
    assert spec["completionMode"] == "Indexed" and spec["completions"] == 6
    assert (spec["parallelism"], spec["backoffLimitPerIndex"], spec["maxFailedIndexes"]) == (4, 2, 3)
    assert spec["podReplacementPolicy"] == "Failed"
    rules = spec["podFailurePolicy"]["rules"]
    assert rules[0] == {
        "action": "FailIndex",
        "onExitCodes": {"containerName": "train", "operator": "In", "values": list(PERMANENT_EXIT_CODES)},
    }
    assert rules[1]["action"] == "Ignore" and rules[1]["onPodConditions"][0]["type"] == "DisruptionTarget"
    assert job["metadata"]["name"] == "bikes-r123456"
    assert spec["template"]["metadata"]["labels"]["kubedrift.io/run"] == "r123456"


def test_a_baseline_adds_one_index_after_the_grid_and_its_model_to_the_config() -> None:
    body = f.driftcheck()
    body["spec"]["retrain"].update(parallelism=4, maxFailedIndexes=3)
    check = parsed(body)
    plain = build_run.run_job(check, "r1", Settings())["spec"]
    with_baseline = build_run.run_job(check, "r1", Settings(), baseline=True)["spec"]
    assert (plain["completions"], with_baseline["completions"]) == (6, 7)
    # only the completions change: the failure policy and limits hold for the baseline index too
    assert {**with_baseline, "completions": 6} == plain
    config = json.loads(build_run.run_config_map(check, "r1", "s3://p/prod")["data"]["config.json"])
    assert config["baselineModelUri"] == "s3://p/prod"
    assert "baselineModelUri" not in build_run.run_config_map(check, "r1")["data"]["config.json"]


def test_parallelism_never_exceeds_the_grid() -> None:
    body = f.driftcheck()
    body["spec"]["retrain"].update(parallelism=50)
    assert build_run.run_job(parsed(body), "r1", Settings())["spec"]["parallelism"] == 6


def test_experiments_map_indexes_to_the_jobs_grid_order() -> None:
    body = f.driftcheck()
    check = parsed(body)
    exps = [build_run.experiment(check, "r1", i) for i in range(6)]
    assert [e["metadata"]["name"] for e in exps] == [f"bikes-r1-{i}" for i in range(6)]
    # names sorted: min_samples_split varies slowest, n_estimators fastest
    assert [e["spec"]["paramsSummary"] for e in exps[:3]] == [
        "min_samples_split=2 n_estimators=10",
        "min_samples_split=2 n_estimators=20",
        "min_samples_split=8 n_estimators=10",
    ]
    assert exps[0]["spec"]["params"] == {"n_jobs": 1, "min_samples_split": 2, "n_estimators": 10}
    assert exps[0]["metadata"]["labels"]["kubedrift.io/index"] == "0"
    assert len({e["spec"]["trialId"] for e in exps}) == 6


@pytest.mark.parametrize("length", [5, 40, 63, 200])
def test_child_names_fit_kubernetes_limits_and_stay_unique(length: int) -> None:
    check = "c" * length
    job = names.run_job(check, names.run_id("x"))
    assert len(job) <= names.MAX_JOB_NAME and len(names.cron_job(check)) <= names.MAX_JOB_NAME
    assert len(names.experiment(check, "r123456", 9999)) <= 63
    assert names.run_job(check, "r1") != names.run_job(check + "d", "r1")
    assert (
        names.check_now_job(check, "1") == names.check_now_job(check, "1") != names.check_now_job(check, "2")
    )
