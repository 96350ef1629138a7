"""The one module that talks to the Kubernetes API (besides kopf's own watches).

A small async JSON client over aiohttp, with the same credentials kopf logs in with
(`credentials()`, also registered as kopf's login handler). Plain dicts in and out.
Creates are idempotent (AlreadyExists is success: names are deterministic), status
writes carry the resourceVersion they were computed from (a stale decision fails
with Conflict instead of overwriting a newer one).
"""

from __future__ import annotations

import asyncio
import json
import os
import ssl
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import yaml

from kubedrift import errors
from kubedrift.models.resources import GROUP, VERSION
from kubedrift.text import shorten

JSON = dict[str, Any]
FIELD_MANAGER = "kubedrift-operator"
RETRIES = 5
SA_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")

BODY_LIMIT = 300  # characters of a response body in an ApiError's message; `body` keeps it whole

# kind → (api prefix, plural)
RESOURCES: dict[str, tuple[str, str]] = {
    "DriftCheck": (f"/apis/{GROUP}/{VERSION}", "driftchecks"),
    "Experiment": (f"/apis/{GROUP}/{VERSION}", "experiments"),
    "Job": ("/apis/batch/v1", "jobs"),
    "CronJob": ("/apis/batch/v1", "cronjobs"),
    "ConfigMap": ("/api/v1", "configmaps"),
    "Pod": ("/api/v1", "pods"),
    "ServiceAccount": ("/api/v1", "serviceaccounts"),
    "Event": ("/api/v1", "events"),
}


class ApiError(Exception):
    def __init__(self, status: int, text: str) -> None:
        super().__init__(f"HTTP {status}: {shorten(text, BODY_LIMIT)}")
        self.status = status
        self.body = text  # the apiserver's Status object, for a message in the user's words

    @property
    def rejected(self) -> bool:
        """A 4xx the object itself caused (invalid, forbidden by a policy or quota): retrying can't help."""
        return 400 <= self.status < 500 and self.status not in (409, 429)


class Conflict(ApiError):
    pass


class NotFound(ApiError, errors.NotFound):
    """HTTP 404: kubedrift's one NotFound, raised by this edge with its status."""


class Retryable(ApiError):
    retry_after: float | None = None


@dataclass(frozen=True)
class Credentials:
    server: str
    ca_path: str | None = None
    ca_data: str | None = None
    insecure: bool = False
    token: str | None = None
    token_path: str | None = None  # re-read: projected tokens rotate
    certificate_path: str | None = None
    private_key_path: str | None = None
    default_namespace: str | None = None


def credentials() -> Credentials:
    """In-cluster service account first, then $KUBECONFIG (token or client certificate)."""
    kubeconfig = os.environ.get("KUBECONFIG")
    if (SA_DIR / "token").exists() and not kubeconfig:
        host, port = os.environ["KUBERNETES_SERVICE_HOST"], os.environ.get("KUBERNETES_SERVICE_PORT", "443")
        host = f"[{host}]" if ":" in host else host
        return Credentials(
            server=f"https://{host}:{port}",
            ca_path=str(SA_DIR / "ca.crt"),
            token_path=str(SA_DIR / "token"),
            default_namespace=(SA_DIR / "namespace").read_text().strip()
            if (SA_DIR / "namespace").exists()
            else None,
        )
    path = Path(os.path.expanduser(kubeconfig or "~/.kube/config"))
    config = yaml.safe_load(path.read_text())
    context_name = config["current-context"]
    context = next(c["context"] for c in config["contexts"] if c["name"] == context_name)
    cluster = next(c["cluster"] for c in config["clusters"] if c["name"] == context["cluster"])
    user = next(u["user"] for u in config["users"] if u["name"] == context["user"])

    def rel(value: str | None) -> str | None:
        return str((path.parent / value).resolve()) if value else None

    if "client-certificate-data" in user or "client-key-data" in user:
        raise ValueError(
            "kubeconfig with inline client certificates is not supported; use file paths or a token"
        )
    return Credentials(
        server=cluster["server"],
        ca_path=rel(cluster.get("certificate-authority")),
        ca_data=cluster.get("certificate-authority-data"),
        insecure=bool(cluster.get("insecure-skip-tls-verify")),
        token=user.get("token"),
        token_path=rel(user.get("tokenFile")),
        certificate_path=rel(user.get("client-certificate")),
        private_key_path=rel(user.get("client-key")),
        default_namespace=context.get("namespace"),
    )


def path_of(
    kind: str, namespace: str | None = None, name: str | None = None, subresource: str | None = None
) -> str:
    prefix, plural = RESOURCES[kind]
    out = prefix + (f"/namespaces/{namespace}" if namespace else "") + f"/{plural}"
    if name:
        out += f"/{name}"
    if subresource:
        out += f"/{subresource}"
    return out


class Api:
    def __init__(self, creds: Credentials, *, connections: int = 16) -> None:
        self.creds = creds
        self._connections = connections
        self._session: aiohttp.ClientSession | None = None
        self._token: str | None = creds.token
        self._token_read = 0.0

    def _ssl(self) -> ssl.SSLContext | bool:
        if self.creds.insecure:
            return False
        if self.creds.ca_data:
            import base64

            context = ssl.create_default_context(cadata=base64.b64decode(self.creds.ca_data).decode())
        else:
            context = ssl.create_default_context(cafile=self.creds.ca_path)
        if self.creds.certificate_path:
            context.load_cert_chain(self.creds.certificate_path, self.creds.private_key_path)
        return context

    async def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(ssl=self._ssl(), limit=self._connections)
            self._session = aiohttp.ClientSession(
                connector=connector, timeout=aiohttp.ClientTimeout(total=60, connect=10)
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    def _headers(self, content_type: str | None) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if self.creds.token_path and time.monotonic() - self._token_read > 60:
            self._token = Path(self.creds.token_path).read_text().strip()
            self._token_read = time.monotonic()
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        if content_type:
            headers["Content-Type"] = content_type
        return headers

    async def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        content_type: str = "application/json",
        params: dict[str, str] | None = None,
    ) -> JSON:
        """One API call; throttling (429), 5xx and dropped connections are retried a few times."""
        for attempt in range(RETRIES + 1):
            try:
                return await self._request_once(method, path, body, content_type=content_type, params=params)
            except (Retryable, aiohttp.ClientConnectionError, TimeoutError) as error:
                if attempt == RETRIES:
                    raise ApiError(getattr(error, "status", 0), str(error)) from error
                delay = getattr(error, "retry_after", None) or min(2.0, 0.2 * 2**attempt)
                await asyncio.sleep(delay)
        raise AssertionError("unreachable")

    async def _request_once(
        self, method: str, path: str, body: Any, *, content_type: str, params: dict[str, str] | None
    ) -> JSON:
        session = await self.session()
        data = None if body is None else (body if isinstance(body, str) else json.dumps(body))
        async with session.request(
            method,
            self.creds.server + path,
            data=data,
            params=params,
            headers=self._headers(content_type if body is not None else None),
        ) as response:
            text = await response.text()
            if response.status == 409:
                raise Conflict(409, text)
            if response.status == 404:
                raise NotFound(404, text)
            if response.status == 429 or response.status >= 500:
                error = Retryable(response.status, text)
                error.retry_after = float(response.headers.get("Retry-After", "0") or 0) or None
                raise error
            if response.status >= 400:
                raise ApiError(response.status, text)
            return json.loads(text) if text else {}

    async def list(
        self, kind: str, *, namespace: str | None = None, label_selector: str | None = None
    ) -> list[JSON]:
        items: list[JSON] = []
        params = {"limit": "500"}
        if label_selector:
            params["labelSelector"] = label_selector
        while True:
            page = await self.request("GET", path_of(kind, namespace), params=params)
            for item in page.get("items", []):
                item.setdefault("kind", kind)
                items.append(item)
            token = page.get("metadata", {}).get("continue")
            if not token:
                return items
            params["continue"] = token

    async def get(self, kind: str, namespace: str, name: str) -> JSON:
        return await self.request("GET", path_of(kind, namespace, name))

    async def create(self, manifest: JSON, *, dry_run: bool = False) -> JSON | None:
        """Create; None when it already exists (deterministic names make that success).

        `dry_run`: the apiserver validates and admits it (schema, quotas, policies) but stores nothing.
        """
        meta = manifest["metadata"]
        params = {"dryRun": "All"} if dry_run else None
        try:
            return await self.request(
                "POST", path_of(manifest["kind"], meta["namespace"]), manifest, params=params
            )
        except Conflict:
            return None

    async def apply(self, manifest: JSON) -> JSON:
        """Server-side apply: creates or updates exactly the fields the operator owns."""
        meta = manifest["metadata"]
        return await self.request(
            "PATCH",
            path_of(manifest["kind"], meta["namespace"], meta["name"]),
            manifest,
            content_type="application/apply-patch+yaml",
            params={"fieldManager": FIELD_MANAGER, "force": "true"},
        )

    async def replace_status(self, body: JSON, status: JSON) -> JSON:
        """PUT the status subresource; the body's resourceVersion makes it conditional."""
        meta = body["metadata"]
        payload = {**body, "status": status}
        return await self.request(
            "PUT", path_of(body["kind"], meta["namespace"], meta["name"], "status"), payload
        )

    async def post_event(self, event: JSON) -> None:
        await self.request("POST", path_of("Event", event["metadata"]["namespace"]), event)
