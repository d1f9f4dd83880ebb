"""The helpline's case list (issue 14, point 3): statuses in words, concern types, age, due date and a new
message flag in columns, a total, "Assigned to me", search by organisation through its keyed hash, and a
query count that does not grow with the rows."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from reports.services import message_send_from_reporter, report_unlock
from tests.factories import routed_case, submit_report
from tests.triage.page_text import text
from triage import case_actions as actions
from triage.intake import report_route
from triage.models import Case

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities")]


def page(client: Client, **params: Any) -> Any:
    response = client.get("/staff/cases", params)
    assert response.status_code == 200, text(response)[:500]
    return response


def test_statuses_are_words_and_the_columns_say_what_matters(handler: User, handler_client: Client) -> None:
    case = routed_case()
    actions.case_claim(case=case, acting_user=handler)
    response = page(handler_client)
    body = text(response)
    (row,) = [row for row in response.context["rows"] if row["case_number"] == case.case_number]
    assert row["status_label"] == "In triage"
    assert ">in_triage<" not in body and "In triage" in body
    assert row["age_days"] == 0 and "0 days" in body
    assert row["due"] == case.triage_due_at and "Triage<br>" in body
    assert "Concern types" in body
    assert row["report__concern_types"] and not row["unread"]


def test_a_message_from_the_reporter_is_flagged_until_the_helpline_writes_back(
    handler: User, handler_client: Client
) -> None:
    submitted = submit_report()
    case = report_route(report_id=submitted.report.pk)
    actions.case_ask_reporter(case=case, body="Which school?", acting_user=handler)
    assert not page(handler_client).context["rows"][0]["unread"]
    report, key = report_unlock(reference=submitted.report.reference, access_code=submitted.access_code, client="t")
    message_send_from_reporter(report=report, data_key=key, body="Oakwood Academy.")
    response = page(handler_client)
    assert response.context["rows"][0]["unread"]
    assert 'data-testid="unread"' in text(response)


def test_the_total_and_assigned_to_me(handler: User, handler_client: Client) -> None:
    mine = [routed_case() for _ in range(3)]
    routed_case()
    for case in mine:
        actions.case_claim(case=case, acting_user=handler)
    assert page(handler_client).context["page"].total == 4
    assert "4 cases" in text(page(handler_client))
    response = page(handler_client, assignee="me")
    assert {row["case_number"] for row in response.context["rows"]} == {case.case_number for case in mine}
    assert "3 cases" in text(response)


def test_search_by_organisation_goes_through_its_keyed_hash(handler_client: Client) -> None:
    oakwood = report_route(report_id=submit_report(organisation_name="Oakwood Academy").report.pk)
    report_route(report_id=submit_report(organisation_name="Elm Park School").report.pk)
    assert [row["case_number"] for row in page(handler_client, search="  oakwood academy ").context["rows"]] == [
        oakwood.case_number
    ]
    assert page(handler_client, search="Oakwood").context["rows"] == []  # the whole name, never a fragment
    # Nothing in the database holds the name to search in clear.
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM reports_report WHERE organisation_hash ILIKE '%oakwood%'")
        assert cursor.fetchone() == (0,)


@pytest.mark.parametrize("params", [{}, {"assignee": "me"}, {"search": "Oakwood Academy"}, {"overdue": "on"}])
def test_the_list_takes_the_same_number_of_queries_for_2_or_20_cases(
    params: dict[str, str], handler: User, handler_client: Client
) -> None:
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            page(handler_client, **params)
        return len(captured)

    for _ in range(2):
        case = routed_case()
        actions.case_claim(case=case, acting_user=handler)
    few = queries()
    for _ in range(18):
        case = routed_case()
        actions.case_claim(case=case, acting_user=handler)
        actions.case_ask_reporter(case=case, body="Which school?", acting_user=handler)
    assert Case.objects.count() == 20
    assert queries() == few


def test_the_page_size_select_says_the_size_shown(handler_client: Client) -> None:
    routed_case()
    body = text(page(handler_client))
    assert '<option value="50" selected>50</option>' in body
    assert page(handler_client).context["page"].page_size == 50
