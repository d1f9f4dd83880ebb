"""The helpline workspace through the browser's eyes: the Django test client and the real sign-in."""

from __future__ import annotations

import html
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from audit.models import AuditEvent
from directory.lookup import authority_by_code
from directory.models import LocalAuthority
from outbox.models import OutboxMessage
from referrals import services as referral_services
from reports.models import Anonymity, Channel, Message, Report
from reports.services import report_read, report_unlock
from tests.factories import PASSWORD, partnership_of_region, phone_report_answers, routed_case, sign_in, staff_with_mfa
from tests.triage.page_text import error_summary
from triage import case_actions as actions
from triage.events import case_events
from triage.models import Case

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities")]

LONDON = ZoneInfo("Europe/London")
ROTHERHAM = "E08000018"
S = Case.Status
NON_HELPLINE_ROLES = [
    User.Role.AUTHORITY_OFFICER,
    User.Role.PARTNERSHIP,
    User.Role.OVERSIGHT_ANALYST,
    User.Role.ADMINISTRATOR,
]


def with_status(case: Case, status: str) -> Case:
    Case.objects.filter(pk=case.pk).update(status=status)
    case.refresh_from_db()
    return case


def text(response: Any) -> str:
    return html.unescape(response.content.decode())


def listed(client: Client, **params: Any) -> list[str]:
    response = client.get("/staff/cases", params)
    assert response.status_code == 200, text(response)[:500]
    numbers = [row["case_number"] for row in response.context["rows"]]
    body = text(response)
    for number in numbers:
        assert number in body
    return numbers


@pytest.fixture
def supervisor() -> User:
    return staff_with_mfa("super", role=User.Role.SUPERVISOR)[0]


# --- queues ---------------------------------------------------------------------------------------------

NOW = datetime(2026, 3, 11, 9, 0, tzinfo=LONDON)  # a Wednesday in GMT: London time is UTC


def test_the_queues_show_open_overdue_and_due_today_counts(handler: User) -> None:
    with time_machine.travel(NOW, tick=False) as traveller:

        def at(moment: datetime, **overrides: Any) -> Case:
            traveller.move_to(moment)
            return routed_case(**overrides)

        urgent = {"child_at_immediate_risk": True}
        # National queue.
        at(datetime(2026, 3, 9, 10, 0, tzinfo=LONDON))  # due Tue 10:00: overdue
        at(datetime(2026, 3, 10, 15, 0, tzinfo=LONDON))  # due Wed 15:00: due today
        at(datetime(2026, 3, 11, 8, 0, tzinfo=LONDON))  # due Thu 08:00: neither
        with_status(at(datetime(2026, 3, 9, 11, 0, tzinfo=LONDON)), S.REFERRED)  # past triage, but referred
        with_status(at(datetime(2025, 11, 3, 10, 0, tzinfo=LONDON)), S.REFERRED)  # feedback overdue since Feb
        with_status(at(datetime(2026, 3, 11, 8, 45, tzinfo=LONDON)), S.AWAITING_REPORTER)  # due Thu: neither
        with_status(at(datetime(2026, 3, 9, 9, 0, tzinfo=LONDON)), S.CLOSED)  # closed: not counted
        # Urgent queue.
        at(datetime(2026, 3, 11, 8, 30, tzinfo=LONDON), **urgent)  # due 09:30 today
        at(datetime(2026, 3, 9, 9, 0, tzinfo=LONDON), **urgent)  # due Mon 10:00: overdue

        traveller.move_to(NOW)
        client = Client()
        sign_in(client, handler)
        response = client.get("/staff/")

    assert response.status_code == 200
    assert "triage/home.html" in [t.name for t in response.templates]
    counts = {s.queue.slug: (s.open, s.overdue, s.due_today) for s in response.context["queues"]}
    assert counts == {"national": (6, 2, 1), "urgent": (2, 1, 1)}
    body = text(response)
    assert 'data-testid="open-national">6<' in body
    assert 'data-testid="open-urgent">2<' in body
    assert 'href="/staff/cases?queue=national&overdue=on">2</a>' in body


def test_the_queues_with_no_cases_show_zeros(handler_client: Client) -> None:
    response = handler_client.get("/staff/")
    assert response.status_code == 200
    counts = {s.queue.slug: (s.open, s.overdue, s.due_today) for s in response.context["queues"]}
    assert counts == {"national": (0, 0, 0), "urgent": (0, 0, 0)}
    assert 'data-testid="open-national">0<' in text(response)


# --- the case list ----------------------------------------------------------------------------------------


@pytest.fixture
def varied(handler: User) -> dict[str, Case]:
    """Six cases that differ in one way each."""
    cases = {
        "plain": routed_case(),
        "unknown_authority": routed_case(local_authority=None),
        "urgent_claimed": routed_case(child_at_immediate_risk=True),
        "referred": routed_case(),
        "closed": routed_case(),
        "overdue": routed_case(),
    }
    actions.case_claim(case=cases["urgent_claimed"], acting_user=handler)
    referral_services.case_refer(case=cases["referred"], summary="Please visit", acting_user=handler)
    actions.case_close(case=cases["closed"], outcome="duplicate", feedback="Thank you", acting_user=handler)
    Case.objects.filter(pk=cases["overdue"].pk).update(triage_due_at=timezone.now() - timedelta(hours=2))
    for case in cases.values():
        case.refresh_from_db()
    return cases


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, {"plain", "unknown_authority", "urgent_claimed", "referred", "overdue"}),
        ({"queue": "urgent"}, {"urgent_claimed"}),
        ({"queue": "national"}, {"plain", "unknown_authority", "referred", "overdue"}),
        ({"status": "in_triage"}, {"urgent_claimed"}),
        ({"status": "referred"}, {"referred"}),
        ({"status": "closed"}, {"closed"}),
        ({"priority": "urgent"}, {"urgent_claimed"}),
        ({"priority": "standard"}, {"plain", "unknown_authority", "referred", "overdue"}),
        ({"authority": "unknown"}, {"unknown_authority"}),
        ({"authority": ROTHERHAM}, {"plain", "urgent_claimed", "referred", "overdue"}),
        ({"assignee": "none"}, {"plain", "unknown_authority", "referred", "overdue"}),
        ({"assignee": "handler"}, {"urgent_claimed"}),
        ({"overdue": "on"}, {"overdue"}),
        ({"queue": "national", "authority": ROTHERHAM, "status": "new"}, {"plain", "overdue"}),
    ],
)
def test_the_case_list_filters(
    params: dict[str, str], expected: set[str], varied: dict[str, Case], handler_client: Client
) -> None:
    names = {case.case_number: name for name, case in varied.items()}
    assert {names[number] for number in listed(handler_client, **params)} == expected


def test_search_finds_one_case_by_reference_or_case_number_even_when_closed(
    varied: dict[str, Case], handler_client: Client
) -> None:
    closed = varied["closed"]
    assert listed(handler_client, search=f"  {closed.report.reference.lower()} ") == [closed.case_number]
    plain = varied["plain"]
    assert listed(handler_client, search=plain.case_number.lower()) == [plain.case_number]
    assert listed(handler_client, search="ZZZZ-ZZZZ") == []


def test_an_invalid_filter_is_a_400_with_the_error_summary(varied: dict[str, Case], handler_client: Client) -> None:
    response = handler_client.get("/staff/cases", {"status": "shredded"})
    assert response.status_code == 400
    error_summary(response)


def test_the_list_sorts_by_deadline_soonest_first_and_the_other_way(
    varied: dict[str, Case], handler_client: Client
) -> None:
    soonest_first = list(
        Case.objects.exclude(status=S.CLOSED).order_by("triage_due_at", "id").values_list("case_number", flat=True)
    )
    assert listed(handler_client) == soonest_first
    assert listed(handler_client, sort="deadline") == soonest_first
    assert listed(handler_client, sort="-deadline") == soonest_first[::-1]
    assert soonest_first[0] == varied["overdue"].case_number


@pytest.fixture
def many_cases() -> list[str]:
    """120 open cases, numbers in deadline order."""
    for _ in range(120):
        routed_case()
    return list(Case.objects.order_by("triage_due_at", "id").values_list("case_number", flat=True))


def test_pagination_shows_the_rest_on_the_last_page_and_next_only_when_there_is_more(
    many_cases: list[str], handler_client: Client
) -> None:
    pages = {}
    for page in (1, 2, 3):
        response = handler_client.get("/staff/cases", {"page": page, "page_size": 50})
        assert response.status_code == 200
        pages[page] = response
    assert [row["case_number"] for row in pages[1].context["rows"]] == many_cases[:50]
    assert [row["case_number"] for row in pages[2].context["rows"]] == many_cases[50:100]
    assert [row["case_number"] for row in pages[3].context["rows"]] == many_cases[100:]
    assert 'rel="next"' in text(pages[1]) and 'rel="next"' in text(pages[2])
    assert 'rel="next"' not in text(pages[3])
    assert 'rel="prev"' not in text(pages[1]) and 'rel="prev"' in text(pages[3])
    assert "page_size=50&page=2" in text(pages[1])

    second = handler_client.get("/staff/cases", {"page": 2, "page_size": 100})
    assert [row["case_number"] for row in second.context["rows"]] == many_cases[100:]
    assert 'rel="next"' not in text(second)
    exactly_full = handler_client.get("/staff/cases", {"page": 5, "page_size": 25})
    assert len(exactly_full.context["rows"]) == 20
    assert 'rel="next"' not in text(exactly_full)


def test_the_case_list_costs_the_same_queries_whatever_the_page_size_or_filter(
    many_cases: list[str], handler: User, handler_client: Client
) -> None:
    first = Case.objects.select_related("report").get(case_number=many_cases[0])
    actions.case_claim(case=first, acting_user=handler)
    combos: list[dict[str, Any]] = [
        {},
        {"page": 3},
        {"page_size": 25},
        {"page_size": 100},
        {"page_size": 100, "page": 2},
        {"page_size": 25, "page": 3},
        {"page": 40},
        {"queue": "national", "priority": "standard"},
        {"status": "in_triage"},
        {"authority": "unknown"},
        {"authority": ROTHERHAM, "page": 2},
        {"assignee": "none", "page_size": 100},
        {"assignee": "handler"},
        {"overdue": "on"},
        {"search": first.report.reference},
        {"search": first.case_number},
        {"search": first.report.reference.replace("-", "")[:5].lower()},  # the start of a reference
        {"search": first.case_number[:7]},  # the start of a case number
        {"search": "Oakwood Academy"},
        {"sort": "newest", "page": 2},
        {"sort": "-deadline", "page_size": 25, "page": 4},
    ]
    handler_client.get("/staff/cases")  # warm up anything cached once per process
    counts = {}
    for params in combos:
        with CaptureQueriesContext(connection) as captured:
            response = handler_client.get("/staff/cases", params)
        assert response.status_code == 200
        counts[str(params)] = len(captured.captured_queries)
        # The page's rows, and the capped total (a search's one lookup of the reports it names, by reference,
        # case number or organisation hash, comes before them).
        case_queries = [
            q["sql"]
            for q in captured.captured_queries
            if 'FROM "triage_case"' in q["sql"] and '"organisation_hash" IN' not in q["sql"]
        ]
        assert len(case_queries) == 2, f"{params}: {case_queries}"
        assert "LIMIT 10001" in case_queries[1]
    # A search looks its reports up first: one more query, the same for every search.
    searches = {key for key in counts if "search" in key}
    assert len({counts[key] for key in searches}) == 1, counts
    assert len({counts[key] for key in counts if key not in searches}) == 1, counts
    assert counts[next(iter(searches))] == counts["{}"] + 1, counts


# --- the case page ---------------------------------------------------------------------------------------


def test_the_case_page_shows_decrypted_content_and_records_each_view(handler: User, handler_client: Client) -> None:
    case = routed_case(summary="Missing episodes ignored", details="A girl keeps going missing. <script>x()</script>")
    for _ in range(2):
        response = handler_client.get(f"/staff/cases/{case.case_number}")
        assert response.status_code == 200
        assert b"<script>x()</script>" not in response.content, "what a reporter wrote must be escaped"
        body = text(response)
        assert "Missing episodes ignored" in body
        assert "A girl keeps going missing." in body
        assert case.report.reference in body
    views = case_events(case).filter(kind="content_viewed")
    assert views.count() == 2
    assert {(event.actor_id, event.detail["view"]) for event in views} == {(handler.pk, "case")}


def test_supervisors_see_who_opened_a_case_and_call_handlers_do_not(
    handler: User, supervisor: User, handler_client: Client
) -> None:
    case = routed_case()
    handler_page = handler_client.get(f"/staff/cases/{case.case_number}")
    assert 'data-testid="access-history"' not in text(handler_page)
    assert handler_page.context["access_history"] == []

    supervisor_client = Client()
    sign_in(supervisor_client, supervisor)
    page = supervisor_client.get(f"/staff/cases/{case.case_number}")
    assert page.status_code == 200
    body = text(page)
    assert 'data-testid="access-history"' in body
    history = body.split('data-testid="access-history"', 1)[1]
    assert ">handler<" in history and ">super<" in history
    assert [row["actor__username"] for row in page.context["access_history"]] == ["super", "handler"]
    # The views are counted there, and kept out of the timeline.
    assert "Case opened" not in body.split('id="timeline"', 1)[1].split("</ol>", 1)[0]


def test_the_timeline_filters_by_kind_and_refuses_an_unknown_one(handler: User, handler_client: Client) -> None:
    case = routed_case()
    handler_client.post(f"/staff/cases/{case.case_number}/add_note", {"add_note-body": "Called the school."})
    page = handler_client.get(f"/staff/cases/{case.case_number}", {"kind": "add_note"})
    assert [event.kind for event in page.context["timeline"]] == ["add_note"]
    bad = handler_client.get(f"/staff/cases/{case.case_number}", {"kind": "shred"})
    assert bad.status_code == 400
    assert "Choose a kind of event from the list" in error_summary(bad)


def test_an_unknown_case_number_is_a_404(handler_client: Client) -> None:
    assert handler_client.get("/staff/cases/2026-NOPE00").status_code == 404


def test_an_action_redirects_to_the_timeline(handler: User, handler_client: Client) -> None:
    case = routed_case()
    response = handler_client.post(f"/staff/cases/{case.case_number}/claim")
    assert response.status_code == 302
    assert response["Location"] == f"/staff/cases/{case.case_number}"
    # The case page says what happened, once.
    page = handler_client.get(response["Location"])
    assert "You have claimed this case" in text(page)
    assert "You have claimed this case" not in text(handler_client.get(response["Location"]))
    case.refresh_from_db()
    assert (case.status, case.assignee) == (S.IN_TRIAGE, handler)

    response = handler_client.post(
        f"/staff/cases/{case.case_number}/ask_reporter", {"ask_reporter-body": "Which home?"}
    )
    assert response.status_code == 302
    assert Message.objects.filter(report=case.report, direction="from_helpline").count() == 1
    case.refresh_from_db()
    assert case.status == S.AWAITING_REPORTER


def test_an_action_not_allowed_now_is_a_409_with_the_reason(handler: User, handler_client: Client) -> None:
    case = with_status(routed_case(), S.REFERRED)
    response = handler_client.post(f"/staff/cases/{case.case_number}/claim", follow=True)
    assert response.redirect_chain == [(f"/staff/cases/{case.case_number}#actions", 302)]
    assert response.status_code == 409
    assert "You cannot claim while the case is referred to the local authority." in error_summary(response)
    case.refresh_from_db()
    assert (case.status, case.assignee) == (S.REFERRED, None)

    unknown = routed_case(local_authority=None)
    response = handler_client.post(
        f"/staff/cases/{unknown.case_number}/refer", {"refer-summary": "Please visit"}, follow=True
    )
    assert response.status_code == 409
    assert "Confirm the local authority before referring the case." in error_summary(response)
    assert not case_events(unknown).filter(kind="refer").exists()


@pytest.mark.parametrize(
    ("action", "data", "message"),
    [
        ("ask_reporter", {"ask_reporter-body": "   "}, "Enter the message to the reporter"),
        ("close", {"close-feedback": "Thanks"}, "Choose an outcome"),
        ("set_priority", {"set_priority-priority": "whenever"}, "Select a valid choice"),
        ("refer", {}, "Write a summary for the authority"),
    ],
)
def test_an_invalid_action_form_is_a_400_with_the_error_summary(
    action: str, data: dict[str, str], message: str, handler_client: Client
) -> None:
    case = routed_case()
    response = handler_client.post(f"/staff/cases/{case.case_number}/{action}", data, follow=True)
    # Shown by the case page's own address (post/redirect/get), with what was typed.
    assert response.redirect_chain == [(f"/staff/cases/{case.case_number}#action-{action}", 302)]
    assert response.status_code == 400
    assert message in error_summary(response)
    # Once: a refresh shows the page afresh.
    assert handler_client.get(f"/staff/cases/{case.case_number}").status_code == 200
    case.refresh_from_db()
    assert case.status == S.NEW
    assert not case_events(case).filter(kind=action).exists()


def test_an_unknown_action_is_a_404(handler_client: Client) -> None:
    case = routed_case()
    response = handler_client.post(f"/staff/cases/{case.case_number}/shred", follow=True)
    assert response.status_code == 404
    assert "That action does not exist." in text(response)


# --- who may come in -------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", NON_HELPLINE_ROLES)
def test_other_staff_roles_are_kept_out_of_the_helpline_workspace(role: str, handler: User) -> None:
    case = routed_case()
    referral_services.case_refer(case=case, summary="Please visit", acting_user=handler)
    extra = {"partnership": partnership_of_region("Yorkshire and The Humber")} if role == User.Role.PARTNERSHIP else {}
    user = staff_with_mfa(f"user-{role}", role=role, **extra)[0]
    if role == User.Role.AUTHORITY_OFFICER:
        user.authorities.add(LocalAuthority.objects.get(gss_code=ROTHERHAM))  # the case is referred to them
    client = Client()
    sign_in(client, user)

    home = client.get("/staff/", follow=True)  # each role is sent on to its own workspace
    assert home.status_code == 200
    assert "triage/home.html" not in [t.name for t in home.templates]
    assert "queues" not in home.context
    assert case.report.reference not in text(home)

    assert client.get("/staff/cases").status_code == 403
    assert client.get(f"/staff/cases/{case.case_number}").status_code == 403
    assert client.post(f"/staff/cases/{case.case_number}/add_note", {"add_note-body": "hi"}).status_code == 403
    assert client.get("/staff/phone-report").status_code == 403
    assert not case_events(case).filter(kind__in=["content_viewed", "add_note"]).exists()


def workspace_urls(case: Case) -> list[str]:
    return ["/staff/", "/staff/cases", f"/staff/cases/{case.case_number}", "/staff/phone-report"]


def test_an_unauthenticated_visitor_is_sent_to_sign_in() -> None:
    case = routed_case()
    client = Client()
    for url in workspace_urls(case):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"] == "/staff/sign-in"
    response = client.post(f"/staff/cases/{case.case_number}/claim")
    assert (response.status_code, response["Location"]) == (302, "/staff/sign-in")
    case.refresh_from_db()
    assert case.status == S.NEW
    assert not case_events(case).filter(kind="content_viewed").exists()


def test_a_password_without_the_second_factor_opens_nothing(handler: User) -> None:
    case = routed_case()
    client = Client()
    step = client.post("/staff/sign-in", {"username": "handler", "password": PASSWORD})
    assert step["Location"] == "/staff/sign-in/code"
    for url in workspace_urls(case):
        response = client.get(url)
        assert (response.status_code, response["Location"]) == (302, "/staff/sign-in"), url
    response = client.post(f"/staff/cases/{case.case_number}/claim")
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.assignee is None


# --- phone reports ---------------------------------------------------------------------------------------


def test_a_call_handler_records_a_phone_report_and_reads_back_the_reference_and_code(
    handler: User, handler_client: Client
) -> None:
    form_page = handler_client.get("/staff/phone-report")
    assert form_page.status_code == 200
    # Worded for the handler who asks, not the caller who answers.
    assert "Where does the caller work?" in text(form_page)
    assert "Where do you work?" not in text(form_page)
    assert "Do not include your own name" not in text(form_page)
    assert "your concern" not in text(form_page).lower()
    response = handler_client.post("/staff/phone-report", phone_report_answers(), follow=True)
    assert response.redirect_chain == [("/staff/phone-report/sent", 302)]
    assert response.status_code == 200, text(response)[:1000]
    body = text(response)
    reference = response.context["reference"]
    access_code = response.context["access_code"]
    assert f'data-testid="reference">{reference}<' in body
    assert f'data-testid="access-code">{access_code}<' in body
    assert "ask them to read both back to you" in body
    # Shown once: a refresh says so and shows no code, and records nothing again.
    again = text(handler_client.get("/staff/phone-report/sent"))
    assert "The access code has already been shown" in again
    assert access_code not in again
    assert Report.objects.count() == 1

    report = Report.objects.get(reference=reference)
    assert report.channel == Channel.PHONE
    assert report.anonymity == Anonymity.CONFIDENTIAL
    assert report.local_authority == authority_by_code(ROTHERHAM)
    assert report.concern_types == ["victim_disbelieved_or_blamed"]
    assert report.has_contact_email
    event = AuditEvent.objects.get(kind="report_taken_by_phone")
    assert event.actor == handler
    assert event.detail == {"report_id": report.pk}
    assert OutboxMessage.objects.filter(kind="route_report", target_id=report.pk).exists()

    # The caller can use what was read to them.
    unlocked, key = report_unlock(reference=reference, access_code=access_code, client="caller")
    opened = report_read(report=unlocked, data_key=key)
    assert opened.content["details"] == "A pupil told a teacher; the head said she was making it up."
    assert opened.content["contact"]["email"] == "caller@private.example"  # type: ignore[index]


def test_an_anonymous_phone_report_keeps_no_contact_details(handler_client: Client) -> None:
    # Issue 22: a name typed for an anonymous caller is refused, not dropped silently (see
    # tests/triage/test_phone_wording.py); with none typed, the report keeps no contact details.
    answers = phone_report_answers(**{"anonymity-anonymity": "anonymous"})
    for field in ("contact-name", "contact-email", "contact-phone"):
        answers.pop(field, None)
    response = handler_client.post("/staff/phone-report", answers, follow=True)
    assert response.status_code == 200, text(response)[:1000]
    report = Report.objects.get(reference=response.context["reference"])
    assert report.anonymity == Anonymity.ANONYMOUS
    assert not report.has_contact_email
    unlocked, key = report_unlock(
        reference=report.reference, access_code=response.context["access_code"], client="caller"
    )
    assert report_read(report=unlocked, data_key=key).content["contact"] == {"name": "", "email": "", "phone": ""}


def test_a_phone_report_with_missing_answers_is_a_400_with_the_error_summary(handler_client: Client) -> None:
    answers = phone_report_answers()
    for field in ("what-happened-details", "concern-concern_types", "contact-name"):
        answers.pop(field)
    response = handler_client.post("/staff/phone-report", answers, follow=True)
    assert response.redirect_chain == [("/staff/phone-report", 302)]
    assert response.status_code == 400
    body = error_summary(response)
    assert "Enter what happened" in body
    assert "Select what the caller's concern is about" in body
    assert "Enter the caller's name" in body
    assert not Report.objects.exists()
    assert not AuditEvent.objects.filter(kind="report_taken_by_phone").exists()


def test_an_empty_phone_report_is_a_400(handler_client: Client) -> None:
    response = handler_client.post("/staff/phone-report", {}, follow=True)
    assert response.status_code == 400
    assert "Select how the caller wants to report" in error_summary(response)
    assert not Report.objects.exists()


def test_an_anonymous_caller_is_never_asked_for_a_name_when_other_answers_are_missing(
    handler_client: Client,
) -> None:
    answers = phone_report_answers(**{"anonymity-anonymity": "anonymous", "contact-name": "", "contact-email": ""})
    answers.pop("what-happened-details")
    response = handler_client.post("/staff/phone-report", answers, follow=True)
    assert response.status_code == 400
    body = error_summary(response)
    assert "Enter what happened" in body
    assert "Enter the caller's name" not in body, "an anonymous caller's contact details must not be asked for"
