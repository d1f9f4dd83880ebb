"""Issue 24, point 4: administrators keep the directory of national bodies (name, kind, code, contact address):
listed, added and changed like the safeguarding partnerships, audited, and deleted only when nothing refers
to a body. Every refusal is a GOV.UK error on the page, never a 500."""

from __future__ import annotations

import html
from typing import Any

import pytest
from django.db.models import ProtectedError

from accounts import policy
from accounts.models import User
from accounts.policy import Permission
from audit.models import AuditEvent
from directory.models import NationalBody
from referrals import services as referral_services
from tests.accounts.helpers import administrator, page, redirected_to, refused
from tests.factories import national_body, routed_case, signed_in_as, staff_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities")]

R = User.Role
BODIES = "/staff/admin/national-bodies"
NOT_ADMIN = [role for role, _ in R.choices if not policy.role_may(role, Permission.ADMINISTER)]
INSPECTORATE = {"name": "Healthcare Inspectorate", "kind": "cqc", "body_code": "healthcare-inspectorate"}


def text(content: str) -> str:
    return html.unescape(content)


def events(kind: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(kind=kind).order_by("pk"))


def referred_to(code: str) -> None:
    """A case referred to the body ``code`` by the helpline (passed on outside the service)."""
    supervisor = staff_user("bodies-supervisor", role=R.SUPERVISOR)
    referral_services.case_refer_national_body(
        case=routed_case(), body=national_body(code), how_sent="telephone", summary="Passed on.", acting_user=supervisor
    )


def test_the_list_shows_every_body_with_its_kind_code_address_and_referrals_and_the_menu_links_to_it() -> None:
    _, client = administrator()
    NationalBody.objects.filter(code="ofsted").update(contact_email="whistleblowing@ofsted.example")
    referred_to("ofsted")
    listed = text(page(client, BODIES))
    assert f'href="{BODIES}"' in listed and "National bodies</a>" in listed  # the administrators' menu
    assert f"{NationalBody.objects.count()} national bodies" in listed
    for name in ("Independent national review team", "Ofsted", "Care Quality Commission", "South Yorkshire Police"):
        assert name in listed
    row = listed[listed.index(">Ofsted</a>") :].split("</tr>")[0]
    assert "<code>ofsted</code>" in row and "whistleblowing@ofsted.example" in row
    assert '<td class="govuk-table__cell govuk-table__cell--numeric">1</td>' in row
    # The regulators and the panel before the 39 police forces.
    assert listed.index("Ofsted") < listed.index("Avon and Somerset Constabulary")


def test_an_administrator_adds_a_body_and_it_is_audited() -> None:
    admin, client = administrator()
    assert "Add a national body" in page(client, f"{BODIES}/new")

    assert (
        redirected_to(client.post(f"{BODIES}/new", {**INSPECTORATE, "body_code": " Healthcare-Inspectorate "}))
        == BODIES
    )

    made = NationalBody.objects.get(code="healthcare-inspectorate")
    assert (made.name, made.kind, made.contact_email) == ("Healthcare Inspectorate", "cqc", "")
    assert "Healthcare Inspectorate saved" in text(page(client, BODIES))
    [event] = events("national_body_created")
    assert (event.actor_id, event.detail) == (
        admin.pk,
        {"national_body": made.pk, "code": "healthcare-inspectorate", "kind": "cqc"},
    )
    # The helpline may now choose it.
    client_helpline, _ = signed_in_as(R.CALL_HANDLER)
    case = routed_case()
    form = client_helpline.get(f"/staff/cases/{case.case_number}").context["action_forms"]["refer_national_body"]
    assert "healthcare-inspectorate" in [value for value, _ in form.fields["national_body"].choices]


def test_an_administrator_changes_a_body_and_the_event_names_the_fields_not_the_address() -> None:
    admin, client = administrator()
    cqc = national_body("cqc")
    path = f"{BODIES}/{cqc.pk}"
    shown = text(page(client, path))
    assert 'value="Care Quality Commission"' in shown and 'value="cqc"' in shown
    data = {
        "name": "Care Quality Commission (England)",
        "kind": "cqc",
        "body_code": "cqc",
        "contact_email": "a@cqc.example",
    }

    assert redirected_to(client.post(path, data)) == BODIES

    cqc.refresh_from_db()
    assert (cqc.name, cqc.contact_email) == ("Care Quality Commission (England)", "a@cqc.example")
    [event] = events("national_body_changed")
    assert event.actor_id == admin.pk
    assert event.detail == {
        "national_body": cqc.pk,
        "code": "cqc",
        "kind": "cqc",
        "changed": ["name", "contact_email"],
    }
    # The same again changes nothing and records nothing.
    client.post(path, data)
    assert "Nothing changed for Care Quality Commission (England)" in text(page(client, BODIES))
    assert len(events("national_body_changed")) == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({**INSPECTORATE, "name": ""}, "Enter the body's name"),
        ({**INSPECTORATE, "kind": "regulator"}, "Select a kind of body"),
        ({**INSPECTORATE, "body_code": "healthcare inspectorate!"}, "Enter a code of lower-case letters, numbers"),
        ({**INSPECTORATE, "body_code": "ofsted"}, "There is already a national body with the code ofsted"),
        ({**INSPECTORATE, "name": "OFSTED"}, "There is already a national body called OFSTED"),
        ({**INSPECTORATE, "kind": "police_force"}, "A police force's code starts with police-"),
        ({**INSPECTORATE, "kind": "review_team"}, "There is already an independent national review team"),
        ({**INSPECTORATE, "contact_email": "not an address"}, "Enter an email address in the correct format"),
    ],
)
def test_a_refused_body_is_shown_again_with_the_reason_and_saves_nothing(data: dict[str, str], message: str) -> None:
    _, client = administrator()
    count = NationalBody.objects.count()
    assert message in text(refused(client, f"{BODIES}/new", data))
    assert NationalBody.objects.count() == count
    assert not AuditEvent.objects.filter(kind__startswith="national_body_").exists()


def test_a_refused_body_keeps_what_was_typed() -> None:
    _, client = administrator()
    shown = text(
        refused(client, f"{BODIES}/new", {**INSPECTORATE, "body_code": "ofsted", "contact_email": "x@y.example"})
    )
    assert 'value="Healthcare Inspectorate"' in shown and 'value="ofsted"' in shown and 'value="x@y.example"' in shown
    assert 'value="cqc" checked' in shown


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"body_code": "ofsted-england"}, "Ofsted has referrals: its code cannot change"),
        ({"kind": "cqc"}, "Ofsted has referrals: its kind cannot change"),
    ],
)
def test_a_body_with_referrals_keeps_its_code_and_kind(change: dict[str, str], message: str) -> None:
    _, client = administrator()
    referred_to("ofsted")
    ofsted = national_body("ofsted")
    path = f"{BODIES}/{ofsted.pk}"
    assert "1 referral names this body" in text(page(client, path))
    data = {"name": "Ofsted", "kind": "ofsted", "body_code": "ofsted", "contact_email": "", **change}
    assert message in text(refused(client, path, data))
    ofsted.refresh_from_db()
    assert (ofsted.code, ofsted.kind) == ("ofsted", "ofsted")


def test_the_review_team_keeps_its_kind() -> None:
    _, client = administrator()
    team = national_body("review-team")
    data = {"name": team.name, "kind": "ofsted", "body_code": team.code, "contact_email": ""}
    shown = text(refused(client, f"{BODIES}/{team.pk}", data))
    assert "The independent national review team must stay in the directory" in shown
    assert national_body("review-team").kind == "review_team"


def test_a_body_nothing_refers_to_is_deleted_after_asking_and_it_is_audited() -> None:
    admin, client = administrator()
    cqc = national_body("cqc")
    edit = text(page(client, f"{BODIES}/{cqc.pk}"))
    assert f'href="{BODIES}/{cqc.pk}/delete"' in edit
    asking = text(page(client, f"{BODIES}/{cqc.pk}/delete"))
    assert (
        "Are you sure you want to delete this national body?" in asking and "Delete Care Quality Commission" in asking
    )
    assert NationalBody.objects.filter(pk=cqc.pk).exists()  # asking deletes nothing

    assert redirected_to(client.post(f"{BODIES}/{cqc.pk}/delete")) == BODIES

    assert not NationalBody.objects.filter(pk=cqc.pk).exists()
    assert "Care Quality Commission deleted" in text(page(client, BODIES))
    [event] = events("national_body_deleted")
    assert (event.actor_id, event.detail) == (admin.pk, {"national_body": cqc.pk, "code": "cqc", "kind": "cqc"})
    assert client.get(f"{BODIES}/{cqc.pk}/delete").status_code == 404


def test_deleting_a_body_with_referrals_is_refused_with_a_clear_message_never_a_500() -> None:
    _, client = administrator()
    referred_to("ofsted")
    ofsted = national_body("ofsted")
    reason = "Ofsted cannot be deleted: 1 referral to it is on record and keeps naming it."
    # The pages say so before anyone tries, and offer no delete button.
    assert reason in text(page(client, f"{BODIES}/{ofsted.pk}"))
    asking = text(page(client, f"{BODIES}/{ofsted.pk}/delete"))
    assert reason in asking and "govuk-button--warning" not in asking

    response = client.post(f"{BODIES}/{ofsted.pk}/delete")

    assert redirected_to(response) == f"{BODIES}/{ofsted.pk}/delete"
    shown = text(page(client, f"{BODIES}/{ofsted.pk}/delete", status=409))
    assert "govuk-error-summary" in shown and reason in shown
    assert NationalBody.objects.filter(pk=ofsted.pk).exists()
    assert not events("national_body_deleted")
    # What the page guards: the database itself refuses to lose a referral's body.
    with pytest.raises(ProtectedError):
        ofsted.delete()


def test_the_review_team_is_never_deleted() -> None:
    _, client = administrator()
    team = national_body("review-team")
    response = client.post(f"{BODIES}/{team.pk}/delete")
    assert redirected_to(response) == f"{BODIES}/{team.pk}/delete"
    shown = text(page(client, f"{BODIES}/{team.pk}/delete", status=409))
    assert "The independent national review team must stay in the directory" in shown
    assert NationalBody.objects.filter(pk=team.pk).exists()


def test_no_such_body_is_a_404() -> None:
    _, client = administrator()
    assert client.get(f"{BODIES}/999999").status_code == 404
    assert client.post(f"{BODIES}/999999", INSPECTORATE).status_code == 404
    assert client.post(f"{BODIES}/999999/delete").status_code == 404


@pytest.mark.parametrize("role", NOT_ADMIN)
def test_the_pages_are_forbidden_to_anybody_but_an_administrator_and_change_nothing(role: str) -> None:
    client, _ = signed_in_as(role)
    cqc = national_body("cqc")
    requests: list[tuple[str, str, dict[str, Any]]] = [
        ("get", BODIES, {}),
        ("get", f"{BODIES}/new", {}),
        ("post", f"{BODIES}/new", INSPECTORATE),
        ("post", f"{BODIES}/{cqc.pk}", {**INSPECTORATE, "body_code": "cqc"}),
        ("post", f"{BODIES}/{cqc.pk}/delete", {}),
    ]
    for method, path, data in requests:
        response = getattr(client, method)(path, data)
        assert response.status_code == 403, (role, method, path, response.status_code)
    cqc.refresh_from_db()
    assert (cqc.name, cqc.code) == ("Care Quality Commission", "cqc")
    assert not NationalBody.objects.filter(code="healthcare-inspectorate").exists()
    assert not AuditEvent.objects.filter(kind__startswith="national_body_").exists()


def test_the_roles_refused_are_every_role_but_the_administrator() -> None:
    assert set(NOT_ADMIN) == set(R.values) - {R.ADMINISTRATOR}
