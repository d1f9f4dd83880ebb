"""The escalation ladder for referrals, with time frozen: 1 working day without acknowledgement →
helpline supervisors; 3 → national oversight and the authority's partnership, case marked escalated;
the same at 45 and 47 working days without an outcome; reporter feedback warnings. Each step once, on
the timeline with the deadline it missed; the emails leaving the helpline carry the case number only."""

from __future__ import annotations

import html
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from accounts.models import User
from core.calendar import add_months, working_days_after
from core.timetrail import day_end
from directory.lookup import authority_by_code
from notify import services as notify_services
from referrals import services as authority
from referrals import services as referral_services
from referrals.models import ReferralEscalation
from tests.factories import partnership_of_region, referral_of, sign_in, staff_user, staff_with_mfa, submit_report
from triage import case_actions as actions
from triage.escalations import deadlines_sweep
from triage.events import case_events
from triage.intake import report_route
from triage.models import Case, Escalation
from triage.notifications import case_emails

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities")]

LONDON = ZoneInfo("Europe/London")
MINUTE = timedelta(minutes=1)
# Monday 2 March 2026, 10:00 in London (GMT): no bank holiday within the first week. Every rung ends at the
# end (23:59:59 London time) of its Nth working day after the day of the referral.
REFERRED_AT = datetime(2026, 3, 2, 10, 0, tzinfo=LONDON)
ACK_DUE = datetime(2026, 3, 3, 23, 59, 59, tzinfo=LONDON)  # 1 working day: the end of Tuesday
ACK_ESCALATE = datetime(2026, 3, 5, 23, 59, 59, tzinfo=LONDON)  # 3 working days: the end of Thursday
# 45 and 47 working days, past Good Friday and Easter Monday (3 and 6 April) and into BST.
OUTCOME_DUE = datetime(2026, 5, 7, 23, 59, 59, tzinfo=LONDON)
OUTCOME_ESCALATE = datetime(2026, 5, 11, 23, 59, 59, tzinfo=LONDON)
YORKSHIRE = "Yorkshire and The Humber"


@pytest.fixture
def people() -> dict[str, User]:
    return {
        "supervisor": staff_user("sup-a", role=User.Role.SUPERVISOR, email="sup-a@helpline.test"),
        "supervisor2": staff_user("sup-b", role=User.Role.SUPERVISOR, email="sup-b@helpline.test"),
        "gone": staff_user("sup-gone", role=User.Role.SUPERVISOR, email="gone@helpline.test", is_active=False),
        "handler": staff_user("handler", role=User.Role.CALL_HANDLER, email="handler@helpline.test"),
        "analyst": staff_user("analyst", role=User.Role.OVERSIGHT_ANALYST, email="analyst@oversight.test"),
        "board": staff_user(
            "board-yh", role=User.Role.PARTNERSHIP, email="board@yh.test", partnership=partnership_of_region(YORKSHIRE)
        ),
        "other_board": staff_user(
            "board-nw",
            role=User.Role.PARTNERSHIP,
            email="board@nw.test",
            partnership=partnership_of_region("North West"),
        ),
        "officer": staff_user("officer", role=User.Role.AUTHORITY_OFFICER, email="officer@rotherham.gov.test"),
    }


def refer_at(moment: datetime, referrer: User) -> Case:
    with time_machine.travel(moment, tick=False):
        case = report_route(report_id=submit_report().report.pk)
        referral_services.case_refer(case=case, summary="Summary for the authority", acting_user=referrer)
    case.refresh_from_db()
    return case


@pytest.fixture
def case(people: dict[str, User]) -> Case:
    officer = people["officer"]
    rotherham = authority_by_code("E08000018")
    assert rotherham is not None
    officer.authorities.add(rotherham)
    return refer_at(REFERRED_AT, people["supervisor"])


def sweep(moment: datetime) -> int:
    with time_machine.travel(moment, tick=False):
        return deadlines_sweep(now=moment)


def steps(case: Case) -> list[str]:
    """The steps taken for the case: the helpline's ladder (on the case) and its referrals' ladders, in the
    order they were taken."""
    taken = list(Escalation.objects.filter(case=case).values_list("created_at", "step"))
    taken += ReferralEscalation.objects.filter(referral__case=case).order_by("id").values_list("created_at", "step")
    return [step for _, step in sorted(taken, key=lambda item: item[0])]


def recipients(case: Case, template: str) -> set[str]:
    return set(case_emails(case).filter(template=template).values_list("recipient", flat=True))


def supervisors(people: dict[str, User]) -> set[str]:
    return {people["supervisor"].email, people["supervisor2"].email}


def national(people: dict[str, User]) -> set[str]:
    return {people["analyst"].email, people["board"].email}


def act_as_officer(case: Case, officer: User, moment: datetime, *, outcome: str = "") -> None:
    with time_machine.travel(moment, tick=False):
        authority.referral_acknowledge(referral=referral_of(case), acting_user=officer)
        if outcome:
            authority.referral_record_outcome(referral=referral_of(case), outcome=outcome, note="", acting_user=officer)


# --- the deadlines themselves ---------------------------------------------------------------------------


def test_the_referral_sets_every_rung_of_the_ladder_in_working_days(case: Case) -> None:
    assert referral_of(case).referred_at == REFERRED_AT
    assert referral_of(case).ack_due_at == ACK_DUE
    assert referral_of(case).ack_escalate_at == ACK_ESCALATE
    assert referral_of(case).outcome_due_at == OUTCOME_DUE
    assert referral_of(case).outcome_escalate_at == OUTCOME_ESCALATE
    assert referral_of(case).outcome_due_at == working_days_after(REFERRED_AT, 45)


def test_a_friday_evening_referral_is_not_overdue_over_the_weekend(people: dict[str, User]) -> None:
    friday = datetime(2026, 3, 6, 17, 0, tzinfo=LONDON)
    case = refer_at(friday, people["supervisor"])
    assert referral_of(case).ack_due_at == datetime(2026, 3, 9, 23, 59, 59, tzinfo=LONDON)  # the end of Monday
    assert referral_of(case).ack_escalate_at == datetime(2026, 3, 11, 23, 59, 59, tzinfo=LONDON)  # of Wednesday

    sweep(datetime(2026, 3, 8, 23, 0, tzinfo=LONDON))  # Sunday night
    assert steps(case) == []
    sweep(datetime(2026, 3, 9, 23, 59, tzinfo=LONDON))  # late on Monday: still Monday
    assert steps(case) == []
    sweep(datetime(2026, 3, 10, 0, 0, 1, tzinfo=LONDON))  # Monday has ended
    assert steps(case) == ["ack_overdue"]


# --- no acknowledgement ---------------------------------------------------------------------------------


def test_nothing_happens_before_the_first_working_day_has_passed(case: Case) -> None:
    assert sweep(ACK_DUE - MINUTE) == 0
    assert steps(case) == []
    assert not case_emails(case).exclude(template="authority_referral").exists()


def test_no_acknowledgement_after_one_working_day_alerts_the_helpline_supervisors_once(
    case: Case, people: dict[str, User]
) -> None:
    assert sweep(ACK_DUE + MINUTE) == 1

    assert steps(case) == ["ack_overdue"]
    assert recipients(case, "authority_ack_overdue") == supervisors(people)  # not inactive ones, not handlers
    assert recipients(case, "authority_ack_overdue_national") == set()
    case.refresh_from_db()
    assert not case.escalated

    for later in (ACK_DUE + 2 * MINUTE, ACK_DUE + timedelta(hours=5)):
        assert sweep(later) == 0
    assert case_emails(case).filter(template="authority_ack_overdue").count() == 2


def test_after_three_working_days_national_oversight_and_the_regions_board_are_alerted(
    case: Case, people: dict[str, User]
) -> None:
    sweep(ACK_DUE + MINUTE)
    assert sweep(ACK_ESCALATE - MINUTE) == 0

    assert sweep(ACK_ESCALATE + MINUTE) == 1

    assert steps(case) == ["ack_overdue", "ack_overdue_national"]
    assert recipients(case, "authority_ack_overdue_national") == national(people)
    assert people["other_board"].email not in {r.recipient for r in case_emails(case)}
    case.refresh_from_db()
    assert case.escalated
    # The officer's list shows it as escalated.
    client = Client()
    officer = people["officer"]
    staff_with_mfa(officer.username, role=officer.role)
    sign_in(client, officer)
    with time_machine.travel(ACK_ESCALATE + 2 * MINUTE, tick=False):
        rows = client.get("/staff/referrals").context["rows"]
    assert [(r["case_number"], r["escalated"], r["ack_state"]) for r in rows] == [(case.case_number, True, "overdue")]


def test_the_national_alert_names_the_case_number_and_never_the_reference(case: Case, people: dict[str, User]) -> None:
    sweep(ACK_ESCALATE + MINUTE)
    records = case_emails(case).filter(template="authority_ack_overdue_national")
    assert records.count() == 2
    for record in records:
        message = notify_services.email_render(record)
        parts = [message.subject, str(message.body), str(message.alternatives[0][0])]  # type: ignore[index]
        assert case.case_number in message.subject
        assert case.case_number in parts[1]
        for part in parts:
            assert case.report.reference not in part
            assert f"cases/{case.case_number}" not in part  # no link into the helpline's own case page
    # The supervisors' first-rung email stays inside the helpline and may name the reference.
    internal = case_emails(case).filter(template="authority_ack_overdue").first()
    assert internal is not None
    assert internal.recipient in supervisors(people)


def test_a_sweeper_that_was_down_takes_both_rungs_at_once_in_order(case: Case, people: dict[str, User]) -> None:
    assert sweep(ACK_ESCALATE + timedelta(days=1)) == 2
    assert steps(case) == ["ack_overdue", "ack_overdue_national"]
    assert recipients(case, "authority_ack_overdue") == supervisors(people)
    assert recipients(case, "authority_ack_overdue_national") == national(people)


def test_an_acknowledged_referral_does_not_escalate_for_acknowledgement(case: Case, people: dict[str, User]) -> None:
    act_as_officer(case, people["officer"], REFERRED_AT + timedelta(hours=3))

    sweep(ACK_DUE + MINUTE)
    sweep(ACK_ESCALATE + MINUTE)

    assert steps(case) == []
    case.refresh_from_db()
    assert not case.escalated
    assert not case_emails(case).filter(template__startswith="authority_ack_overdue").exists()


def test_a_late_acknowledgement_stops_the_ladder_before_the_national_rung(case: Case, people: dict[str, User]) -> None:
    sweep(ACK_DUE + MINUTE)
    act_as_officer(case, people["officer"], ACK_DUE + timedelta(hours=2))

    sweep(ACK_ESCALATE + MINUTE)

    assert steps(case) == ["ack_overdue"]
    case.refresh_from_db()
    assert not case.escalated


# --- no outcome -----------------------------------------------------------------------------------------


def test_no_outcome_by_45_working_days_alerts_supervisors_and_by_47_national_oversight(
    case: Case, people: dict[str, User]
) -> None:
    act_as_officer(case, people["officer"], REFERRED_AT + timedelta(hours=1))

    assert sweep(OUTCOME_DUE - MINUTE) == 0
    assert sweep(OUTCOME_DUE + MINUTE) == 1
    assert steps(case) == ["outcome_overdue"]
    assert recipients(case, "authority_outcome_overdue") == supervisors(people)
    case.refresh_from_db()
    assert not case.escalated

    assert sweep(OUTCOME_ESCALATE - MINUTE) == 0
    assert sweep(OUTCOME_ESCALATE + MINUTE) == 1
    assert steps(case) == ["outcome_overdue", "outcome_overdue_national"]
    assert recipients(case, "authority_outcome_overdue_national") == national(people)
    case.refresh_from_db()
    assert case.escalated
    for record in case_emails(case).filter(template="authority_outcome_overdue_national"):
        message = notify_services.email_render(record)
        assert case.case_number in str(message.body)
        assert case.report.reference not in message.subject + str(message.body)


def test_a_recorded_outcome_does_not_escalate_for_outcome(case: Case, people: dict[str, User]) -> None:
    act_as_officer(case, people["officer"], REFERRED_AT + timedelta(days=10), outcome="early_help")

    sweep(OUTCOME_ESCALATE + timedelta(days=1))

    assert not {"outcome_overdue", "outcome_overdue_national"} & set(steps(case))
    case.refresh_from_db()
    assert not case.escalated


# --- the timeline and repeats ---------------------------------------------------------------------------


def test_each_step_is_on_the_case_timeline_with_the_deadline_it_missed(case: Case) -> None:
    moments = [ACK_DUE + MINUTE, ACK_ESCALATE + MINUTE, OUTCOME_DUE + MINUTE, OUTCOME_ESCALATE + MINUTE]
    for moment in moments:
        sweep(moment)

    events = list(case_events(case).filter(kind="escalated").order_by("id"))
    expected = [
        ("ack_overdue", ACK_DUE),
        ("ack_overdue_national", ACK_ESCALATE),
        ("outcome_overdue", OUTCOME_DUE),
        ("outcome_overdue_national", OUTCOME_ESCALATE),
    ]
    assert [(e.detail["step"], datetime.fromisoformat(e.detail["deadline"])) for e in events] == expected
    assert [e.detail["missed_by_seconds"] for e in events] == [60, 60, 60, 60]
    assert all(e.actor is None for e in events)  # the sweeper, not a person
    taken = ReferralEscalation.objects.filter(referral__case=case).order_by("id")
    for escalation, (step, deadline) in zip(taken, expected, strict=True):
        assert (escalation.step, escalation.deadline) == (step, deadline)


def test_the_helpline_case_page_timeline_names_each_step_and_the_deadline_it_missed(
    case: Case, people: dict[str, User]
) -> None:
    sweep(ACK_DUE + MINUTE)
    sweep(ACK_ESCALATE + MINUTE)
    supervisor = people["supervisor"]
    client = Client()
    staff_with_mfa(supervisor.username, role=supervisor.role)
    sign_in(client, supervisor)

    body = html.unescape(client.get(f"/staff/cases/{case.case_number}").content.decode())

    timeline = body[body.index('<ol class="app-timeline">') :]  # the events, not the filter's choices
    timeline = timeline[: timeline.index("</ol>")]
    escalated = [item for item in timeline.split("<li>") if "escalated" in item]
    assert len(escalated) == 2
    for item, step, deadline in zip(
        escalated,
        (ReferralEscalation.Step.ACK_OVERDUE, ReferralEscalation.Step.ACK_OVERDUE_NATIONAL),
        (ACK_DUE, ACK_ESCALATE),
        strict=True,
    ):
        assert deadline.isoformat() in item or f"{deadline:%-d %b}" in item, "the missed deadline is not shown"
        assert str(step.label) in item or step.value in item, f"the {step.value} step is not named on the timeline"


def test_steps_are_taken_once_however_often_the_sweeper_runs(case: Case) -> None:
    moments = [ACK_DUE + MINUTE, ACK_ESCALATE + MINUTE, OUTCOME_DUE + MINUTE, OUTCOME_ESCALATE + MINUTE]
    for moment in moments:
        for _ in range(3):
            sweep(moment)
    counts = (
        ReferralEscalation.objects.filter(referral__case=case).count(),
        case_events(case).filter(kind="escalated").count(),
        case_emails(case).exclude(template="authority_referral").count(),
    )
    for _ in range(3):
        sweep(OUTCOME_ESCALATE + timedelta(hours=1))
    assert (
        (
            ReferralEscalation.objects.filter(referral__case=case).count(),
            case_events(case).filter(kind="escalated").count(),
            case_emails(case).exclude(template="authority_referral").count(),
        )
        == counts
        == (4, 4, 2 + 2 + 2 + 2)
    )


# --- reporter feedback ----------------------------------------------------------------------------------


def test_supervisors_are_warned_before_reporter_feedback_is_due_and_when_it_is_overdue(
    case: Case, people: dict[str, User]
) -> None:
    act_as_officer(case, people["officer"], REFERRED_AT + timedelta(days=1), outcome="early_help")
    due = case.reporter_feedback_due_at
    assert due == day_end(add_months(case.report.submitted_at, 3))

    assert sweep(due - timedelta(days=15)) == 0
    assert sweep(due - timedelta(days=13)) == 1
    assert steps(case) == ["feedback_due_soon"]
    assert recipients(case, "feedback_due_soon") == supervisors(people)

    assert sweep(due - MINUTE) == 0
    assert sweep(due + MINUTE) == 1
    assert steps(case) == ["feedback_due_soon", "feedback_overdue"]
    assert recipients(case, "feedback_overdue") == supervisors(people)
    event = case_events(case).filter(kind="escalated").last()
    assert event is not None
    assert event.detail["step"] == "feedback_overdue"
    assert datetime.fromisoformat(event.detail["deadline"]) == due


def test_feedback_given_in_time_stops_the_feedback_warnings(case: Case, people: dict[str, User]) -> None:
    due = case.reporter_feedback_due_at
    act_as_officer(case, people["officer"], REFERRED_AT + timedelta(days=1), outcome="early_help")
    with time_machine.travel(REFERRED_AT + timedelta(days=20), tick=False):
        actions.case_close(
            case=case, outcome="referred_and_acted_on", feedback="Thank you.", acting_user=people["supervisor"]
        )

    sweep(due + timedelta(days=1))

    assert steps(case) == []
