"""Object storage: the one module that reads and writes data, on S3 or local disk.

A URI is a Parquet file, a directory/prefix (partitioned datasets included) or a
glob, written as `s3://bucket/key`, `file:///path` or a plain path. S3 goes
through s3fs; the endpoint and region come from the spec's `storage` section and
the credentials from the environment (`AWS_ACCESS_KEY_ID`,
`AWS_SECRET_ACCESS_KEY`), which the operator fills from a Secret. Nothing here
ever logs or returns a credential.

Every failure leaves as one of kubedrift's errors (`kubedrift.errors`): missing
data as DataNotFound, corrupt files as DataUnreadable, refused credentials as
UnknownAccessKey, WrongSecretKey or AccessDenied (by the S3 error code, never by
s3fs's translation of it), missing credentials as ConfigError, and throttling,
5xx, timeouts and broken connections as TransientError once the retries below
are spent.

Retries live in two layers, each retrying what only it can (docs/troubleshooting.md
states the bounds):
- botocore retries each request (standard mode, REQUEST_ATTEMPTS in all, with
  jittered exponential backoff): 5xx, SlowDown and other throttling codes,
  refused or reset connections, connect and read timeouts.
- `retrying` re-runs a whole operation when a response broke off mid-body
  (ReadInterrupted): botocore has already returned by then, so it cannot.
s3fs's own retry loop is switched off: it nests (a ranged read wraps a wrapped
call), which would multiply botocore's attempts by 25 and make a hang last many
minutes.

TLS is always verified: against AWS_CA_BUNDLE when set (the operator sets it from
`storage.caBundle`), else the default CAs; an untrusted certificate is a ConfigError.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import ssl
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC
from functools import cache, cached_property
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from kubedrift.errors import (
    AccessDenied,
    ConfigError,
    CredentialsError,
    DataNotFound,
    DataUnreadable,
    ReadInterrupted,
    TransientError,
    UnknownAccessKey,
    WrongSecretKey,
)
from kubedrift.models.results import DataFingerprint
from kubedrift.models.windows import TimeWindow
from kubedrift.uris import has_glob, is_s3, join, local_path  # storage.join etc. for data callers too

if TYPE_CHECKING:
    import pyarrow as pa
    import pyarrow.dataset as ds
    from fsspec import AbstractFileSystem

    from kubedrift.models.driftcheck import Storage

T = TypeVar("T")
# Footers are small reads, one per file: several at a time, since many files are many round trips.
FOOTER_READERS = 8


# How long one request may take to fail, and how often it is tried: a hung endpoint costs at
# most REQUEST_ATTEMPTS * (CONNECT_TIMEOUT or READ_TIMEOUT) plus the backoff between attempts
# (botocore: random(0, 1) * 2**n seconds before retry n+1), see REQUEST_WORST_CASE_SECONDS.
CONNECT_TIMEOUT = 5
READ_TIMEOUT = 15  # also the longest silence mid-body before a read counts as stalled
REQUEST_ATTEMPTS = 4
REQUEST_WORST_CASE_SECONDS = REQUEST_ATTEMPTS * READ_TIMEOUT + sum(2**n for n in range(REQUEST_ATTEMPTS - 1))
# `retrying`: whole operations whose response broke off mid-body, waiting at most 1, 2, ... s
# between attempts. A body that stalls on every attempt costs READ_TIMEOUT per attempt (botocore
# has returned by then, so it does not retry it), see BODY_STALL_WORST_CASE_SECONDS.
OPERATION_ATTEMPTS = 3
OPERATION_RETRY_DELAY = 1
BODY_STALL_WORST_CASE_SECONDS = OPERATION_ATTEMPTS * READ_TIMEOUT + OPERATION_RETRY_DELAY * sum(
    2**n for n in range(OPERATION_ATTEMPTS - 1)
)

ENV_ACCESS_KEY_ID = "AWS_ACCESS_KEY_ID"
ENV_SECRET_ACCESS_KEY = "AWS_SECRET_ACCESS_KEY"  # noqa: S105 (a variable's name)


def filesystem(uri: str, storage: Storage | None = None) -> AbstractFileSystem:
    """The fsspec filesystem for `uri`, configured from the spec and the environment."""
    if not is_s3(uri):
        from fsspec.implementations.local import LocalFileSystem

        return LocalFileSystem(auto_mkdir=True)
    check_secret_env(storage)
    client_kwargs: dict[str, Any] = {}
    endpoint = storage.endpoint if storage else None
    region = storage.region if storage else None
    if region:
        client_kwargs["region_name"] = region
    fs = _diagnosing_s3fs()(
        endpoint_url=endpoint or os.environ.get("AWS_ENDPOINT_URL"),
        client_kwargs=client_kwargs,
        config_kwargs={
            "retries": {"total_max_attempts": REQUEST_ATTEMPTS, "mode": "standard"},
            "connect_timeout": CONNECT_TIMEOUT,
            "read_timeout": READ_TIMEOUT,
        },
        skip_instance_cache=True,
    )
    fs.retries = 1  # one attempt per s3fs call: botocore and `retrying` own the retries (see above)
    return fs


def check_secret_env(storage: Storage | None) -> None:
    """Fail clearly when the Secret named in storage.secretRef gave an empty key.

    In a pod both variables come from the Secret (the kubelet refuses to start the pod
    when a key is absent), so one that is set but empty, or set without the other,
    means the Secret holds an empty value. Unset both: not from a Secret (e.g.
    `kubedrift run`), so botocore's other sources (profiles, roles) get their turn.
    """
    ref = storage.secret_ref if storage else None
    if ref is None:
        return
    pairs = ((ENV_ACCESS_KEY_ID, ref.access_key_id_key), (ENV_SECRET_ACCESS_KEY, ref.secret_access_key_key))
    if not any(env in os.environ for env, _ in pairs):
        return
    empty = [key for env, key in pairs if not os.environ.get(env)]
    if empty:
        raise ConfigError(
            f"the Secret {ref.name!r} named in storage.secretRef has no value for "
            f"{' and '.join(map(repr, empty))}; put the credentials there (keys set by "
            "storage.secretRef.accessKeyIdKey and secretAccessKeyKey)"
        )


@cache
def _diagnosing_s3fs() -> type[AbstractFileSystem]:
    """s3fs's filesystem, but a HEAD refused or throttled with a bare status is asked again in a
    form that says why.

    A HEAD response has no body, so its 403 cannot tell an unknown key id from a wrong
    secret from a missing right, nor its 503 SlowDown from an overloaded server. The same
    request as a GET (one byte of the object, or one key of the bucket) needs the same rights
    and does carry the S3 error code. For a 5xx or 429 the GET is one more request (with
    botocore's retries) after the HEAD's were spent: the error then names the code, at the
    cost of at most one more REQUEST_WORST_CASE_SECONDS.
    """
    import s3fs

    class DiagnosingS3FileSystem(s3fs.S3FileSystem):
        async def _call_s3(self, method: str, *akwarglist: Any, **kwargs: Any) -> Any:
            try:
                return await super()._call_s3(method, *akwarglist, **kwargs)
            except Exception as error:
                probe = _probe_for(method, {k: v for a in akwarglist for k, v in a.items()} | kwargs)
                status = _http_status(error)
                bare = _s3_code(error) in (None, str(status))  # botocore's code for a bodiless answer
                if probe is None or not bare or status not in PROBED_STATUSES:
                    raise
                try:
                    await super()._call_s3(probe[0], **probe[1])
                except Exception as explained:
                    if _s3_code(explained) not in (None, str(_http_status(explained))):
                        raise  # its cause is the ClientError that says why
                raise

        def _open(self, path: str, mode: str = "rb", **kwargs: Any) -> Any:
            file = super()._open(path, mode, **kwargs)
            if "r" in mode:
                checked = _whole_ranges(file._fetch_range, file.size)
                file._fetch_range = checked
                if hasattr(file.cache, "fetcher"):  # the read cache took the method at construction
                    file.cache.fetcher = checked
            return file

    return DiagnosingS3FileSystem


class ShortRead(OSError):
    """A ranged read got fewer bytes than it asked for, though the object has them."""


def _whole_ranges(fetch: Callable[[int, int], bytes], size: int) -> Callable[[int, int], bytes]:
    """`fetch`, but a short answer is a broken read (retried), never data to decode.

    A body can end early and still look whole (a proxy or server that sets Content-Length
    to what it sends); Parquet would then see a corrupt file and fail for good.
    """

    def checked(start: int, end: int) -> bytes:
        data = fetch(start, end)
        expected = max(0, min(end, size) - start)
        if len(data) < expected:
            raise ShortRead(f"got {len(data)} of {expected} bytes at offset {start}")
        return data

    return checked


def _probe_for(method: str, params: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """The GET that needs the same rights as a HEAD, so its refusal says why."""
    if method == "head_object":
        return "get_object", {"Bucket": params["Bucket"], "Key": params["Key"], "Range": "bytes=0-0"}
    if method == "head_bucket":
        return "list_objects_v2", {"Bucket": params["Bucket"], "MaxKeys": 1}
    return None


def _path(uri: str) -> str:
    return uri.removeprefix("s3://") if is_s3(uri) else local_path(uri)


@contextmanager
def storage_errors(uri: str) -> Iterator[None]:
    """Translate what s3fs, botocore and the OS raise into kubedrift's errors."""
    try:
        yield
    except (DataNotFound, DataUnreadable, ConfigError, CredentialsError, TransientError):
        raise
    except Exception as error:
        mapped = storage_error(uri, error)
        if mapped is None:
            raise
        raise mapped from error


def _untrusted_certificate(uri: str, error: BaseException) -> str | None:
    """The message for a TLS certificate that failed verification, if that is what `error` is.
    It names the endpoint (botocore gives the request's URL; we cut it to scheme://host:port)."""
    failures = [e for e in _causes(error) if isinstance(e, ssl.SSLCertVerificationError)]
    if not failures:
        return None
    # aiohttp's wrapper is an SSLCertVerificationError too, but only the ssl module's says why.
    why = next((str(r) for e in failures if (r := getattr(e, "verify_message", None))), "verify failed")
    url = urlsplit(str(getattr(error, "kwargs", {}).get("endpoint_url") or ""))
    endpoint = f"{url.scheme}://{url.netloc}" if url.scheme and url.netloc else "the S3 endpoint"
    return (
        f"{uri}: the TLS certificate of {endpoint} is not trusted ({why}); set storage.caBundle "
        "to the CA bundle that signed it (AWS_CA_BUNDLE for kubedrift run)"
    )


def storage_error(uri: str, error: BaseException) -> Exception | None:
    """kubedrift's error for what s3fs, botocore or the OS raised; None for a programming error.

    The S3 error code decides (it is in the botocore ClientError that s3fs chains to its
    own exception); the message is ours, never the server's text, which can quote the
    request's key id.
    """
    if (untrusted := _untrusted_certificate(uri, error)) is not None:
        return ConfigError(untrusted)
    code, status, operation = _s3_code(error), _http_status(error), _operation(error)
    if code is not None or status is not None:
        return _s3_failure(uri, code or "", status, operation)
    names = {type(e).__name__ for e in _causes(error)}
    if names & BODY_INTERRUPTIONS:
        what = _first(names, BODY_INTERRUPTIONS)
        return ReadInterrupted(f"{uri}: the response broke off mid-body ({what})")
    if names & CONNECTION_FAILURES:
        return TransientError(f"{uri}: storage unreachable ({_first(names, CONNECTION_FAILURES)})")
    if names & {"NoCredentialsError", "PartialCredentialsError"}:
        return ConfigError(
            f"{uri}: no S3 credentials: {ENV_ACCESS_KEY_ID} and {ENV_SECRET_ACCESS_KEY} are not both set "
            "and no other source (profile, role) gave any; in a cluster they come from the Secret named "
            "in storage.secretRef"
        )
    if isinstance(error, FileNotFoundError):
        return DataNotFound(f"{uri}: not found")
    if isinstance(error, PermissionError):  # a local file; S3's refusals carry a code, above
        return ConfigError(f"{uri}: permission denied: {redact(str(error))}")
    if isinstance(error, OSError):
        return DataUnreadable(f"{uri}: {redact(str(error))}")
    return None


# Bodiless HEAD answers worth a GET that says why: refusals, throttling and server errors.
PROBED_STATUSES = {403, 429, 500, 502, 503, 504}
# S3 error codes (and bare HTTP statuses) that a later attempt may not get.
TRANSIENT_CODES = {
    "SlowDown",
    "ServiceUnavailable",
    "InternalError",
    "RequestTimeout",
    "Throttling",
    "ThrottlingException",
    "RequestThrottled",
    "TooManyRequests",
    "OperationAborted",
}
TRANSIENT_STATUSES = {429, 500, 502, 503, 504}
DENIED_CODES = {"AccessDenied", "AllAccessDisabled", "AccountProblem", "403"}
# Raised while reading a response body, after botocore has returned: only `retrying` can help.
BODY_INTERRUPTIONS = {
    "ShortRead",
    "FlexibleChecksumError",  # the body does not match the checksum the server sent with it
    "AioReadTimeoutError",
    "ResponseStreamingError",
    "IncompleteReadError",
    "IncompleteRead",
    "ClientPayloadError",
}
# Raised for a request that botocore has already retried REQUEST_ATTEMPTS times.
CONNECTION_FAILURES = {
    "EndpointConnectionError",
    "ConnectTimeoutError",
    "ReadTimeoutError",
    "ConnectionClosedError",
    "ClientConnectorError",
    "ServerDisconnectedError",
    "ConnectionRefusedError",
    "ConnectionResetError",
    "FSTimeoutError",
    "TimeoutError",
}


def _s3_failure(uri: str, code: str, status: int | None, operation: str | None) -> Exception:
    bucket = _bucket(uri)
    on = f" on {operation}" if operation else ""
    key = key_hint()
    if code == "InvalidAccessKeyId":
        return UnknownAccessKey(
            f"{uri}: the storage does not know the access key id{key} (InvalidAccessKeyId{on} in bucket "
            f"{bucket}); put a valid {ENV_ACCESS_KEY_ID} in the Secret named in storage.secretRef"
        )
    if code == "SignatureDoesNotMatch":
        return WrongSecretKey(
            f"{uri}: the secret access key does not belong to the access key id{key} "
            f"(SignatureDoesNotMatch{on} in bucket {bucket}); put the matching {ENV_SECRET_ACCESS_KEY} in "
            "the Secret named in storage.secretRef"
        )
    if code == "AuthorizationHeaderMalformed":
        # The credential scope does not parse: a '/' in the key id (a secret in its place: the
        # Secret's two keys swapped), or a region that is not the bucket's. Neither is a data fault.
        return ConfigError(
            f"{uri}: the storage cannot read the access key id{key} or the region of the request "
            f"(AuthorizationHeaderMalformed{on} in bucket {bucket}); put the access key id, not the secret, "
            f"in {ENV_ACCESS_KEY_ID} in the Secret named in storage.secretRef, or set storage.region to "
            "the bucket's region"
        )
    if code in DENIED_CODES or (status == 403 and code not in TRANSIENT_CODES):
        what = "AccessDenied" if code in ("403", "") else code
        return AccessDenied(
            f"{uri}: the access key id{key} has no right to this in bucket {bucket} ({what}{on}); "
            "grant it in the bucket policy, or name a Secret with a key that has it in storage.secretRef"
        )
    if code in TRANSIENT_CODES or (status in TRANSIENT_STATUSES):
        told = code or f"HTTP {status}"
        return TransientError(
            f"{uri}: the storage kept answering {told}{on} after {REQUEST_ATTEMPTS} attempts; "
            "the Job retries the pod"
        )
    if code in ("NoSuchKey", "NoSuchBucket", "404") or status == 404:
        return DataNotFound(f"{uri}: not found ({code or 'HTTP 404'}{on})")
    return DataUnreadable(f"{uri}: the storage refused the request ({code or f'HTTP {status}'}{on})")


KEY_HINT_MIN_LENGTH = 16


def key_hint() -> str:
    """' sha256:1a2b3c4d': the first 8 hex digits of the SHA-256 of the access key id.

    Enough to tell keys apart (compare `printf %s "$KEY" | sha256sum | cut -c1-8`), and not a
    single character of the value: when a Secret has the two keys swapped, AWS_ACCESS_KEY_ID
    holds the *secret*, so showing any part of it (once its last 4 characters) leaks the secret.
    32 bits of a one-way hash give no way back to a key of 16 or more random characters; a
    shorter value gets no hint, since its hash would let it be found by trying every value.
    """
    key = os.environ.get(ENV_ACCESS_KEY_ID, "")
    if len(key) < KEY_HINT_MIN_LENGTH:
        return ""
    return f" sha256:{hashlib.sha256(key.encode()).hexdigest()[:8]}"


def redact(text: str) -> str:
    """`text` without the credentials of this process's environment, should a library quote them."""
    for name in (ENV_ACCESS_KEY_ID, ENV_SECRET_ACCESS_KEY, "AWS_SESSION_TOKEN"):
        value = os.environ.get(name)
        if value and len(value) >= 4:
            text = text.replace(value, "<redacted>")
    return text


def _bucket(uri: str) -> str:
    return uri.removeprefix("s3://").split("/", 1)[0] if is_s3(uri) else uri


def _first(names: set[str], wanted: set[str]) -> str:
    return sorted(names & wanted)[0]


def _client_error(error: BaseException) -> Any:
    """The botocore ClientError behind `error`, if any (s3fs chains it as the cause)."""
    for cause in _causes(error):
        if isinstance(getattr(cause, "response", None), dict) and "Error" in cause.response:  # type: ignore[attr-defined]
            return cause
    return None


def _s3_code(error: BaseException) -> str | None:
    found = _client_error(error)
    if found is None:
        return None
    return str(found.response["Error"].get("Code") or "") or None


def _http_status(error: BaseException) -> int | None:
    found = _client_error(error)
    if found is None:
        return None
    status = found.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return int(status) if status else None


def _operation(error: BaseException) -> str | None:
    found = _client_error(error)
    return getattr(found, "operation_name", None) if found is not None else None


def _causes(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def list_parquet(uri: str, storage: Storage | None = None) -> list[str]:
    """The Parquet files behind `uri`, sorted, as paths of its filesystem.

    A file is itself; a directory or prefix is every `*.parquet` below it
    (hive-partitioned folders included); a glob is what it matches.
    """
    fs = filesystem(uri, storage)
    path = _path(uri)
    with storage_errors(uri):
        if has_glob(path):
            files = fs.glob(path)
        elif fs.isdir(path):
            files = [f for f in fs.find(path) if f.endswith(".parquet")]
        elif fs.exists(path):
            files = [path]
        else:
            raise DataNotFound(f"{uri}: no such file, directory or prefix")
    files = sorted(f for f in files if not _hidden(f))
    if not files:
        raise DataNotFound(f"{uri}: matches no Parquet files")
    return files


@dataclass(frozen=True)
class RowGroup:
    """One row group of a dataset's file, as its footer counts it: the unit a sharded check splits."""

    file: str  # the path as the dataset's filesystem names it
    index: int
    rows: int  # before a window's row filter (the footer cannot count those without the data)


def _hidden(path: str) -> bool:
    # Spark and friends leave _SUCCESS and .crc files beside the data.
    return any(part.startswith(("_", ".")) and "=" not in part for part in path.split("/")[-1:])


@dataclass
class ParquetData:
    """A Parquet dataset that is read one column at a time.

    Only the schema and row counts are read up front (from the footers); each
    `column()` call reads that column alone, so peak memory is about one column,
    not the whole table.

    The schema is every file's schema unified, not the first file's: a column
    that only some files have is part of it, and `rows_with(name)` says how many
    rows carry it. Where files disagree on a column's type, numbers widen (int64
    and double meet as double, dictionary-encoded text as text); a type that
    cannot be reconciled (text in one file, numbers in another) is refused with
    both files named.
    """

    uri: str
    files: list[str]
    fs: AbstractFileSystem
    # A window over a timestamp column: only rows inside it count and are read (row groups whose
    # statistics lie outside are skipped); `rows_with` and `num_rows` count those rows.
    row_filter: Any = None
    # Hive keys (`dt=...`) become columns; not for a dataset whose keys are its time partitions.
    hive: bool = True
    window: TimeWindow | None = None
    # A window's small objects on S3 are fetched whole once and served from memory: a column read of
    # a small file would otherwise fetch its footer (most of such a file) again for every column.
    _whole: dict[str, bytes] = dataclasses.field(default_factory=dict, repr=False, compare=False)
    _whole_lock: threading.Lock = dataclasses.field(default_factory=threading.Lock, repr=False, compare=False)

    @dataclass(frozen=True)
    class _Layout:
        """What the footers say: (path, column names, rows) per file, and the unified schema."""

        files: list[tuple[str, frozenset[str], int]]
        schema: pa.Schema
        partitioning: Any
        partition_names: frozenset[str]

    @staticmethod
    def _plain_field(field: pa.Field) -> pa.Field:
        """Dictionary encoding is how a file stores text, not a type of its own: files may differ in it."""
        import pyarrow as pa

        if pa.types.is_dictionary(field.type):
            return field.with_type(field.type.value_type).with_metadata(None)
        return field.with_metadata(None)

    @staticmethod
    def _widened(known: pa.Field, other: pa.Field) -> pa.Field | None:
        """The field both files' values fit in, or None when they hold different kinds of values."""
        import pyarrow as pa

        if known.type == other.type:
            return known
        try:
            merged = pa.unify_schemas([pa.schema([known]), pa.schema([other])], promote_options="permissive")
        except (pa.ArrowTypeError, pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return None
        return merged.field(0).with_nullable(True)

    @cached_property
    def _arrow_fs(self) -> Any:
        import pyarrow as pa
        from pyarrow.fs import FSSpecHandler, LocalFileSystem, PyFileSystem

        if not is_s3(self.uri):
            return LocalFileSystem()
        data = self

        class _Handler(FSSpecHandler):
            def open_input_file(self, path: str) -> Any:
                whole = data.small_object(path)
                return pa.BufferReader(whole) if whole is not None else super().open_input_file(path)

        return PyFileSystem(_Handler(self.fs))

    def small_object(self, path: str) -> bytes | None:
        """A small S3 object's bytes, fetched once (None for a large one, read by ranges as before)."""
        if not is_s3(self.uri) or self.window is None:  # windowed datasets only, for now
            return None
        with self._whole_lock:
            if path in self._whole:
                return self._whole[path]
        size = int(self.fs.info(path).get("size") or 0)  # from the listing's cache: no request
        if size > SMALL_OBJECT_BYTES or sum(map(len, self._whole.values())) + size > SMALL_OBJECTS_BYTES:
            return None
        whole = bytes(self.fs.cat_file(path))
        with self._whole_lock:
            return self._whole.setdefault(path, whole)

    @cached_property
    def _layout(self) -> ParquetData._Layout:
        """Each file's columns and rows (from its footer) and the unified schema."""
        import pyarrow.dataset as ds

        partitioning = "hive" if self.hive else None
        discovered = self._open(lambda: ds.dataset(self.files, **self._dataset_options(partitioning)))
        fragments = list(discovered.get_fragments())

        def rows(fragment: Any) -> int:
            if self.row_filter is None:
                return int(fragment.metadata.num_rows)
            return int(fragment.count_rows(filter=self.row_filter))  # statistics first, then the column

        def footer(fragment: Any) -> tuple[str, pa.Schema, int]:
            try:
                return fragment.path, fragment.physical_schema, rows(fragment)
            except Exception as error:
                if type(error).__name__ in {"ArrowInvalid", "ArrowIOError", "OSError"}:
                    raise DataUnreadable(
                        f"{self.uri}: file {self._shown(fragment.path)} is not readable Parquet: {error}"
                    ) from error
                raise

        with storage_errors(self.uri), ThreadPoolExecutor(max_workers=FOOTER_READERS) as pool:
            footers = list(pool.map(footer, fragments))
        partitioning = discovered.partitioning
        partition_fields = list(partitioning.schema) if partitioning is not None else []
        return ParquetData._Layout(
            files=[(path, frozenset(schema.names), rows) for path, schema, rows in footers],
            schema=self._unified([(path, schema) for path, schema, _ in footers], partition_fields),
            partitioning=partitioning,
            partition_names=frozenset(f.name for f in partition_fields),
        )

    def _unified(self, schemas: list[tuple[str, pa.Schema]], partition_fields: list[pa.Field]) -> pa.Schema:
        import pyarrow as pa

        merged: dict[str, tuple[pa.Field, str]] = {}  # name -> (field so far, the file it came from)
        for path, schema in schemas:
            for field in schema:
                if field.name not in merged:
                    merged[field.name] = (self._plain_field(field), path)
                    continue
                known, first = merged[field.name]
                widened = self._widened(known, self._plain_field(field))
                if widened is None:
                    raise DataUnreadable(
                        f"{self.uri}: column {field.name!r} is {known.type} in file {self._shown(first)} "
                        f"but {field.type} in file {self._shown(path)}; rewrite one of them with the other's "
                        "type, or point the URI at files that agree"
                    )
                merged[field.name] = (widened, first)
        fields = [field for field, _ in merged.values()]
        fields += [f for f in partition_fields if f.name not in merged]
        return pa.schema(fields)

    def _shown(self, path: str) -> str:
        """A file as a person finds it: relative to the dataset's folder."""
        root = os.path.commonpath(self.files) if len(self.files) > 1 else os.path.dirname(self.files[0])
        return repr(os.path.relpath(path, root) if root else path)

    def _dataset_options(self, partitioning: Any, schema: pa.Schema | None = None) -> dict[str, Any]:
        return {
            "filesystem": self._arrow_fs,
            "format": "parquet",
            "partitioning": partitioning,
            "schema": schema,
        }

    def _open(self, build: Callable[[], T]) -> T:
        with storage_errors(self.uri):
            try:
                return build()
            except Exception as error:  # pyarrow raises ArrowInvalid for a corrupt footer
                if type(error).__name__ in {"ArrowInvalid", "ArrowIOError"}:
                    raise DataUnreadable(f"{self.uri}: not a readable Parquet dataset: {error}") from error
                raise

    @cached_property
    def dataset(self) -> ds.Dataset:
        import pyarrow.dataset as ds

        layout = self._layout
        return self._open(
            lambda: ds.dataset(self.files, **self._dataset_options(layout.partitioning, layout.schema))
        )

    @property
    def schema(self) -> pa.Schema:
        return self._layout.schema

    @cached_property
    def num_rows(self) -> int:
        return sum(rows for _, _, rows in self._layout.files)

    @property
    def column_names(self) -> list[str]:
        return list(self.schema.names)

    def rows_with(self, name: str) -> int:
        """Rows of the files that have column `name` (all rows for a partition column)."""
        if name in self._layout.partition_names:
            return self.num_rows
        return sum(rows for _, names, rows in self._layout.files if name in names)

    def files_with(self, name: str) -> int:
        if name in self._layout.partition_names:
            return len(self.files)
        return sum(1 for _, names, _ in self._layout.files if name in names)

    def column(self, name: str) -> pa.ChunkedArray:
        """Read one column across the files that have it (rows of the others are absent, not null)."""
        import pyarrow.dataset as ds

        if name not in self.schema.names:
            raise DataUnreadable(f"{self.uri}: no column {name!r}; it has {', '.join(self.schema.names)}")
        layout = self._layout
        having = [path for path, names, _ in layout.files if name in names or name in layout.partition_names]
        if len(having) == len(layout.files):
            return self.columns([name]).column(0)
        subset = self._open(
            lambda: ds.dataset(having, **self._dataset_options(layout.partitioning, self.schema))
        )
        return self._read(subset, [name]).column(0)

    @cached_property
    def row_groups(self) -> list[RowGroup]:
        """Every file's row groups, in file order, from the footers. Only a sharded check asks, so
        a single check reads no footer more than it did."""

        def sizes(fragment: Any) -> list[RowGroup]:
            groups = fragment.metadata
            return [
                RowGroup(file=fragment.path, index=i, rows=groups.row_group(i).num_rows)
                for i in range(groups.num_row_groups)
            ]

        fragments = list(self.dataset.get_fragments())
        with ThreadPoolExecutor(max_workers=FOOTER_READERS) as pool:
            found = self._open(lambda: list(pool.map(sizes, fragments)))
        return [group for groups in found for group in groups]

    def column_of(self, name: str, row_groups: Sequence[RowGroup]) -> pa.ChunkedArray:
        """Read one column of some row groups only (a shard's share), of the files that have it;
        an empty column of the schema's type when none of them does."""
        import pyarrow as pa
        import pyarrow.dataset as ds

        if name not in self.schema.names:
            raise DataUnreadable(f"{self.uri}: no column {name!r}; it has {', '.join(self.schema.names)}")
        layout = self._layout
        having = {path for path, names, _ in layout.files if name in names or name in layout.partition_names}
        wanted: dict[str, list[int]] = {}
        for group in row_groups:
            if group.file in having:
                wanted.setdefault(group.file, []).append(group.index)
        if not wanted:
            return pa.chunked_array([], type=self.schema.field(name).type)
        # The dataset's own fragments carry the hive partition values; a subset keeps them.
        fragments = [
            fragment.subset(row_group_ids=wanted[fragment.path])
            for fragment in self.dataset.get_fragments()
            if fragment.path in wanted
        ]
        part = self._open(
            lambda: ds.FileSystemDataset(
                fragments, self.schema, ds.ParquetFileFormat(), filesystem=self._arrow_fs
            )
        )
        return self._read(part, [name]).column(0)

    def columns(self, names: list[str]) -> pa.Table:
        """Read only `names`, across all files; a file without one of them gives nulls for it."""
        missing = [n for n in names if n not in self.schema.names]
        if missing:
            raise DataUnreadable(f"{self.uri}: no column(s) {', '.join(map(repr, missing))}")
        return self._read(self.dataset, names)

    def _read(self, dataset: ds.Dataset, names: list[str]) -> pa.Table:
        with storage_errors(self.uri):
            try:
                return dataset.to_table(columns=names, filter=self.row_filter, use_threads=True)
            except Exception as error:
                if type(error).__name__ in {"ArrowInvalid", "ArrowIOError", "ArrowNotImplementedError"}:
                    raise DataUnreadable(f"{self.uri}: cannot read {names}: {error}") from error
                raise

    def fingerprint(self) -> DataFingerprint:
        """The data version: a hash over each file's name within the dataset, its size and its
        Parquet footer (schema, row groups, every column chunk's offsets, sizes and statistics).

        The footer is part of the bytes, so the same file gives the same version however it was
        uploaded (one PUT, a multipart upload of any part size, server-side encryption) or if it
        sits on local disk; an ETag depends on all of those. It costs one ranged read per file,
        not a read of the data. Where the dataset lives does not count either: the same files
        copied elsewhere (another clone, another bucket prefix) are the same data version.
        A window over a timestamp column counts too (its files are read in part); a window over
        partitions is its files. docs/concepts.md says what a footer cannot see."""
        digest = hashlib.sha256()
        total = 0
        root = os.path.commonpath(self.files) if len(self.files) > 1 else os.path.dirname(self.files[0])
        with storage_errors(self.uri), ThreadPoolExecutor(max_workers=FOOTER_READERS) as pool:
            footers = list(
                pool.map(
                    lambda path: _parquet_footer(self.fs, path, self.uri, self.small_object(path)), self.files
                )
            )
        for path, (size, footer) in zip(self.files, footers, strict=True):
            total += size
            name = os.path.relpath(path, root)
            digest.update(f"{name}\0{size}\0{hashlib.sha256(footer).hexdigest()}\n".encode())
        if self.row_filter is not None and self.window is not None:
            # A window over a column reads part of each file: two weeks of one monthly file are two
            # versions. In UTC, so the same instants give the same version in any zone.
            start, end = (at.astimezone(UTC).isoformat() for at in (self.window.start, self.window.end))
            digest.update(f"window\0{start}\0{end}\n".encode())
        schema_hash = hashlib.sha256(self.schema.to_string(show_schema_metadata=False).encode()).hexdigest()
        return DataFingerprint(
            uri=self.uri,
            window=self.window,
            files=len(self.files),
            size=total,
            rows=self.num_rows,
            content_hash=digest.hexdigest(),
            schema_hash=schema_hash[:16],
        )


# A Parquet file ends with its footer (Thrift FileMetaData), the footer's length (4 bytes,
# little-endian) and the magic "PAR1". 64 KiB holds the footer of most files, so one ranged
# read usually does; a wider footer (thousands of columns or row groups) costs a second one.
PARQUET_MAGIC = b"PAR1"
FOOTER_GUESS_BYTES = 64 * 1024
# Objects up to 1 MiB (a day's partition of a small table, say) are read whole once; at most
# 64 MiB of them per dataset are kept, so memory stays bounded whatever the window.
SMALL_OBJECT_BYTES = 2**20
SMALL_OBJECTS_BYTES = 64 * 2**20


def _parquet_footer(
    fs: AbstractFileSystem, path: str, uri: str, whole: bytes | None = None
) -> tuple[int, bytes]:
    """The file's size and its footer's bytes, read from the end of the file (or from `whole`)."""
    size = len(whole) if whole is not None else int(fs.info(path).get("size") or 0)
    name = path.rsplit("/", 1)[-1]
    if size < 2 * len(PARQUET_MAGIC) + 4:
        raise DataUnreadable(f"{uri}: {name} is not a Parquet file ({size} bytes)")
    if whole is not None:
        tail = whole
    else:
        tail = bytes(fs.cat_file(path, start=max(0, size - FOOTER_GUESS_BYTES), end=size))
    if tail[-4:] != PARQUET_MAGIC:
        raise DataUnreadable(f"{uri}: {name} is not a Parquet file (it does not end in PAR1)")
    length = int.from_bytes(tail[-8:-4], "little")
    if length + 8 > size - len(PARQUET_MAGIC):
        raise DataUnreadable(f"{uri}: {name} is not a readable Parquet file (its footer length is wrong)")
    if length + 8 > len(tail):
        tail = bytes(fs.cat_file(path, start=size - 8 - length, end=size))
    return size, tail[-8 - length : -8]


def open_parquet(uri: str, storage: Storage | None = None) -> ParquetData:
    """Find the Parquet files behind `uri`; nothing but footers is read yet."""
    return ParquetData(uri=uri, files=list_parquet(uri, storage), fs=filesystem(uri, storage))


def write_bytes(uri: str, data: bytes, storage: Storage | None = None, durable: bool = True) -> str:
    """Write `data` to `uri` whole: a reader sees the old object or the new one, never a part.

    `durable=False` skips the local fsync, for files a reader verifies anyway (a reference
    profile's digests): a crash may then leave an empty or partial file under the name, which
    the reader refuses. S3 writes are durable either way."""
    fs = filesystem(uri, storage)
    path = _path(uri)
    with storage_errors(uri):
        if is_s3(uri):
            fs.pipe_file(path, data)  # a PUT, or a multipart upload aborted on failure: atomic
        else:
            with _replacing(path, durable) as partial, open(partial, "wb") as handle:
                handle.write(data)
    return uri


@contextmanager
def _replacing(path: str, durable: bool = True) -> Iterator[str]:
    """A hidden temporary name beside `path` to write to; renamed over `path` once complete.

    The rename is atomic, so `path` holds the old file or the new one; on failure the
    temporary file is removed. Its leading dot keeps it out of `list_parquet` if a crash
    leaves it behind."""
    import tempfile

    parent = os.path.dirname(path) or "."
    os.makedirs(parent, exist_ok=True)
    handle, partial = tempfile.mkstemp(dir=parent, prefix=f".{os.path.basename(path)}.", suffix=".partial")
    os.close(handle)
    try:
        yield partial
        if durable:
            with open(partial, "rb+") as written:
                os.fsync(written.fileno())  # the bytes are on disk before the name points at them
        os.replace(partial, path)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(partial)
        raise


def write_text(uri: str, text: str, storage: Storage | None = None) -> str:
    return write_bytes(uri, text.encode(), storage)


def read_bytes(uri: str, storage: Storage | None = None) -> bytes:
    fs = filesystem(uri, storage)
    with storage_errors(uri):
        return bytes(fs.cat_file(_path(uri)))


def exists(uri: str, storage: Storage | None = None) -> bool:
    fs = filesystem(uri, storage)
    with storage_errors(uri):
        return bool(fs.exists(_path(uri)))


def object_exists(uri: str, storage: Storage | None = None) -> bool:
    """Whether the one object (or file) `uri` is there, in one request that says why if it fails.

    On S3 this is a LIST of the key as a prefix, not a HEAD: a refused or throttled HEAD has no
    body, so it could only say "403" or "503" where a LIST says InvalidAccessKeyId or SlowDown
    (and s3fs follows a HEAD that finds nothing with a LIST anyway). A job that asks this first
    fails as precisely as one whose first request reads data."""
    if not is_s3(uri):
        return os.path.isfile(_path(uri))
    fs = filesystem(uri, storage)
    bucket, _, key = _path(uri).partition("/")
    with storage_errors(uri):
        listed = fs.call_s3("list_objects_v2", Bucket=bucket, Prefix=key, MaxKeys=1)
    # Keys sort bytewise, so the key itself, when there, is the first with it as a prefix.
    return any(item.get("Key") == key for item in listed.get("Contents", []))


def create_once(uri: str, data: bytes, storage: Storage | None = None) -> bool:
    """Write `data` to `uri` unless something is there; whether this call wrote it.

    Of two racing writers exactly one wins: locally the file is created exclusively (O_EXCL);
    on S3 the PUT is conditional (`If-None-Match: *`), so the server refuses the second with
    412 PreconditionFailed. A server that answers 501 NotImplemented to the condition gets a
    look before the write, which lets two writers within one request's time both write. A PUT
    that botocore sent again after a lost answer can find its own first attempt there and say
    False: the object is written all the same, once."""
    path = _path(uri)
    if is_s3(uri):
        fs = filesystem(uri, storage)
        try:
            with storage_errors(uri):
                fs.pipe_file(path, data, mode="create")
        except Exception as error:
            if _s3_code(error) in EXISTS_CODES or _http_status(error) in EXISTS_STATUSES:
                return False
            if _s3_code(error) != "NotImplemented" and _http_status(error) != 501:
                raise
            # A server without conditional writes: look, then write. Two writers within one
            # request's time can then both write; the later replaces the earlier.
            if object_exists(uri, storage):
                return False
            write_bytes(uri, data, storage)
        return True
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    try:
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        return False
    with storage_errors(uri), os.fdopen(handle, "wb") as out:
        out.write(data)
    return True


# A conditional PUT that lost: the object is there (412), or another conditional write of the
# same key was in flight (409 on AWS), whose writer then holds the key.
EXISTS_CODES = {"PreconditionFailed", "ConditionalRequestConflict"}
EXISTS_STATUSES = {409, 412}


def delete(uri: str, storage: Storage | None = None) -> None:
    """Remove one object or file; one that is already gone is fine."""
    fs = filesystem(uri, storage)
    with storage_errors(uri), suppress(FileNotFoundError):
        fs.rm_file(_path(uri))


def delete_folder(uri: str, storage: Storage | None = None) -> None:
    """Remove a folder (a prefix) and everything below it; one that is already gone is fine."""
    fs = filesystem(uri, storage)
    with storage_errors(uri), suppress(FileNotFoundError):
        fs.rm(_path(uri), recursive=True)


def subfolders(uri: str, storage: Storage | None = None) -> list[str]:
    """The names of the folders (prefixes) right below `uri`; none when `uri` is not there."""
    fs = filesystem(uri, storage)
    with storage_errors(uri):
        try:
            entries = (
                fs.ls(_path(uri), detail=True, refresh=True) if is_s3(uri) else fs.ls(_path(uri), detail=True)
            )
        except FileNotFoundError:
            return []
    return sorted(e["name"].rstrip("/").rsplit("/", 1)[-1] for e in entries if e["type"] == "directory")


def written_at(uri: str, storage: Storage | None = None) -> float | None:
    """When the object (or file) `uri` was written, as a Unix time; None when it is not there."""
    fs = filesystem(uri, storage)
    with storage_errors(uri):
        try:
            info = fs.info(_path(uri))
        except FileNotFoundError:
            return None
    stamp = info.get("LastModified", info.get("mtime"))
    return float(stamp.timestamp()) if hasattr(stamp, "timestamp") else float(stamp)


def copy(source: str, destination: str, storage: Storage | None = None) -> None:
    """Copy one object or a folder of objects, e.g. a model artifact on promotion.

    Each object arrives whole or not at all, and what was at the destination stays in place
    and readable until its replacement is complete. Nothing is read into memory whole: S3 to
    S3 is a server-side copy (CopyObject, or a multipart copy for large objects, aborted on
    failure); a local target is written in chunks to a hidden temporary name and renamed
    over the old file; a local file goes to S3 as a multipart upload completed only at the
    end. A folder is copied object by object, so a failure part-way leaves some objects new
    and the rest old, each of them whole."""
    fs = filesystem(source, storage)
    source_path = _path(source)
    with storage_errors(source):
        paths = fs.find(source_path) or [source_path]
    for path in paths:
        relative = path[len(source_path) :].lstrip("/")
        target = join(destination, relative) if relative else destination
        with storage_errors(target):  # names the bucket written to, where a refusal usually is
            _copy_object(fs, path, is_s3(source), target, storage)


# Server-side copies of up to this size are one CopyObject; larger ones go in parts of this
# size (S3 allows 5 MiB to 5 GiB per part and 10,000 parts), each a bounded request.
COPY_PART_BYTES = 64 * 2**20
MAX_PARTS = 10_000


def _copy_object(
    fs: AbstractFileSystem, path: str, source_is_s3: bool, target: str, storage: Storage | None
) -> None:
    if source_is_s3 and is_s3(target):
        _s3_copy(fs, path, _path(target))
    elif source_is_s3:
        with _replacing(_path(target)) as partial:
            fs.get_file(path, partial)  # streamed to disk in blocks
    elif is_s3(target):
        filesystem(target, storage).put_file(path, _path(target))
    else:
        import shutil

        with _replacing(_path(target)) as partial:
            shutil.copyfile(path, partial)  # the kernel copies in chunks (sendfile)


def _s3_copy(fs: Any, source: str, target: str) -> None:
    """A server-side copy: the bytes never pass through this process."""
    size = int(fs.info(source)["size"])
    bucket, key, _ = fs.split_path(target)
    source_bucket, source_key, _ = fs.split_path(source)
    copy_source = {"Bucket": source_bucket, "Key": source_key}
    if size <= COPY_PART_BYTES:
        fs.call_s3("copy_object", Bucket=bucket, Key=key, CopySource=copy_source)
    else:
        part = max(COPY_PART_BYTES, -(-size // MAX_PARTS))
        upload = fs.call_s3("create_multipart_upload", Bucket=bucket, Key=key)["UploadId"]
        try:
            parts = []
            for number, start in enumerate(range(0, size, part), start=1):
                end = min(start + part, size) - 1
                copied = fs.call_s3(
                    "upload_part_copy",
                    Bucket=bucket,
                    Key=key,
                    UploadId=upload,
                    PartNumber=number,
                    CopySource=copy_source,
                    CopySourceRange=f"bytes={start}-{end}",
                )
                parts.append({"PartNumber": number, "ETag": copied["CopyPartResult"]["ETag"]})
            fs.call_s3(
                "complete_multipart_upload",
                Bucket=bucket,
                Key=key,
                UploadId=upload,
                MultipartUpload={"Parts": parts},
            )
        except BaseException:
            # Until it completes, the upload is invisible at `key`; aborting frees its parts.
            with suppress(Exception):
                fs.call_s3("abort_multipart_upload", Bucket=bucket, Key=key, UploadId=upload)
            raise
    fs.invalidate_cache(target)


def retrying(
    action: Callable[[], T], attempts: int = OPERATION_ATTEMPTS, delay: float = OPERATION_RETRY_DELAY
) -> T:
    """Run `action`; when a response broke off mid-body (ReadInterrupted), run it again.

    Waits delay, 2*delay, ... (with jitter) between attempts, then gives up loudly. Other
    transient errors are not retried here: botocore has retried their request already
    (REQUEST_ATTEMPTS), and one more layer would only multiply the wait; they end the job
    with exit 75 so the Job retries the pod.
    """
    import random
    import time

    for attempt in range(1, attempts + 1):
        try:
            return action()
        except ReadInterrupted:
            if attempt == attempts:
                raise
            time.sleep(delay * 2 ** (attempt - 1) * (0.5 + random.random() / 2))  # noqa: S311
    raise AssertionError("unreachable")
