import pytest

from accounts.models import User
from audit.models import AuditEvent
from directory import lookup as authorities
from tests.factories import signed_in_as

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("local_authorities")]


def test_an_administrator_sets_an_authoritys_referral_inbox() -> None:
    client = signed_in_as(User.Role.ADMINISTRATOR)[0]
    assert client.get("/staff/").url == "/staff/admin/authorities"
    page = client.get("/staff/admin/authorities")
    assert page.status_code == 200 and b"Rotherham" in page.content
    response = client.post("/staff/admin/authorities/E08000018", {"referral_email": "referrals@rotherham.example"})
    assert response.status_code == 302
    assert authorities.authority_by_code("E08000018").referral_email == "referrals@rotherham.example"
    assert AuditEvent.objects.filter(kind="authority_inbox_set", detail__authority="E08000018").exists()


def test_a_malformed_inbox_address_gets_the_error_summary() -> None:
    response = signed_in_as(User.Role.ADMINISTRATOR)[0].post(
        "/staff/admin/authorities/E08000018", {"referral_email": "not an address"}, follow=True
    )
    # Shown by the inbox page's own GET (post/redirect/get).
    assert response.redirect_chain == [("/staff/admin/authorities/E08000018", 302)]
    assert response.status_code == 400
    assert b"govuk-error-summary" in response.content


@pytest.mark.parametrize(
    "role",
    [
        User.Role.CALL_HANDLER,
        User.Role.SUPERVISOR,
        User.Role.AUTHORITY_OFFICER,
        User.Role.PARTNERSHIP,
        User.Role.OVERSIGHT_ANALYST,
    ],
)
def test_only_administrators_may_change_inboxes(role: str) -> None:
    client = signed_in_as(role)[0]
    assert client.get("/staff/admin/authorities").status_code == 403
    assert client.post("/staff/admin/authorities/E08000018", {"referral_email": "x@example.com"}).status_code == 403
