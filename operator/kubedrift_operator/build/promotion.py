"""The promotion Job: copies the chosen model artifact to the production location.

The copy runs in a job pod with the storage credentials from the Secret, so the
operator itself never touches data or credentials.
"""

from __future__ import annotations

from kubedrift.decisions import promotion_destination
from kubedrift.models.resources import DriftCheck
from kubedrift_operator import names
from kubedrift_operator.build.common import (
    COMPONENT_PROMOTE,
    JSON,
    labels,
    metadata,
    pod_failure_policy,
    pod_template,
)
from kubedrift_operator.settings import Settings


def destination(check: DriftCheck) -> str:
    return promotion_destination(check.spec, check.metadata.name)


def promotion_job(check: DriftCheck, settings: Settings, job_name: str, source: str, target: str) -> JSON:
    name = check.metadata.name
    template = pod_template(
        settings,
        pod_labels=labels(name, COMPONENT_PROMOTE),
        container="promote",
        args=["promote-copy", "--from", source, "--to", target],
        config_map=names.config_map(name),  # the check's config carries the storage section
        storage=check.spec.storage,
        resources=settings.check_resources,
    )
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": metadata(check, job_name, labels(name, COMPONENT_PROMOTE)),
        "spec": {
            "backoffLimit": 2,
            # A refused credential or a missing model fails at once; only transient errors retry.
            "podFailurePolicy": pod_failure_policy("promote", "FailJob"),
            "activeDeadlineSeconds": settings.check_deadline_seconds,
            "ttlSecondsAfterFinished": settings.finished_job_ttl_seconds,
            "template": template,
        },
    }
