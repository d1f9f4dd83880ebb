"""Urgent pages by SMS (triage.paging), against the project's fake GOV.UK Notify on loopback: the real HTTP
calls it records, the real database, and the clock moved by time_machine.

An urgent case outside office hours pages the primary on call at once; inside them, only once it has been
unclaimed for 15 minutes. Unanswered for 15 minutes, the secondary is paged; after 30, the duty manager. A text
Notify reports as failed falls through sooner. "I'm dealing with it" stops it, claims the case and is on the
timeline; the pages then keep the day only. No text carries anything of the case."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import redis
import time_machine

from accounts.models import User
from core import flood
from core.timetrail import is_day_only
from notify import sms
from notify.models import Notification
from outbox.models import OutboxMessage
from rota.models import Shift
from tests.factories import routed_case, signed_in, staff_user, staff_with_mfa
from tests.fake_notify import PAGE_TEMPLATE_ID, FakeNotify
from tests.paging.conftest import run_outbox, shift_make
from triage import case_actions, paging, staff_actions
from triage.events import case_events
from triage.models import Case, Page

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities")]

LONDON = ZoneInfo("Europe/London")
# A Wednesday: the helpline (Monday to Friday, 8am to 8pm) is closed at 2am and open at 10am.
NIGHT = datetime(2026, 3, 11, 2, 0, 7, tzinfo=LONDON)
DAY = datetime(2026, 3, 11, 10, 0, 7, tzinfo=LONDON)
PRIMARY_PHONE, SECONDARY_PHONE, DUTY_PHONE = "07700 900001", "07700 900002", "07700 900003"
SUMMARY = "Missing episodes ignored"  # the factory report's summary: never in a text


@pytest.fixture
def rota(settings: Any) -> dict[str, User]:
    """A primary and a secondary on call all that week, and a duty manager's phone."""
    settings.DUTY_MANAGER_PHONE = DUTY_PHONE
    settings.DUTY_MANAGER_EMAIL = "duty.manager@helpline.test"
    people = {
        "primary": staff_user("on-call-primary", role=User.Role.CALL_HANDLER),
        "secondary": staff_user("on-call-secondary", role=User.Role.SUPERVISOR),
    }
    week = (datetime(2026, 3, 9, 0, 0, tzinfo=LONDON), datetime(2026, 3, 16, 0, 0, tzinfo=LONDON))
    shift_make(people["primary"], Shift.Role.PRIMARY, *week, phone=PRIMARY_PHONE)
    shift_make(people["secondary"], Shift.Role.SECONDARY, *week, phone=SECONDARY_PHONE)
    return people


def urgent_case() -> Case:
    case = routed_case(child_at_immediate_risk=True)
    assert case.priority == Case.Priority.URGENT and case.assignee_id is None
    return case


def texted(fake: FakeNotify) -> list[str]:
    return [body["phone_number"] for body in fake.sent()]


def levels(case: Case) -> list[str]:
    return list(Page.objects.filter(case=case).order_by("id").values_list("level", flat=True))


def test_outside_office_hours_the_primary_is_paged_at_once_and_the_text_says_nothing_of_the_case(
    fake_notify: FakeNotify, rota: dict[str, User]
) -> None:
    with time_machine.travel(NIGHT, tick=False):
        case = urgent_case()
        assert paging.paging_sweep() == 1
        run_outbox()
    assert levels(case) == ["primary"]
    page = Page.objects.get(case=case)
    assert page.person == rota["primary"] and page.sent_at == NIGHT and page.deadline == NIGHT + timedelta(minutes=15)
    sent = fake_notify.sent()
    assert sent == [
        {"phone_number": PRIMARY_PHONE, "template_id": PAGE_TEMPLATE_ID, "reference": f"sms-{page.notification_id}"}
    ]
    requests = fake_notify.requests()
    assert all(request["authorised"] for request in requests), "every call carried a good token"
    recorded = json.dumps(requests)
    for content in (SUMMARY, case.case_number, case.report.reference, "Northside"):
        assert content not in recorded
    # The text is the template's: Notify's answer gives its body, which is exactly the page's words.
    notification = Notification.objects.get(pk=page.notification_id)
    assert notification.channel == Notification.Channel.SMS and notification.state == Notification.State.SENT
    assert notification.delivery_status == sms.DELIVERED, "the status endpoint was asked"
    assert [r["path"] for r in requests] == [
        "/v2/notifications/sms",
        f"/v2/notifications/{notification.provider_message_id}",
    ]
    assert sms.PAGE_TEXT == "Urgent concern waiting — sign in to the helpline workspace"


def test_unanswered_pages_fall_through_to_the_secondary_then_the_duty_manager(
    fake_notify: FakeNotify, rota: dict[str, User]
) -> None:
    with time_machine.travel(NIGHT, tick=False) as clock:
        case = urgent_case()
        paging.paging_sweep()
        clock.move_to(NIGHT + timedelta(minutes=14, seconds=59))
        assert paging.paging_sweep() == 0
        assert levels(case) == ["primary"]
        clock.move_to(NIGHT + timedelta(minutes=15))
        assert paging.paging_sweep() == 1
        assert levels(case) == ["primary", "secondary"]
        clock.move_to(NIGHT + timedelta(minutes=29))
        assert paging.paging_sweep() == 0
        clock.move_to(NIGHT + timedelta(minutes=30))
        assert paging.paging_sweep() == 1
        clock.move_to(NIGHT + timedelta(hours=2))
        assert paging.paging_sweep() == 0, "nobody after the duty manager"
        run_outbox(sms.SEND_SMS)
    assert levels(case) == ["primary", "secondary", "duty_manager"]
    assert texted(fake_notify) == [PRIMARY_PHONE, SECONDARY_PHONE, DUTY_PHONE]
    duty = Page.objects.get(case=case, level=Page.Level.DUTY_MANAGER)
    assert duty.person is None and duty.sent_at == NIGHT + timedelta(minutes=30)
    # The duty manager is emailed too (the urgent-case alert), and that email keeps the day only.
    mail = Notification.objects.get(channel=Notification.Channel.EMAIL, recipient="duty.manager@helpline.test")
    assert mail.template == "urgent_case" and is_day_only(mail.created_at)
    # On the timeline, each with the urgent deadline it answered, to the day only.
    events = list(case_events(case).filter(kind="page_sent").order_by("id"))
    assert [event.detail["level"] for event in events] == ["primary", "secondary", "duty_manager"]
    assert {event.detail["triage_deadline"] for event in events} == {"2026-03-11T00:00:00+00:00"}
    assert all(is_day_only(event.created_at) for event in events)


def test_inside_office_hours_only_an_urgent_case_unclaimed_for_15_minutes_is_paged(
    fake_notify: FakeNotify, rota: dict[str, User]
) -> None:
    with time_machine.travel(DAY, tick=False) as clock:
        unclaimed, claimed = urgent_case(), urgent_case()
        clock.move_to(DAY + timedelta(minutes=5))
        assert paging.paging_sweep() == 0
        case_actions.case_claim(case=claimed, acting_user=staff_user("day-handler", role=User.Role.CALL_HANDLER))
        clock.move_to(DAY + timedelta(minutes=14, seconds=59))
        assert paging.paging_sweep() == 0
        clock.move_to(DAY + timedelta(minutes=15))
        assert paging.paging_sweep() == 1
        run_outbox(sms.SEND_SMS)
    assert levels(unclaimed) == ["primary"] and levels(claimed) == []
    assert texted(fake_notify) == [PRIMARY_PHONE]


def test_im_dealing_with_it_stops_the_pages_claims_the_case_and_is_on_the_timeline(
    fake_notify: FakeNotify, rota: dict[str, User]
) -> None:
    with time_machine.travel(NIGHT, tick=False) as clock:
        handler, _ = staff_with_mfa("night-handler", role=User.Role.CALL_HANDLER)
        client = signed_in(handler)
        case = urgent_case()
        paging.paging_sweep()
        clock.move_to(NIGHT + timedelta(minutes=6))
        page = client.get(f"/staff/cases/{case.case_number}")
        assert page.status_code == 200
        html = page.content.decode()
        assert 'data-testid="acknowledge-page"' in html and "I'm dealing with it" in html
        assert "Primary on call (on-call-primary): paged at 02:00, to answer by 02:15" in html
        done = client.post(f"/staff/cases/{case.case_number}/acknowledge_page", follow=True)
        assert done.status_code == 200
        assert "You are dealing with it" in done.content.decode()
        assert 'data-testid="acknowledge-page"' not in done.content.decode(), "no longer offered"
        clock.move_to(NIGHT + timedelta(hours=1))
        assert paging.paging_sweep() == 0
    case.refresh_from_db()
    assert case.assignee == handler and case.status == Case.Status.IN_TRIAGE
    assert levels(case) == ["primary"]
    answered = Page.objects.get(case=case)
    assert answered.acknowledged_by == handler
    # Kept to the day once somebody is dealing with it: the page's time is when the reporter pressed Send.
    assert answered.day_only and all(
        is_day_only(t) for t in (answered.sent_at, answered.deadline, answered.acknowledged_at)
    )
    text = Notification.objects.get(pk=answered.notification_id)
    assert is_day_only(text.created_at)
    event = case_events(case).get(kind="acknowledge_page")
    assert event.actor == handler and is_day_only(event.created_at)
    assert event.detail == {
        "status": "in_triage",
        "level": "primary",
        "deadline": "2026-03-11T00:00:00+00:00",
        "triage_deadline": "2026-03-11T00:00:00+00:00",
    }
    assert case_events(case).filter(kind="claim", actor=handler).count() == 1


def test_acknowledging_with_no_page_waiting_is_refused(rota: dict[str, User]) -> None:
    with time_machine.travel(DAY, tick=False):
        case = urgent_case()
        handler = staff_user("early-handler", role=User.Role.CALL_HANDLER)
        assert "acknowledge_page" not in staff_actions.page_actions(case, handler)
        with pytest.raises(case_actions.workflow.ActionNotAllowed, match="No page about this case is waiting"):
            case_actions.case_acknowledge_page(case=case, acting_user=handler)


def test_a_text_notify_reports_failed_falls_through_to_the_next_person_sooner(
    fake_notify: FakeNotify, rota: dict[str, User]
) -> None:
    fake_notify.mode("permanent-failure")
    with time_machine.travel(NIGHT, tick=False) as clock:
        case = urgent_case()
        paging.paging_sweep()
        run_outbox()
        primary = Page.objects.select_related("notification").get(case=case)
        assert primary.notification is not None
        assert primary.notification.state == Notification.State.FAILED
        assert primary.notification.delivery_status == "permanent-failure"
        clock.move_to(NIGHT + timedelta(minutes=1))
        assert paging.paging_sweep() == 1, "14 minutes before its deadline"
    assert levels(case) == ["primary", "secondary"]


def test_notify_failing_is_retried_with_backoff_and_each_page_is_sent_once(
    fake_notify: FakeNotify, rota: dict[str, User]
) -> None:
    fake_notify.mode("fail")
    with time_machine.travel(NIGHT, tick=False) as clock:
        case = urgent_case()
        paging.paging_sweep()
        paging.paging_sweep()
        assert paging.page_send(case=case, level=Page.Level.PRIMARY) is None, "once per level"
        assert OutboxMessage.objects.filter(kind=sms.SEND_SMS).count() == 1
        run_outbox()
        notification = Notification.objects.get(channel=Notification.Channel.SMS)
        assert notification.state == Notification.State.RETRYING and notification.attempts == 1
        assert notification.next_attempt_at == NIGHT + timedelta(minutes=1)
        fake_notify.mode("ok")
        run_outbox()
        assert len(fake_notify.sent()) == 1, "not retried before its time"
        clock.move_to(NIGHT + timedelta(minutes=1, seconds=1))
        run_outbox()
        run_outbox()
        notification.refresh_from_db()
        assert notification.state == Notification.State.SENT and notification.attempts == 2
        # A repeat of the row (a redelivered task) sends nothing more.
        assert sms.sms_deliver(notification.pk) is None
    assert texted(fake_notify) == [PRIMARY_PHONE, PRIMARY_PHONE], "the failed try and the retry, no more"


def test_a_level_the_rota_leaves_empty_falls_through_at_once(fake_notify: FakeNotify, settings: Any) -> None:
    settings.DUTY_MANAGER_PHONE = DUTY_PHONE
    week = (datetime(2026, 3, 9, tzinfo=LONDON), datetime(2026, 3, 16, tzinfo=LONDON))
    shift_make(
        staff_user("only-secondary", role=User.Role.CALL_HANDLER), Shift.Role.SECONDARY, *week, phone=SECONDARY_PHONE
    )
    with time_machine.travel(NIGHT, tick=False):
        case = urgent_case()
        assert paging.paging_sweep() == 2, "the empty primary, and the secondary in the same sweep"
        assert case_events(case).filter(kind="page_nobody").count() == 1
        run_outbox(sms.SEND_SMS)
    assert levels(case) == ["primary", "secondary"]
    assert texted(fake_notify) == [SECONDARY_PHONE]


def test_pages_of_a_case_that_leaves_triage_keep_the_day_only(fake_notify: FakeNotify, rota: dict[str, User]) -> None:
    with time_machine.travel(NIGHT, tick=False) as clock:
        case = urgent_case()
        paging.paging_sweep()
        run_outbox()
        clock.move_to(NIGHT + timedelta(minutes=3))
        handler = staff_user("closing-handler", role=User.Role.CALL_HANDLER)
        case_actions.case_close(case=case, outcome="no_further_action", feedback="Thank you.", acting_user=handler)
        clock.move_to(NIGHT + timedelta(hours=1))
        assert paging.paging_sweep() == 0
    page = Page.objects.get(case=case)
    assert page.day_only and is_day_only(page.sent_at) and is_day_only(page.deadline)
    assert page.acknowledged_at is None
    text = Notification.objects.get(pk=page.notification_id)
    assert is_day_only(text.created_at) and text.sent_at is not None and is_day_only(text.sent_at)


def test_a_text_still_retrying_when_somebody_answers_is_cancelled(
    fake_notify: FakeNotify, rota: dict[str, User]
) -> None:
    fake_notify.mode("fail")
    with time_machine.travel(NIGHT, tick=False) as clock:
        case = urgent_case()
        paging.paging_sweep()
        run_outbox()
        text = Notification.objects.get(channel=Notification.Channel.SMS)
        assert text.state == Notification.State.RETRYING, "control: it failed once"
        handler = staff_user("quick-handler", role=User.Role.CALL_HANDLER)
        staff_actions.case_act(case=case, action="acknowledge_page", data={}, acting_user=handler)
        fake_notify.mode("ok")
        clock.move_to(NIGHT + timedelta(minutes=5))
        run_outbox()
    text.refresh_from_db()
    assert text.state == Notification.State.CANCELLED and text.next_attempt_at is None
    assert is_day_only(text.created_at)
    assert len(fake_notify.sent()) == 1, "the first try only"
    assert not OutboxMessage.objects.filter(processed_at__isnull=True).exists()


def test_during_a_flood_the_first_urgent_case_pages_and_then_one_page_per_digest_window(
    fake_notify: FakeNotify, rota: dict[str, User], settings: Any
) -> None:
    from tests.floods.conftest import FLOOD_TEST_REDIS_URL, flood_keys_clear

    settings.FLOOD_REDIS_URL = FLOOD_TEST_REDIS_URL
    flood_keys_clear(redis.Redis.from_url(FLOOD_TEST_REDIS_URL))
    flood.flood_resume()
    settings.FLOOD_THRESHOLD = 2
    settings.DIGEST_MINUTES = 5
    with time_machine.travel(NIGHT, tick=False):
        cases = [urgent_case() for _ in range(4)]  # routed: a flood of four, over the threshold of two
        assert flood.flood_on()
        assert paging.paging_sweep() == 1, "the first urgent case pages at once"
        assert paging.paging_sweep() == 0, "not one page per case"
    assert sum(1 for case in cases if levels(case)) == 1
    with time_machine.travel(NIGHT + timedelta(minutes=5), tick=False):
        assert paging.paging_sweep() == 1, "the next digest window pages again"
    assert sum(1 for case in cases if levels(case)) == 2


def test_the_pages_gauge_counts_an_unanswered_page_only_from_the_next_day(
    fake_notify: FakeNotify, rota: dict[str, User], settings: Any
) -> None:
    from tests.metrics.scraping import TOKEN, scrape, value

    settings.METRICS_TOKEN = TOKEN
    with time_machine.travel(NIGHT, tick=False) as clock:
        before = scrape()
        urgent_case()
        paging.paging_sweep()
        # The page went when the reporter pressed Send: the same day, no metric says so.
        assert scrape() == before
        clock.move_to(NIGHT + timedelta(days=1))
        samples = scrape()
    assert value(samples, "pages", state="sent") >= 1
    assert value(samples, "pages", state="unacknowledged") == 1
    assert value(samples, "pages", state="acknowledged") == 0
