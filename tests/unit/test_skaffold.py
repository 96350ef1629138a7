"""skaffold.yaml, checked without a skaffold binary (none exists on our machines).

The field names below are the subset of skaffold's published `skaffold/v4beta14` JSON schema
(docs-v2/content/en/schemas/v4beta14.json in GoogleContainerTools/skaffold) for the objects this
file uses; every object there has additionalProperties false, so an unknown key is an error.
Profiles are checked after their JSON patches are applied, as skaffold does.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SKAFFOLD = yaml.safe_load((ROOT / "skaffold.yaml").read_text())
CHART = ROOT / "charts" / "kubedrift"

RELEASE = {
    "name",
    "chartPath",
    "remoteChart",
    "valuesFiles",
    "namespace",
    "version",
    "setValues",
    "setValueTemplates",
    "setFiles",
    "createNamespace",
    "wait",
    "recreatePods",
    "skipBuildDependencies",
    "skipTests",
    "useHelmSecrets",
    "repo",
    "upgradeOnChange",
    "overrides",
    "packaged",
    "dependsOn",
}
# Each object: its allowed fields, and the object kind of each field worth descending into.
FIELDS: dict[str, tuple[set[str], dict[str, str]]] = {
    "Config": (
        {
            "apiVersion",
            "kind",
            "metadata",
            "requires",
            "build",
            "test",
            "manifests",
            "deploy",
            "portForward",
            "resourceSelector",
            "verify",
            "customActions",
            "profiles",
        },
        {"metadata": "Metadata", "build": "Build", "manifests": "Render", "deploy": "Deploy"},
    ),
    "Metadata": ({"name", "labels", "annotations"}, {}),
    "Build": (
        {"artifacts", "insecureRegistries", "tagPolicy", "platforms", "local", "googleCloudBuild", "cluster"},
        {"artifacts": "Artifact[]", "tagPolicy": "TagPolicy", "local": "LocalBuild"},
    ),
    "Artifact": (
        {"image", "context", "sync", "requires", "hooks", "platforms", "runtimeType", "docker"},
        {"docker": "DockerArtifact"},
    ),
    "DockerArtifact": (
        {
            "dockerfile",
            "target",
            "buildArgs",
            "network",
            "addHost",
            "cacheFrom",
            "cacheTo",
            "cliFlags",
            "pullParent",
            "noCache",
            "squash",
            "secrets",
            "ssh",
        },
        {},
    ),
    "TagPolicy": (
        {"gitCommit", "sha256", "envTemplate", "dateTime", "customTemplate", "inputDigest"},
        {"gitCommit": "GitTagger"},
    ),
    "GitTagger": ({"variant", "prefix", "ignoreChanges"}, {}),
    "LocalBuild": ({"push", "tryImportMissing", "useDockerCLI", "useBuildkit", "concurrency"}, {}),
    "Render": (
        {"rawYaml", "kustomize", "helm", "kpt", "transform", "validate", "hooks"},
        {"helm": "RenderHelm"},
    ),
    "RenderHelm": ({"flags", "releases"}, {"releases": "HelmRelease[]"}),
    "Deploy": (
        {
            "docker",
            "helm",
            "kpt",
            "kubectl",
            "cloudrun",
            "statusCheck",
            "statusCheckDeadlineSeconds",
            "tolerateFailuresUntilDeadline",
            "kubeContext",
            "logs",
        },
        {"helm": "LegacyHelmDeploy", "kubectl": "KubectlDeploy"},
    ),
    "LegacyHelmDeploy": ({"concurrency", "releases", "flags", "hooks"}, {"releases": "HelmRelease[]"}),
    "KubectlDeploy": ({"flags", "remoteManifests", "defaultNamespace", "hooks"}, {}),
    "HelmRelease": (RELEASE, {}),
    "Profile": (
        {
            "name",
            "activation",
            "requiresAllActivations",
            "patches",
            "build",
            "test",
            "manifests",
            "deploy",
            "portForward",
            "resourceSelector",
            "verify",
            "customActions",
        },
        {"activation": "Activation[]", "patches": "JsonPatch[]"},
    ),
    "Activation": ({"env", "kubeContext", "command"}, {}),
    "JsonPatch": ({"op", "path", "from", "value"}, {}),
}


def unknown_fields(node: Any, kind: str, where: str = "") -> list[str]:
    if kind.endswith("[]"):
        return [
            err for i, item in enumerate(node) for err in unknown_fields(item, kind[:-2], f"{where}[{i}]")
        ]
    allowed, children = FIELDS[kind]
    errors = [f"{where}.{key} (not a field of {kind})" for key in node if key not in allowed]
    for key, child_kind in children.items():
        if key in node:
            errors += unknown_fields(node[key], child_kind, f"{where}.{key}")
    return errors


def apply_patches(config: dict[str, Any], patches: list[dict[str, Any]]) -> dict[str, Any]:
    """The JSON patch operations skaffold profiles use (RFC 6902 add/replace/remove); a path
    that does not exist fails, as it fails in skaffold."""
    out = copy.deepcopy(config)
    for patch in patches:
        *parents, last = [p.replace("~1", "/").replace("~0", "~") for p in patch["path"].split("/")[1:]]
        node: Any = out
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        key: Any = int(last) if isinstance(node, list) else last
        if patch["op"] == "remove" or patch["op"] == "replace":
            assert key in node if isinstance(node, dict) else key < len(node), (
                f"{patch['path']} does not exist"
            )
        if patch["op"] == "remove":
            del node[key]
        else:
            node[key] = copy.deepcopy(patch["value"])
    return out


def profile_configs() -> dict[str, dict[str, Any]]:
    base = {k: v for k, v in SKAFFOLD.items() if k != "profiles"}
    configs = {"(default)": base}
    for profile in SKAFFOLD["profiles"]:
        configs[profile["name"]] = apply_patches(base, profile.get("patches", []))
    return configs


def releases(config: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        *config.get("deploy", {}).get("helm", {}).get("releases", []),
        *config.get("manifests", {}).get("helm", {}).get("releases", []),
    ]


def test_schema_version_and_known_fields() -> None:
    assert SKAFFOLD["apiVersion"] == "skaffold/v4beta14" and SKAFFOLD["kind"] == "Config"
    errors = unknown_fields({k: v for k, v in SKAFFOLD.items() if k != "profiles"}, "Config")
    errors += unknown_fields(SKAFFOLD["profiles"], "Profile[]", "profiles")
    for name, config in profile_configs().items():
        errors += unknown_fields(config, "Config", f"<{name}>")
    assert errors == []


def test_unknown_fields_are_caught() -> None:
    assert unknown_fields({"build": {"artifacts": [{"image": "x", "dockerfile": "D"}]}}, "Config")


def test_both_images_are_built_from_their_dockerfiles() -> None:
    artifacts = {a["image"]: a for a in SKAFFOLD["build"]["artifacts"]}
    assert set(artifacts) == {"kubedrift-operator", "kubedrift-jobs"}
    for artifact in artifacts.values():
        assert (ROOT / artifact["context"] / artifact["docker"]["dockerfile"]).is_file()


def test_profiles_for_a_local_cluster_and_for_gitops_rendering() -> None:
    configs = profile_configs()
    assert configs["local"]["build"]["local"]["push"] is False
    gitops = configs["gitops"]
    assert releases(gitops) and "helm" not in gitops["deploy"]  # rendered, then applied by the GitOps tool
    assert all(releases(config) for config in configs.values())


def _value_paths(schema: dict[str, Any], prefix: str = "") -> set[str]:
    paths = set()
    for key, sub in schema.get("properties", {}).items():
        paths.add(prefix + key)
        paths |= _value_paths(sub, f"{prefix}{key}.")
    return paths


@pytest.mark.parametrize("profile", ["(default)", "local", "gitops"])
def test_releases_name_the_chart_existing_values_and_built_images(profile: str) -> None:
    schema_paths = _value_paths(json.loads((CHART / "values.schema.json").read_text()))
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    artifact_vars = {re.sub(r"[^A-Za-z0-9]", "_", a["image"]) for a in SKAFFOLD["build"]["artifacts"]}
    for release in releases(profile_configs()[profile]):
        assert (ROOT / release["chartPath"] / "Chart.yaml").is_file()
        for path, template in {
            **release.get("setValueTemplates", {}),
            **release.get("setValues", {}),
        }.items():
            assert path in schema_paths, f"{path} is not in values.schema.json"
            node: Any = values
            for part in path.split("."):
                node = node[part]  # KeyError: not in values.yaml
            for var in re.findall(r"\{\{\s*\.IMAGE_(?:REPO|TAG|DIGEST)_(\w+)\s*\}\}", str(template)):
                assert var in artifact_vars, f"{template} names no artifact"
