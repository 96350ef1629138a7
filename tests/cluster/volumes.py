"""A pod's volumes as directories on the host, ready to be bind-mounted into its containers.

The caller fetches what the volumes refer to (ConfigMaps, Secrets) and passes a function that
mints service-account tokens; this module only writes files. Contents are written once, when
the pod starts: unlike a kubelet, later ConfigMap changes are not synced into running pods.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from pathlib import Path

from tests.cluster.envresolve import JSON, field_value, resource_value
from tests.cluster.sandbox import Mount

# (audience or None, expirationSeconds) -> a token bound to this pod
TokenMinter = Callable[[str | None, int], str]


class VolumeError(Exception):
    """A volume cannot be set up (a kubelet would keep the pod in ContainerCreating)."""


def _write(directory: Path, relative: str, content: bytes, mode: int | None) -> None:
    path = directory / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    path.chmod(mode if mode is not None else 0o644)


def _write_keys(
    directory: Path, data: Mapping[str, bytes], items: list[JSON] | None, default_mode: int | None, what: str
) -> None:
    if not items:
        for key, content in data.items():
            _write(directory, key, content, default_mode)
        return
    for item in items:
        if item["key"] not in data:
            raise VolumeError(f"{what}: key {item['key']!r} not found")
        _write(directory, item["path"], data[item["key"]], item.get("mode", default_mode))


def _configmap_bytes(configmap: JSON) -> dict[str, bytes]:
    data = {key: value.encode() for key, value in (configmap.get("data") or {}).items()}
    return data | {key: base64.b64decode(value) for key, value in (configmap.get("binaryData") or {}).items()}


def _secret_bytes(secret: JSON) -> dict[str, bytes]:
    return {key: base64.b64decode(value) for key, value in (secret.get("data") or {}).items()}


def _fetched(objects: Mapping[str, JSON], name: str, optional: bool, what: str) -> JSON | None:
    if name in objects:
        return objects[name]
    if optional:
        return None
    raise VolumeError(f'{what} "{name}" not found')


def _downward_api(
    directory: Path, pod: JSON, container: JSON, items: list[JSON], default_mode: int | None
) -> None:
    for item in items:
        if "fieldRef" in item:
            value = field_value(pod, item["fieldRef"]["fieldPath"])
        else:
            value = resource_value(container, item["resourceFieldRef"])
        _write(directory, item["path"], value.encode(), item.get("mode", default_mode))


def materialize(
    pod: JSON,
    root: Path,
    *,
    configmaps: Mapping[str, JSON],
    secrets: Mapping[str, JSON],
    mint_token: TokenMinter,
) -> dict[str, Path]:
    """Write every volume of the pod under root; returns volume name -> host directory (or file)."""
    spec = pod["spec"]
    first_container = (spec.get("containers") or [{}])[0]
    paths: dict[str, Path] = {}
    for volume in spec.get("volumes") or []:
        name = volume["name"]
        if "hostPath" in volume:
            paths[name] = Path(volume["hostPath"]["path"])
            continue
        directory = root / name
        directory.mkdir(parents=True, exist_ok=True)
        paths[name] = directory
        if "emptyDir" in volume:
            continue
        if "configMap" in volume:
            source = volume["configMap"]
            configmap = _fetched(configmaps, source["name"], bool(source.get("optional")), "configmap")
            if configmap is not None:
                _write_keys(
                    directory,
                    _configmap_bytes(configmap),
                    source.get("items"),
                    source.get("defaultMode"),
                    f"configmap {source['name']}",
                )
        elif "secret" in volume:
            source = volume["secret"]
            secret = _fetched(secrets, source["secretName"], bool(source.get("optional")), "secret")
            if secret is not None:
                _write_keys(
                    directory,
                    _secret_bytes(secret),
                    source.get("items"),
                    source.get("defaultMode"),
                    f"secret {source['secretName']}",
                )
        elif "downwardAPI" in volume:
            source = volume["downwardAPI"]
            _downward_api(
                directory, pod, first_container, source.get("items") or [], source.get("defaultMode")
            )
        elif "projected" in volume:
            _projected(directory, pod, first_container, volume["projected"], configmaps, secrets, mint_token)
        else:
            kinds = sorted(set(volume) - {"name"})
            raise VolumeError(
                f"volume {name!r}: unsupported volume type {kinds} (the node agent has no storage)"
            )
    return paths


def _projected(
    directory: Path,
    pod: JSON,
    container: JSON,
    projected: JSON,
    configmaps: Mapping[str, JSON],
    secrets: Mapping[str, JSON],
    mint_token: TokenMinter,
) -> None:
    default_mode = projected.get("defaultMode")
    for source in projected.get("sources") or []:
        if "serviceAccountToken" in source:
            token = source["serviceAccountToken"]
            content = mint_token(token.get("audience"), int(token.get("expirationSeconds", 3607)))
            _write(directory, token["path"], content.encode(), default_mode)
        elif "configMap" in source:
            ref = source["configMap"]
            configmap = _fetched(configmaps, ref["name"], bool(ref.get("optional")), "configmap")
            if configmap is not None:
                _write_keys(
                    directory,
                    _configmap_bytes(configmap),
                    ref.get("items"),
                    default_mode,
                    f"configmap {ref['name']}",
                )
        elif "secret" in source:
            ref = source["secret"]
            secret = _fetched(secrets, ref["name"], bool(ref.get("optional")), "secret")
            if secret is not None:
                _write_keys(
                    directory, _secret_bytes(secret), ref.get("items"), default_mode, f"secret {ref['name']}"
                )
        elif "downwardAPI" in source:
            _downward_api(directory, pod, container, source["downwardAPI"].get("items") or [], default_mode)
        else:
            raise VolumeError(f"unsupported projected source {sorted(source)}")


def container_mounts(container: JSON, volume_paths: Mapping[str, Path]) -> list[Mount]:
    """The bind mounts for each of the container's volumeMounts, honouring subPath."""
    mounts = []
    for mount in container.get("volumeMounts") or []:
        if mount["name"] not in volume_paths:
            raise VolumeError(f"volumeMount {mount['name']!r} names no volume of the pod")
        source = volume_paths[mount["name"]]
        if mount.get("subPath"):
            source = source / mount["subPath"]
            if not source.exists():
                source.mkdir(parents=True)
        mounts.append(Mount(source, mount["mountPath"], bool(mount.get("readOnly"))))
    return mounts
