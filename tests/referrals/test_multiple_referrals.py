"""A case referred to two authorities (a child placed by Rotherham in a children's home in Sheffield):
each referral has its own summary, clocks and thread; each authority's officers see only their own
referral, on the pages and in the API; the case is done with its authorities when both have answered; a
case reopened may be referred again; a concern about a council is never referred to it."""

from __future__ import annotations

import html
from typing import Any

import pytest

from accounts.models import User
from directory.lookup import authority_by_code
from referrals import selectors
from referrals import services as referral_services
from referrals.models import AuthorityAction, Referral
from tests.factories import signed_in, staff_user, staff_with_mfa, submit_report
from triage import case_actions
from triage.intake import report_route
from triage.models import Case
from triage.workflow import ActionNotAllowed

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities")]

ROTHERHAM, SHEFFIELD = "E08000018", "E08000039"
FOR_ROTHERHAM = "ROTHERHAM-SUMMARY-q8: the child Rotherham placed is going missing."
FOR_SHEFFIELD = "SHEFFIELD-SUMMARY-w3: the home in Sheffield does not report the missing episodes."
ROTHERHAM_QUESTION = "ROTHERHAM-QUESTION-z1: which weekends?"
ROTHERHAM_NOTE = "ROTHERHAM-NOTE-k5: strategy discussion held"


@pytest.fixture
def handler() -> User:
    return staff_user("handler", role=User.Role.CALL_HANDLER)


def officer(code: str) -> User:
    user, _ = staff_with_mfa(f"officer-{code}", role=User.Role.AUTHORITY_OFFICER)
    user.authorities.set([authority_by_code(code)])
    return user


def text(response: Any) -> str:
    return html.unescape(response.content.decode())


@pytest.fixture
def placed(handler: User) -> tuple[Case, Referral, Referral]:
    """A Rotherham case referred to Rotherham, then to Sheffield, each with its own summary."""
    case = report_route(report_id=submit_report(local_authority=authority_by_code(ROTHERHAM)).report.pk)
    first = referral_services.case_refer(case=case, summary=FOR_ROTHERHAM, acting_user=handler)
    second = referral_services.case_refer(
        case=case,
        summary=FOR_SHEFFIELD,
        recipient=authority_by_code(SHEFFIELD),
        acting_user=handler,
    )
    case.refresh_from_db()
    return case, first, second


def test_a_case_referred_twice_has_two_referrals_with_independent_clocks_and_threads(
    placed: tuple[Case, Referral, Referral],
) -> None:
    case, rotherham, sheffield = placed
    assert case.status == Case.Status.REFERRED
    assert {r.authority.gss_code for r in case.referrals.all()} == {ROTHERHAM, SHEFFIELD}
    officer_r = officer(ROTHERHAM)
    referral_services.referral_acknowledge(referral=rotherham, acting_user=officer_r)
    referral_services.referral_ask_helpline(referral=rotherham, question=ROTHERHAM_QUESTION, acting_user=officer_r)
    rotherham.refresh_from_db()
    sheffield.refresh_from_db()
    assert rotherham.status == Referral.Status.ACKNOWLEDGED and rotherham.acknowledged_at is not None
    assert sheffield.status == Referral.Status.AWAITING_ACKNOWLEDGEMENT and sheffield.acknowledged_at is None
    assert [a.kind for a in rotherham.actions.all()] == ["acknowledged", "question"]
    assert not sheffield.actions.exists()
    assert not selectors.case_done_with_authorities(case)


def test_the_case_is_done_with_its_authorities_when_every_referral_has_an_outcome(
    placed: tuple[Case, Referral, Referral],
) -> None:
    case, rotherham, sheffield = placed
    for referral, code in ((rotherham, ROTHERHAM), (sheffield, SHEFFIELD)):
        assert not selectors.case_done_with_authorities(case)
        who = officer(code)
        referral_services.referral_acknowledge(referral=referral, acting_user=who)
        referral_services.referral_record_outcome(referral=referral, outcome="early_help", note="", acting_user=who)
    assert selectors.case_done_with_authorities(case)


def test_an_authority_is_not_referred_the_same_case_twice_while_its_referral_is_open(
    placed: tuple[Case, Referral, Referral], handler: User
) -> None:
    case, _, _ = placed
    with pytest.raises(ActionNotAllowed, match="already has an open referral to Sheffield: send an update"):
        referral_services.case_refer(
            case=case,
            summary="again",
            recipient=authority_by_code(SHEFFIELD),
            acting_user=handler,
        )


def test_each_officer_sees_only_their_own_referral_on_the_pages(placed: tuple[Case, Referral, Referral]) -> None:
    case, rotherham, _ = placed
    officer_r, officer_s = officer(ROTHERHAM), officer(SHEFFIELD)
    referral_services.referral_acknowledge(referral=rotherham, acting_user=officer_r)
    referral_services.referral_record_action(
        referral=rotherham, kind="strategy_discussion", note=ROTHERHAM_NOTE, acting_user=officer_r
    )
    referral_services.referral_record_outcome(
        referral=rotherham, outcome="child_protection_plan", note="", acting_user=officer_r
    )
    sheffield_page = text(signed_in(officer_s).get(f"/staff/referrals/{case.case_number}", follow=True))
    assert FOR_SHEFFIELD in sheffield_page
    # Rotherham's summary, thread and outcome (the form's lists of choices name every kind and outcome).
    for secret in (FOR_ROTHERHAM, ROTHERHAM_NOTE, "recorded: Child protection plan", "thread-strategy_discussion"):
        assert secret not in sheffield_page
    rotherham_page = text(signed_in(officer_r).get(f"/staff/referrals/{case.case_number}", follow=True))
    assert FOR_ROTHERHAM in rotherham_page and ROTHERHAM_NOTE in rotherham_page
    assert "recorded: Child protection plan" in rotherham_page
    assert FOR_SHEFFIELD not in rotherham_page
    # Each list shows the case once, with the officer's own referral's state.
    sheffield_list = text(signed_in(officer_s).get("/staff/referrals?status=all"))
    assert sheffield_list.count(f'href="/staff/referrals/{case.case_number}/') == 1
    assert "Waiting for acknowledgement" in sheffield_list


def test_the_case_page_shows_every_referral_with_its_own_clocks_and_thread(
    placed: tuple[Case, Referral, Referral], handler: User
) -> None:
    case, rotherham, _ = placed
    officer_r = officer(ROTHERHAM)
    referral_services.referral_acknowledge(referral=rotherham, acting_user=officer_r)
    referral_services.referral_ask_helpline(referral=rotherham, question=ROTHERHAM_QUESTION, acting_user=officer_r)
    helpline, _ = staff_with_mfa("supervisor-cp", role=User.Role.SUPERVISOR)
    response = signed_in(helpline).get(f"/staff/cases/{case.case_number}")
    assert response.status_code == 200, response
    page = text(response)
    assert FOR_ROTHERHAM in page and FOR_SHEFFIELD in page and ROTHERHAM_QUESTION in page
    assert "Authority acknowledgement (Rotherham)" in page
    assert "Authority acknowledgement (Sheffield)" in page
    assert f'data-testid="referral-{ROTHERHAM}"' in page and f'data-testid="referral-{SHEFFIELD}"' in page
    # The question sits in Rotherham's panel, before Sheffield's starts.
    rotherham_panel = page.split(f'data-testid="referral-{ROTHERHAM}"')[1].split(f'data-testid="referral-{SHEFFIELD}"')[
        0
    ]
    sheffield_panel = page.split(f'data-testid="referral-{SHEFFIELD}"')[1]
    assert ROTHERHAM_QUESTION in rotherham_panel and ROTHERHAM_QUESTION not in sheffield_panel.split("Actions")[0]


def test_a_reply_goes_to_the_authority_that_asked(placed: tuple[Case, Referral, Referral], handler: User) -> None:
    case, rotherham, sheffield = placed
    officer_r = officer(ROTHERHAM)
    question = referral_services.referral_ask_helpline(
        referral=rotherham, question=ROTHERHAM_QUESTION, acting_user=officer_r
    )
    reply = referral_services.case_reply_to_authority(
        case=case, question_id=question.pk, body="The last three.", acting_user=handler
    )
    assert reply.referral_id == rotherham.pk
    assert not AuthorityAction.objects.filter(referral=sheffield).exists()


def test_an_update_names_its_authority_when_the_case_has_several(
    placed: tuple[Case, Referral, Referral], handler: User
) -> None:
    case, _, sheffield = placed
    with pytest.raises(ActionNotAllowed, match="choose which"):
        referral_services.case_update_authority(case=case, summary="new", acting_user=handler)
    update = referral_services.case_update_authority(case=case, summary="new", recipient=SHEFFIELD, acting_user=handler)
    assert update.referral_id == sheffield.pk


# --- the API --------------------------------------------------------------------------------------------


def test_each_officer_sees_only_their_own_referral_in_the_api(placed: tuple[Case, Referral, Referral]) -> None:
    case, rotherham, sheffield = placed
    officer_r = officer(ROTHERHAM)
    referral_services.referral_acknowledge(referral=rotherham, acting_user=officer_r)
    referral_services.referral_record_action(
        referral=rotherham, kind="strategy_discussion", note=ROTHERHAM_NOTE, acting_user=officer_r
    )
    api_s = signed_in(officer(SHEFFIELD))
    listed = api_s.get("/api/v1/referrals?status=all").json()
    assert [row["id"] for row in listed["results"]] == [sheffield.pk]
    assert listed["results"][0]["recipient"] == {"kind": "local_authority", "code": SHEFFIELD, "name": "Sheffield"}
    assert listed["results"][0]["case_number"] == case.case_number
    assert api_s.get(f"/api/v1/referrals/{rotherham.pk}").status_code == 404
    assert (
        api_s.post(f"/api/v1/referrals/{rotherham.pk}/acknowledge", {}, content_type="application/json").status_code
        == 404
    )
    own = api_s.get(f"/api/v1/referrals/{sheffield.pk}")
    assert own.status_code == 200
    body = own.content.decode()
    assert FOR_SHEFFIELD in body
    for secret in (FOR_ROTHERHAM, ROTHERHAM_NOTE):
        assert secret not in body
    assert own.json()["status"] == "awaiting_acknowledgement" and own.json()["thread"] == []


def test_an_officer_acts_on_a_referral_through_the_api(placed: tuple[Case, Referral, Referral]) -> None:
    case, _, sheffield = placed
    api_s = signed_in(officer(SHEFFIELD))
    post = lambda action, body: api_s.post(  # noqa: E731 - a short local shorthand
        f"/api/v1/referrals/{sheffield.pk}/{action}", body, content_type="application/json"
    )
    assert post("record_action", {"kind": "lado"}).status_code == 409  # acknowledge first
    done = post("acknowledge", {})
    assert done.status_code == 200 and done.json()["status"] == "acknowledged"
    assert post("record_action", {"kind": "not-a-kind"}).status_code == 400
    assert post("record_action", {"kind": "lado", "note": "LADO informed"}).status_code == 200
    assert post("ask_helpline", {"note": "Who runs the home?"}).status_code == 200
    outcome = post("record_outcome", {"outcome": "practice_changed"})
    assert outcome.status_code == 200 and outcome.json()["status"] == "outcome_recorded"
    assert post("nonsense", {}).status_code == 404
    sheffield.refresh_from_db()
    assert [a.kind for a in sheffield.actions.all()] == ["acknowledged", "lado", "question", "outcome"]
    assert case.referrals.get(authority__gss_code=ROTHERHAM).status == Referral.Status.AWAITING_ACKNOWLEDGEMENT


def test_the_helpline_refers_to_a_second_authority_through_the_api_and_the_case_lists_both(handler: User) -> None:
    case = report_route(report_id=submit_report(local_authority=authority_by_code(ROTHERHAM)).report.pk)
    api = signed_in(staff_with_mfa("api-handler", role=User.Role.CALL_HANDLER)[0])
    base = f"/api/v1/cases/{case.case_number}"
    # Neither council has an inbox or an officer here: the helpline says how it will tell them.
    told = {"how_told": "phone", "how_told_note": "Call the duty team today."}
    first = api.post(f"{base}/refer", {"summary": FOR_ROTHERHAM, **told}, content_type="application/json")
    assert first.status_code == 200, first.content
    second = api.post(
        f"{base}/refer",
        {"summary": FOR_SHEFFIELD, "recipient": {"kind": "local_authority", "code": SHEFFIELD}, **told},
        content_type="application/json",
    )
    assert second.status_code == 200, second.content
    wrong = api.post(
        f"{base}/refer",
        {"summary": "x", "recipient": {"kind": "police", "code": "x"}, **told},
        content_type="application/json",
    )
    assert wrong.status_code == 400
    referrals = api.get(base).json()["referrals"]
    assert [(r["recipient"]["code"], r["status"]) for r in referrals] == [
        (ROTHERHAM, "awaiting_acknowledgement"),
        (SHEFFIELD, "awaiting_acknowledgement"),
    ]
    assert all(r["case_number"] == case.case_number for r in referrals)


# --- a re-referral after a reopen, and a concern about a council ------------------------------------------


def test_a_reopened_case_is_referred_again_with_new_clocks(handler: User) -> None:
    case = report_route(report_id=submit_report(local_authority=authority_by_code(ROTHERHAM)).report.pk)
    first = referral_services.case_refer(case=case, summary=FOR_ROTHERHAM, acting_user=handler)
    case_actions.case_close(case=case, outcome="no_further_action", feedback="Thank you.", acting_user=handler)
    first.refresh_from_db()
    assert first.status == Referral.Status.WITHDRAWN and first.withdrawn_at is not None
    supervisor = staff_user("supervisor-re", role=User.Role.SUPERVISOR)
    case_actions.case_reopen(case=case, reason="New information.", acting_user=supervisor)
    case.refresh_from_db()
    second = referral_services.case_refer(case=case, summary="Again", acting_user=handler)
    case.refresh_from_db()
    assert case.status == Case.Status.REFERRED
    assert second.pk != first.pk and second.status == Referral.Status.AWAITING_ACKNOWLEDGEMENT
    assert second.ack_due_at >= first.ack_due_at
    # The officer's page is the new referral; the old one stays withdrawn.
    officer_r = officer(ROTHERHAM)
    assert selectors.referral_get_for(user=officer_r, case_number=case.case_number).pk == second.pk
    referral_services.referral_acknowledge(referral=second, acting_user=officer_r)
    first.refresh_from_db()
    assert first.status == Referral.Status.WITHDRAWN


def test_a_concern_about_a_council_is_never_referred_to_that_council(handler: User) -> None:
    rotherham = authority_by_code(ROTHERHAM)
    case = report_route(report_id=submit_report(local_authority=rotherham, about_authority=rotherham).report.pk)
    assert case.conflict_authority_id == rotherham.pk
    with pytest.raises(ActionNotAllowed, match="concern is about Rotherham"):
        referral_services.case_refer(case=case, summary="x", recipient=rotherham, acting_user=handler)
    assert not case.referrals.exists()
