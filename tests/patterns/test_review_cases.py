"""A pattern alert turned into a case for independent national review: a case with no report, its own data
key under the same custody and retention rules, in the review team's queue, and nowhere else."""

from __future__ import annotations

import html
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.test import Client
from knox.models import AuthToken
from nacl.exceptions import CryptoError

from accounts.models import User
from audit.models import AuditEvent
from core import crypto, keystore
from core.models import CustodyKey
from lifecycle import schedule
from oversight.alerts import alert_review, review_summary
from oversight.models import PatternAlert
from referrals.models import Referral
from reports.models import Report
from tests.factories import case_closed, routed_case, signed_in_as, staff_user
from tests.lifecycle.keyrings import Keys, configured_keys
from tests.patterns.kit import alert_make
from triage import retention
from triage.case_content import case_open
from triage.models import Case, CaseKey, CaseNote, Queue

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities")]

R = User.Role


@pytest.fixture(autouse=True)
def _custody_files(settings: Any, tmp_path: Path) -> None:
    settings.CUSTODY_KEY_DIR = str(tmp_path / "custody")
    settings.SHRED_LOG_PATH = str(tmp_path / "shred-log.jsonl")


@pytest.fixture
def keys(settings: Any, tmp_path: Path) -> Iterator[Keys]:
    yield from configured_keys(settings, tmp_path)


def text(response: Any) -> str:
    return html.unescape(response.content.decode())


def token_client(role: str) -> Client:
    user = staff_user(f"api-{role}", role=role)
    return Client(HTTP_AUTHORIZATION=f"Token {AuthToken.objects.create(user)[1]}")


def review_case_of(alert: PatternAlert) -> Case:
    alert.refresh_from_db()
    assert alert.review_case is not None
    return Case.objects.get(pk=alert.review_case.pk)


# --- the constraint ----------------------------------------------------------------------------------------


def test_a_report_case_needs_its_report_and_a_review_case_has_none() -> None:
    routed = routed_case()
    queue = Queue.objects.first()
    assert queue is not None
    base = {
        "priority": Case.Priority.STANDARD,
        "queue": queue,
        "created_at": routed.created_at,
        "triage_due_at": routed.triage_due_at,
        "reporter_feedback_due_at": routed.reporter_feedback_due_at,
    }
    with pytest.raises(IntegrityError, match="case_kind_matches_report"), transaction.atomic():
        Case.objects.create(case_number="2026-AAAAAA", kind=Case.Kind.REPORT, report=None, **base)
    report = routed.report
    Case.objects.filter(pk=routed.pk).delete()  # its report free for the cases below
    with pytest.raises(IntegrityError, match="case_kind_matches_report"), transaction.atomic():
        Case.objects.create(case_number="2026-BBBBBB", kind=Case.Kind.PATTERN_REVIEW, report=report, **base)
    # The control: each kind as it should be is accepted.
    Case.objects.create(case_number="2026-CCCCCC", kind=Case.Kind.PATTERN_REVIEW, report=None, **base)
    Case.objects.create(case_number="2026-DDDDDD", kind=Case.Kind.REPORT, report=report, **base)


# --- the action ----------------------------------------------------------------------------------------------


def test_the_alert_page_opens_one_review_case_linked_audited_and_in_the_review_queue() -> None:
    alert = alert_make()
    supervisor, user = signed_in_as(R.SUPERVISOR)
    page = text(supervisor.get(f"/staff/patterns/{alert.pk}"))
    assert "Open a national review case" in page
    before = Case.objects.count()

    response = supervisor.post(f"/staff/patterns/{alert.pk}/review")

    assert (response.status_code, response["Location"]) == (302, f"/staff/patterns/{alert.pk}")
    case = review_case_of(alert)
    assert Case.objects.count() == before + 1
    assert (case.kind, case.report_id, case.status, case.independent_review) == (
        Case.Kind.PATTERN_REVIEW,
        None,
        Case.Status.NATIONAL_REVIEW,
        True,
    )
    alert.refresh_from_db()
    assert (alert.status, alert.acted_by) == (PatternAlert.Status.REVIEW, user)
    [referral] = Referral.objects.filter(case=case)
    assert referral.body is not None and referral.body.kind == "review_team"
    [event] = AuditEvent.objects.filter(kind="pattern_alert_review")
    assert event.actor == user and event.detail["case_number"] == case.case_number
    assert AuditEvent.objects.filter(kind="review_case_opened", subject_id=case.pk).count() == 1
    shown = text(supervisor.get(f"/staff/patterns/{alert.pk}"))
    assert case.case_number in shown and "Open a national review case" not in shown

    # A second press (the page's, or the service's): no second case, no second event.
    again = supervisor.post(f"/staff/patterns/{alert.pk}/review")
    assert again.status_code == 302
    alert_review(alert, user=user)
    assert Case.objects.count() == before + 1
    assert AuditEvent.objects.filter(kind="pattern_alert_review").count() == 1
    assert Referral.objects.filter(case=case).count() == 1


def test_a_dismissed_alert_is_not_reviewed() -> None:
    alert = alert_make(status=PatternAlert.Status.DISMISSED, note="Seen")
    supervisor, _ = signed_in_as(R.SUPERVISOR)
    response = supervisor.post(f"/staff/patterns/{alert.pk}/review")
    assert response.status_code == 409 and "There is a problem" in text(response)
    assert not Case.objects.filter(kind=Case.Kind.PATTERN_REVIEW).exists()


# --- its data key ----------------------------------------------------------------------------------------------


def test_the_summary_is_the_alerts_figures_sealed_with_the_cases_own_key() -> None:
    alert = alert_make()
    supervisor = staff_user()
    alert_review(alert, user=supervisor)
    case = review_case_of(alert)
    key = CaseKey.objects.get(case=case)
    # Sealed to the helpline, then kept under the open-cases key like a routed report's.
    assert key.custody_key_id == keystore.open_key_id() and not bytes(key.helpline_sealed_key)
    note = CaseNote.objects.filter(case=case).order_by("pk").first()
    assert note is not None
    summary = review_summary(alert)
    assert summary.encode() not in bytes(note.body)
    assert "Observed 9; expected 1.4; upper bound 5.0" in summary and "concern type information_not_shared" in summary
    opened = case_open(case=case, acting_user=supervisor)
    assert opened.notes[0][1] == summary
    assert opened.messages == [] and opened.files == [] and opened.content == {}
    # Its own key: another case's opens nothing of it.
    other = routed_case()
    other_key = keystore.data_key_of(other.report)
    with pytest.raises(CryptoError):
        crypto.open_text(other_key, bytes(note.body))


def test_retention_shreds_a_closed_review_case() -> None:
    alert = alert_make()
    supervisor = staff_user()
    alert_review(alert, user=supervisor)
    case = case_closed(review_case_of(alert), supervisor, "no_further_action")
    assert case.destroy_on is not None
    key = CaseKey.objects.get(case=case)
    assert key.custody_key_id == keystore.epoch_key_id(case.destroy_on)
    assert case_open(case=case, acting_user=supervisor).notes[0][1].startswith("National review")

    before = schedule.retention_apply(today=case.destroy_on - timedelta(days=1))
    assert before is not None and before.destroyed == 0  # the control: not due the day before

    run = schedule.retention_apply(today=case.destroy_on)

    assert run is not None and run.destroyed == 1
    key.refresh_from_db()
    assert key.content_destroyed_on is not None
    assert (key.custody_key_id, bytes(key.custody_wrapped_key), bytes(key.helpline_sealed_key)) == ("", b"", b"")
    assert all(bytes(note.body) == b"" for note in CaseNote.objects.filter(case=case))
    assert all(bytes(r.summary) == b"" for r in Referral.objects.filter(case=case))
    client, _ = signed_in_as(R.SUPERVISOR, username="another-supervisor")
    page = client.get(f"/staff/cases/{case.case_number}")
    assert page.status_code == 200 and "Content destroyed on" in text(page)


# --- who sees it ------------------------------------------------------------------------------------------------


def test_the_case_page_and_list_open_it_for_a_supervisor() -> None:
    alert = alert_make()
    client, user = signed_in_as(R.SUPERVISOR)
    alert_review(alert, user=user)
    case = review_case_of(alert)
    page = client.get(f"/staff/cases/{case.case_number}")
    assert page.status_code == 200
    body = text(page)
    assert case.case_number in body and "National review of a pattern alert" in body
    assert "Observed 9; expected 1.4" in body  # its first note, opened with its own key
    assert "more reports than expected in" in body, "the note says what the alert is in words"
    # Nothing about a reporter it does not have: no feedback clock, no messages, no reporter's facts.
    for absent in ("Feedback to the reporter", "Messages with the reporter", "What is known, for the national picture"):
        assert absent not in body, absent
    assert "What the review concluded" in body and "Feedback for the reporter" not in body, "its close form"
    ordinary = text(client.get(f"/staff/cases/{routed_case().case_number}"))
    assert "Feedback to the reporter" in ordinary and "Feedback for the reporter" in ordinary, "control"
    assert "Show contact details" not in body and "Reference " not in body.split("<h1", 1)[0][-200:]
    listed = client.get("/staff/cases")
    assert listed.status_code == 200 and case.case_number in text(listed)
    searched = client.get(f"/staff/cases?search={case.case_number}")
    assert searched.status_code == 200 and case.case_number in text(searched)
    elsewhere = client.get("/staff/cases?search=2099-ZZZZZZ")  # a search naming nothing lists no review case
    assert elsewhere.status_code == 200 and case.case_number not in text(elsewhere)
    assert client.get("/staff/").status_code == 200
    detail = client.get(f"/api/v1/cases/{case.case_number}")
    assert detail.status_code == 200
    assert (detail.json()["kind"], detail.json()["reference"]) == ("pattern_review", None)
    assert client.get("/api/v1/cases").status_code == 200
    # What it cannot take (there is no reporter) is refused with the page's error, never a 500.
    refused = client.post(f"/staff/cases/{case.case_number}/add_note", {"add_note-body": "A note"}, follow=True)
    assert refused.status_code == 200 and "A note" in text(refused)  # the control: an action it can take
    refused = client.post(f"/staff/cases/{case.case_number}/record_facts", {}, follow=True)
    assert "There is a problem" in text(refused) and "has no report and no reporter" in text(refused)
    assert "ask_reporter" not in detail.json()["allowed_actions"]


def test_the_national_reviewer_sees_it_and_nobody_else_outside_the_helpline_does() -> None:
    alert = alert_make()
    alert_review(alert, user=staff_user())
    case = review_case_of(alert)
    [referral] = Referral.objects.filter(case=case)

    team, _ = signed_in_as(R.NATIONAL_REVIEWER, username="reviewer", email="reviewer@review.example")
    rows = team.get("/staff/referrals").context["rows"]
    assert case.case_number in [row["case_number"] for row in rows]  # the control: it is there to be seen
    page = team.get(f"/staff/referrals/{case.case_number}/{referral.pk}")
    assert page.status_code == 200
    assert "Nobody reported it" in text(page) and "as the reporter told it" not in text(page), "no reporter to quote"

    for role, codes in ((R.AUTHORITY_OFFICER, ("E08000018",)), (R.PARTNERSHIP, ()), (R.OVERSIGHT_ANALYST, ())):
        client, _ = signed_in_as(role, *codes, username=f"outside-{role}")
        assert client.get(f"/staff/cases/{case.case_number}").status_code in (403, 404)
        assert client.get(f"/staff/referrals/{case.case_number}/{referral.pk}").status_code in (403, 404)
        listing = client.get("/staff/referrals")
        if listing.status_code == 200:
            assert case.case_number not in [row["case_number"] for row in listing.context["rows"]]
        else:
            assert listing.status_code == 403


# --- the API ----------------------------------------------------------------------------------------------------


def test_the_api_opens_it_once_and_refuses_bad_input() -> None:
    alert = alert_make()
    client = token_client(R.OVERSIGHT_ANALYST)
    url = f"/api/v1/patterns/alerts/{alert.pk}/review"
    missing = client.post(url, {}, content_type="application/json")
    assert missing.status_code == 400 and "confirm" in missing.json()
    refused = client.post(url, {"confirm": False}, content_type="application/json")
    assert refused.status_code == 400 and "confirm" in refused.json()
    assert (
        client.post(
            "/api/v1/patterns/alerts/999999/review", {"confirm": True}, content_type="application/json"
        ).status_code
        == 404
    )
    assert not Case.objects.filter(kind=Case.Kind.PATTERN_REVIEW).exists()

    made = client.post(url, {"confirm": True}, content_type="application/json")
    assert made.status_code == 201 and made.json()["status"] == "review"
    again = client.post(url, {"confirm": True}, content_type="application/json")
    assert again.status_code == 200 and again.json()["status"] == "review"
    assert Case.objects.filter(kind=Case.Kind.PATTERN_REVIEW).count() == 1
    assert "case_number" not in made.json()  # oversight never sees a case

    for role in (R.PARTNERSHIP, R.AUTHORITY_OFFICER, R.CALL_HANDLER, R.NATIONAL_REVIEWER):
        other = alert_make(series={"region": "London", "concern_type": role})
        response = token_client(role).post(
            f"/api/v1/patterns/alerts/{other.pk}/review", {"confirm": True}, content_type="application/json"
        )
        assert response.status_code == 403
    assert Case.objects.filter(kind=Case.Kind.PATTERN_REVIEW).count() == 1


# --- its key under legal hold and rotation ------------------------------------------------------------------


def test_a_held_review_case_is_kept_under_the_held_key_and_its_reason_reads() -> None:
    alert = alert_make()
    supervisor = staff_user()
    alert_review(alert, user=supervisor)
    case = case_closed(review_case_of(alert), supervisor, "no_further_action")
    assert case.destroy_on is not None
    [hold] = retention.hold_place(case=case, basis="inquiry_notice", reason="Notice 12", acting_user=supervisor)
    assert CaseKey.objects.get(case=case).custody_key_id == keystore.held_key_id()
    assert retention.hold_reason(hold) == "Notice 12"

    run = schedule.retention_apply(today=case.destroy_on)

    assert run is not None and run.destroyed == 0 and run.skipped_held == 1
    assert CaseKey.objects.get(case=case).content_destroyed_on is None


def test_rewrapping_a_custody_key_moves_a_review_cases_key_too(keys: Keys, settings: Any) -> None:
    alert = alert_make()
    supervisor = staff_user()
    alert_review(alert, user=supervisor)
    case = review_case_of(alert)
    routed = routed_case()
    old = CaseKey.objects.get(case=case).custody_key_id
    assert old == Report.objects.get(pk=routed.report_id).custody_key_id  # the open-cases key, both

    call_command("rewrap_custody_key", "--from", old, "--no-progress")

    new = CaseKey.objects.get(case=case).custody_key_id
    assert new != old and new == Report.objects.get(pk=routed.report_id).custody_key_id
    # The old key went only once no row named it; the review case's note still opens under the new one.
    assert CustodyKey.objects.get(key_id=old).destroyed_on is not None
    fresh = Case.objects.get(pk=case.pk)
    assert case_open(case=fresh, acting_user=supervisor).notes[0][1] == review_summary(alert)
