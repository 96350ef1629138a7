"""Small manifest builders shared by the cluster tests. Images are never pulled (see TESTING.md)."""

from __future__ import annotations

from typing import Any

JSON = dict[str, Any]
IMAGE = "python:3.11-slim"  # documentation only: the node agent runs the command locally


def container(name: str, script: str, **extra: Any) -> JSON:
    return {"name": name, "image": IMAGE, "command": ["sh", "-c", script], **extra}


def pod(name: str, script: str, **spec: Any) -> JSON:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {"restartPolicy": "Never", "containers": [container("main", script)], **spec},
    }


def job(name: str, script: str, *, owner: JSON | None = None, **spec: Any) -> JSON:
    metadata: JSON = {"name": name}
    if owner is not None:
        metadata["ownerReferences"] = [owner]
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": metadata,
        "spec": {
            "template": {"spec": {"restartPolicy": "Never", "containers": [container("work", script)]}},
            **spec,
        },
    }


def driftcheck(name: str, schedule: str = "0 * * * *") -> JSON:
    return {
        "apiVersion": "kubedrift.io/v1alpha1",
        "kind": "DriftCheck",
        "metadata": {"name": name},
        "spec": {
            "schedule": schedule,
            "reference": {"uri": "s3://bikes/reference.parquet"},
            "current": {"uri": "s3://bikes/current.parquet"},
            "storage": {"reportsUri": "s3://bikes/reports"},
        },
    }


def owner_reference(obj: JSON) -> JSON:
    return {
        "apiVersion": obj["apiVersion"],
        "kind": obj["kind"],
        "name": obj["metadata"]["name"],
        "uid": obj["metadata"]["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def condition(obj: JSON | None, kind: str) -> JSON | None:
    for entry in ((obj or {}).get("status") or {}).get("conditions") or []:
        if entry["type"] == kind and entry["status"] == "True":
            return dict(entry)
    return None
