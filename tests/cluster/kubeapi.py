"""A minimal JSON client for the Kubernetes API, used by the harness and the tests.

Plain dicts in and out, exactly as the API speaks them: tests assert on raw objects.
Thread-safe (urllib3 pools).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import urllib3

JSON = dict[str, Any]


class ApiError(Exception):
    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"HTTP {status}: {body[:500]}")
        self.status = status
        self.body = body


@dataclass(frozen=True)
class Credentials:
    server: str
    ca_cert: Path
    client_cert: Path | None = None
    client_key: Path | None = None
    token: str | None = None


class KubeApi:
    def __init__(self, credentials: Credentials, timeout: float = 30.0) -> None:
        self.server = credentials.server
        self._headers = {"Accept": "application/json"}
        if credentials.token:
            self._headers["Authorization"] = f"Bearer {credentials.token}"
        self._pool = urllib3.PoolManager(
            num_pools=4,
            maxsize=16,
            ca_certs=str(credentials.ca_cert),
            cert_file=str(credentials.client_cert) if credentials.client_cert else None,
            key_file=str(credentials.client_key) if credentials.client_key else None,
            timeout=urllib3.Timeout(connect=5.0, read=timeout),
            retries=False,
        )

    def request(
        self,
        method: str,
        path: str,
        body: JSON | None = None,
        *,
        content_type: str = "application/json",
        query: dict[str, str] | None = None,
    ) -> JSON:
        headers = dict(self._headers)
        data = None
        if body is not None:
            headers["Content-Type"] = content_type
            data = json.dumps(body).encode()
        response = self._pool.request(
            method, self.server + path + _query_string(query), body=data, headers=headers
        )
        text = response.data.decode(errors="replace")
        if response.status >= 400:
            raise ApiError(response.status, text)
        return json.loads(text) if text else {}

    def get_text(self, path: str) -> str:
        response = self._pool.request("GET", self.server + path, headers=self._headers)
        text: str = response.data.decode(errors="replace")
        if response.status >= 400:
            raise ApiError(response.status, text)
        return text

    def get(self, path: str, **query: str) -> JSON:
        return self.request("GET", path, query=query)

    def post(self, path: str, body: JSON) -> JSON:
        return self.request("POST", path, body)

    def put(self, path: str, body: JSON) -> JSON:
        return self.request("PUT", path, body)

    def merge_patch(self, path: str, body: JSON) -> JSON:
        return self.request("PATCH", path, body, content_type="application/merge-patch+json")

    def delete(self, path: str, body: JSON | None = None) -> JSON:
        return self.request("DELETE", path, body)

    def watch(self, path: str, resource_version: str, timeout_seconds: int) -> Iterator[JSON]:
        """Yield watch events ({"type", "object"}) until the server closes the stream."""
        query = {
            "watch": "true",
            "resourceVersion": resource_version,
            "timeoutSeconds": str(timeout_seconds),
            "allowWatchBookmarks": "true",
        }
        response = self._pool.request(
            "GET",
            self.server + path + _query_string(query),
            headers=self._headers,
            preload_content=False,
            timeout=urllib3.Timeout(connect=5.0, read=timeout_seconds + 15),
        )
        try:
            if response.status >= 400:
                raise ApiError(response.status, response.read().decode(errors="replace"))
            buffer = b""
            for chunk in response.stream(4096):
                buffer += chunk
                while b"\n" in buffer:
                    line, buffer = buffer.split(b"\n", 1)
                    if line.strip():
                        yield json.loads(line)
        finally:
            response.release_conn()


def _query_string(query: dict[str, str] | None) -> str:
    return "?" + urlencode(query) if query else ""
