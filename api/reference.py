"""The API's reference page (``/api/docs/``), read from the OpenAPI document the API serves.

Server-rendered in the portal's own layout rather than Swagger UI: the page works without
JavaScript, its text goes through the portal's translations and layout, and it meets WCAG 2.1 AA
at 390 px (Swagger UI nests interactive controls and misses contrast, which axe-core reports).
Clients that want a generated console point one at ``/api/v1/openapi.json``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

METHODS = ("get", "post", "put", "patch", "delete")
REF_PREFIX = "#/components/schemas/"


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    required: bool
    description: str = ""
    location: str = ""


@dataclass(frozen=True)
class Response:
    status: str
    description: str
    schema: str


@dataclass(frozen=True)
class Operation:
    id: str
    method: str
    path: str
    summary: str
    description: str
    parameters: list[Field]
    body: str
    responses: list[Response]


@dataclass(frozen=True)
class Schema:
    name: str
    description: str
    fields: list[Field]


@dataclass
class Group:
    name: str
    operations: list[Operation] = field(default_factory=list)


def type_of(schema: dict[str, Any]) -> str:
    """A JSON Schema in a few words: ``string (date)``, ``array of Grant``, ``integer or null``,
    ``one of "a", "b"``; a reference by its schema's name."""
    if "$ref" in schema:
        return str(schema["$ref"]).removeprefix(REF_PREFIX)
    if "enum" in schema:
        return "one of " + ", ".join(f'"{value}"' for value in schema["enum"])
    for combinator in ("anyOf", "oneOf"):
        if combinator in schema:
            return " or ".join(type_of(option) for option in schema[combinator])
    if "allOf" in schema and len(schema["allOf"]) == 1:
        return type_of(schema["allOf"][0])
    kind = schema.get("type", "any")
    if kind == "array":
        return "array of " + type_of(schema.get("items", {}))
    if "format" in schema:
        return f"{kind} ({schema['format']})"
    return str(kind)


def _schema_name(content: dict[str, Any]) -> str:
    for media in content.values():
        return type_of(media.get("schema", {}))
    return ""


def _operation(path: str, method: str, spec: dict[str, Any]) -> Operation:
    parameters = [
        Field(
            name=p["name"],
            type=type_of(p.get("schema", {})),
            required=bool(p.get("required")),
            description=p.get("description", ""),
            location=p.get("in", ""),
        )
        for p in spec.get("parameters", [])
    ]
    return Operation(
        id=spec.get("operationId", f"{method}-{path}"),
        method=method.upper(),
        path=path,
        summary=spec.get("summary", ""),
        description=spec.get("description", ""),
        parameters=parameters,
        body=_schema_name(spec.get("requestBody", {}).get("content", {})),
        responses=[
            Response(str(status), r.get("description", ""), _schema_name(r.get("content", {})))
            for status, r in spec.get("responses", {}).items()
        ],
    )


def reference(document: dict[str, Any]) -> dict[str, Any]:
    """What the page shows: the title and description, the operations by tag (in the document's
    order) and every schema with its fields."""
    groups: dict[str, Group] = {}
    for path, item in document.get("paths", {}).items():
        for method in METHODS:
            if method in item:
                spec = item[method]
                tag = (spec.get("tags") or ["api"])[0]
                groups.setdefault(tag, Group(tag)).operations.append(_operation(path, method, spec))
    schemas = []
    for name, spec in document.get("components", {}).get("schemas", {}).items():
        required = set(spec.get("required", []))
        schemas.append(
            Schema(
                name=name,
                description=spec.get("description", ""),
                fields=[
                    Field(
                        name=prop,
                        type=type_of(prop_spec),
                        required=prop in required,
                        description=prop_spec.get("description", ""),
                    )
                    for prop, prop_spec in spec.get("properties", {}).items()
                ],
            )
        )
    info = document.get("info", {})
    return {
        "title": info.get("title", ""),
        "version": info.get("version", ""),
        "description": info.get("description", ""),
        "openapi": document.get("openapi", ""),
        "groups": list(groups.values()),
        "schemas": schemas,
    }
