"""Bulk triage (issue 28): one action over many cases in one service call, the same action definitions as
for one case, one audit event per case chained in one batch, cases that may not take it reported back, and
a query count that does not grow with the cases."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from audit.models import AuditEvent, Subject
from audit.trail import audit_verify
from notify.models import Notification
from outbox.models import OutboxMessage
from reports.models import Report
from tests.factories import case_closed, routed_case, signed_in, staff_user, staff_with_mfa
from tests.triage.bulk_kit import cases_made
from triage import selectors, staff_actions, workflow
from triage.models import Case, CaseLink

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities")]


@pytest.fixture
def supervisor() -> User:
    return staff_with_mfa("bulk-supervisor", role=User.Role.SUPERVISOR)[0]


FEEDBACK = "Thank you. We had many reports about this and have acted on them together."

# Each bulk action with the cleaned data its form gives (link_duplicate's target is added per test).
DATA: dict[str, dict[str, Any]] = {
    "assign": {"assignee": "bulk-supervisor"},
    "set_priority": {"priority": "urgent"},
    "link_duplicate": {},
    "close": {"outcome": "duplicate", "feedback": FEEDBACK, "confirm": True},
}


def _run(action: str, cases: list[Case], user: User) -> staff_actions.BulkResult:
    data = dict(DATA[action])
    if action == "link_duplicate":
        target, cases = cases[0], cases[1:]
        data["other"] = target.case_number
    return staff_actions.run_bulk(
        action=action, case_numbers=[case.case_number for case in cases], data=data, acting_user=user
    )


def test_the_bulk_actions_are_the_registry_s() -> None:
    assert staff_actions.BULK_ACTIONS == ["assign", "set_priority", "link_duplicate", "close"]
    assert set(DATA) == set(staff_actions.BULK_ACTIONS)


@pytest.mark.slow
@pytest.mark.parametrize("action", list(DATA))
def test_the_query_count_is_the_same_for_10_cases_and_for_100(action: str, supervisor: User) -> None:
    # Once first: what happens once ever (this month's custody key made at the first closure) is not counted.
    _run(action, cases_made(2), supervisor)
    counts = []
    for size in (10, 100):
        cases = cases_made(size + (1 if action == "link_duplicate" else 0))
        with CaptureQueriesContext(connection) as queries:
            result = _run(action, cases, supervisor)
        assert len(result.done) == size and result.refused == []
        counts.append(len(queries))
    assert counts[0] == counts[1], counts


def test_a_bulk_close_closes_each_case_as_one_close_does(supervisor: User) -> None:
    cases = cases_made(5)
    before = AuditEvent.objects.count()
    result = _run("close", cases, supervisor)
    assert sorted(result.done) == sorted(case.case_number for case in cases)
    for case in Case.objects.filter(pk__in=[c.pk for c in cases]).select_related("report"):
        assert case.status == Case.Status.CLOSED and case.outcome == "duplicate"
        assert case.destroy_on is not None and case.closed_at is not None
        assert case.report.messages.filter(direction="from_helpline").count() == 1
        events = AuditEvent.objects.filter(subject_kind=Subject.CASE, subject_id=case.pk, kind="close")
        assert [event.detail["outcome"] for event in events] == ["duplicate"]
    # One event per case, chained as one batch: consecutive ids, every link holding.
    closes = list(AuditEvent.objects.filter(kind="close").order_by("id").values_list("id", flat=True))
    assert len(closes) == 5 and closes == list(range(closes[0], closes[0] + 5))
    assert AuditEvent.objects.count() == before + 5
    assert audit_verify() == []


def test_cases_that_may_not_take_the_action_are_reported_back(supervisor: User) -> None:
    cases = cases_made(4)
    case_closed(cases[0], supervisor)
    result = _run("close", cases, supervisor)
    assert result.done == [case.case_number for case in cases[1:]]
    assert result.refused == [(cases[0].case_number, "You cannot close with an outcome while the case is closed.")]
    # The closed one was not closed again: one close event only.
    assert AuditEvent.objects.filter(subject_id=cases[0].pk, subject_kind=Subject.CASE, kind="close").count() == 1


def test_an_unknown_case_number_is_reported_back_not_an_error(supervisor: User) -> None:
    cases = cases_made(2)
    result = staff_actions.run_bulk(
        action="set_priority",
        case_numbers=[cases[0].case_number, "2026-ZZZZZZ"],
        data={"priority": "urgent"},
        acting_user=supervisor,
    )
    assert result.done == [cases[0].case_number]
    assert result.refused == [("2026-ZZZZZZ", "There is no case with that number.")]


def test_made_urgent_in_bulk_the_supervisors_hear_of_each_case_once(supervisor: User) -> None:
    cases = cases_made(3)
    _run("set_priority", cases, supervisor)
    emails = Notification.objects.filter(template="urgent_case", recipient=supervisor.email)
    assert set(emails.values_list("subject_id", flat=True)) == {case.pk for case in cases}
    assert OutboxMessage.objects.filter(kind="send_email", target_id__in=emails.values("pk")).count() == 3
    assert {case.queue.slug for case in Case.objects.filter(pk__in=[c.pk for c in cases])} == {"urgent"}
    # Again: nothing new (the priority did not change).
    _run("set_priority", cases, supervisor)
    assert emails.count() == 3


def test_linked_as_duplicates_of_one_case_both_ways(supervisor: User) -> None:
    cases = cases_made(4)
    result = _run("link_duplicate", cases, supervisor)
    target = cases[0]
    assert result.done == [case.case_number for case in cases[1:]]
    for case in cases[1:]:
        assert CaseLink.objects.filter(case=case, other=target).exists()
        assert CaseLink.objects.filter(case=target, other=case).exists()
    # The target among the selection is left as it is, and said so.
    again = staff_actions.run_bulk(
        action="link_duplicate",
        case_numbers=[case.case_number for case in cases],
        data={"other": target.case_number},
        acting_user=supervisor,
    )
    assert again.refused == [(target.case_number, "It is the case the others are linked to.")]


def test_bad_input_refuses_the_whole_run(supervisor: User) -> None:
    cases = cases_made(2)
    numbers = [case.case_number for case in cases]
    with pytest.raises(workflow.ActionNotAllowed, match="Choose an outcome"):
        staff_actions.run_bulk(
            action="close", case_numbers=numbers, data={"outcome": "nope", "feedback": "x"}, acting_user=supervisor
        )
    with pytest.raises(workflow.ActionNotAllowed, match="Select at least one case"):
        staff_actions.run_bulk(action="close", case_numbers=[], data=DATA["close"], acting_user=supervisor)
    with pytest.raises(workflow.ActionNotAllowed, match="Choose what to do"):
        staff_actions.run_bulk(action="reopen", case_numbers=numbers, data={}, acting_user=supervisor)
    assert not Case.objects.filter(pk__in=[c.pk for c in cases], status=Case.Status.CLOSED).exists()


def test_at_most_bulk_max_cases(supervisor: User, settings: Any) -> None:
    settings.BULK_MAX = 2
    cases = cases_made(3)
    with pytest.raises(workflow.ActionNotAllowed, match="at most 2"):
        _run("assign", cases, supervisor)


def test_only_a_supervisor_may_triage_in_bulk() -> None:
    handler = staff_user("bulk-handler", role=User.Role.CALL_HANDLER)
    cases = cases_made(1)
    with pytest.raises(workflow.ActionNotPermitted):
        staff_actions.run_bulk(
            action="assign", case_numbers=[cases[0].case_number], data=DATA["assign"], acting_user=handler
        )


# --- the pages --------------------------------------------------------------------------------------------


@pytest.fixture
def supervisor_client(supervisor: User) -> Client:
    return signed_in(supervisor)


def _post(client: Client, **data: Any) -> Any:
    return client.post("/staff/cases/bulk", data)


def test_the_case_list_offers_bulk_triage_to_a_supervisor_only(
    supervisor_client: Client, handler_client: Client
) -> None:
    cases_made(2)
    body = supervisor_client.get("/staff/cases").content.decode()
    assert body.count('data-testid="select-case"') == 2 and 'data-testid="bulk-close"' in body
    assert "Select all 2 cases matching this filter" in body
    body = handler_client.get("/staff/cases").content.decode()
    assert 'data-testid="select-case"' not in body and "bulk-form" not in body
    assert _post(handler_client, action="close", cases=["x"]).status_code == 403


def test_no_case_selected_is_an_error_summary_not_a_500(supervisor_client: Client) -> None:
    response = _post(supervisor_client, action="close")
    assert response.status_code == 400
    body = response.content.decode()
    assert "govuk-error-summary" in body and "Select at least one case." in body
    response = _post(supervisor_client, cases=["2026-AAAAAA"])
    assert response.status_code == 400 and "Choose what to do with the cases." in response.content.decode()


def test_closing_ticked_cases_goes_through_the_form_a_confirmation_and_the_result(
    supervisor: User, supervisor_client: Client
) -> None:
    cases = cases_made(4)
    case_closed(cases[0], supervisor)
    numbers = [case.case_number for case in cases]
    response = _post(supervisor_client, action="close", cases=numbers)
    assert response.status_code == 200 and "<strong>4</strong> cases selected" in response.content.decode()
    # Bad input: the form's own errors, in the error summary.
    for bad, error in (
        ({"close-outcome": "duplicate", "close-confirm": "on"}, "Write the feedback the reporter will read"),
        ({"close-outcome": "nope", "close-feedback": FEEDBACK, "close-confirm": "on"}, "Select a valid choice"),
        ({"close-outcome": "duplicate", "close-feedback": FEEDBACK}, "Confirm that you want to close these cases"),
    ):
        response = _post(supervisor_client, action="close", cases=numbers, step="confirm", **bad)
        assert response.status_code == 400, bad
        assert "govuk-error-summary" in response.content.decode() and error in response.content.decode()
    filled = {"close-outcome": "duplicate", "close-feedback": FEEDBACK, "close-confirm": "on"}
    response = _post(supervisor_client, action="close", cases=numbers, step="confirm", **filled)
    body = response.content.decode()
    assert response.status_code == 200 and "Close 3 cases" in body and "cannot take this action" in body
    assert Case.objects.filter(pk__in=[c.pk for c in cases[1:]], status=Case.Status.CLOSED).count() == 0
    response = _post(supervisor_client, action="close", cases=numbers, step="apply", **filled)
    body = response.content.decode()
    assert response.status_code == 200 and "3 cases changed" in body
    assert "1 case left as it was" in body and cases[0].case_number in body
    assert Case.objects.filter(pk__in=[c.pk for c in cases], status=Case.Status.CLOSED).count() == 4


def test_select_all_matching_the_filter_is_confirmed_with_the_count(
    supervisor: User, supervisor_client: Client, settings: Any
) -> None:
    cases = cases_made(3)
    response = _post(supervisor_client, action="set_priority", all="1", filter="priority=standard")
    body = response.content.decode()
    assert response.status_code == 200 and "All <strong>3</strong> cases matching the filter are selected." in body
    assert all(case.case_number in body for case in cases)
    settings.BULK_MAX = 2
    response = _post(supervisor_client, action="set_priority", all="1", filter="priority=standard")
    assert response.status_code == 400
    assert "3 cases match this filter. Bulk triage takes at most 2 at a time" in response.content.decode()


@pytest.mark.slow
def test_250_cases_closed_in_one_request(supervisor_client: Client) -> None:
    cases = cases_made(250)
    numbers = [case.case_number for case in cases]
    before = AuditEvent.objects.count()
    started = time.perf_counter()
    response = _post(
        supervisor_client,
        action="close",
        cases=numbers,
        step="apply",
        **{"close-outcome": "no_further_action", "close-feedback": FEEDBACK, "close-confirm": "on"},
    )
    seconds = time.perf_counter() - started
    assert response.status_code == 200 and "250 cases changed" in response.content.decode()
    assert Case.objects.filter(pk__in=[c.pk for c in cases], status=Case.Status.CLOSED).count() == 250
    events = AuditEvent.objects.count() - before
    assert events == 250
    assert audit_verify() == []
    print(f"\nbulk close of 250 cases: {seconds:.2f} s, {events / seconds:.0f} audit events per second")


# --- possible duplicates ----------------------------------------------------------------------------------


def test_possible_duplicates_are_shown_on_the_case_page_and_in_the_list(
    supervisor: User, supervisor_client: Client
) -> None:
    one = routed_case(details="Children are left alone at night.")
    two = routed_case(details="Something entirely different, in other words.")
    other_org = routed_case(organisation_name="Southside Academy")
    other_concerns = routed_case(concern_types=("information_not_shared",))
    old = routed_case()
    Report.objects.filter(pk=old.report_id).update(submitted_at=old.report.submitted_at - timedelta(days=15))
    assert [case.pk for case in selectors.possible_duplicates(user=supervisor, case=one)] == [two.pk]
    assert not selectors.possible_duplicates(user=supervisor, case=other_org)
    assert not selectors.possible_duplicates(user=supervisor, case=other_concerns)
    rows = {row["case_number"]: row for row in supervisor_client.get("/staff/cases").context["rows"]}
    assert rows[one.case_number]["possible_duplicate"] and rows[two.case_number]["possible_duplicate"]
    assert not rows[other_org.case_number]["possible_duplicate"]
    assert not rows[other_concerns.case_number]["possible_duplicate"]
    assert not rows[old.case_number]["possible_duplicate"]
    body = supervisor_client.get(f"/staff/cases/{one.case_number}").content.decode()
    assert "Possible duplicates" in body and two.case_number in body
    # Linked in one step from the hint: then no longer offered.
    response = supervisor_client.post(
        f"/staff/cases/{one.case_number}/link_duplicate", {"link_duplicate-other": two.case_number}
    )
    assert response.status_code == 302
    assert CaseLink.objects.filter(case=one, other=two).exists()
    assert not selectors.possible_duplicates(user=supervisor, case=one)
    rows = {row["case_number"]: row for row in supervisor_client.get("/staff/cases").context["rows"]}
    assert not rows[one.case_number]["possible_duplicate"]


def test_the_list_marks_duplicates_in_the_same_number_of_queries(supervisor_client: Client) -> None:
    routed_case()
    supervisor_client.get("/staff/cases")
    with CaptureQueriesContext(connection) as few:
        supervisor_client.get("/staff/cases")
    cases_made(30)
    with CaptureQueriesContext(connection) as many:
        response = supervisor_client.get("/staff/cases")
    assert all(row["possible_duplicate"] for row in response.context["rows"])
    assert len(few) == len(many)


# --- the staff API ----------------------------------------------------------------------------------------


def _api(client: Client, action: str, body: Any) -> Any:
    return client.post(f"/api/v1/cases/bulk/{action}", body, content_type="application/json")


def test_the_staff_api_runs_the_same_bulk_service_with_field_errors(
    supervisor: User, supervisor_client: Client, handler_client: Client
) -> None:
    cases = cases_made(3)
    case_closed(cases[0], supervisor)
    numbers = [case.case_number for case in cases]
    assert _api(supervisor_client, "close", {"cases": []}).json() == {"cases": ["Select at least one case."]}
    refused = _api(supervisor_client, "close", {"cases": numbers, "body": {"outcome": "nope"}})
    assert refused.status_code == 400
    assert set(refused.json()["body"]) == {"outcome", "feedback", "confirm"}
    assert _api(handler_client, "close", {"cases": numbers}).status_code == 403
    assert _api(supervisor_client, "reopen", {"cases": numbers}).status_code == 404
    done = _api(
        supervisor_client,
        "close",
        {"cases": numbers, "body": {"outcome": "duplicate", "feedback": FEEDBACK, "confirm": True}},
    )
    assert done.status_code == 200
    assert done.json() == {
        "done": numbers[1:],
        "refused": [
            {"case_number": numbers[0], "reason": "You cannot close with an outcome while the case is closed."}
        ],
    }
    assert Case.objects.filter(pk__in=[c.pk for c in cases], status=Case.Status.CLOSED).count() == 3


def test_the_bulk_endpoint_is_in_the_openapi_schema(supervisor_client: Client) -> None:
    schema = supervisor_client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    text = schema.content.decode()
    assert "/api/v1/cases/bulk/{action}" in text and "case_bulk_action" in text


@pytest.mark.parametrize(
    "body",
    [
        [],
        "cases",
        {"cases": "2026-AAAAAA"},
        {"cases": [1, 2]},
        {"cases": ["\x00"]},
        {"cases": ["x" * 40]},
        {"cases": ["2026-AAAAAA"], "body": []},
        {"cases": ["2026-AAAAAA"], "body": {"outcome": ["duplicate"], "feedback": 3, "confirm": "yes"}},
    ],
)
def test_a_bad_bulk_api_body_is_a_field_error_never_a_500(supervisor_client: Client, body: Any) -> None:
    response = _api(supervisor_client, "close", body)
    assert response.status_code == 400, response.content[:300]
    assert response.json()


def test_a_bad_bulk_page_post_is_never_a_500(supervisor_client: Client) -> None:
    for data in (
        {"action": "close", "cases": ["\x00"]},
        {"action": "nope", "cases": ["2026-AAAAAA"]},
        {"action": "close", "all": "1", "filter": "status=%FF&page=-3"},
        {"action": "assign", "cases": ["2026-AAAAAA"], "step": "apply", "assign-assignee": "nobody"},
    ):
        response = _post(supervisor_client, **data)
        assert response.status_code in (400, 409), (data, response.status_code)
        assert "govuk-error-summary" in response.content.decode()
