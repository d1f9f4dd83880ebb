"""The duty to report: what the reporter is told this service is not (start page, first question, "Has anyone
reported this"), the two concern types it brought, and the optional "Has anyone reported this" answer through
the question pages and the API: yes, no or not known in clear, the rest sealed, the day a day."""

from __future__ import annotations

import html
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from directory.lookup import authority_by_code
from reports.models import Report
from reports.services import report_read, report_unlock
from tests.factories import client_with_a_draft, valid_api_report, web_report_sent

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities")]

GOV_UK = "https://www.gov.uk/report-child-abuse-to-local-council"
NOT_HERE = "This service is not where you make a mandatory report"
LONDON = ZoneInfo("Europe/London")


def text(response: Any) -> str:
    return html.unescape(response.content.decode())


def opened(reference: str, access_code: str) -> dict[str, object]:
    report, key = report_unlock(reference=reference, access_code=access_code, client="test-client")
    return report_read(report=report, data_key=key).content


def confirmation_codes(page: Any) -> tuple[str, str]:
    body = text(page)
    report = Report.objects.order_by("-id").first()
    assert report is not None and report.reference in body
    code = page.context["sent"].access_code
    return report.reference, str(code)


# --- what this service is not ---------------------------------------------------------------------------


def test_the_start_page_says_a_mandatory_report_is_made_to_the_police_or_the_council_not_here() -> None:
    body = text(Client().get("/"))

    assert NOT_HERE in body
    assert "the law says you must tell the police or the council's children's services" in body
    assert 'href="tel:999"' in body
    assert GOV_UK in body
    assert "when that report, or any other concern, was ignored, blocked or covered up" in body


def test_the_first_question_says_it_too() -> None:
    client = Client()
    client.post("/report/begin")

    body = text(client.get("/report/anonymity"))

    assert NOT_HERE in body
    assert GOV_UK in body


def test_has_anyone_reported_this_gives_the_councils_own_number_when_an_administrator_set_it() -> None:
    rotherham = authority_by_code("E08000018")
    assert rotherham is not None
    rotherham.childrens_services_contact = "01632 960002"
    rotherham.save(update_fields=["childrens_services_contact"])
    client = client_with_a_draft()
    client.post("/report/where", {"postcode": "S60 1AA", "council": ""})

    body = text(client.get("/report/reported"))

    assert "call Rotherham children's services on" in body
    assert 'href="tel:01632960002"' in body
    assert GOV_UK not in body


def test_without_a_number_it_sends_the_reporter_to_gov_uk_and_never_makes_one_up() -> None:
    client = client_with_a_draft()
    client.post("/report/where", {"postcode": "S60 1AA", "council": ""})

    body = text(client.get("/report/reported"))

    assert GOV_UK in body
    assert "children's services on" not in body


# --- the concern types and the answer, through the question pages -------------------------------------


def test_a_web_report_keeps_both_new_concern_types_and_the_answer_sealed_with_its_day() -> None:
    client = Client()
    page = web_report_sent(
        client, concern={"concern_types": ["prevented_from_reporting", "action_avoided_over_community_concerns"]}
    )

    report = Report.objects.get()
    assert report.concern_types == ["action_avoided_over_community_concerns", "prevented_from_reporting"]
    assert report.already_reported == "yes"
    assert b"MASH-40213" not in bytes(report.content)
    content = opened(*confirmation_codes(page))
    assert content["already_reported"] == {
        "answer": "yes",
        "by": "reporter",
        "to": "council",
        "on": "2026-03-02",
        "reference": "MASH-40213",
    }


def test_check_your_answers_reads_the_answer_back() -> None:
    client = client_with_a_draft()
    client.post(
        "/report/reported",
        {
            "already_reported": "by_someone_else",
            "reported_to": "police",
            "reported_on-day": "27",
            "reported_on-month": "2",
            "reported_on-year": "2026",
        },
    )
    answers = client.get("/report/check-your-answers", follow=True).context["answers"]

    assert answers["reported"]["reported_on"] == "2026-02-27"


def test_left_unanswered_it_is_not_known() -> None:
    page = web_report_sent(Client(), reported={})

    report = Report.objects.get()
    assert report.already_reported == "not_known"
    assert opened(*confirmation_codes(page))["already_reported"] == {"answer": "not_known"}


def test_no_is_kept_as_no() -> None:
    web_report_sent(Client(), reported={"already_reported": "no"})

    assert Report.objects.get().already_reported == "no"


@time_machine.travel(datetime(2026, 12, 7, 10, 0, tzinfo=LONDON))
@pytest.mark.parametrize(
    ("day", "month", "year", "error"),
    [
        ("8", "12", "2026", "The day it was reported must be today or in the past"),
        ("31", "2", "2026", "The day it was reported must be a real date, like 27 3 2026"),
        ("2", "", "2026", "The day it was reported must include a month"),
        ("2", "3", "26", "The day it was reported must be a real date, like 27 3 2026"),
        ("2", "3", "1949", "The day it was reported must be in 1950 or later"),
    ],
)
def test_a_day_that_cannot_be_the_day_it_was_reported_is_refused(day: str, month: str, year: str, error: str) -> None:
    client = client_with_a_draft()
    posted = client.post(
        "/report/reported",
        {"already_reported": "by_me", "reported_on-day": day, "reported_on-month": month, "reported_on-year": year},
    )
    assert posted.status_code == 302 and posted["Location"] == "/report/reported"

    page = client.get("/report/reported")

    assert page.status_code == 400
    body = text(page)
    assert error in body
    assert 'href="#id_reported_on"' in body  # the error summary leads to the day box
    assert f'name="reported_on-day" type="text" inputmode="numeric" value="{day}"' in body


def test_details_with_no_are_refused_not_dropped() -> None:
    client = client_with_a_draft()
    client.post("/report/reported", {"already_reported": "no", "reported_reference": "ABC"})

    page = client.get("/report/reported")

    assert page.status_code == 400
    assert "Select yes if it was reported, or leave who, when and the reference empty" in text(page)


# --- the API -------------------------------------------------------------------------------------------


def test_the_api_takes_both_new_concern_types_and_the_answer() -> None:
    body = valid_api_report(
        concern_types=["prevented_from_reporting", "action_avoided_over_community_concerns"],
        already_reported={
            "answer": "yes",
            "by": "someone_else",
            "to": "police",
            "on": "2026-03-02",
            "reference": "P/1",
        },
    )

    response = Client().post("/api/v1/reports", body, content_type="application/json")

    assert response.status_code == 201, response.content
    report = Report.objects.get(reference=response.json()["reference"])
    assert report.concern_types == ["action_avoided_over_community_concerns", "prevented_from_reporting"]
    assert report.already_reported == "yes"
    content = opened(report.reference, response.json()["access_code"])
    assert content["already_reported"] == {
        "answer": "yes",
        "by": "someone_else",
        "to": "police",
        "on": "2026-03-02",
        "reference": "P/1",
    }


def test_the_api_without_the_answer_files_not_known() -> None:
    response = Client().post("/api/v1/reports", valid_api_report(), content_type="application/json")

    assert response.status_code == 201
    assert Report.objects.get().already_reported == "not_known"


def test_the_api_ignores_details_unless_the_answer_is_yes() -> None:
    body = valid_api_report(already_reported={"answer": "no", "reference": "P/1"})

    response = Client().post("/api/v1/reports", body, content_type="application/json")

    assert response.status_code == 201
    assert opened(response.json()["reference"], response.json()["access_code"])["already_reported"] == {"answer": "no"}


@time_machine.travel(datetime(2026, 12, 7, 10, 0, tzinfo=LONDON))
def test_the_api_refuses_a_day_in_the_future_naming_the_field() -> None:
    body = valid_api_report(already_reported={"answer": "yes", "on": "2026-12-08"})

    response = Client().post("/api/v1/reports", body, content_type="application/json")

    assert response.status_code == 400
    assert response.json() == {"already_reported": {"on": ["The day it was reported must be today or in the past"]}}


def test_the_api_refuses_a_concern_type_it_does_not_know() -> None:
    response = Client().post(
        "/api/v1/reports", valid_api_report(concern_types=["prevented_reporting"]), content_type="application/json"
    )

    assert response.status_code == 400
    assert list(response.json()) == ["concern_types"]
