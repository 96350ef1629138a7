"""`kubedrift promote-copy`: copy a model artifact to its production location.

Runs as a short Job so that the operator never holds storage credentials: the pod
gets them from the DriftCheck's Secret, its storage settings from the check config.
A file is copied into the destination folder under its own name; a folder is copied
as a whole.
"""

from __future__ import annotations

from kubedrift import storage
from kubedrift.models.driftcheck import Storage
from kubedrift.models.jobconfig import CheckJobConfig
from kubedrift_jobs.runtime import fit_message, load_config, run_job


def target_of(source: str, destination: str, source_is_file: bool) -> str:
    if not source_is_file:
        return destination
    return storage.join(destination, source.rstrip("/").rsplit("/", 1)[-1])


def copy_model(source: str, destination: str, settings: Storage | None) -> str:
    """Copy a model artifact (file or folder) into `destination`; returns where it landed."""
    fs = storage.filesystem(source, settings)
    with storage.storage_errors(source):
        is_file = bool(fs.isfile(storage.local_path(source).removeprefix("s3://")))
    target = target_of(source, destination, is_file)
    storage.retrying(lambda: storage.copy(source, target, settings))
    return target


def promote_copy(source: str, destination: str, config_path: str | None = None) -> int:
    def body() -> str:
        config = load_config(CheckJobConfig, config_path)
        target = copy_model(source, destination, config.storage)
        return fit_message({"source": source, "destination": target}, lambda _: None)  # bounded in bytes

    return run_job(body)
