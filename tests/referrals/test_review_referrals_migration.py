"""referrals/migrations/0006: every case already under independent national review with no referral to the review
team (sent before issue 24, when sending only moved the case) gets one, so that a national reviewer can work
it: awaiting acknowledgement, its clocks from now, made by whoever sent the case (else its assignee, else a
supervisor), with no summary (a migration holds no private key to seal one). Cases already with the team, not
yet sent, or closed are left alone; running it again makes none twice; an empty database is no trouble.

The function the migration runs is tested here on the current models (the migration's historical models have
the same fields): a migration test that migrates the database back and forth would flush the national bodies
their own migration loaded, for every test after it."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.apps import apps

from accounts.models import User
from directory.models import NationalBody
from referrals import services
from referrals.deadlines import clocks_start
from referrals.models import Referral
from tests.factories import (
    ROTHERHAM,
    SHEFFIELD,
    authority,
    national_body,
    reviewed_case,
    reviewer,
    routed_case,
    signed_in,
    staff_user,
    staff_with_mfa,
)
from triage import case_actions
from triage.events import case_event
from triage.models import Case

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities")]

MIGRATION = importlib.import_module("referrals.migrations.0006_review_referrals_for_cases_under_review")
LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 12, 4, 15, 0, tzinfo=LONDON)  # a Friday: the clocks run over the weekend


def migrate() -> int:
    made: Callable[[Any, Any], int] = MIGRATION.review_referrals_made
    return made(apps, None)


def sent_before_issue_24(case: Case, *, by: User | None = None, assignee: User | None = None) -> Case:
    """The case as "send to independent national review" left it before issue 24: moved, no referral."""
    Case.objects.filter(pk=case.pk).update(
        status=Case.Status.NATIONAL_REVIEW, independent_review=True, assignee=assignee
    )
    if by is not None:
        case_event(kind="escalate_national_review", case=case, actor=by, detail={"status": "national_review"})
    case.refresh_from_db()
    return case


def review_referrals(case: Case) -> list[Referral]:
    return list(Referral.objects.filter(case=case, body__kind=NationalBody.Kind.REVIEW_TEAM).order_by("id"))


def test_a_case_sent_for_review_before_issue_24_gets_a_review_referral_the_team_can_work() -> None:
    supervisor = staff_user("first-supervisor")
    sender = staff_user("sender", role=User.Role.CALL_HANDLER)
    handler = staff_user("assignee", role=User.Role.CALL_HANDLER)
    by_event = sent_before_issue_24(routed_case(), by=sender, assignee=handler)
    by_assignee = sent_before_issue_24(routed_case(), assignee=handler)
    by_nobody = sent_before_issue_24(routed_case(local_authority=authority(SHEFFIELD)))

    with time_machine.travel(NOW, tick=False):
        assert migrate() == 3

    expected = Referral(referred_at=NOW)
    clocks_start(expected, NOW)
    for case, made_by in ((by_event, sender), (by_assignee, handler), (by_nobody, supervisor)):
        [made] = review_referrals(case)
        assert made.body == national_body("review-team") and made.authority is None
        assert made.status == Referral.Status.AWAITING_ACKNOWLEDGEMENT
        assert made.referred_by == made_by, case
        assert made.referred_at == NOW
        # The clocks a referral made now gets: acknowledgement by Monday, findings in 45 working days.
        assert (made.ack_due_at, made.ack_escalate_at, made.outcome_due_at, made.outcome_escalate_at) == (
            expected.ack_due_at,
            expected.ack_escalate_at,
            expected.outcome_due_at,
            expected.outcome_escalate_at,
        )
        assert bytes(made.summary) == b"" and bytes(made.particulars) == b""
        case.refresh_from_db()
        assert case.status == Case.Status.NATIONAL_REVIEW

    # Again: nothing more.
    assert migrate() == 0
    assert len(review_referrals(by_event)) == 1


def test_the_team_works_a_migrated_referral_and_the_helpline_reads_it_without_a_summary() -> None:
    supervisor = staff_with_mfa("supervisor", role=User.Role.SUPERVISOR)[0]
    team = staff_with_mfa("reviewer", role=User.Role.NATIONAL_REVIEWER)[0]
    case = sent_before_issue_24(routed_case(about_authority=authority(ROTHERHAM)), by=supervisor)
    assert case.authority_id is None  # the concern is about the reporter's own council
    migrate()
    [made] = review_referrals(case)

    workspace = signed_in(team)
    listed = workspace.get("/staff/referrals")
    assert listed.status_code == 200 and case.case_number in listed.content.decode()
    page = workspace.get(f"/staff/referrals/{case.case_number}/{made.pk}")
    assert page.status_code == 200
    assert "Not recorded: the case was referred before a summary was kept" in page.content.decode()
    services.referral_acknowledge(referral=made, acting_user=team)
    services.referral_record_outcome(referral=made, outcome="review_upheld", note="Upheld.", acting_user=team)
    made.refresh_from_db()
    assert made.status == Referral.Status.OUTCOME_RECORDED

    case_page = signed_in(supervisor).get(f"/staff/cases/{case.case_number}")
    assert case_page.status_code == 200
    assert "No summary was kept with this referral." in case_page.content.decode()


def test_cases_with_the_team_already_not_yet_sent_or_closed_are_left_alone() -> None:
    supervisor = staff_user()
    with_team, _ = reviewed_case(supervisor)
    findings, review = reviewed_case(supervisor)
    services.referral_acknowledge(referral=review, acting_user=reviewer())
    services.referral_record_outcome(referral=review, outcome="review_no_finding", note="None.", acting_user=reviewer())
    # Routed as a concern about a council: flagged for review, but the helpline has not sent it yet.
    not_sent = routed_case(about_authority=authority(ROTHERHAM))
    assert not_sent.independent_review and not_sent.status == Case.Status.NEW
    closed = sent_before_issue_24(routed_case(), by=supervisor)
    case_actions.case_close(case=closed, outcome="duplicate", feedback="Thank you.", acting_user=supervisor)
    # A review referral withdrawn (the case closed and reopened) and the case sent again before issue 24.
    again, withdrawn = reviewed_case(supervisor)
    Referral.objects.filter(pk=withdrawn.pk).update(status=Referral.Status.WITHDRAWN)

    assert migrate() == 1

    assert [len(review_referrals(case)) for case in (with_team, findings, not_sent, closed)] == [1, 1, 0, 0]
    assert [r.status for r in review_referrals(again)] == [
        Referral.Status.WITHDRAWN,
        Referral.Status.AWAITING_ACKNOWLEDGEMENT,
    ]


def test_an_empty_database_or_one_without_a_review_team_is_no_trouble() -> None:
    assert migrate() == 0
    sent_before_issue_24(routed_case(), by=staff_user())
    NationalBody.objects.filter(kind=NationalBody.Kind.REVIEW_TEAM).delete()
    assert migrate() == 0
    assert not Referral.objects.exists()


def test_the_migration_can_be_reversed_keeping_the_referrals() -> None:
    [operation] = MIGRATION.Migration.operations
    assert operation.reversible
