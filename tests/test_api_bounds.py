"""Every input of every API operation is bounded in the OpenAPI schema the API serves.

An unbounded integer reaches the database as a value it cannot hold (a 500, not a 4xx); an
unbounded string or list lets one request make the server do unbounded work. Operations are
read from the served schema, so routes added later are held to this without editing the file;
the fuzz test (``test_api_fuzz.py``) then checks the server refuses what lies beyond.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.test import Client

from haven.core.schemas import MAX_ROW_ID

# Formats whose own grammar bounds their length.
BOUNDED_FORMATS = {"date", "date-time", "time", "uuid"}


def _resolve(schema: dict[str, Any], document: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = document["components"]["schemas"][name]
    return schema


def unbounded(schema: dict[str, Any], document: dict[str, Any], where: str) -> Iterator[str]:
    """The places in ``schema`` where a client may send a value without a stated bound."""
    schema = _resolve(schema, document)
    for keyword in ("anyOf", "oneOf", "allOf"):
        for branch in schema.get(keyword, []):
            yield from unbounded(branch, document, where)
    kind = schema.get("type")
    if kind in {"integer", "number"}:
        low, high = schema.get("minimum"), schema.get("maximum")
        if low is None or high is None or high > MAX_ROW_ID or low < -MAX_ROW_ID - 1:
            yield f"{where}: a number without minimum and maximum within 64 bits"
    elif kind == "string":
        bounded = "maxLength" in schema or "enum" in schema
        if not bounded and schema.get("format") not in BOUNDED_FORMATS:
            yield f"{where}: text without maxLength"
    elif kind == "array":
        if "maxItems" not in schema:
            yield f"{where}: a list without maxItems"
        yield from unbounded(schema.get("items", {}), document, f"{where}[]")
    elif kind == "object":
        for name, prop in schema.get("properties", {}).items():
            yield from unbounded(prop, document, f"{where}.{name}")
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            if "maxProperties" not in schema:
                yield f"{where}: an object of any number of keys"
            yield from unbounded(
                schema.get("propertyNames", {"type": "string"}), document, f"{where}{{key}}"
            )
            yield from unbounded(extra, document, f"{where}{{}}")


def _inputs(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            label = f"{method.upper()} {path}"
            for parameter in operation.get("parameters", []):
                yield label, f"{parameter['in']} {parameter['name']}", parameter["schema"]
            body = operation.get("requestBody", {}).get("content", {})
            for media in body.values():
                yield label, "body", media["schema"]


def test_every_api_input_is_bounded(db: Any) -> None:
    document = Client().get("/api/v1/openapi.json").json()
    inputs = list(_inputs(document))
    assert len(inputs) > 50, "the schema lost its inputs"
    problems = [
        f"{label} {problem}"
        for label, where, schema in inputs
        for problem in unbounded(schema, document, where)
    ]
    assert not problems, "unbounded API inputs:\n" + "\n".join(problems)


def test_the_check_finds_what_it_is_for() -> None:
    document: dict[str, Any] = {"components": {"schemas": {}}}
    loose = {
        "type": "object",
        "properties": {
            "ids": {"type": "array", "maxItems": 5, "items": {"type": "integer", "minimum": 1}},
            "name": {"anyOf": [{"type": "string"}, {"type": "null"}]},
            "tags": {"type": "array", "items": {"type": "string", "maxLength": 4}},
        },
    }
    assert sorted(unbounded(loose, document, "body")) == [
        "body.ids[]: a number without minimum and maximum within 64 bits",
        "body.name: text without maxLength",
        "body.tags: a list without maxItems",
    ]
