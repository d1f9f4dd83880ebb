"""The public and sign-in API's documentation leaves nothing to guess (issue 22, point 19): every field of
every request and response body says what it is, every enum's description explains each of its values,
and every operation shows an example request (when it takes a body) and an example response."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client

DOCUMENTED_PREFIXES = ("/api/v1/reports", "/api/v1/auth", "/api/v1/local-authorities")
METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    response = Client().get("/api/schema/?format=json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def _resolve(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        name = node["$ref"].removeprefix("#/components/schemas/")
        node = document["components"]["schemas"][name]
    return node


def _enum_of(document: dict[str, Any], prop: dict[str, Any]) -> list[Any]:
    """The values of an enum property: its own, through $ref or allOf, or its array items'."""
    prop = _resolve(document, prop)
    if "enum" in prop:
        return [value for value in prop["enum"] if value not in ("", None)]
    for part in prop.get("allOf", []) + prop.get("oneOf", []):
        values = _enum_of(document, part)
        if values:
            return values
    if prop.get("type") == "array" and "items" in prop:
        return _enum_of(document, prop["items"])
    return []


def _properties(document: dict[str, Any], node: dict[str, Any], where: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every property of a body's schema, nested objects and array items included, as (path, schema)."""
    node = _resolve(document, node)
    if node.get("type") == "array" and "items" in node:
        yield from _properties(document, node["items"], f"{where}[]")
        return
    for part in node.get("allOf", []):
        yield from _properties(document, part, where)
    for name, prop in node.get("properties", {}).items():
        path = f"{where}.{name}"
        yield path, prop
        yield from _properties(document, prop, path)


def _operations(document: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    found = [
        (f"{method.upper()} {path}", operation)
        for path, item in document["paths"].items()
        if path.startswith(DOCUMENTED_PREFIXES)
        for method, operation in item.items()
        if method in METHODS
    ]
    assert {name.split(" ", 1)[1] for name, _ in found} >= {
        "/api/v1/reports",
        "/api/v1/reports/access",
        "/api/v1/reports/messages",
        "/api/v1/auth/sign-in",
        "/api/v1/auth/sign-out",
    }
    return found


def _bodies(operation: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for media, content in operation.get("requestBody", {}).get("content", {}).items():
        yield f"request {media}", content
    for code, response in operation.get("responses", {}).items():
        for media, content in response.get("content", {}).items():
            yield f"response {code} {media}", content


def test_every_field_of_the_public_and_sign_in_api_is_described(schema: dict[str, Any]) -> None:
    undescribed = []
    unexplained = []
    for name, operation in _operations(schema):
        for body, content in _bodies(operation):
            for path, prop in _properties(schema, content["schema"], f"{name} {body}"):
                description = prop.get("description", "").strip()
                if not description:
                    undescribed.append(path)
                    continue
                unexplained += [f"{path}: {value}" for value in _enum_of(schema, prop) if str(value) not in description]
        for parameter in operation.get("parameters", []):
            if not parameter.get("description", "").strip():
                undescribed.append(f"{name} {parameter['in']} parameter {parameter['name']}")
    assert undescribed == []
    assert unexplained == []


def test_every_operation_of_the_public_and_sign_in_api_has_a_request_and_a_response_example(
    schema: dict[str, Any],
) -> None:
    missing = []
    for name, operation in _operations(schema):
        for media, content in operation.get("requestBody", {}).get("content", {}).items():
            if not (content.get("examples") or "example" in content):
                missing.append(f"{name}: request {media}")
        response_examples = [
            content
            for response in operation.get("responses", {}).values()
            for content in response.get("content", {}).values()
            if content.get("examples") or "example" in content
        ]
        if not response_examples:
            missing.append(f"{name}: response")
    assert missing == []


def test_the_examples_use_only_reserved_contact_details(schema: dict[str, Any]) -> None:
    """Example contact details must not reach a real person: example.org addresses, drama phone numbers."""
    for _, operation in _operations(schema):
        for _, content in _bodies(operation):
            for example in content.get("examples", {}).values():
                contact = example["value"].get("contact") if isinstance(example["value"], dict) else None
                if contact:
                    assert contact.get("email", "").endswith("@example.org")
                    assert contact.get("phone", "").replace(" ", "").startswith("01632960")
