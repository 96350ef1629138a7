"""The committed CRDs are exactly what the resource models generate."""

from pathlib import Path

from kubedrift.models.crd import crd_manifests

CHART_CRDS = Path(__file__).resolve().parents[2] / "charts" / "kubedrift" / "files" / "crds"


def test_committed_crds_match_the_models() -> None:
    generated = crd_manifests()
    committed = {p.name: p.read_text() for p in CHART_CRDS.glob("*.yaml")}
    assert committed == generated, "CRDs are stale: run `make crds` and commit the result"


def test_every_spec_field_has_a_description() -> None:
    import yaml

    def walk(node: dict, path: str) -> list[str]:
        missing = [] if node.get("description") else [path]
        for name, child in node.get("properties", {}).items():
            missing += walk(child, f"{path}.{name}")
        for key in ("items", "additionalProperties"):
            if isinstance(node.get(key), dict) and node[key].get("properties"):
                missing += walk(node[key], f"{path}[]")
        return missing

    for text in crd_manifests().values():
        crd = yaml.safe_load(text)
        schema = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
        for part in ("spec", "status"):
            assert walk(schema["properties"][part], part) == []
