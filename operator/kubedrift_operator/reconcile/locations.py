"""Where a DriftCheck's pods can read and write: object storage only.

A local path (`/data/x.parquet`, `file:///data`) names files on the machine that wrote the
manifest; no pod sees them. The same file stays valid for `kubedrift run`, so the schema
accepts it and the operator refuses it, before any child exists.
"""

from __future__ import annotations

from kubedrift.models.driftcheck import DriftCheckSpec
from kubedrift.uris import is_s3

REASON = "LocalPath"


def locations(spec: DriftCheckSpec) -> dict[str, str]:
    """Every data location of the spec, by the field that names it."""
    found = {
        "spec.reference.uri": spec.reference.uri,
        "spec.current.uri": spec.current.uri,
        "spec.storage.reportsUri": spec.storage.reports_uri,
    }
    if spec.retrain is not None:
        found["spec.retrain.train.uri"] = spec.retrain.train.uri
        found["spec.retrain.test.uri"] = spec.retrain.test.uri
    if spec.promotion.uri is not None:
        found["spec.promotion.uri"] = spec.promotion.uri
    return found


def local_path_problem(spec: DriftCheckSpec) -> str | None:
    """Why the cluster can't run this spec, naming the first local path; None when it can."""
    local = [(field, uri) for field, uri in locations(spec).items() if not is_s3(uri)]
    if not local:
        return None
    field, uri = local[0]
    more = f" (and {len(local) - 1} more)" if len(local) > 1 else ""
    return (
        f"{field} is a local path ({uri}){more}: pods in a cluster can't read this machine's files; "
        "use s3:// URIs with spec.storage, or run the file without a cluster with `kubedrift run`"
    )
