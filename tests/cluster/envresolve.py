"""A container's environment, resolved the way the kubelet resolves it. Pure: no API calls.

The caller fetches the ConfigMaps and Secrets the pod refers to (`referenced_objects`) and passes
them in. Order matches the kubelet: service variables, then envFrom, then env entries in order,
each `value` expanding `$(NAME)` against what is defined so far.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from typing import Any

JSON = dict[str, Any]


class EnvError(Exception):
    """The container cannot start: a reference is missing (the kubelet's CreateContainerConfigError)."""


def expand(text: str, defined: Mapping[str, str]) -> str:
    """Kubernetes `$(VAR)` expansion: `$$` is a literal `$`; unknown `$(VAR)` stays as written."""
    out: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "$" and i + 1 < len(text):
            following = text[i + 1]
            if following == "$":
                out.append("$")
                i += 2
                continue
            if following == "(":
                end = text.find(")", i + 2)
                if end != -1:
                    name = text[i + 2 : end]
                    out.append(defined.get(name, text[i : end + 1]))
                    i = end + 1
                    continue
        out.append(char)
        i += 1
    return "".join(out)


_SUBSCRIPT = re.compile(r"^metadata\.(labels|annotations)\['(.+)'\]$")


def field_value(pod: JSON, path: str) -> str:
    """Value of a downward-API fieldRef path, e.g. metadata.annotations['batch.kubernetes.io/...']."""
    metadata = pod.get("metadata", {})
    subscript = _SUBSCRIPT.match(path)
    if subscript:
        return str(metadata.get(subscript.group(1), {}).get(subscript.group(2), ""))
    simple: dict[str, Any] = {
        "metadata.name": metadata.get("name"),
        "metadata.namespace": metadata.get("namespace"),
        "metadata.uid": metadata.get("uid"),
        "metadata.labels": _as_lines(metadata.get("labels", {})),
        "metadata.annotations": _as_lines(metadata.get("annotations", {})),
        "spec.nodeName": pod.get("spec", {}).get("nodeName"),
        "spec.serviceAccountName": pod.get("spec", {}).get("serviceAccountName"),
        "status.hostIP": pod.get("status", {}).get("hostIP"),
        "status.hostIPs": _ips(pod.get("status", {}).get("hostIPs")),
        "status.podIP": pod.get("status", {}).get("podIP"),
        "status.podIPs": _ips(pod.get("status", {}).get("podIPs")),
    }
    if path not in simple:
        raise EnvError(f"unsupported fieldRef {path!r}")
    return "" if simple[path] is None else str(simple[path])


def _as_lines(mapping: Mapping[str, str]) -> str:
    # The downward API's file format for whole label/annotation maps.
    return "\n".join(f'{key}="{value}"' for key, value in sorted(mapping.items()))


def _ips(entries: list[JSON] | None) -> str | None:
    return ",".join(entry["ip"] for entry in entries) if entries else None


def secret_data(secret: JSON) -> dict[str, str]:
    return {
        key: base64.b64decode(value).decode(errors="replace")
        for key, value in (secret.get("data") or {}).items()
    }


def configmap_data(configmap: JSON) -> dict[str, str]:
    return dict(configmap.get("data") or {})


def _lookup(kind: str, objects: Mapping[str, Mapping[str, str]], ref: JSON) -> str | None:
    name, key, optional = ref.get("name", ""), ref["key"], bool(ref.get("optional"))
    if name not in objects:
        if optional:
            return None
        raise EnvError(f'{kind} "{name}" not found')
    if key not in objects[name]:
        if optional:
            return None
        raise EnvError(f"couldn't find key {key} in {kind} {name}")
    return objects[name][key]


def resolve_env(
    pod: JSON,
    container: JSON,
    *,
    configmaps: Mapping[str, Mapping[str, str]],
    secrets: Mapping[str, Mapping[str, str]],
    service_env: Mapping[str, str],
) -> dict[str, str]:
    env: dict[str, str] = dict(service_env)
    for source in container.get("envFrom") or []:
        prefix = source.get("prefix", "")
        if "configMapRef" in source:
            ref, kind, objects = source["configMapRef"], "configmap", configmaps
        else:
            ref, kind, objects = source["secretRef"], "secret", secrets
        if ref.get("name") not in objects:
            if ref.get("optional"):
                continue
            raise EnvError(f'{kind} "{ref.get("name")}" not found')
        env.update({prefix + key: value for key, value in objects[ref["name"]].items()})

    for entry in container.get("env") or []:
        value_from = entry.get("valueFrom")
        if value_from is None:
            env[entry["name"]] = expand(entry.get("value", ""), env)
            continue
        value: str | None
        if "fieldRef" in value_from:
            value = field_value(pod, value_from["fieldRef"]["fieldPath"])
        elif "configMapKeyRef" in value_from:
            value = _lookup("configmap", configmaps, value_from["configMapKeyRef"])
        elif "secretKeyRef" in value_from:
            value = _lookup("secret", secrets, value_from["secretKeyRef"])
        elif "resourceFieldRef" in value_from:
            value = resource_value(container, value_from["resourceFieldRef"])
        else:
            raise EnvError(f"unsupported valueFrom for {entry['name']}: {sorted(value_from)}")
        if value is not None:
            env[entry["name"]] = value
    return env


# Stand-in node capacity for resourceFieldRef when the container sets no limit.
NODE_CAPACITY = {"cpu": "2", "memory": "8Gi", "ephemeral-storage": "20Gi"}


def resource_value(container: JSON, ref: JSON) -> str:
    """resourceFieldRef without divisor arithmetic: the quantity as written, or the node's capacity."""
    section, _, resource = ref["resource"].partition(".")
    resources = container.get("resources") or {}
    return str((resources.get(section) or {}).get(resource) or NODE_CAPACITY.get(resource, "0"))


def referenced_objects(pod: JSON) -> tuple[set[str], set[str]]:
    """Names of the ConfigMaps and Secrets the pod's containers and volumes refer to."""
    configmaps: set[str] = set()
    secrets: set[str] = set()
    spec = pod.get("spec", {})
    for container in (spec.get("initContainers") or []) + (spec.get("containers") or []):
        for source in container.get("envFrom") or []:
            if "configMapRef" in source:
                configmaps.add(source["configMapRef"]["name"])
            if "secretRef" in source:
                secrets.add(source["secretRef"]["name"])
        for entry in container.get("env") or []:
            value_from = entry.get("valueFrom") or {}
            if "configMapKeyRef" in value_from:
                configmaps.add(value_from["configMapKeyRef"]["name"])
            if "secretKeyRef" in value_from:
                secrets.add(value_from["secretKeyRef"]["name"])
    for volume in spec.get("volumes") or []:
        if "configMap" in volume:
            configmaps.add(volume["configMap"]["name"])
        if "secret" in volume:
            secrets.add(volume["secret"]["secretName"])
        for source in (volume.get("projected") or {}).get("sources") or []:
            if "configMap" in source:
                configmaps.add(source["configMap"]["name"])
            if "secret" in source:
                secrets.add(source["secret"]["name"])
    return configmaps, secrets
