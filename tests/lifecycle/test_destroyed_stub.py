"""What a destroyed case looks like: every staff page and API that would open its content shows its stub
(the record without the content) or refuses with a clear 4xx, never a 500; the reporter's /check says in
plain words what happened."""

from __future__ import annotations

import html
from datetime import date
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import User
from lifecycle import schedule
from referrals import services as referral_services
from reports.services import SubmittedReport
from tests.factories import (
    ROTHERHAM,
    attachment_make,
    authority,
    case_closed,
    referral_of,
    reviewed_case,
    signed_in_as,
    submit_report,
)
from triage.case_actions import case_add_note
from triage.intake import report_route
from triage.models import Case, Outcome

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities")]

SUMMARY = "Missing episodes ignored"
NOTE = "Called the school on Tuesday"
QUESTION = "Which year group is the girl in?"
REFERRAL_SUMMARY = "Please look into the missing episodes."


def _words(day: date) -> str:
    return f"Content destroyed on {day.day} {day:%B %Y} under the retention schedule"


def _text(response: Any) -> str:
    return html.unescape(response.content.decode())


@pytest.fixture
def destroyed() -> dict[str, Any]:
    """A case referred to Rotherham, with a file, an internal note and the officer's question, closed as
    substantiated and destroyed by the schedule: its staff, its officer and its reporter."""
    helpline, supervisor = signed_in_as(User.Role.SUPERVISOR, username="sup")
    officer_client, officer = signed_in_as(User.Role.AUTHORITY_OFFICER, ROTHERHAM, username="officer")
    submitted: SubmittedReport = submit_report(local_authority=authority(ROTHERHAM))
    case = report_route(report_id=submitted.report.pk)
    file = attachment_make(case, b"\x89PNG\r\n\x1a\n" + b"0" * 64, name="photo.png", content_type="image/png")
    referral_services.case_refer(case=case, summary=REFERRAL_SUMMARY, acting_user=supervisor)
    referral = referral_of(case)
    referral_services.referral_ask_helpline(referral=referral, question=QUESTION, acting_user=officer)
    case_add_note(case=Case.objects.get(pk=case.pk), body=NOTE, acting_user=supervisor)
    case = case_closed(Case.objects.get(pk=case.pk), supervisor, Outcome.SUBSTANTIATED)
    run = schedule.retention_apply(today=case.destroy_on)
    assert run is not None and run.destroyed == 1
    return {
        "helpline": helpline,
        "officer": officer_client,
        "case": case,
        "referral": referral,
        "file": file,
        "submitted": submitted,
        "day": timezone.localdate(),
    }


def test_the_case_page_shows_the_stub_with_the_record_and_no_content(destroyed: dict[str, Any]) -> None:
    case = destroyed["case"]
    page = destroyed["helpline"].get(f"/staff/cases/{case.case_number}")

    assert page.status_code == 200
    text = _text(page)
    assert _words(destroyed["day"]) in text and 'data-testid="content-destroyed"' in text
    # The record stays: number, outcome, authority, concern types, the referral and the timeline.
    assert case.case_number in text and "Concern substantiated" in text and "Rotherham" in text
    assert "A concern was raised but not acted on" in text
    assert 'data-testid="referral-E08000018"' in text and "Content destroyed" in text
    assert "1 file, destroyed with the content" in text
    # Nothing of what anyone wrote, and no action that would seal something new.
    for written in (SUMMARY, NOTE, QUESTION, REFERRAL_SUMMARY, "photo.png", "Northside"):
        assert written not in text
    for sealing in ("add_note", "reopen", "reply_to_authority", "delete_attachment"):
        assert f'data-testid="submit-{sealing}"' not in text
    assert 'data-testid="submit-record_facts"' in text  # facts are the record's own


def test_an_action_that_would_seal_something_is_refused_with_an_error_summary(destroyed: dict[str, Any]) -> None:
    case, helpline = destroyed["case"], destroyed["helpline"]

    posted = helpline.post(f"/staff/cases/{case.case_number}/add_note", {"add_note-body": "More"})
    page = helpline.get(posted["Location"])

    assert posted.status_code == 302 and page.status_code == 409
    text = _text(page)
    assert "govuk-error-summary" in text and "nothing can be added to this case" in text
    assert case.notes.count() == 1


def test_the_staff_api_gives_the_stub_and_refuses_sealing_actions(destroyed: dict[str, Any]) -> None:
    case, helpline = destroyed["case"], destroyed["helpline"]

    detail = helpline.get(f"/api/v1/cases/{case.case_number}")
    note = helpline.post(
        f"/api/v1/cases/{case.case_number}/add_note", {"body": "More"}, content_type="application/json"
    )
    files = helpline.get(f"/api/v1/cases/{case.case_number}/attachments")
    download = helpline.get(f"/api/v1/cases/{case.case_number}/attachments/{destroyed['file'].public_id}")

    assert detail.status_code == 200
    body = detail.json()
    assert body["content"] == {} and body["content_destroyed_on"] == destroyed["day"].isoformat()
    assert body["case_number"] == case.case_number and body["status"] == "closed"
    assert [referral["summary"] for referral in body["referrals"]] == [""]
    assert "add_note" not in body["allowed_actions"] and "record_facts" in body["allowed_actions"]
    assert note.status_code == 409 and "nothing can be added" in note.json()["detail"]
    assert files.status_code == 200 and files.json() == {"attachments": []}
    assert download.status_code == 410


@pytest.mark.parametrize("view", ["", "/preview", "/view"])
def test_a_file_of_a_destroyed_case_is_gone_with_a_410(destroyed: dict[str, Any], view: str) -> None:
    case = destroyed["case"]
    response = destroyed["helpline"].get(f"/staff/cases/{case.case_number}/files/{destroyed['file'].public_id}{view}")
    assert response.status_code == 410
    assert _words(destroyed["day"]) in _text(response)


def test_the_officers_referral_page_and_api_give_the_stub(destroyed: dict[str, Any]) -> None:
    case, referral, officer = destroyed["case"], destroyed["referral"], destroyed["officer"]

    page = officer.get(f"/staff/referrals/{case.case_number}/{referral.pk}")
    api = officer.get(f"/api/v1/referrals/{referral.pk}")
    files = officer.get(f"/api/v1/referrals/{referral.pk}/attachments")

    assert page.status_code == 200
    text = _text(page)
    assert _words(destroyed["day"]) in text and case.case_number in text
    assert REFERRAL_SUMMARY not in text and QUESTION not in text
    assert api.status_code == 200
    assert api.json()["summary"] == "" and api.json()["content_destroyed_on"] == destroyed["day"].isoformat()
    assert [entry["note"] for entry in api.json()["thread"]] == [""]
    assert files.status_code == 200 and files.json() == {"attachments": []}


def test_the_officer_cannot_record_anything_on_it(destroyed: dict[str, Any]) -> None:
    case, referral, officer = destroyed["case"], destroyed["referral"], destroyed["officer"]

    posted = officer.post(
        f"/staff/referrals/{case.case_number}/{referral.pk}/ask_helpline", {"ask_helpline-note": "Any news?"}
    )
    page = officer.get(posted["Location"])
    api = officer.post(
        f"/api/v1/referrals/{referral.pk}/ask_helpline", {"note": "Any news?"}, content_type="application/json"
    )

    assert page.status_code == 409 and "nothing more can be recorded on this referral" in _text(page)
    assert "govuk-error-summary" in _text(page)
    assert api.status_code == 409 and "nothing more can be recorded" in api.json()["detail"]
    assert referral.actions.count() == 1


def test_the_reviewers_page_gives_the_stub() -> None:
    supervisor_client, supervisor = signed_in_as(User.Role.SUPERVISOR, username="sup")
    case, review = reviewed_case(supervisor)
    case = case_closed(case, supervisor, Outcome.NO_FURTHER_ACTION)
    schedule.retention_apply(today=case.destroy_on)
    client = signed_in_as(User.Role.NATIONAL_REVIEWER, username="reviewer", email="reviewer@review.example")[0]

    page = client.get(f"/staff/referrals/{case.case_number}/{review.pk}")

    assert page.status_code == 200
    text = _text(page)
    assert _words(timezone.localdate()) in text and "sent for independent review" in text
    assert supervisor_client.get(f"/staff/cases/{case.case_number}").status_code == 200


def test_the_reporter_is_told_in_plain_words_on_check_and_by_the_api(destroyed: dict[str, Any]) -> None:
    submitted, day = destroyed["submitted"], destroyed["day"]
    pair = {"reference": submitted.report.reference, "access_code": submitted.access_code}

    page = Client().post("/check", pair)
    api = Client().post("/api/v1/reports/access", pair, content_type="application/json")

    assert page.status_code == 410
    text = _text(page)
    assert f"was deleted on {day.day} {day:%B %Y} under the helpline's retention schedule" in text
    assert "no longer open anything" in text and 'data-testid="retention-periods"' in text
    assert SUMMARY not in text
    assert api.status_code == 410
    assert api.json()["content_destroyed_on"] == day.isoformat()
    assert f"deleted on {day.day} {day:%B %Y}" in api.json()["detail"]


def test_the_case_list_and_the_officers_list_still_show_it(destroyed: dict[str, Any]) -> None:
    case = destroyed["case"]
    listed = destroyed["helpline"].get("/staff/cases", {"status": "", "search": case.case_number})
    referrals = destroyed["officer"].get("/staff/referrals")
    assert listed.status_code == 200 and case.case_number in _text(listed)
    assert referrals.status_code == 200


def test_no_email_reaches_the_reporter_of_a_destroyed_report() -> None:
    from reports import checkins
    from reports.models import Anonymity, RetaliationCheckin
    from reports.notifications import reporter_address
    from reports.services import Contact
    from tests.factories import staff_user

    supervisor = staff_user()
    submitted = submit_report(anonymity=Anonymity.CONFIDENTIAL, contact=Contact(name="Sam", email="sam@example.com"))
    assert reporter_address(submitted.report.pk) == "sam@example.com"
    checkins.checkins_opt_in(report=submitted.report)
    RetaliationCheckin.objects.filter(report=submitted.report).update(due_at=timezone.now())
    assert checkins.checkins_to_nudge()
    case = case_closed(report_route(report_id=submitted.report.pk), supervisor)

    schedule.retention_apply(today=case.destroy_on)

    assert reporter_address(submitted.report.pk) == ""
    assert checkins.checkins_to_nudge() == []


def test_a_file_still_pending_when_its_case_is_destroyed_is_left_alone_by_the_workers() -> None:
    from reports.attachment_pipeline import attachment_process
    from reports.models import Attachment
    from tests.factories import routed_case, staff_user

    case = case_closed(routed_case(), staff_user())
    pending = attachment_make(case, status=Attachment.Status.PENDING)

    schedule.retention_apply(today=case.destroy_on)

    assert attachment_process(pending.pk) is None  # nothing left to open: done, not retried for ever
    assert Attachment.objects.get(pk=pending.pk).chunk_count == 0
