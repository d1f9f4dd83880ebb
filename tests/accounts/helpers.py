"""What the staff administration tests share: an administrator signed in, reading a page, following a
refusal to its error summary, a form's hidden fields and the audit events about an account."""

from __future__ import annotations

import html as html_module
import re
from typing import Any
from urllib.parse import urlsplit

from django.test import Client

from accounts.models import User
from audit.models import AuditEvent, Subject
from directory.lookup import authority_by_code
from directory.models import LocalAuthority
from tests.factories import sign_in, staff_with_mfa

R = User.Role
STAFF = "/staff/admin/staff"


def council(code: str) -> LocalAuthority:
    found = authority_by_code(code)
    assert found is not None
    return found


def administrator(username: str = "admin-a") -> tuple[User, Client]:
    user, _ = staff_with_mfa(username, role=R.ADMINISTRATOR)
    client = Client()
    sign_in(client, user)
    return user, client


def page(client: Client, path: str, status: int = 200) -> str:
    response = client.get(path)
    assert response.status_code == status, (path, response.status_code, response.content[:300])
    return response.content.decode()


def redirected_to(response: Any) -> str:
    assert response.status_code == 302, (response.status_code, response.content[:300])
    return str(urlsplit(response["Location"]).path)


def refused(client: Client, path: str, data: dict[str, Any], *, back_to: str | None = None) -> str:
    """A refused POST redirects to its form page (never rendering there), which shows it with a 400."""
    response = client.post(path, data)
    assert redirected_to(response) == (back_to or path)
    assert b"govuk-error-summary" not in response.content
    shown = page(client, back_to or path, status=400)
    assert "govuk-error-summary" in shown
    return shown


def kinds_about(user: User) -> list[str]:
    return list(
        AuditEvent.objects.filter(subject_kind=Subject.USER, subject_id=user.pk)
        .order_by("pk")
        .values_list("kind", flat=True)
    )


def hidden_fields(html: str) -> dict[str, str]:
    """The hidden inputs of a page's form, by name (HTML-unescaped values)."""
    found = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html)
    return {name: html_module.unescape(value) for name, value in found if name != "csrfmiddlewaretoken"}


def confirmed(client: Client, path: str, data: dict[str, Any]) -> Any:
    """Choose a role and scope, and confirm it on the page that follows (nothing changes before)."""
    response = client.post(path, data)
    confirm = response["Location"]
    assert redirected_to(response) == f"{path}/confirm", response["Location"]
    shown = page(client, confirm)
    assert "Confirm the new role and scope" in shown
    return client.post(urlsplit(confirm).path, hidden_fields(shown))


def signed_in_client(user: User) -> Client:
    client = Client()
    sign_in(client, user)
    assert client.get("/staff/").status_code == 200
    return client
