"""Carries out one reconcile's Plan against the API, in an order that survives SIGKILL.

1. Static children (ConfigMap, CronJob, the job ServiceAccount) by server-side apply,
   and check-now Jobs: their names are deterministic, so doing them before they are
   acknowledged in status can at worst repeat an AlreadyExists.
2. Experiment statuses: facts read from pod termination messages, recorded before
   anything is decided from them — pods can disappear, recorded statuses cannot.
3. The DriftCheck status, conditional on the resourceVersion it was computed from:
   every decision (a run started, a promotion begun, a trigger handled) is persisted
   here *before* it is acted on.
4. The children those decisions call for (run config, Experiments, the Indexed Job,
   the promotion Job), created under deterministic names. A crash before this step
   is repaired by the next reconcile, which finds the decision in status.
5. Events, best effort.

The DriftCheck is parsed once, at the start; the Plan's statuses are models until each is
serialised for its write. Tests stop the operator between these steps (`crashpoints`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from kubedrift.models.resources import API_VERSION, DriftCheck
from kubedrift.models.status import DriftCheckStatus
from kubedrift.text import shorten
from kubedrift_operator import metrics
from kubedrift_operator.api import Api, ApiError, Conflict, NotFound
from kubedrift_operator.cache import Cache, Key
from kubedrift_operator.crashpoints import DECISION_WRITTEN, TRIALS_RECORDED, crash_after, created, ends_run
from kubedrift_operator.reconcile import conditions
from kubedrift_operator.reconcile.conditions import REFUSED
from kubedrift_operator.reconcile.draft import Children, Event, Plan
from kubedrift_operator.reconcile.plan import apply_failed_status, parse, parse_status, plan
from kubedrift_operator.reconcile.refusals import refusal_message, refused_status
from kubedrift_operator.settings import Settings

JSON = dict[str, Any]
logger = logging.getLogger("kubedrift.operator")
INSTANCE = os.environ.get("POD_NAME") or socket.gethostname()
# events.k8s.io's bound on a note; the core/v1 Events posted here are not checked against it,
# so a cut in characters is enough.
EVENT_MESSAGE_LIMIT = 1024


def event_manifest(namespace: str, involved: JSON, event: Event, now: datetime) -> JSON:
    stamp = now.isoformat().replace("+00:00", "Z")
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": f"{involved['name']}.{uuid.uuid4().hex[:16]}", "namespace": namespace},
        "involvedObject": {**involved, "namespace": namespace},
        "type": event.type,
        "reason": event.reason,
        "message": shorten(event.message, EVENT_MESSAGE_LIMIT),
        "source": {"component": "kubedrift-operator"},
        "reportingComponent": "kubedrift.io/operator",
        "reportingInstance": INSTANCE[:128],
        "firstTimestamp": stamp,
        "lastTimestamp": stamp,
        "count": 1,
    }


def status_message(status: DriftCheckStatus) -> str | None:
    stalled = conditions.get(status.conditions, "Stalled")
    return stalled.message if stalled else None


class Controller:
    def __init__(self, api: Api, cache: Cache, settings: Settings) -> None:
        self.api = api
        self.cache = cache
        self.settings = settings

    async def reconcile(self, key: Key) -> float | None:
        started = time.monotonic()
        try:
            again = await self._reconcile(key)
        except Exception:
            metrics.RECONCILES.labels(result="error").inc()
            raise
        finally:
            metrics.RECONCILE_SECONDS.observe(time.monotonic() - started)
        metrics.RECONCILES.labels(result="ok").inc()
        return again

    async def _reconcile(self, key: Key) -> float | None:
        body = self.cache.driftchecks.get(key)
        if body is None or body["metadata"].get("deletionTimestamp"):
            return None  # gone or going: the garbage collector removes the children
        namespace, name = key
        now = datetime.now(UTC)
        check = parse(body)  # the one parse of this reconcile; statuses stay models until written
        children = self.cache.children(key, self.settings.job_service_account)
        todo = plan(check, children, self.settings, now)

        manifest: JSON = {}
        try:
            for manifest in todo.apply:
                self._store(await self.api.apply(manifest), manifest)
            for manifest in todo.create_first:
                self._store(await self.api.create(manifest), manifest)
        except ApiError as error:
            assert isinstance(check, DriftCheck)  # an invalid spec plans no children
            return await self._child_failed(body, check, manifest, error, now)

        if not await self._record_experiments(children, todo):
            return 0.0
        if ends_run(check.status, todo.status):
            crash_after(TRIALS_RECORDED)

        if todo.status is not None:
            if not await self._write_status(body, todo.status):
                return 0.0
            if todo.create:
                crash_after(DECISION_WRITTEN)

        try:
            # The Job is tried first without being stored: a refusal then leaves no child at all.
            for manifest in [m for m in todo.create if m["kind"] == "Job"]:
                await self.api.create(manifest, dry_run=True)
            for manifest in todo.create:
                self._store(await self.api.create(manifest), manifest)
                crash_after(created(manifest))
        except ApiError as error:
            if not error.rejected:
                raise
            return await self._run_child_refused(key, manifest, error, now)

        for event in todo.events:
            await self._post(namespace, body, event, now)
        for metric, labels in todo.counters:
            metrics.count(metric, labels)
        if todo.status is not None:
            logger.info("reconciled %s/%s", namespace, name, extra={"check": name, "namespace": namespace})
        return todo.requeue_after

    async def _child_failed(
        self, body: JSON, check: DriftCheck, manifest: JSON, error: ApiError, now: datetime
    ) -> float | None:
        metrics.ERRORS.labels(kind="apply").inc()
        rejected = error.rejected
        message = refusal_message(manifest, error.body) if rejected else str(error)
        status = apply_failed_status(check, message, rejected=rejected, now=now)
        if status != check.status:
            await self._write_status(body, status)
        if not rejected:
            raise error
        was = conditions.get(check.status.conditions, "Stalled")
        if was is None or was.reason != REFUSED or was.message != status_message(status):
            await self._post(check.metadata.namespace or "", body, Event("Warning", REFUSED, message), now)
        meta = check.metadata
        logger.warning("a child of %s/%s was rejected: %s", meta.namespace, meta.name, message)
        return self.settings.resync_seconds

    async def _run_child_refused(
        self, key: Key, manifest: JSON, error: ApiError, now: datetime
    ) -> float | None:
        """A run's (or promotion's) child was refused: end that run, say why once, don't retry it."""
        metrics.ERRORS.labels(kind="create").inc()
        body = self.cache.driftchecks.get(key)  # the status written just before, with its resourceVersion
        if body is None:
            return None
        message = refusal_message(manifest, error.body)
        old = parse_status(body)
        new = refused_status(old, manifest, message, now)
        if new != old:
            meta = body["metadata"]
            stalled = (REFUSED, message)
            check_schedule = str((body.get("spec") or {}).get("schedule", ""))
            new = new.model_copy(
                update={
                    "conditions": conditions.compute(
                        new,
                        generation=meta.get("generation"),
                        now=now,
                        schedule=check_schedule,
                        suspended=bool((body.get("spec") or {}).get("suspend")),
                        stalled=stalled,
                    )
                }
            )
            if not await self._write_status(body, new):
                return 0.0
        await self._post(key[0], body, Event("Warning", REFUSED, message), now)
        logger.warning("a child of %s/%s was refused: %s", key[0], key[1], message)
        return None

    async def _record_experiments(self, children: Children, todo: Plan) -> bool:
        """Write the Experiment statuses read from pods; False when one changed under us."""
        for exp_name, status in todo.experiment_status.items():
            exp = children.experiments[exp_name]
            try:
                self.cache.put("Experiment", await self.api.replace_status(exp, status.to_wire()))
            except (Conflict, NotFound):
                await self._refresh("Experiment", exp["metadata"]["namespace"], exp_name)
                return False
        return True

    def _store(self, obj: JSON | None, manifest: JSON) -> None:
        if manifest["kind"] == "ServiceAccount":
            self.cache.put("ServiceAccount", manifest)
        elif obj is not None:
            self.cache.put(manifest["kind"], {**obj, "kind": manifest["kind"]})

    async def _write_status(self, body: JSON, status: DriftCheckStatus) -> bool:
        """Write the status, conditional on the resourceVersion of the body it was computed from."""
        meta = body["metadata"]
        try:
            self.cache.put("DriftCheck", await self.api.replace_status(body, status.to_wire()))
            return True
        except Conflict:
            metrics.ERRORS.labels(kind="conflict").inc()
            await self._refresh("DriftCheck", meta["namespace"], meta["name"])
            return False

    async def _refresh(self, kind: str, namespace: str, name: str) -> None:
        with contextlib.suppress(NotFound):
            self.cache.put(kind, {**await self.api.get(kind, namespace, name), "kind": kind})

    async def _post(self, namespace: str, body: JSON, event: Event, now: datetime) -> None:
        if event.kind == "DriftCheck":
            involved = {
                "apiVersion": API_VERSION,
                "kind": "DriftCheck",
                "name": body["metadata"]["name"],
                "uid": body["metadata"]["uid"],
            }
        else:
            involved = {
                "apiVersion": API_VERSION,
                "kind": event.kind,
                "name": event.name or "",
                "uid": event.uid or "",
            }
        try:
            await self.api.post_event(event_manifest(namespace, involved, event, now))
        except ApiError as error:  # an Event is worth less than the reconcile that made it
            metrics.ERRORS.labels(kind="event").inc()
            logger.warning("cannot post event %s: %s", event.reason, error)
