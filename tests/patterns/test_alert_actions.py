"""The pattern alerts pages: alerts by status (open first), each with its figures, the weeks compared, what it
was compared with and a small chart with its figures as a table; acknowledge and dismiss-with-note, audited,
with GOV.UK's error summary on a bad note; the cases behind an alert for helpline supervisors only."""

from __future__ import annotations

import html
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from accounts.models import User
from audit.models import AuditEvent
from oversight.alerts import NOTE_IDENTIFYING, note_problem
from oversight.models import PatternAlert
from tests.factories import routed_case, signed_in_as
from tests.patterns.kit import LAST_WEEK, NOW, YORKSHIRE, alert_make

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities")]

R = User.Role


def text(response: object) -> str:
    return html.unescape(response.content.decode())  # type: ignore[attr-defined]


def analyst() -> tuple[Client, User]:
    return signed_in_as(R.OVERSIGHT_ANALYST)


def test_the_list_shows_open_alerts_first_with_figures_weeks_method_and_chart() -> None:
    dismissed = alert_make(series={"region": YORKSHIRE, "concern_type": "other"}, status="dismissed", note="Seen")
    opened = alert_make()
    client, _ = analyst()
    page = text(client.get("/staff/patterns"))
    assert page.index("Open alerts") < page.index("Dismissed")
    assert page.index(f"/staff/patterns/{opened.pk}") < page.index(f"/staff/patterns/{dismissed.pk}")
    assert "A victim was disbelieved" not in page
    assert "Information was not shared with those who needed it: more reports than expected in Yorkshire" in page
    assert "30 November 2026 to 6 December 2026" in page  # the weeks compared
    assert "Not enough history: compared with the average of 24 weeks" in page  # the fallback, labelled
    assert 'role="img"' in page and "<rect" in page  # the chart, drawn on the server
    assert "The figures in the chart" in page and "23 November 2026" in page  # and its table, a week a row
    assert "<script" not in page.split("<main", 1)[1].split("</main>", 1)[0]


def test_the_standard_and_farrington_methods_are_labelled() -> None:
    alert_make(
        kind="authority_lateness",
        series={"authority": "E08000018", "outcome_class": "ack_late", "against": "1_working_day"},
        method="standard",
        baseline_weeks=4,
        history=[],
    )
    alert_make(series={"region": YORKSHIRE, "concern_type": "other"}, method="farrington", baseline_weeks=120)
    page = text(analyst()[0].get("/staff/patterns"))
    assert "Rotherham: most referrals acknowledged after 1 working day" in page
    assert "Against the statutory standard of acknowledgement within 1 working day" in page
    assert "Farrington flexible" in page and "over 120 weeks" in page


@time_machine.travel(NOW, tick=False)
def test_acknowledging_is_audited_and_keeps_the_day() -> None:
    alert = alert_make()
    client, user = analyst()
    events = AuditEvent.objects.filter(kind="pattern_alert_acknowledged")
    response = client.post(f"/staff/patterns/{alert.pk}/acknowledge")
    assert (response.status_code, response["Location"]) == (302, "/staff/patterns")
    alert.refresh_from_db()
    assert (alert.status, alert.acted_by, alert.acted_on) == ("acknowledged", user, timezone.localdate())
    [event] = events
    assert event.actor == user and event.detail["pattern_alert"] == alert.pk
    # Acting again: refused (409) with the error summary, nothing more recorded.
    again = client.post(f"/staff/patterns/{alert.pk}/acknowledge")
    assert again.status_code == 409 and "There is a problem" in text(again)
    assert events.count() == 1


def test_dismissing_needs_a_note_about_the_figures() -> None:
    alert = alert_make()
    client, user = analyst()
    empty = client.post(f"/staff/patterns/{alert.pk}/dismiss", {"note": "   "})
    assert empty.status_code == 400
    assert "There is a problem" in text(empty) and 'href="#id_note"' in text(empty)
    with_case = client.post(f"/staff/patterns/{alert.pk}/dismiss", {"note": "Explained by case 2026-K7M3QX"})
    assert with_case.status_code == 400 and NOTE_IDENTIFYING in text(with_case)
    alert.refresh_from_db()
    assert alert.status == "open"
    assert not AuditEvent.objects.filter(kind="pattern_alert_dismissed").exists()

    done = client.post(f"/staff/patterns/{alert.pk}/dismiss", {"note": "An awareness campaign ran that week"})
    assert done.status_code == 302
    alert.refresh_from_db()
    assert (alert.status, alert.note, alert.acted_by) == ("dismissed", "An awareness campaign ran that week", user)
    [event] = AuditEvent.objects.filter(kind="pattern_alert_dismissed")
    assert "awareness" not in str(event.detail)  # the note stays on the alert, never in the trail
    assert "An awareness campaign ran that week" in text(client.get("/staff/patterns"))


@pytest.mark.parametrize(
    "note",
    [
        "Explained by case 2026-K7M3QX",
        "The reporter with reference HX7K-29QM called",
        "Reference HX7K29QM again",
        "Ask jo.bloggs@example.org",
        "Call 07700 900123",
        "Call +44 20 7946 0958",
    ],
)
def test_a_note_that_looks_like_a_case_detail_is_refused(note: str) -> None:
    assert note_problem(note) == NOTE_IDENTIFYING


@pytest.mark.parametrize(
    "note",
    [
        "Accepted: a national campaign on 2 December raised reports everywhere",
        "Expected after the duty to report started; 12 extra reports in 1 week",
    ],
)
def test_an_ordinary_note_about_the_figures_is_accepted(note: str) -> None:
    assert note_problem(note) is None


def test_the_cases_behind_an_alert_are_shown_to_helpline_supervisors_only() -> None:
    with time_machine.travel(NOW - timedelta(days=5), tick=False):  # Friday 4 December: in the week judged
        case = routed_case(concern_types=("information_not_shared",))
    assert case.authority.region == YORKSHIRE
    alert = alert_make()
    supervisor, _ = signed_in_as(R.SUPERVISOR)
    for_supervisor = text(supervisor.get(f"/staff/patterns/{alert.pk}"))
    for_analyst = text(analyst()[0].get(f"/staff/patterns/{alert.pk}"))
    assert case.case_number in for_supervisor
    assert "Cases behind this alert" in for_supervisor
    assert case.case_number not in for_analyst and "Cases behind this alert" not in for_analyst
    assert "Observed" in for_analyst and "9" in for_analyst  # counts only


def test_a_partnership_reviewer_and_an_authority_officer_are_refused() -> None:
    alert = alert_make()
    for role in (R.PARTNERSHIP, R.AUTHORITY_OFFICER, R.CALL_HANDLER):
        client, _ = signed_in_as(role, username=f"refused-{role}")
        assert client.get("/staff/patterns").status_code == 403
        assert client.post(f"/staff/patterns/{alert.pk}/acknowledge").status_code == 403
    alert.refresh_from_db()
    assert alert.status == PatternAlert.Status.OPEN


def test_an_unknown_alert_is_a_404() -> None:
    client, _ = analyst()
    assert client.get("/staff/patterns/999999").status_code == 404
    assert client.post("/staff/patterns/999999/dismiss", {"note": "Fine"}).status_code == 404


def test_alerts_keep_days_only() -> None:
    """Derived from reports: no field of an alert holds a time of day."""
    times = [f.name for f in PatternAlert._meta.concrete_fields if f.get_internal_type() == "DateTimeField"]
    assert times == []
    assert LAST_WEEK.weekday() == 0
