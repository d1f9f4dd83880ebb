"""Defects a walk through the helpline's case page found: a police referral passed on through the force's
own secure channel says "the force's", not "the body's"; the reporter's name, email and phone each have a
line of their own; the refer form's files say who sent each."""

from __future__ import annotations

import html
from typing import Any

import pytest

from accounts.models import User
from referrals.models import Referral
from reports.models import Anonymity, Attachment
from reports.services import Contact
from tests.factories import (
    ROTHERHAM,
    attachment_make,
    authority,
    national_body,
    referral_make,
    routed_case,
    signed_in,
    staff_with_mfa,
)
from triage import case_actions

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities")]


def text(response: Any) -> str:
    return html.unescape(response.content.decode())


@pytest.fixture
def supervisor() -> User:
    return staff_with_mfa("walk-supervisor", role=User.Role.SUPERVISOR)[0]


def test_a_police_referral_through_its_own_secure_channel_is_the_forces_on_the_case_page(supervisor: User) -> None:
    case = routed_case(local_authority=authority(ROTHERHAM))
    case_actions.case_escalate(
        case=case, route="police", force="police-south-yorkshire", how_sent="secure_channel", acting_user=supervisor
    )
    to_police = Referral.objects.get(case=case)
    assert to_police.how_sent == "secure_channel"  # the stored code is unchanged
    page = text(signed_in(supervisor).get(f"/staff/cases/{case.case_number}"))
    assert "through the force's own secure channel" in page
    assert "through the body's own secure channel" not in page


def test_another_body_passed_a_case_through_its_secure_channel_is_still_the_bodys() -> None:
    case = routed_case(local_authority=authority(ROTHERHAM))
    sent = {"status": Referral.Status.SENT, "how_sent": "secure_channel"}
    to_ofsted = referral_make(case, body=national_body("ofsted"), **sent)
    to_police = referral_make(case, body=national_body("police-south-yorkshire"), **sent)
    by_phone = referral_make(case, body=national_body("police-south-yorkshire"), status="sent", how_sent="telephone")
    assert to_ofsted.how_sent_label == "Through the body's own secure channel"
    assert to_police.how_sent_label == "Through the force's own secure channel"
    assert by_phone.how_sent_label == "By telephone"


def test_the_reporters_name_email_and_phone_each_have_a_line_of_their_own(supervisor: User) -> None:
    contact = Contact(name="Sam Taylor", email="sam@example.org", phone="07700 900123")
    case = routed_case(anonymity=Anonymity.NAMED, contact=contact)
    client = signed_in(supervisor)
    hidden = client.get(f"/staff/cases/{case.case_number}").content.decode()
    assert "Sam Taylor" not in hidden and "07700 900123" not in hidden, "hidden until shown with a reason"
    shown = client.post(
        f"/staff/cases/{case.case_number}/reveal_contact", {"reveal_contact-reason": "contact_reporter"}, follow=True
    )
    page = shown.content.decode()
    assert '<br><span data-testid="reporter-name">Sam Taylor</span>' in page
    assert '<br><span data-testid="reporter-email">sam@example.org</span>' in page
    assert '<br><span data-testid="reporter-phone">07700 900123</span>' in page
    assert "sam@example.org 07700 900123" not in page


def test_the_refer_forms_files_say_who_sent_each(supervisor: User) -> None:
    case = routed_case(local_authority=authority(ROTHERHAM))
    attachment_make(case, name="minutes.txt")
    attachment_make(case, name="letter.txt", source=Attachment.Source.HELPLINE, added_by_id=supervisor.pk)
    page = text(signed_in(supervisor).get(f"/staff/cases/{case.case_number}"))
    refer = page.split('id="action-refer"', 1)[1]
    assert "minutes.txt (Text file, 35 bytes), sent by the reporter" in refer
    assert "letter.txt (Text file, 35 bytes), sent by the helpline" in refer
