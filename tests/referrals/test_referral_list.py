"""The local authority officer's referral list (issue 14, point 5): the authority's own service name in the
header and titles, status and overdue filters, search by case number, the acknowledgement and outcome
clocks with their states, open questions, a total count, a 400 with the error summary for a bad filter,
and a constant number of queries whatever the number of rows."""

from __future__ import annotations

import html
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from directory.lookup import authority_by_code
from directory.models import LocalAuthority
from referrals import listing as referral_list
from referrals import services as referral_services
from referrals.models import Referral
from tests.factories import referral_of, reviewed_case, sign_in, staff_user, staff_with_mfa, submit_report
from triage import case_actions
from triage.intake import report_route
from triage.models import Case

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities")]

ROTHERHAM = "E08000018"
SHEFFIELD = "E08000039"
SERVICE = "Local authority referrals"


def text(response: Any) -> str:
    return html.unescape(response.content.decode())


def listed(response: Any) -> list[str]:
    return sorted(row["case_number"] for row in response.context["rows"])


def authority(code: str) -> LocalAuthority:
    found = authority_by_code(code)
    assert found is not None
    return found


@pytest.fixture
def helpline() -> User:
    return staff_user("referrer", role=User.Role.SUPERVISOR)


@pytest.fixture
def officer() -> User:
    user, _ = staff_with_mfa("list-officer", role=User.Role.AUTHORITY_OFFICER)
    user.authorities.add(authority(ROTHERHAM))
    return user


@pytest.fixture
def client(officer: User) -> Client:
    signed_in = Client()
    sign_in(signed_in, officer)
    return signed_in


def refer(helpline: User, code: str = ROTHERHAM) -> Case:
    case = report_route(report_id=submit_report(local_authority=authority(code)).report.pk)
    referral_services.case_refer(case=case, summary="Please look into this.", acting_user=helpline)
    case.refresh_from_db()
    return case


@pytest.fixture
def stages(helpline: User, officer: User) -> dict[str, Case]:
    """One referral at each stage: waiting for acknowledgement, acknowledged, outcome recorded, and closed."""
    waiting, acknowledged, outcome, closed = (refer(helpline) for _ in range(4))
    for case in (acknowledged, outcome, closed):
        referral_services.referral_acknowledge(referral=referral_of(case), acting_user=officer)
    referral_services.referral_record_outcome(
        referral=referral_of(outcome), outcome="early_help", note="", acting_user=officer
    )
    Case.objects.filter(pk=closed.pk).update(status=Case.Status.CLOSED, closed_at=timezone.now())
    return {"waiting": waiting, "acknowledged": acknowledged, "outcome": outcome, "closed": closed}


def numbers(stages: dict[str, Case], *names: str) -> list[str]:
    return sorted(stages[name].case_number for name in names)


# --- the service name ------------------------------------------------------------------------------------


def test_the_officers_header_and_titles_name_the_authority_service_not_the_helpline(
    client: Client, helpline: User
) -> None:
    case = refer(helpline)
    for path, title in [
        ("/staff/referrals", "Referrals"),
        (f"/staff/referrals/{case.case_number}", f"Referral {case.case_number}"),
    ]:
        page = text(client.get(path, follow=True))
        assert f"<title>{title} – {SERVICE} – GOV.UK</title>" in page
        assert f'govuk-header__service-name">{SERVICE}</a>' in page
        assert "Helpline workspace" not in page


def test_a_refused_filter_says_error_in_the_title(client: Client) -> None:
    page = text(client.get("/staff/referrals?status=everything"))
    assert f"<title>Error: Referrals – {SERVICE} – GOV.UK</title>" in page


# --- filters and search ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ("waiting", "acknowledged", "outcome")),
        ("status=", ("waiting", "acknowledged", "outcome")),
        ("status=awaiting_acknowledgement", ("waiting",)),
        ("status=awaiting_outcome", ("acknowledged",)),
        ("status=outcome_recorded", ("outcome", "closed")),
        ("status=all", ("waiting", "acknowledged", "outcome", "closed")),
        ("closed=1", ("waiting", "acknowledged", "outcome", "closed")),
    ],
)
def test_the_status_filter_narrows_the_list_to_one_stage(
    client: Client, stages: dict[str, Case], query: str, expected: tuple[str, ...]
) -> None:
    response = client.get(f"/staff/referrals?{query}")
    assert response.status_code == 200
    assert listed(response) == numbers(stages, *expected)
    assert response.context["page"].total == len(expected)


def test_overdue_only_lists_referrals_past_either_of_the_authoritys_deadlines(
    client: Client, stages: dict[str, Case]
) -> None:
    past = timezone.now() - timedelta(hours=1)
    Referral.objects.filter(case_id=stages["waiting"].pk).update(ack_due_at=past)
    Referral.objects.filter(case_id=stages["acknowledged"].pk).update(outcome_due_at=past)
    # Met or closed clocks are never overdue, however late their due date.
    Referral.objects.filter(case__in=[stages["outcome"].pk, stages["closed"].pk]).update(
        ack_due_at=past, outcome_due_at=past
    )

    response = client.get("/staff/referrals?overdue=1")
    assert listed(response) == numbers(stages, "waiting", "acknowledged")
    states = {row["case_number"]: (row["ack_state"], row["outcome_state"]) for row in response.context["rows"]}
    assert states[stages["waiting"].case_number][0] == "overdue"
    assert states[stages["acknowledged"].case_number] == ("done", "overdue")
    assert 'class="govuk-checkboxes__input" id="id_overdue" name="overdue" type="checkbox" value="1" checked' in (
        text(response)
    )

    both = client.get("/staff/referrals?overdue=1&status=awaiting_outcome")
    assert listed(both) == numbers(stages, "acknowledged")
    assert listed(client.get("/staff/referrals?overdue=1&status=all")) == numbers(stages, "waiting", "acknowledged")


def test_search_finds_a_referral_by_all_or_part_of_its_case_number(client: Client, stages: dict[str, Case]) -> None:
    number = stages["acknowledged"].case_number
    assert listed(client.get(f"/staff/referrals?case_number={number}")) == [number]
    assert listed(client.get(f"/staff/referrals?case_number=+{number[-4:].lower()}+")) == [number]
    # Search keeps the status filter: a closed referral is found with "all", not among the open ones.
    closed = stages["closed"].case_number
    assert listed(client.get(f"/staff/referrals?case_number={closed}")) == []
    assert listed(client.get(f"/staff/referrals?case_number={closed}&status=all")) == [closed]

    nothing = client.get("/staff/referrals?case_number=2026-ZZZZZZ")
    assert nothing.status_code == 200
    assert "No referrals match these filters." in text(nothing)
    assert nothing.context["page"].total == 0


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("status=closed_maybe", "Select a status from the list"),
        ("case_number=2026%25", "Case number must contain only letters, numbers and hyphens"),
        ("case_number=a%00b", "Case number must contain only letters, numbers and hyphens"),
        ("case_number=" + "X" * 21, "Case number must be 20 characters or fewer"),
        ("page=0", "Page must be 1 or more"),
        ("page=two", "Page must be a whole number"),
        ("page=99999", "Page must be 10,000 or less"),
    ],
)
def test_a_bad_filter_value_is_a_400_with_the_error_summary(
    client: Client, stages: dict[str, Case], query: str, message: str
) -> None:
    response = client.get(f"/staff/referrals?{query}")
    assert response.status_code == 400
    page = text(response)
    assert "govuk-error-summary" in page
    assert message in page
    # The page still works: the filter form to correct it, and the open referrals.
    assert 'id="referral-filters"' in page
    assert listed(response) == numbers(stages, "waiting", "acknowledged", "outcome")


def test_an_officer_sees_only_their_own_authoritys_referrals_whatever_the_filter(
    client: Client, helpline: User, stages: dict[str, Case]
) -> None:
    theirs = refer(helpline, SHEFFIELD)
    for query in ("", "status=all", "status=awaiting_acknowledgement", f"case_number={theirs.case_number}"):
        response = client.get(f"/staff/referrals?{query}")
        assert theirs.case_number not in listed(response), query
        table = text(response).split('data-testid="referral-table"', 1)[1]
        assert theirs.case_number not in table, query  # the search box alone says it back
    assert listed(client.get("/staff/referrals?status=all")) == numbers(
        stages, "waiting", "acknowledged", "outcome", "closed"
    )


# --- columns and the total -------------------------------------------------------------------------------


def test_each_row_shows_its_due_dates_with_their_state_its_open_questions_and_its_stage(
    client: Client, stages: dict[str, Case], officer: User
) -> None:
    acknowledged = stages["acknowledged"]
    for question in ("Which school?", "Which year group?"):
        referral_services.referral_ask_helpline(
            referral=referral_of(acknowledged), question=question, acting_user=officer
        )

    response = client.get("/staff/referrals?status=all")
    page = response.content.decode()
    row = {r["case_number"]: r for r in response.context["rows"]}[acknowledged.case_number]
    assert row["open_questions"] == 2
    assert row["ack_state"] == "done"
    assert row["outcome_state"] in {"on time", "due soon"}
    assert f'data-testid="open-questions-{acknowledged.case_number}">2<' in page
    assert f'data-testid="ack-due-{acknowledged.case_number}">' in page
    ack_cell = page.split(f'data-testid="ack-due-{acknowledged.case_number}">', 1)[1].split("<", 1)[0]
    assert ack_cell.endswith("(done)")
    stage_of = {name: f'data-testid="stage-{case.case_number}">' for name, case in stages.items()}
    assert stage_of["waiting"] + "Waiting for acknowledgement<" in page
    assert stage_of["acknowledged"] + "Acknowledged<" in page
    assert stage_of["outcome"] + "Outcome recorded<" in page
    assert stage_of["closed"] + "Closed<" in page
    for name in ("waiting", "outcome", "closed"):
        assert f'data-testid="open-questions-{stages[name].case_number}">0<' in page
    for header in ("Acknowledge by", "Outcome by", "Open questions", "Status"):
        assert f">{header}</th>" in page


def test_the_total_counts_every_matching_referral_not_only_the_page(client: Client, helpline: User) -> None:
    for _ in range(3):
        refer(helpline)
    response = client.get("/staff/referrals")
    assert 'data-testid="referral-count" aria-live="polite"><strong>3</strong> referrals<' in response.content.decode()

    page = referral_list.referral_list(
        user=response.context["user"], filters=referral_list.ReferralFilters(page=2), page_size=2
    )
    assert page.total == 3
    assert len(page.rows) == 1
    assert (page.first, page.last, page.has_previous, page.has_next) == (3, 3, True, False)


# --- queries ---------------------------------------------------------------------------------------------


def queries_for(client: Client, path: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize("query", ["", "status=all&overdue=1", "status=awaiting_acknowledgement&case_number=2"])
def test_the_list_takes_the_same_number_of_queries_for_2_and_for_20_referrals(
    client: Client, helpline: User, officer: User, query: str
) -> None:
    def add(count: int) -> None:
        for _ in range(count):
            case = refer(helpline)
            referral_services.referral_ask_helpline(
                referral=referral_of(case), question="Which school?", acting_user=officer
            )
            Referral.objects.filter(case_id=case.pk).update(ack_due_at=timezone.now() - timedelta(hours=1))

    add(2)
    with_two = queries_for(client, f"/staff/referrals?{query}")
    add(18)
    response = client.get("/staff/referrals?status=all")
    assert len(response.context["rows"]) == 20
    assert all(row["open_questions"] == 1 for row in response.context["rows"])
    with_twenty = queries_for(client, f"/staff/referrals?{query}")

    assert with_two == with_twenty


# --- closed referrals ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "offered"),
    [
        ("", True),
        ("?status=awaiting_outcome", True),
        ("?status=all", False),
        ("?closed=1", False),
        ("?status=outcome_recorded", False),
    ],
)
def test_include_closed_referrals_is_offered_only_while_closed_ones_are_left_out(
    client: Client, helpline: User, query: str, offered: bool
) -> None:
    refer(helpline)
    page = client.get(f"/staff/referrals{query}").content.decode()
    assert ('data-testid="include-closed"' in page) is offered
    assert ("Include closed referrals" in page) is offered


def test_a_review_whose_case_is_closed_says_case_closed_in_the_reviewers_list(helpline: User) -> None:
    reviewer = staff_with_mfa("list-reviewer", role=User.Role.NATIONAL_REVIEWER)[0]
    with_findings, review = reviewed_case(helpline, local_authority=authority(ROTHERHAM))
    referral_services.referral_acknowledge(referral=review, acting_user=reviewer)
    referral_services.referral_record_outcome(
        referral=review, outcome="review_upheld", note="The reports were hidden.", acting_user=reviewer
    )
    without_findings, _ = reviewed_case(helpline, local_authority=authority(ROTHERHAM))
    still_open, _ = reviewed_case(helpline, local_authority=authority(ROTHERHAM))
    for case in (with_findings, without_findings):
        case_actions.case_close(case=case, outcome="no_further_action", feedback="Thank you.", acting_user=helpline)
    workspace = Client()
    sign_in(workspace, reviewer)
    page = text(workspace.get("/staff/referrals?status=all"))
    assert f'data-testid="stage-{with_findings.case_number}">Case closed<' in page
    assert f'data-testid="stage-{without_findings.case_number}">Case closed<' in page
    assert f'data-testid="stage-{still_open.case_number}">Waiting for acknowledgement<' in page
