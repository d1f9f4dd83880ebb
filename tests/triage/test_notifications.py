"""triage.notifications, function by function: queueing a case email once per occasion with its outbox row, and
who each alert goes to. Delivering, retrying and the reporter's address are notify's: tests/notify."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from accounts.models import User
from directory.lookup import authority_by_code
from notify.models import Notification
from outbox.models import OutboxMessage
from reports.models import Anonymity
from reports.services import Contact
from tests.factories import partnership_make, partnership_of_region, staff_user, submit_report
from triage import notifications
from triage.events import case_events
from triage.intake import report_route
from triage.models import Case
from triage.notifications import case_emails

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities")]

NOW = datetime(2026, 3, 11, 9, 0, tzinfo=ZoneInfo("Europe/London"))
YORKSHIRE = "Yorkshire and The Humber"
REPORTER_EMAIL = "reporter@private.example"


def make_case(**overrides: Any) -> Case:
    """A standard case: routing queues no email for it."""
    case = report_route(report_id=submit_report(**overrides).report.pk)
    assert not case_emails(case).exists()
    return case


def recipients(case: Case, template: str) -> set[str]:
    return set(case_emails(case).filter(template=template).values_list("recipient", flat=True))


def send_rows(record: Notification) -> list[OutboxMessage]:
    return list(OutboxMessage.objects.filter(kind="send_email", target_id=record.pk))


# --- email_queue -----------------------------------------------------------------------------------------


def test_an_email_is_recorded_once_per_occasion_with_one_outbox_row() -> None:
    case = make_case()
    first = notifications.email_queue(case=case, recipient="a@helpline.test", template="urgent_case", occasion="x")
    again = notifications.email_queue(case=case, recipient="a@helpline.test", template="urgent_case", occasion="x")
    assert again.pk == first.pk
    assert (first.state, first.attempts) == (Notification.State.QUEUED, 0)
    assert len(send_rows(first)) == 1
    assert OutboxMessage.objects.filter(kind="send_email").count() == 1


@pytest.mark.parametrize(
    "change",
    [{"occasion": "y"}, {"recipient": "b@helpline.test"}, {"template": "triage_overdue"}, {"case": "other"}],
)
def test_a_different_case_recipient_template_or_occasion_is_another_email(change: dict[str, str]) -> None:
    case = make_case()
    values: dict[str, Any] = {"case": case, "recipient": "a@helpline.test", "template": "urgent_case", "occasion": "x"}
    first = notifications.email_queue(**values)
    values.update(change)
    if change.get("case") == "other":
        values["case"] = make_case()
    second = notifications.email_queue(**values)
    assert second.pk != first.pk
    assert len(send_rows(first)) == len(send_rows(second)) == 1


# --- who hears of what -----------------------------------------------------------------------------------


def test_staff_alert_skips_inactive_users_and_users_without_an_email_and_records_an_event() -> None:
    case = make_case()
    staff_user("active", email="active@helpline.test")
    staff_user("gone", email="gone@helpline.test", is_active=False)
    staff_user("no-address", email="")
    records = notifications.staff_alert(case=case, template="triage_overdue", recipients=User.objects.all())
    assert [record.recipient for record in records] == ["active@helpline.test"]
    assert recipients(case, "triage_overdue") == {"active@helpline.test"}
    event = case_events(case).get(kind="staff_alerted")
    assert event.detail == {"template": "triage_overdue", "emails": 1}


def test_staff_alert_to_nobody_records_nothing() -> None:
    case = make_case()
    staff_user("gone", email="gone@helpline.test", is_active=False)
    assert notifications.staff_alert(case=case, template="triage_overdue", recipients=User.objects.all()) == []
    assert not case_events(case).filter(kind="staff_alerted").exists()
    assert not case_emails(case).exists()


@pytest.fixture
def oversight() -> dict[str, User]:
    return {
        "analyst": staff_user("analyst", role=User.Role.OVERSIGHT_ANALYST, email="analyst@oversight.test"),
        "board": staff_user(
            "board-yh", role=User.Role.PARTNERSHIP, email="board@yh.test", partnership=partnership_of_region(YORKSHIRE)
        ),
        "other": staff_user(
            "board-nw",
            role=User.Role.PARTNERSHIP,
            email="board@nw.test",
            partnership=partnership_of_region("North West"),
        ),
        "supervisor": staff_user("sup", role=User.Role.SUPERVISOR, email="sup@helpline.test"),
    }


def test_oversight_alert_goes_to_national_oversight_and_the_region_wide_partnership(oversight: dict[str, User]) -> None:
    case = make_case()  # Rotherham, in Yorkshire and The Humber
    assert case.authority is not None and case.authority.region == YORKSHIRE
    notifications.oversight_alert(case=case, template="authority_ack_overdue_national")
    assert recipients(case, "authority_ack_overdue_national") == {"analyst@oversight.test", "board@yh.test"}


def test_oversight_alert_leaves_the_partnership_out_of_a_case_under_independent_review(
    oversight: dict[str, User],
) -> None:
    case = make_case(about_authority=authority_by_code("E08000039"))  # about Sheffield, same region
    assert case.independent_review and case.authority is not None and case.authority.region == YORKSHIRE
    notifications.oversight_alert(case=case, template="authority_ack_overdue_national")
    assert recipients(case, "authority_ack_overdue_national") == {"analyst@oversight.test"}


def test_oversight_alert_goes_to_the_partnerships_covering_the_authority_not_to_its_region() -> None:
    """A partnership covering Rotherham and Sheffield hears about both, and not about Barnsley (same region),
    whose own partnership hears about it alone."""
    staff_user("analyst", role=User.Role.OVERSIGHT_ANALYST, email="analyst@oversight.test")
    two = partnership_make("Rotherham and Sheffield", "E08000018", "E08000039")
    staff_user("two", role=User.Role.PARTNERSHIP, email="two@partnership.test", partnership=two)
    staff_user("two-left", role=User.Role.PARTNERSHIP, email="left@partnership.test", partnership=two, is_active=False)
    barnsley = partnership_make("Barnsley", "E08000016")
    staff_user("one", role=User.Role.PARTNERSHIP, email="one@partnership.test", partnership=barnsley)
    for code, partnership_emails in (
        ("E08000018", {"two@partnership.test"}),
        ("E08000039", {"two@partnership.test"}),
        ("E08000016", {"one@partnership.test"}),
        ("E08000003", set()),  # Manchester: no partnership covers it here
    ):
        case = make_case(local_authority=authority_by_code(code))
        notifications.oversight_alert(case=case, template="authority_ack_overdue_national")
        assert recipients(case, "authority_ack_overdue_national") == {"analyst@oversight.test", *partnership_emails}


def test_oversight_alert_without_an_authority_goes_to_national_oversight_only(oversight: dict[str, User]) -> None:
    case = make_case(local_authority=None)
    notifications.oversight_alert(case=case, template="authority_ack_overdue_national")
    assert recipients(case, "authority_ack_overdue_national") == {"analyst@oversight.test"}


def test_helpline_tell_goes_to_active_supervisors_and_the_assignee_once_each() -> None:
    staff_user("sup-a", email="a@helpline.test")
    staff_user("sup-gone", email="gone@helpline.test", is_active=False)
    staff_user("sup-none", email="")
    staff_user("bystander", role=User.Role.CALL_HANDLER, email="bystander@helpline.test")
    assignee = staff_user("handler", role=User.Role.CALL_HANDLER, email="handler@helpline.test")
    case = make_case()
    Case.objects.filter(pk=case.pk).update(assignee=assignee)
    case.refresh_from_db()
    for _ in range(2):
        notifications.helpline_tell(case=case, template="authority_question", occasion="action-1")
    assert recipients(case, "authority_question") == {"a@helpline.test", "handler@helpline.test"}
    assert case_emails(case).count() == 2
    assert set(case_emails(case).values_list("occasion", flat=True)) == {"action-1"}


def test_helpline_tell_names_a_supervisor_assignee_once() -> None:
    supervisor = staff_user("sup-a", email="a@helpline.test")
    case = make_case()
    Case.objects.filter(pk=case.pk).update(assignee=supervisor)
    case.refresh_from_db()
    notifications.helpline_tell(case=case, template="authority_question", occasion="action-1")
    assert list(case_emails(case).values_list("recipient", flat=True)) == ["a@helpline.test"]


@pytest.mark.parametrize(
    ("report", "emailed"),
    [
        ({"anonymity": Anonymity.CONFIDENTIAL, "contact": Contact(email=REPORTER_EMAIL)}, True),
        ({"anonymity": Anonymity.NAMED, "contact": Contact(name="Sam", email=REPORTER_EMAIL)}, True),
        ({"anonymity": Anonymity.CONFIDENTIAL, "contact": Contact(name="Sam", phone="07700 900123")}, False),
        ({"anonymity": Anonymity.ANONYMOUS}, False),
    ],
)
def test_reporter_tell_only_when_the_reporter_gave_an_email(report: dict[str, Any], emailed: bool) -> None:
    case = make_case(**report)
    notifications.reporter_tell(case=case, template="reporter_update", occasion="message-1")
    records = list(case_emails(case))
    assert [(r.recipient, r.template, r.occasion) for r in records] == (
        [("reporter", "reporter_update", "message-1")] if emailed else []
    )
    assert not Notification.objects.filter(recipient=REPORTER_EMAIL).exists()
