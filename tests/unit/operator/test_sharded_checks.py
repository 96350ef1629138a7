"""Sharded checks in the operator: the Indexed check Job, its merge Job, and how their outcome is
recorded (the merge's result under the sharded Job's name; a failed index as ShardFailed)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from kubedrift.models.jobconfig import ENV_JOB_NAME, ENV_SCHEDULED_AT
from kubedrift_operator import names, observe
from kubedrift_operator.build.check import check_now_job, cron_job, merge_job
from kubedrift_operator.observe import LABEL_MERGE_OF, LABEL_SHARDS, OPERATOR_SCHEDULED_ANNOTATION
from kubedrift_operator.reconcile.checks import deciding_job
from kubedrift_operator.reconcile.draft import Children
from tests.unit.operator import factories as f
from tests.unit.operator.test_build import parsed
from tests.unit.operator.test_plan import SETTINGS, apply_plan, cond, plan, settled, written

SHARDED = "bikes-check-29544960"
SCHEDULED = "2026-03-01T12:00:00Z"


def sharded_body(shards: int = 4) -> dict[str, Any]:
    return f.driftcheck(spec={**f.SPEC, "check": {"shards": shards}})


def env(container: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container["env"]}


def test_a_sharded_check_runs_as_an_indexed_job_of_one_index_per_shard() -> None:
    check = parsed(sharded_body(4))
    template = cron_job(check, SETTINGS)["spec"]["jobTemplate"]
    spec = template["spec"]
    assert (spec["completionMode"], spec["completions"], spec["parallelism"]) == ("Indexed", 4, 4)
    assert template["metadata"]["labels"][LABEL_SHARDS] == "4"
    container = spec["template"]["spec"]["containers"][0]
    assert container["args"] == ["check", "--shard"]
    # The hardened pod of every job, and the check's resources.
    assert container["securityContext"] == SETTINGS.container_security_context
    assert container["resources"] == SETTINGS.check_resources
    assert spec["template"]["spec"]["securityContext"] == SETTINGS.pod_security_context

    now = check_now_job(check, SETTINGS, "t1", f.NOW)
    assert now["spec"]["completionMode"] == "Indexed" and now["metadata"]["labels"][LABEL_SHARDS] == "4"


def test_one_shard_is_the_single_pod_check_as_before() -> None:
    spec = cron_job(parsed(sharded_body(1)), SETTINGS)["spec"]["jobTemplate"]
    assert "completionMode" not in spec["spec"] and LABEL_SHARDS not in spec["metadata"]["labels"]
    assert spec["spec"]["template"]["spec"]["containers"][0]["args"] == ["check"]
    assert cron_job(parsed(f.driftcheck()), SETTINGS) == cron_job(parsed(sharded_body(1)), SETTINGS)


def sharded_job(outcome: str | None = "Complete", at: Any = f.NOW) -> dict[str, Any]:
    job = f.job(SHARDED, "check", outcome=outcome, at=at)
    job["metadata"]["labels"][LABEL_SHARDS] = "4"
    job["metadata"]["uid"] = "uid-sharded"
    job["metadata"]["annotations"] = {"batch.kubernetes.io/cronjob-scheduled-timestamp": SCHEDULED}
    return job


def test_the_merge_job_names_the_sharded_job_its_time_and_lives_as_long_as_it() -> None:
    made = merge_job(parsed(sharded_body()), SETTINGS, sharded_job())
    meta, spec = made["metadata"], made["spec"]
    assert meta["name"] == names.merge_job(SHARDED) and meta["labels"][LABEL_MERGE_OF] == SHARDED
    assert meta["ownerReferences"] == [
        {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "name": SHARDED,
            "uid": "uid-sharded",
            "controller": False,
            "blockOwnerDeletion": False,
        }
    ]
    assert meta["annotations"][OPERATOR_SCHEDULED_ANNOTATION] == SCHEDULED
    assert "completionMode" not in spec and "ttlSecondsAfterFinished" not in spec
    container = spec["template"]["spec"]["containers"][0]
    assert container["args"] == ["check", "--merge"]
    assert env(container)[ENV_JOB_NAME] == SHARDED and env(container)[ENV_SCHEDULED_AT] == SCHEDULED


def shard_pods(message: Any = None) -> list[dict[str, Any]]:
    written_share = {
        "index": 0,
        "shards": 4,
        "uri": "s3://bikes/reports/bikes/partials/x/0",
        "rowGroups": 2,
        "rows": 9,
    }
    return [
        f.pod(SHARDED, "Succeeded", index=i, message=message or {**written_share, "index": i})
        for i in range(4)
    ]


def test_a_complete_sharded_job_gets_its_merge_job_once_and_nothing_is_recorded_yet() -> None:
    body = sharded_body()
    body = apply_plan(body, plan(body, settled(body), SETTINGS, f.NOW))
    out = plan(body, settled(body, [sharded_job(), *shard_pods()]), SETTINGS, f.NOW)
    assert [j["metadata"]["name"] for j in out.create_first] == [names.merge_job(SHARDED)]
    assert [e.reason for e in out.events] == ["MergingShards"]
    assert written(out) is None or "lastCheck" not in written(out)

    merging = [sharded_job(), *shard_pods(), f.job(names.merge_job(SHARDED), "check")]
    merging[-1]["metadata"]["labels"][LABEL_MERGE_OF] = SHARDED
    again = plan(body, settled(body, merging), SETTINGS, f.NOW)
    assert again.create_first == [] and written(again) is None


def test_the_merge_result_is_recorded_under_the_sharded_job_as_a_single_pod_check_is() -> None:
    body = sharded_body()
    body = apply_plan(body, plan(body, settled(body), SETTINGS, f.NOW))
    merge = f.job(names.merge_job(SHARDED), "check", outcome="Complete")
    merge["metadata"]["labels"][LABEL_MERGE_OF] = SHARDED
    merge_pod = f.pod(names.merge_job(SHARDED), "Succeeded", message=f.check_summary(drift=True))
    out = plan(body, settled(body, [sharded_job(), *shard_pods(), merge, merge_pod]), SETTINGS, f.NOW)
    status = written(out)
    assert status is not None
    last = status["lastCheck"]
    assert last["job"] == SHARDED and last["succeeded"] is True and last["datasetDrift"] is True
    assert last["scheduledAt"] == SCHEDULED and last["reportUri"] == f.check_summary()["reportUri"]
    assert [r["job"] for r in status["history"]] == [SHARDED]
    assert "DriftDetected" in {e.reason for e in out.events}
    assert status["run"]["phase"] == "Running"  # drift starts a run, as after any check


def test_a_failed_index_fails_the_check_as_shard_failed_naming_it_and_keeps_the_history() -> None:
    body = f.driftcheck(spec={**f.SPEC, "check": {"shards": 4}})
    earlier = [
        f.job("bikes-check-1", "check", outcome="Complete", at=f.NOW - timedelta(hours=1)),
        f.pod(
            "bikes-check-1",
            "Succeeded",
            message={**f.check_summary(drift=False), "finishedAt": f.ts(f.NOW - timedelta(hours=1))},
        ),
    ]
    body = apply_plan(body, plan(body, settled(body, earlier), SETTINGS, f.NOW))
    failed_pod = f.pod(
        SHARDED,
        "Failed",
        index=2,
        exit_code=4,
        message={"error": {"reason": "DataUnreadable", "message": "day=3/part-0.parquet is not Parquet"}},
    )
    objects = [*earlier, sharded_job(outcome="Failed"), *shard_pods()[:2], failed_pod]
    out = plan(body, settled(body, objects), SETTINGS, f.NOW)
    status = written(out)
    assert status is not None
    last = status["lastCheck"]
    assert (last["job"], last["succeeded"], last["reason"]) == (SHARDED, False, "ShardFailed")
    assert last["message"] == "index 2 of 4 failed: DataUnreadable: day=3/part-0.parquet is not Parquet"
    assert [r["job"] for r in status["history"]] == [SHARDED, "bikes-check-1"]
    assert status["history"][1]["reportUri"] == f.check_summary()["reportUri"]
    assert cond(status, "Ready")["reason"] == "ShardFailed"
    assert out.create_first == []  # no merge of a failed Job


def test_indexes_that_found_the_window_empty_are_read_as_one_pod_without_a_merge() -> None:
    body = sharded_body()
    body = apply_plan(body, plan(body, settled(body), SETTINGS, f.NOW))
    empty = {"skipped": "EmptyWindow", "message": "no data in the window", "scheduledAt": SCHEDULED}
    out = plan(body, settled(body, [sharded_job(), *shard_pods(empty)]), SETTINGS, f.NOW)
    assert out.create_first == []
    status = written(out)
    assert status is not None and status["history"][0]["reason"] == "EmptyWindow"


def merge_of_sharded(outcome: str | None) -> dict[str, Any]:
    merge = f.job(names.merge_job(SHARDED), "check", outcome=outcome)
    merge["metadata"]["labels"][LABEL_MERGE_OF] = SHARDED
    return merge


def ended(job: dict[str, Any] | None) -> str | None:
    outcome = observe.job_outcome(job) if job is not None else None
    return outcome.condition if outcome is not None else None


def test_who_waits_on_a_sharded_check_waits_for_its_merge() -> None:
    """check-at and backfill count a window done when its check is: a sharded one's merge ended."""
    single = f.job("bikes-check-1", "check", outcome="Complete")
    assert deciding_job(Children.of("bikes", [single]), single) is single
    assert deciding_job(Children(), None) is None

    running = sharded_job(outcome=None)
    assert deciding_job(Children.of("bikes", [running]), running) is running
    failed = sharded_job(outcome="Failed")
    assert ended(deciding_job(Children.of("bikes", [failed]), failed)) == "Failed"

    done = sharded_job()
    assert ended(deciding_job(Children.of("bikes", [done, *shard_pods()]), done)) is None  # merge to come
    for merge_outcome in (None, "Complete", "Failed"):
        objects = [done, *shard_pods(), merge_of_sharded(merge_outcome)]
        assert ended(deciding_job(Children.of("bikes", objects), done)) == merge_outcome

    empty = {"skipped": "EmptyWindow", "message": "no data in the window", "scheduledAt": SCHEDULED}
    assert ended(deciding_job(Children.of("bikes", [done, *shard_pods(empty)]), done)) == "Complete"


def test_uncertain_columns_of_a_sharded_check_reach_the_status_and_the_event() -> None:
    body = sharded_body()
    body = apply_plan(body, plan(body, settled(body), SETTINGS, f.NOW))
    merge = f.job(names.merge_job(SHARDED), "check", outcome="Complete")
    merge["metadata"]["labels"][LABEL_MERGE_OF] = SHARDED
    uncertain = {"columnsUncertain": 2, "uncertainColumns": ["hum", "temp"]}
    summary = f.check_summary(drift=False, share=0.1) | uncertain
    merge_pod = f.pod(names.merge_job(SHARDED), "Succeeded", message=summary)
    out = plan(body, settled(body, [sharded_job(), *shard_pods(), merge, merge_pod]), SETTINGS, f.NOW)
    status = written(out)
    assert status is not None
    assert status["lastCheck"]["uncertainColumns"] == ["hum", "temp"]
    [event] = [e for e in out.events if e.reason == "NoDrift"]
    assert "uncertain (read from a sketch, within its error of the threshold): hum, temp" in event.message
