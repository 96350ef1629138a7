"""The real controller against an in-memory API, and the states it is reconciled from."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from kubedrift_operator import names
from kubedrift_operator.api import ApiError
from kubedrift_operator.cache import Cache
from kubedrift_operator.controller import Controller
from kubedrift_operator.settings import Settings
from tests.unit.operator import factories as f
from tests.unit.operator.test_plan import drifted_check, running, settled

JSON = dict[str, Any]
SETTINGS = Settings()


class FakeApi:
    """Answers like the apiserver, and records each write as (verb, kind/name)."""

    def __init__(self, refuse: dict[str, JSON] | None = None) -> None:
        self.writes: list[tuple[str, str]] = []
        self.refuse = refuse or {}  # kind/name → the Status the apiserver answers an apply or create with

    def _record(self, verb: str, obj: JSON) -> None:
        self.writes.append((verb, f"{obj['kind']}/{obj['metadata']['name']}"))

    def _refused(self, manifest: JSON) -> None:
        refusal = self.refuse.get(f"{manifest['kind']}/{manifest['metadata']['name']}")
        if refusal is not None:
            raise ApiError(int(refusal["code"]), json.dumps(refusal))

    async def apply(self, manifest: JSON) -> JSON:
        self._refused(manifest)
        self._record("apply", manifest)
        return manifest

    async def create(self, manifest: JSON, *, dry_run: bool = False) -> JSON:
        self._refused(manifest)
        if not dry_run:
            self._record("create", manifest)
        return manifest

    async def replace_status(self, body: JSON, status: JSON) -> JSON:
        self._record("status", body)
        version = str(int(body["metadata"].get("resourceVersion", 0)) + 1)
        return {**body, "metadata": {**body["metadata"], "resourceVersion": version}, "status": status}

    async def post_event(self, event: JSON) -> None:
        self.writes.append(("event", event["reason"]))


def reconcile(body: JSON, objects: list[JSON], api: FakeApi, cache: Cache | None = None) -> Cache:
    """One reconcile of the DriftCheck `bikes` by the real controller; the cache it leaves."""
    cache = cache or Cache()
    for obj in [{**body, "kind": "DriftCheck"}, *objects]:
        cache.put(obj["kind"], obj)
    cache.service_accounts.add(("ml", SETTINGS.job_service_account))
    asyncio.run(Controller(api, cache, SETTINGS).reconcile(("ml", "bikes")))  # type: ignore[arg-type]
    return cache


def run_that_just_ended() -> tuple[JSON, list[JSON]]:
    """Six trials succeeded and the Job completed; nothing of it is recorded yet (Auto policy)."""
    body, run = running(drifted_check()[0])
    job_name = names.run_job("bikes", run)
    objects = [f.job(job_name, "train", run=run, outcome="Complete", completed="0-5")]
    for index, objective in enumerate([0.70, 0.80, 0.75, 0.60, 0.90, 0.65]):
        name = names.experiment("bikes", run, index)
        objects.append(f.experiment(name, run, index, status={"phase": "Pending"}))
        objects.append(f.pod(job_name, "Succeeded", index=index, message=f.trial_summary(index, objective)))
    static = settled(body)
    objects += [*static.config_maps.values(), *static.cron_jobs.values()]
    objects.append(f.job("bikes-check-1", "check", outcome="Complete"))
    objects.append(f.pod("bikes-check-1", "Succeeded", message=f.check_summary()))
    return body, objects
