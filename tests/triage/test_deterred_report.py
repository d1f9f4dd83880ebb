"""A concern that someone was stopped or discouraged from reporting abuse (an offence under the duty to
report): routing, the supervisor flag and its one email, the 1-working-day clock at most, the conflict rule,
the case page's offer to refer it to the police, and the "already reported" answer on the case page, in the
referral summary's default and in the staff API."""

from __future__ import annotations

import html
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from accounts.models import User
from notify.models import Notification
from reports.services import PriorReport
from tests.factories import authority, routed_case, staff_user
from triage import case_actions as actions
from triage import routing
from triage.models import Case

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities")]

LONDON = ZoneInfo("Europe/London")
DETERRED = "prevented_from_reporting"
COMMUNITY = "action_avoided_over_community_concerns"
OFFENCE = "Deterring a report is an offence under the Crime and Policing Act 2026"


def text(response: Any) -> str:
    return html.unescape(response.content.decode())


def flag_emails(case: Case) -> list[str]:
    return sorted(
        Notification.objects.filter(subject_kind="case", subject_id=case.pk, template="supervisor_flag").values_list(
            "recipient", flat=True
        )
    )


def facts(*concern_types: str, about: str | None = None) -> routing.RoutingFacts:
    return routing.RoutingFacts(
        child_at_immediate_risk=False,
        concern_types=concern_types,
        authority_code="E08000018",
        about_authority_code=about,
        region="Yorkshire and The Humber",
    )


# --- routing ---------------------------------------------------------------------------------------------


def test_a_deterred_report_is_flagged_for_a_supervisor_and_the_community_one_is_not() -> None:
    assert routing.decide(facts(DETERRED)).supervisor_flag is True
    assert routing.decide(facts(COMMUNITY)).supervisor_flag is False
    assert routing.decide(facts("concern_not_acted_on")).supervisor_flag is False


def test_a_deterred_report_about_a_council_is_never_routed_to_that_council() -> None:
    decision = routing.decide(facts(DETERRED, about="E08000018"))

    assert decision.refer_to_authority_code is None
    assert decision.conflict_authority_code == "E08000018"
    assert decision.independent_review is True
    assert decision.supervisor_flag is True


@time_machine.travel(datetime(2026, 12, 7, 10, 0, tzinfo=LONDON))  # a Monday
def test_routing_emails_the_supervisors_once_and_runs_the_one_working_day_clock() -> None:
    staff_user("sup-one", role=User.Role.SUPERVISOR, email="sup-one@helpline.test")
    staff_user("sup-two", role=User.Role.SUPERVISOR, email="sup-two@helpline.test")
    staff_user("a-handler", role=User.Role.CALL_HANDLER, email="handler@helpline.test")

    case = routed_case(concern_types=(DETERRED,))

    assert flag_emails(case) == ["sup-one@helpline.test", "sup-two@helpline.test"]
    assert case.priority == Case.Priority.STANDARD
    # The end of Tuesday 8 December: the next working day after the day it was sent.
    assert case.triage_due_at == datetime(2026, 12, 8, 23, 59, 59, tzinfo=LONDON)


@time_machine.travel(datetime(2026, 12, 7, 10, 0, tzinfo=LONDON), tick=False)
def test_an_urgent_deterred_report_keeps_its_hour() -> None:
    staff_user("sup-one", role=User.Role.SUPERVISOR, email="sup-one@helpline.test")

    case = routed_case(concern_types=(DETERRED,), child_at_immediate_risk=True)

    assert case.priority == Case.Priority.URGENT
    assert case.triage_due_at == datetime(2026, 12, 7, 11, 0, tzinfo=LONDON)
    templates = set(Notification.objects.filter(subject_id=case.pk).values_list("template", flat=True))
    assert templates == {"urgent_case", "supervisor_flag"}


def test_other_cases_send_no_flag() -> None:
    staff_user("sup-one", role=User.Role.SUPERVISOR, email="sup-one@helpline.test")

    assert flag_emails(routed_case(concern_types=(COMMUNITY,))) == []


def test_staff_adding_the_type_later_flag_it_once(handler: User) -> None:
    staff_user("sup-one", role=User.Role.SUPERVISOR, email="sup-one@helpline.test")
    case = routed_case()
    assert flag_emails(case) == []

    actions.case_set_concern_types(case=case, concern_types=[DETERRED], acting_user=handler)
    actions.case_set_concern_types(case=case, concern_types=["other"], acting_user=handler)
    actions.case_set_concern_types(case=case, concern_types=[DETERRED, "other"], acting_user=handler)

    assert flag_emails(case) == ["sup-one@helpline.test"]


# --- the case page ---------------------------------------------------------------------------------------


def test_the_case_page_flags_it_and_offers_the_police_with_the_offence(handler_client: Client) -> None:
    case = routed_case(concern_types=(DETERRED,))

    body = text(handler_client.get(f"/staff/cases/{case.case_number}"))

    assert 'data-testid="supervisor-flag"' in body
    assert "a supervisor must look at this case" in body
    assert OFFENCE in body
    assert 'data-testid="refer-to-police"' in body


def test_refer_to_the_police_escalates_the_case_and_the_offer_goes(handler_client: Client) -> None:
    case = routed_case(concern_types=(DETERRED,))

    response = handler_client.post(
        f"/staff/cases/{case.case_number}/escalate",
        {"escalate-route": "police", "escalate-force": "police-south-yorkshire", "escalate-how_sent": "telephone"},
    )

    assert response.status_code == 302
    case.refresh_from_db()
    assert case.escalated_to_police is True
    body = text(handler_client.get(f"/staff/cases/{case.case_number}"))
    assert OFFENCE not in body
    assert 'data-testid="supervisor-flag"' in body  # the flag stays: a supervisor still looks at it


def test_other_cases_have_neither_flag_nor_offer(handler_client: Client) -> None:
    case = routed_case(concern_types=(COMMUNITY,))

    body = text(handler_client.get(f"/staff/cases/{case.case_number}"))

    assert 'data-testid="supervisor-flag"' not in body
    assert OFFENCE not in body
    assert "Action was avoided because of worries about ethnicity, religion or community relations" in body


def test_the_case_list_tags_a_flagged_case(handler_client: Client) -> None:
    flagged = routed_case(concern_types=(DETERRED,))
    routed_case()

    response = handler_client.get("/staff/cases")

    rows = {row["case_number"]: row["supervisor_flag"] for row in response.context["rows"]}
    assert rows == {flagged.case_number: True, **{n: False for n in rows if n != flagged.case_number}}
    assert text(response).count('data-testid="row-supervisor-flag"') == 1


PRIOR = PriorReport(answer="yes", by="reporter", to="council", on="2026-03-02", reference="MASH-40213")


def test_the_case_page_shows_the_earlier_report_and_the_referral_summary_starts_with_it(
    handler_client: Client,
) -> None:
    case = routed_case(already_reported=PRIOR)
    actions.case_set_authority(case=case, authority=authority("E08000018"), acting_user=staff_user())

    response = handler_client.get(f"/staff/cases/{case.case_number}")

    body = text(response)
    assert "Yes, by the reporter, to the council's children's services, on 2 March 2026, reference MASH-40213" in body
    summary = response.context["action_forms"]["refer"].initial["summary"]
    assert summary == (
        "Already reported to the police or the council: to the council's children's services, on 2 March 2026, "
        "reference MASH-40213."
    )
    assert "reporter" not in summary  # who made it could point to the reporter


@pytest.mark.parametrize(("answer", "shown"), [("no", "No"), ("not_known", "Not known")])
def test_no_and_not_known_read_as_such_and_leave_the_summary_empty(
    handler_client: Client, answer: str, shown: str
) -> None:
    case = routed_case(already_reported=PriorReport(answer=answer))

    response = handler_client.get(f"/staff/cases/{case.case_number}")

    assert f'data-testid="already-reported">{shown}<' in response.content.decode()
    assert "summary" not in response.context["action_forms"]["refer"].initial


def test_the_staff_api_says_flag_and_answer(handler_client: Client) -> None:
    case = routed_case(concern_types=(DETERRED,), already_reported=PRIOR)

    body = handler_client.get(f"/api/v1/cases/{case.case_number}").json()

    assert body["supervisor_flag"] is True
    assert body["already_reported"] == "yes"
    assert body["content"]["already_reported"]["reference"] == "MASH-40213"
