"""The operator's own settings: what the Helm chart passes in as environment variables.

Everything a child manifest needs that is not in the DriftCheck (the job image, the
job ServiceAccount, the job securityContext) comes from here, so the chart owns those
choices and the builders stay pure functions of (DriftCheck, Settings).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any

from kubedrift.models.status import MAX_BACKFILL_CONCURRENCY

DEFAULT_UID = 65532  # the `nonroot` user of distroless images; the chart's images use it too


def restricted_pod_security_context(uid: int = DEFAULT_UID) -> dict[str, Any]:
    """The pod half of the restricted Pod Security Standard."""
    return {
        "runAsNonRoot": True,
        "runAsUser": uid,
        "runAsGroup": uid,
        "fsGroup": uid,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def restricted_container_security_context() -> dict[str, Any]:
    """The container half of the restricted Pod Security Standard."""
    return {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }


@dataclass(frozen=True)
class Settings:
    job_image: str = "ghcr.io/kubedrift/jobs:0.1.0"
    job_image_pull_policy: str = "IfNotPresent"
    job_service_account: str = "kubedrift-job"
    # The job ServiceAccount must exist in every namespace that holds a DriftCheck; the
    # operator creates it there (it has no bindings, so it grants nothing).
    manage_job_service_account: bool = True
    pod_security_context: dict[str, Any] = field(default_factory=restricted_pod_security_context)
    container_security_context: dict[str, Any] = field(default_factory=restricted_container_security_context)
    # The check pod's resources; training pods take theirs from spec.retrain.resources.
    check_resources: dict[str, Any] = field(
        default_factory=lambda: {"requests": {"cpu": "250m", "memory": "512Mi"}}
    )
    check_deadline_seconds: int = 3600
    check_backoff_limit: int = 2
    # Finished check-now and promotion Jobs are removed after a day; the CronJob's own
    # history limits govern scheduled ones. Runs' Jobs are kept (their pods hold results)
    # until the DriftCheck goes.
    finished_job_ttl_seconds: int = 86400
    cron_history_limit: int = 3
    # Check Jobs a backfill runs at once (per DriftCheck); scheduled checks and other
    # DriftChecks' backfills are not counted against it.
    backfill_concurrency: int = 2
    # A check whose window held no data yet is looked at again this often, at most this many
    # times and never after the next scheduled check has started (which reads its own window).
    empty_window_recheck_seconds: float = 900.0
    empty_window_rechecks: int = 8
    workers: int = 8
    resync_seconds: float = 300.0
    metrics_port: int = 8000

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        base = cls()
        uid = int(env.get("KUBEDRIFT_JOB_UID", DEFAULT_UID))

        def text(name: str, default: str) -> str:
            return env.get(name) or default

        def as_json(name: str, default: dict[str, Any]) -> dict[str, Any]:
            raw = env.get(name)
            return dict(json.loads(raw)) if raw else default

        return cls(
            job_image=text("KUBEDRIFT_JOB_IMAGE", base.job_image),
            job_image_pull_policy=text("KUBEDRIFT_JOB_IMAGE_PULL_POLICY", base.job_image_pull_policy),
            job_service_account=text("KUBEDRIFT_JOB_SERVICE_ACCOUNT", base.job_service_account),
            manage_job_service_account=text("KUBEDRIFT_MANAGE_JOB_SERVICE_ACCOUNT", "true").lower() == "true",
            pod_security_context=as_json(
                "KUBEDRIFT_JOB_POD_SECURITY_CONTEXT", restricted_pod_security_context(uid)
            ),
            container_security_context=as_json(
                "KUBEDRIFT_JOB_SECURITY_CONTEXT", restricted_container_security_context()
            ),
            check_resources=as_json("KUBEDRIFT_CHECK_RESOURCES", base.check_resources),
            finished_job_ttl_seconds=int(
                env.get("KUBEDRIFT_FINISHED_JOB_TTL", base.finished_job_ttl_seconds)
            ),
            backfill_concurrency=_backfill_concurrency(
                env.get("KUBEDRIFT_BACKFILL_CONCURRENCY", str(base.backfill_concurrency))
            ),
            empty_window_recheck_seconds=float(
                env.get("KUBEDRIFT_EMPTY_WINDOW_RECHECK_SECONDS", base.empty_window_recheck_seconds)
            ),
            empty_window_rechecks=int(env.get("KUBEDRIFT_EMPTY_WINDOW_RECHECKS", base.empty_window_rechecks)),
            workers=int(env.get("KUBEDRIFT_WORKERS", base.workers)),
            resync_seconds=float(env.get("KUBEDRIFT_RESYNC_SECONDS", base.resync_seconds)),
            metrics_port=int(env.get("KUBEDRIFT_METRICS_PORT", base.metrics_port)),
        )


def _backfill_concurrency(text: str) -> int:
    value = int(text)
    if not 1 <= value <= MAX_BACKFILL_CONCURRENCY:
        # status.backfill lists the times in flight, and the CRD bounds that list.
        raise ValueError(
            f"KUBEDRIFT_BACKFILL_CONCURRENCY must be between 1 and {MAX_BACKFILL_CONCURRENCY}, not {value}"
        )
    return value
