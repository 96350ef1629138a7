"""The check's children: its config, the CronJob that schedules it, a check-now Job, and the
Jobs that check a past scheduled time's window (check-at and backfill).

With `check.shards` > 1 each of those Jobs is an Indexed Job, one index per shard
(`kubedrift check --shard`), and once it is complete the operator makes its merge Job
(`merge_job`: `kubedrift check --merge`), which checks the merged partials and reports as a
single-pod check does."""

from __future__ import annotations

from datetime import UTC, datetime

from kubedrift.models.jobconfig import ENV_JOB_NAME, ENV_SCHEDULED_AT, CheckJobConfig
from kubedrift.models.resources import GROUP, DriftCheck
from kubedrift_operator import names
from kubedrift_operator.build.common import (
    COMPONENT_CHECK,
    CONFIG_FILE,
    JSON,
    labels,
    metadata,
    pod_failure_policy,
    pod_template,
    with_hash,
)
from kubedrift_operator.observe import (
    LABEL_MERGE_OF,
    LABEL_SHARDS,
    OPERATOR_SCHEDULED_ANNOTATION,
    job_scheduled_at,
)
from kubedrift_operator.settings import Settings


def check_config(check: DriftCheck) -> CheckJobConfig:
    """The sources as written, except that with reference.followProduction the reference is the
    production model's training data (resolved, as recorded at its promotion) once there is one."""
    meta, production = check.metadata, check.status.production
    reference = None
    if check.spec.reference.follow_production and production is not None:
        reference = production.training_data
    return CheckJobConfig.from_spec(meta.name, meta.namespace or "default", check.spec, reference)


def config_map(check: DriftCheck) -> JSON:
    text = check_config(check).model_dump_json(by_alias=True, exclude_none=True, indent=1)
    return with_hash(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": metadata(
                check, names.config_map(check.metadata.name), labels(check.metadata.name, COMPONENT_CHECK)
            ),
            "data": {CONFIG_FILE: text},
        }
    )


# How a check pod learns its scheduled time (`kubedrift.windows.scheduled_at` reads them): a
# CronJob's Job is named `<cronjob>-<scheduled unix minutes>`, and the pod sees that name through
# its `batch.kubernetes.io/job-name` label (the CronJob controller writes the scheduled-timestamp
# annotation on the Job only, not on its pods). Jobs the operator makes say the time outright.
JOB_NAME_LABEL = "batch.kubernetes.io/job-name"


def scheduled_time_env(scheduled_at: datetime | None) -> list[JSON]:
    env: list[JSON] = [
        {
            "name": ENV_JOB_NAME,
            "valueFrom": {"fieldRef": {"fieldPath": f"metadata.labels['{JOB_NAME_LABEL}']"}},
        }
    ]
    if scheduled_at is not None:
        env.append({"name": ENV_SCHEDULED_AT, "value": rfc3339(scheduled_at)})
    return env


def rfc3339(when: datetime) -> str:
    return when.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def check_job_labels(check: DriftCheck) -> dict[str, str]:
    """A check Job's labels; a sharded one says how many shards it has (the cache keeps a Job's
    metadata, not its spec)."""
    shards = check.spec.check.shards
    return labels(check.metadata.name, COMPONENT_CHECK) | ({LABEL_SHARDS: str(shards)} if shards > 1 else {})


def check_job_spec(check: DriftCheck, settings: Settings, scheduled_at: datetime | None = None) -> JSON:
    """A check Job; `scheduled_at` pins the window it reads (else the pod finds it: see above).
    Sharded, one index per shard, all at once: each profiles its share of the current data."""
    shards = check.spec.check.shards
    spec = _single_check_spec(
        check, settings, ["check", "--shard"] if shards > 1 else ["check"], scheduled_time_env(scheduled_at)
    )
    if shards > 1:
        spec |= {"completionMode": "Indexed", "completions": shards, "parallelism": shards}
    return spec


def _single_check_spec(check: DriftCheck, settings: Settings, args: list[str], env: list[JSON]) -> JSON:
    name = check.metadata.name
    return {
        "backoffLimit": settings.check_backoff_limit,
        "activeDeadlineSeconds": settings.check_deadline_seconds,
        "podFailurePolicy": pod_failure_policy("check", "FailJob"),
        "podReplacementPolicy": "Failed",
        "template": pod_template(
            settings,
            pod_labels=labels(name, COMPONENT_CHECK),
            container="check",
            args=args,
            config_map=names.config_map(name),
            storage=check.spec.storage,
            resources=settings.check_resources,
            extra_env=env,
        ),
    }


def merge_job(check: DriftCheck, settings: Settings, sharded: JSON) -> JSON:
    """The merge step of a complete sharded check Job: one pod that merges the partials of that
    Job's indexes and checks them as a single-pod check would, for the same scheduled time.

    Owned by the sharded Job, not the DriftCheck, so it lives exactly as long as that Job (the
    CronJob's history limit, or the TTL of a Job the operator made): while the Job is there its
    merge is too, and the operator never makes a second one for a Job it has not recorded."""
    sharded_name = sharded["metadata"]["name"]
    scheduled_at = job_scheduled_at(sharded)
    meta = {
        "name": names.merge_job(sharded_name),
        "namespace": check.metadata.namespace,
        "labels": labels(check.metadata.name, COMPONENT_CHECK) | {LABEL_MERGE_OF: sharded_name},
        "ownerReferences": [
            {
                "apiVersion": "batch/v1",
                "kind": "Job",
                "name": sharded_name,
                "uid": sharded["metadata"].get("uid", ""),
                "controller": False,
                "blockOwnerDeletion": False,
            }
        ],
    }
    # The pod names the sharded Job (whose partials it reads and whose name the history records)
    # and its scheduled time, instead of its own.
    env: list[JSON] = [{"name": ENV_JOB_NAME, "value": sharded_name}]
    if scheduled_at is not None:
        meta["annotations"] = {OPERATOR_SCHEDULED_ANNOTATION: rfc3339(scheduled_at)}
        env.append({"name": ENV_SCHEDULED_AT, "value": rfc3339(scheduled_at)})
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": meta,
        "spec": _single_check_spec(check, settings, ["check", "--merge"], env),
    }


def cron_job(check: DriftCheck, settings: Settings) -> JSON:
    name = check.metadata.name
    spec: JSON = {
        "schedule": check.spec.schedule,
        "suspend": check.spec.suspend,
        # A check that is still running when the next one is due is not doubled up.
        "concurrencyPolicy": "Forbid",
        "startingDeadlineSeconds": 300,
        "successfulJobsHistoryLimit": settings.cron_history_limit,
        "failedJobsHistoryLimit": settings.cron_history_limit,
        "jobTemplate": {
            "metadata": {"labels": check_job_labels(check)},
            "spec": check_job_spec(check, settings),
        },
    }
    if check.spec.time_zone:
        spec["timeZone"] = check.spec.time_zone
    return with_hash(
        {
            "apiVersion": "batch/v1",
            "kind": "CronJob",
            "metadata": metadata(check, names.cron_job(name), labels(name, COMPONENT_CHECK)),
            "spec": spec,
        }
    )


def check_now_job(check: DriftCheck, settings: Settings, trigger_value: str, at: datetime) -> JSON:
    """A check requested now: its window is the one of `at` (when the request was handled), so a
    retried pod of it reads the same window."""
    return _check_job(check, settings, names.check_now_job(check.metadata.name, trigger_value), at)


def recheck_job(check: DriftCheck, settings: Settings, scheduled_at: datetime, attempt: int) -> JSON:
    """Another look at the window of `scheduled_at`, which was empty when it was checked."""
    return _check_job(
        check, settings, names.recheck_job(check.metadata.name, rfc3339(scheduled_at), attempt), scheduled_at
    )


def _check_job(
    check: DriftCheck,
    settings: Settings,
    job_name: str,
    scheduled_at: datetime,
    annotations: dict[str, str] | None = None,
) -> JSON:
    """A check Job the operator makes (not the CronJob): the pod reads its window's time from
    KUBEDRIFT_SCHEDULED_AT; the Job says it in an annotation, which the operator's cache keeps
    (it keeps a Job's metadata and status, not its pod template)."""
    meta = metadata(check, job_name, check_job_labels(check))
    meta["annotations"] = {OPERATOR_SCHEDULED_ANNOTATION: rfc3339(scheduled_at), **(annotations or {})}
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": meta,
        "spec": {
            **check_job_spec(check, settings, scheduled_at),
            "ttlSecondsAfterFinished": settings.finished_job_ttl_seconds,
        },
    }


# On a past window's Job: whether its result may start a retrain (a backfill's may not unless
# asked; see reconcile/backfill.py).
ANNOTATION_RETRAIN = f"{GROUP}/retrain"


def past_window_job(
    check: DriftCheck, settings: Settings, job_name: str, scheduled_at: datetime, *, retrain: bool
) -> JSON:
    """The scheduled check's Job, for the window of a past scheduled time."""
    return _check_job(
        check, settings, job_name, scheduled_at, {ANNOTATION_RETRAIN: "true" if retrain else "false"}
    )
