"""One definition per action (triage/staff_actions.ACTIONS): the staff API documents and validates each
action through it."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from django.test import Client

from triage.staff_actions import ACTIONS

pytestmark = pytest.mark.django_db


def _document() -> dict[str, Any]:
    response = Client().get("/api/schema/")
    assert response.status_code == 200
    document: dict[str, Any] = yaml.safe_load(response.content)
    return document


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    resolved: dict[str, Any] = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return resolved


def test_the_openapi_document_has_a_typed_request_schema_for_every_staff_action() -> None:
    """Each action's body is a component of its own, named for the action, with the fields of the form that
    validates it, and the action endpoint's body is one of them."""
    document = _document()
    operation = document["paths"]["/api/v1/cases/{case_number}/{action}"]["post"]
    body = _resolve(document, operation["requestBody"]["content"]["application/json"]["schema"])
    alternatives = {_resolve(document, ref)["title"]: _resolve(document, ref) for ref in body["anyOf"]}
    assert set(alternatives) == set(ACTIONS)
    for name, action in ACTIONS.items():
        camel = "".join(part.capitalize() for part in name.split("_"))
        component = document["components"]["schemas"][f"{camel}ActionRequest"]
        assert component == alternatives[name]
        assert component["type"] == "object"
        fields = action.form.base_fields if action.form else {}
        assert set(component["properties"]) == set(fields), name
        assert set(component.get("required", [])) == {key for key, field in fields.items() if field.required}


def test_every_action_on_the_case_page_is_declared_in_the_registry() -> None:
    """The page's labels and the API's actions are the registry's: claim is only a button."""
    assert set(ACTIONS) - {name for name, action in ACTIONS.items() if action.heading} == {"claim"}
    assert all(callable(action.run) and callable(action.banner) for action in ACTIONS.values())
