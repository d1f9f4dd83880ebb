"""A case referred to two authorities (a child placed out of area): the case page says which authority is
waiting for an answer and which referral each timeline event is about."""

from __future__ import annotations

import re
from html import unescape

import pytest

from accounts.models import User
from referrals import services as referral_services
from tests.factories import ROTHERHAM, SHEFFIELD, authority, routed_case, signed_in_as, staff_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities")]


def plain(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def test_the_warning_and_the_timeline_name_the_authority_when_there_are_several() -> None:
    client, supervisor = signed_in_as(User.Role.SUPERVISOR)
    case = routed_case()  # Rotherham's
    rotherham = referral_services.case_refer(case=case, summary="For the placing authority.", acting_user=supervisor)
    referral_services.case_refer(
        case=case,
        summary="For the host authority.",
        acting_user=supervisor,
        recipient=authority(SHEFFIELD),
    )
    officer = staff_user("several-officer", role=User.Role.AUTHORITY_OFFICER)
    referral_services.referral_ask_helpline(referral=rotherham, question="Which school?", acting_user=officer)

    page = plain(client.get(f"/staff/cases/{case.case_number}").content.decode())

    placing, host = authority(ROTHERHAM).name, authority(SHEFFIELD).name
    assert f"{placing} is waiting for an answer to 1 question." in page
    assert "The authority is waiting" not in page
    assert f"{placing} asked a question" in page and f"{placing} asked a question (" not in page
    assert f"Referred to the local authority ({host})" in page


def test_with_one_referral_the_page_names_its_authority_without_brackets() -> None:
    client, supervisor = signed_in_as(User.Role.SUPERVISOR)
    case = routed_case()
    referral = referral_services.case_refer(case=case, summary="For Rotherham.", acting_user=supervisor)
    officer = staff_user("one-officer", role=User.Role.AUTHORITY_OFFICER)
    referral_services.referral_ask_helpline(referral=referral, question="Which school?", acting_user=officer)

    page = plain(client.get(f"/staff/cases/{case.case_number}").content.decode())

    assert "Rotherham is waiting for an answer to 1 question." in page
    assert "Rotherham asked a question" in page and "Rotherham asked a question (" not in page
    assert "Referred to the local authority (" not in page
