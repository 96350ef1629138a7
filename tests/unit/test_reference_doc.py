"""The committed resource reference is exactly what the resource models generate."""

from pathlib import Path

from kubedrift.models.crd import custom_resource_definition
from kubedrift.models.reference import cel_rules, constraints_of, reference_markdown, rows, type_of
from kubedrift.models.resources import DRIFTCHECK, EXPERIMENT

REFERENCE = Path(__file__).resolve().parents[2] / "docs" / "reference.md"


def _schema(kind=DRIFTCHECK) -> dict:
    return custom_resource_definition(kind)["spec"]["versions"][0]["schema"]["openAPIV3Schema"]


def test_committed_reference_matches_the_models() -> None:
    assert REFERENCE.read_text() == reference_markdown(), (
        "docs/reference.md is stale: run `make docs` and commit the result"
    )


def test_every_spec_and_status_field_has_a_row() -> None:
    for kind in (DRIFTCHECK, EXPERIMENT):
        schema = _schema(kind)
        for part in ("spec", "status"):
            paths = {r.path for r in rows(schema["properties"][part], part)}
            for name in schema["properties"][part]["properties"]:
                assert f"{part}.{name}" in paths
    paths = {r.path for r in rows(_schema()["properties"]["spec"], "spec")}
    assert "spec.drift.perColumn.<key>.method" in paths
    assert "spec.retrain.objective.goal" in paths
    assert "status.conditions[].reason" in {r.path for r in rows(_schema()["properties"]["status"], "status")}


def test_types_defaults_and_constraints_are_the_schema_s() -> None:
    spec = {r.path: r for r in rows(_schema()["properties"]["spec"], "spec")}
    share = spec["spec.drift.datasetDriftShare"]
    assert (share.type, share.default, share.constraints) == ("number", "`0.5`", "> 0; ≤ 1")
    assert spec["spec.retrain.grid"].type == "map[string][]any"
    assert spec["spec.retrain.resources.requests"].type == "map[string]int-or-string"
    assert spec["spec.reference"].constraints == "required"
    assert spec["spec.retrain.parallelism"].constraints == "≥ 1; ≤ 1000"
    assert type_of({"type": "string", "format": "date-time"}) == "string (date-time)"
    assert constraints_of({"minItems": 1, "maxItems": 3}, False) == "1–3 items"


def test_every_cel_rule_is_listed_with_its_message() -> None:
    from kubedrift.models.driftcheck import OBJECTIVE_RULE, SCHEDULE_RULE, TARGET_RULE, URI_RULE
    from kubedrift.models.status import EXPERIMENT_IMMUTABLE_RULE

    found = {r.message for r in cel_rules(_schema()["properties"]["spec"], "spec")}
    assert {SCHEDULE_RULE.message, TARGET_RULE.message, URI_RULE.message, OBJECTIVE_RULE.message} <= found
    text = reference_markdown()
    assert EXPERIMENT_IMMUTABLE_RULE.message in text
    assert "matches('^(s3://" in text and "\\|\\|" in text  # pipes escaped inside table cells
    assert "&lt;reportsUri&gt;/&lt;check&gt;/production/" in text  # not an HTML tag


def test_fields_that_cel_rules_report_at_point_to_the_rules() -> None:
    schema = _schema()["properties"]["spec"]
    reported = frozenset(r.reported_at for r in cel_rules(schema, "spec"))
    assert {"spec.schedule", "spec.reference.uri", "spec.retrain.objective.metric"} <= reported
    spec = {r.path: r for r in rows(schema, "spec", cel=reported)}
    assert spec["spec.schedule"].constraints == "1–128 chars; a CEL rule below"
