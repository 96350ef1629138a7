"""Object storage: the one module that reads and writes data, on S3 or local disk.

A URI is a Parquet file, a directory/prefix (partitioned datasets included) or a
glob, written as `s3://bucket/key`, `file:///path` or a plain path. S3 goes
through s3fs; the endpoint and region come from the spec's `storage` section and
the credentials from the environment (`AWS_ACCESS_KEY_ID`,
`AWS_SECRET_ACCESS_KEY`), which the operator fills from a Secret. Nothing here
ever logs or returns a credential.

Every failure leaves as one of kubedrift's errors (`kubedrift.errors`): missing
data as DataNotFound, corrupt files as DataUnreadable, refused credentials as
ConfigError, an unreachable endpoint as TransientError after s3fs's retries. TLS
is always verified: against AWS_CA_BUNDLE when set (the operator sets it from
`storage.caBundle`), else the default CAs; an untrusted certificate is a ConfigError.
"""

from __future__ import annotations

import hashlib
import os
import ssl
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from kubedrift.errors import ConfigError, DataNotFound, DataUnreadable, TransientError
from kubedrift.models.results import DataFingerprint
from kubedrift.uris import is_s3, join, local_path  # also storage.join etc. for callers that open data

if TYPE_CHECKING:
    import pyarrow as pa
    import pyarrow.dataset as ds
    from fsspec import AbstractFileSystem

    from kubedrift.models.driftcheck import Storage

T = TypeVar("T")
GLOB_CHARS = "*?["


def filesystem(uri: str, storage: Storage | None = None) -> AbstractFileSystem:
    """The fsspec filesystem for `uri`, configured from the spec and the environment."""
    if not is_s3(uri):
        from fsspec.implementations.local import LocalFileSystem

        return LocalFileSystem(auto_mkdir=True)
    import s3fs

    client_kwargs: dict[str, Any] = {}
    endpoint = storage.endpoint if storage else None
    region = storage.region if storage else None
    if region:
        client_kwargs["region_name"] = region
    return s3fs.S3FileSystem(
        endpoint_url=endpoint or os.environ.get("AWS_ENDPOINT_URL"),
        client_kwargs=client_kwargs,
        # botocore's own retries cover throttling and dropped connections.
        config_kwargs={"retries": {"max_attempts": 3, "mode": "standard"}, "connect_timeout": 5},
        skip_instance_cache=True,
    )


def _path(uri: str) -> str:
    return uri.removeprefix("s3://") if is_s3(uri) else local_path(uri)


@contextmanager
def storage_errors(uri: str) -> Iterator[None]:
    """Translate what s3fs, botocore and the OS raise into kubedrift's errors."""
    try:
        yield
    except (DataNotFound, DataUnreadable, ConfigError, TransientError):
        raise
    except FileNotFoundError as error:
        raise DataNotFound(f"{uri}: not found") from error
    except PermissionError as error:
        raise ConfigError(
            f"{uri}: access denied; check the credentials in storage.secretRef and the bucket policy"
        ) from error
    except OSError as error:
        if (untrusted := _untrusted_certificate(uri, error)) is not None:
            raise ConfigError(untrusted) from error
        if _is_connection_error(error):
            raise TransientError(f"{uri}: storage unreachable ({type(error).__name__})") from error
        raise DataUnreadable(f"{uri}: {error}") from error
    except Exception as error:
        if _is_connection_error(error):
            raise TransientError(f"{uri}: storage unreachable ({type(error).__name__})") from error
        if type(error).__name__ in {"NoCredentialsError", "PartialCredentialsError"}:
            raise ConfigError(
                f"{uri}: no S3 credentials; name a Secret in storage.secretRef "
                "(AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)"
            ) from error
        raise


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


def _is_connection_error(error: BaseException) -> bool:
    names = {type(e).__name__ for e in _causes(error)}
    return bool(
        names
        & {
            "EndpointConnectionError",
            "ConnectTimeoutError",
            "ReadTimeoutError",
            "ClientConnectorError",
            "ServerDisconnectedError",
            "ConnectionRefusedError",
            "TimeoutError",
        }
    )


def _causes(error: BaseException) -> Iterator[BaseException]:
    seen: BaseException | None = error
    while seen is not None:
        yield seen
        seen = seen.__cause__ or seen.__context__


def list_parquet(uri: str, storage: Storage | None = None) -> list[str]:
    """The Parquet files behind `uri`, sorted, as paths of its filesystem.

    A file is itself; a directory or prefix is every `*.parquet` below it
    (hive-partitioned folders included); a glob is what it matches.
    """
    fs = filesystem(uri, storage)
    path = _path(uri)
    with storage_errors(uri):
        if any(c in path for c in GLOB_CHARS):
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


def _hidden(path: str) -> bool:
    # Spark and friends leave _SUCCESS and .crc files beside the data.
    return any(part.startswith(("_", ".")) and "=" not in part for part in path.split("/")[-1:])


@dataclass
class ParquetData:
    """A Parquet dataset that is read one column at a time.

    Only the schema and row counts are read up front (from the footers); each
    `column()` call reads that column alone, so peak memory is about one column,
    not the whole table.
    """

    uri: str
    files: list[str]
    fs: AbstractFileSystem

    @cached_property
    def dataset(self) -> ds.Dataset:
        import pyarrow.dataset as ds
        from pyarrow.fs import FSSpecHandler, LocalFileSystem, PyFileSystem

        arrow_fs = PyFileSystem(FSSpecHandler(self.fs)) if is_s3(self.uri) else LocalFileSystem()
        with storage_errors(self.uri):
            try:
                return ds.dataset(self.files, filesystem=arrow_fs, format="parquet", partitioning="hive")
            except Exception as error:  # pyarrow raises ArrowInvalid for a corrupt footer
                if type(error).__name__ in {"ArrowInvalid", "ArrowIOError"}:
                    raise DataUnreadable(f"{self.uri}: not a readable Parquet dataset: {error}") from error
                raise

    @property
    def schema(self) -> pa.Schema:
        return self.dataset.schema

    @cached_property
    def num_rows(self) -> int:
        with storage_errors(self.uri):
            return int(self.dataset.count_rows())

    @property
    def column_names(self) -> list[str]:
        return list(self.schema.names)

    def column(self, name: str) -> pa.ChunkedArray:
        """Read one column across all files."""
        if name not in self.schema.names:
            raise DataUnreadable(f"{self.uri}: no column {name!r}; it has {', '.join(self.schema.names)}")
        return self.columns([name]).column(0)

    def columns(self, names: list[str]) -> pa.Table:
        """Read only `names`, across all files."""
        missing = [n for n in names if n not in self.schema.names]
        if missing:
            raise DataUnreadable(f"{self.uri}: no column(s) {', '.join(map(repr, missing))}")
        with storage_errors(self.uri):
            try:
                return self.dataset.to_table(columns=names, use_threads=True)
            except Exception as error:
                if type(error).__name__ in {"ArrowInvalid", "ArrowIOError", "ArrowNotImplementedError"}:
                    raise DataUnreadable(f"{self.uri}: cannot read {names}: {error}") from error
                raise

    def fingerprint(self) -> DataFingerprint:
        """The data version: a hash over each file's name within the dataset, size and etag or
        content hash. Where the dataset lives does not count: the same files copied elsewhere
        (another clone, another bucket prefix) are the same data version."""
        digest = hashlib.sha256()
        total = 0
        root = os.path.commonpath(self.files) if len(self.files) > 1 else os.path.dirname(self.files[0])
        with storage_errors(self.uri):
            for path in self.files:
                info = self.fs.info(path)
                size = int(info.get("size") or 0)
                total += size
                tag = info.get("ETag") or info.get("etag") or _content_hash(self.fs, path)
                digest.update(f"{os.path.relpath(path, root)}\0{size}\0{tag}\n".encode())
        schema_hash = hashlib.sha256(self.schema.to_string(show_schema_metadata=False).encode()).hexdigest()
        return DataFingerprint(
            uri=self.uri,
            files=len(self.files),
            size=total,
            rows=self.num_rows,
            content_hash=digest.hexdigest(),
            schema_hash=schema_hash[:16],
        )


def _content_hash(fs: AbstractFileSystem, path: str) -> str:
    digest = hashlib.sha256()
    with fs.open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def open_parquet(uri: str, storage: Storage | None = None) -> ParquetData:
    """Find the Parquet files behind `uri`; nothing but footers is read yet."""
    return ParquetData(uri=uri, files=list_parquet(uri, storage), fs=filesystem(uri, storage))


def write_bytes(uri: str, data: bytes, storage: Storage | None = None) -> str:
    """Write `data` to `uri` whole: a reader sees the old object or the new one."""
    fs = filesystem(uri, storage)
    path = _path(uri)
    with storage_errors(uri):
        if is_s3(uri):
            fs.pipe_file(path, data)  # an S3 PUT is atomic
        else:
            parent = os.path.dirname(path)
            if parent:
                os.makedirs(parent, exist_ok=True)
            partial = f"{path}.partial"
            with open(partial, "wb") as handle:
                handle.write(data)
            os.replace(partial, path)
    return uri


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


def copy(source: str, destination: str, storage: Storage | None = None) -> None:
    """Copy one object or a folder of objects, e.g. a model artifact on promotion."""
    fs = filesystem(source, storage)
    with storage_errors(source):
        for path in fs.find(_path(source)) or [_path(source)]:
            relative = path[len(_path(source)) :].lstrip("/")
            target = join(destination, relative) if relative else destination
            write_bytes(target, bytes(fs.cat_file(path)), storage)


def retrying(action: Callable[[], T], attempts: int = 3, delay: float = 1.0) -> T:
    """Run `action`, retrying TransientError with a growing delay, then give up loudly."""
    import time

    for attempt in range(1, attempts + 1):
        try:
            return action()
        except TransientError:
            if attempt == attempts:
                raise
            time.sleep(delay * attempt)
    raise AssertionError("unreachable")
