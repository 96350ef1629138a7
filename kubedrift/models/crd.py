"""CustomResourceDefinitions generated from the resource models.

Pydantic gives a JSON Schema with `$ref`s, `anyOf: [X, null]` for optional
fields and draft-2020 number bounds. Kubernetes wants a *structural* OpenAPI
v3.0 schema: everything inline, a type on every node, no `anyOf` for optionals.
`structural()` is that translation, and nothing else in the project writes a
CRD schema by hand. `kubedrift crds` writes the result into the Helm chart and a
test fails when the committed files differ from what the models generate.
"""

from __future__ import annotations

from typing import Any

import yaml
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

from kubedrift.models.base import Model
from kubedrift.models.resources import GROUP, KINDS, VERSION, ResourceKind

PRESERVE = "x-kubernetes-preserve-unknown-fields"


class _WithFactoryDefaults(GenerateJsonSchema):
    """Puts `default_factory` results into the schema, so the apiserver applies them."""

    def default_schema(self, schema: core_schema.WithDefaultSchema) -> JsonSchemaValue:
        factory = schema.get("default_factory")
        if factory is not None and not schema.get("default_factory_takes_data"):
            value = factory()  # type: ignore[call-arg]
            inner = self.generate_inner(schema["schema"])
            if isinstance(value, Model):
                return {**inner, "default": value.to_wire()}
            return {**inner, "default": value}
        return super().default_schema(schema)


def structural(schema: dict[str, Any], *, defaults: bool = True) -> dict[str, Any]:
    """Translate a pydantic JSON Schema into a structural OpenAPI v3.0 schema."""
    definitions = schema.get("$defs", {})

    def convert(node: dict[str, Any]) -> dict[str, Any]:
        node = dict(node)
        if "$ref" in node:
            target = definitions[node.pop("$ref").rsplit("/", 1)[-1]]
            node = {**target, **node}  # the field's own description wins over the class doc
        if "anyOf" in node:
            branches = [b for b in node.pop("anyOf") if b.get("type") != "null"]
            if node.get("default", ...) is None:
                node.pop("default")
            if len(branches) == 1:
                node = {**convert(branches[0]), **node}
            elif {b.get("type") for b in branches} == {"string", "integer"}:
                node["x-kubernetes-int-or-string"] = True
                text = next(b for b in branches if b.get("type") == "string")
                if "maxLength" in text:  # bounds what CEL rules may cost over the string
                    node["maxLength"] = text["maxLength"]
            else:  # a JSON value of any type, e.g. a scikit-learn param
                node[PRESERVE] = True
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key in {"title", "$defs", "additionalProperties", "properties", "items", "required"}:
                continue
            if key == "const":
                out["enum"] = [value]
            elif key == "exclusiveMinimum":
                out["minimum"], out["exclusiveMinimum"] = value, True
            elif key == "exclusiveMaximum":
                out["maximum"], out["exclusiveMaximum"] = value, True
            elif key == "default" and not defaults:
                continue
            else:
                out[key] = value
        if "properties" in node:
            out["type"] = "object"
            out["properties"] = {k: convert(v) for k, v in node["properties"].items()}
            if node.get("required"):
                out["required"] = list(node["required"])
        elif isinstance(node.get("additionalProperties"), dict):
            out["type"] = "object"
            out["additionalProperties"] = convert(node["additionalProperties"])
        if "items" in node:
            out["items"] = convert(node["items"])
        if "type" not in out and not out.get("x-kubernetes-int-or-string"):
            out[PRESERVE] = True
        return out

    return convert(schema)


def model_schema(model: type[Model], *, defaults: bool = True) -> dict[str, Any]:
    raw = model.model_json_schema(by_alias=True, schema_generator=_WithFactoryDefaults)
    return structural(raw, defaults=defaults)


def custom_resource_definition(kind: ResourceKind) -> dict[str, Any]:
    spec_schema = model_schema(kind.spec_model)
    # The operator writes status; defaults there would only hide a missing write.
    status_schema = model_schema(kind.status_model, defaults=False)
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{kind.plural}.{GROUP}"},
        "spec": {
            "group": GROUP,
            "scope": "Namespaced",
            "names": {
                "kind": kind.kind,
                "listKind": f"{kind.kind}List",
                "plural": kind.plural,
                "singular": kind.singular,
                "shortNames": list(kind.short_names),
                "categories": list(kind.categories),
            },
            "versions": [
                {
                    "name": VERSION,
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "additionalPrinterColumns": [c.to_wire() for c in kind.printer_columns],
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "description": kind.description,
                            **(
                                {"x-kubernetes-validations": list(kind.root_rules)} if kind.root_rules else {}
                            ),
                            "required": ["spec"],
                            "properties": {
                                "apiVersion": {"type": "string", "description": "APIVersion of the object."},
                                "kind": {"type": "string", "description": "Kind of the object."},
                                "metadata": {"type": "object"},
                                "spec": spec_schema,
                                "status": status_schema,
                            },
                        }
                    },
                }
            ],
        },
    }


def crd_manifests() -> dict[str, str]:
    """File name to YAML text of every CRD, as committed in the Helm chart."""
    header = "# Generated by `kubedrift crds` from kubedrift/models; do not edit by hand.\n"
    return {
        f"{kind.plural}.{GROUP}.yaml": header
        + yaml.safe_dump(custom_resource_definition(kind), sort_keys=False, width=100)
        for kind in KINDS
    }
