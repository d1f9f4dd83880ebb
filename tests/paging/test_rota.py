"""The on-call rota (rota/): supervisors keep it on /staff/rota without JavaScript; a shift is refused with a
GOV.UK error summary when it ends before it starts, overlaps another primary, or names somebody who is not
active helpline staff; gaps outside office hours (bank holidays included) in the next 7 days show in red."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from accounts.models import User
from audit.models import AuditEvent
from rota.models import Shift
from rota.selectors import Gap, on_call_at, rota_gaps
from tests.factories import signed_in_as, staff_user
from tests.paging.conftest import shift_make

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf")]

LONDON = ZoneInfo("Europe/London")
# A Monday: Monday to Friday 8am to 8pm, Saturday 9am to 1pm (the default HELPLINE_HOURS).
MONDAY = datetime(2026, 3, 9, 7, 0, tzinfo=LONDON)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=LONDON)


def answer(**changes: str) -> dict[str, str]:
    values = {
        "person": "rota-handler",
        "role": "primary",
        "starts_day-day": "9",
        "starts_day-month": "3",
        "starts_day-year": "2026",
        "starts_time": "20:00",
        "ends_day-day": "10",
        "ends_day-month": "3",
        "ends_day-year": "2026",
        "ends_time": "08:00",
        "phone": "07700 900123",
        "handover_note": "Pager battery is low.",
    }
    return values | changes


@pytest.fixture
def supervisor_client() -> Client:
    staff_user("rota-handler", role=User.Role.CALL_HANDLER)
    return signed_in_as(User.Role.SUPERVISOR, username="rota-supervisor")[0]


def test_a_supervisor_adds_a_shift_and_sees_it_listed(supervisor_client: Client) -> None:
    with time_machine.travel(MONDAY, tick=False):
        home = supervisor_client.get("/staff/")
        assert 'href="/staff/rota"' in home.content.decode(), "in the workspace's navigation"
        added = supervisor_client.post("/staff/rota/add", answer())
        assert added.status_code == 302 and added["Location"] == "/staff/rota"
        page = supervisor_client.get("/staff/rota").content.decode()
    shift = Shift.objects.get()
    assert (shift.person.username, shift.role, shift.starts_at, shift.ends_at) == (
        "rota-handler",
        "primary",
        at(9, 20),
        at(10, 8),
    )
    assert shift.phone == "07700 900123" and shift.handover_note == "Pager battery is low."
    assert 'data-testid="shift-row"' in page and "rota-handler" in page and "Pager battery is low." in page
    event = AuditEvent.objects.get(kind="rota_shift_added")
    assert event.detail["shift"] == shift.pk and "Pager" not in str(event.detail)


@pytest.mark.parametrize(
    ("changes", "said"),
    [
        ({"ends_day-day": "9", "ends_time": "19:00"}, "The shift must end after it starts"),
        ({"ends_time": "eight"}, "Enter the time the shift ends as a 24-hour time, like 18:00"),
        ({"person": "rota-officer"}, "Choose an active member of the helpline staff"),
        ({"person": "rota-leaver"}, "Choose an active member of the helpline staff"),
        ({"phone": "0114 273 4855"}, "Enter a UK mobile number, like 07700 900123"),
        ({"starts_day-month": "13"}, "The day the shift starts must be a real date, like 27 3 2026"),
    ],
)
def test_a_shift_that_breaks_a_rule_is_a_gov_uk_error_page(
    supervisor_client: Client, changes: dict[str, str], said: str
) -> None:
    staff_user("rota-officer", role=User.Role.AUTHORITY_OFFICER)
    staff_user("rota-leaver", role=User.Role.CALL_HANDLER, is_active=False)
    with time_machine.travel(MONDAY, tick=False):
        refused = supervisor_client.post("/staff/rota/add", answer(**changes), follow=True)
    # Post/redirect/get: the form comes back on its own page, bound to what was typed.
    assert refused.redirect_chain == [("/staff/rota/add", 302)]
    assert refused.status_code == 400
    html = refused.content.decode()
    assert "govuk-error-summary" in html and said in html.replace("&#x27;", "'")
    assert not Shift.objects.exists()


def test_one_primary_at_a_time_but_a_secondary_may_overlap_it(supervisor_client: Client) -> None:
    shift_make(
        staff_user("first-primary", role=User.Role.CALL_HANDLER), "primary", at(9, 18), at(10, 6), "07700 900001"
    )
    with time_machine.travel(MONDAY, tick=False):
        clash = supervisor_client.post("/staff/rota/add", answer(), follow=True)
        assert clash.status_code == 400
        assert "first-primary is already the primary from 9 March 18:00 to 10 March 06:00" in clash.content.decode()
        assert supervisor_client.post("/staff/rota/add", answer(role="secondary")).status_code == 302
        after = supervisor_client.post(
            "/staff/rota/add", answer(**{"starts_day-day": "10", "starts_time": "06:00", "ends_time": "09:00"})
        )
        assert after.status_code == 302, "back to back is no overlap"
    assert Shift.objects.filter(role="primary").count() == 2 and Shift.objects.filter(role="secondary").count() == 1


def test_a_shift_is_changed_and_removed(supervisor_client: Client) -> None:
    shift = shift_make(staff_user("rota-handler"), "primary", at(9, 20), at(10, 8), "07700 900001")
    with time_machine.travel(MONDAY, tick=False):
        form = supervisor_client.get(f"/staff/rota/{shift.pk}/edit").content.decode()
        assert 'value="20:00"' in form
        # Changing a primary does not clash with itself.
        changed = supervisor_client.post(f"/staff/rota/{shift.pk}/edit", answer(ends_time="09:00"))
        assert changed.status_code == 302
        shift.refresh_from_db()
        assert shift.ends_at == at(10, 9)
        unconfirmed = supervisor_client.post(f"/staff/rota/{shift.pk}/remove", {}, follow=True)
        assert (
            unconfirmed.status_code == 400 and "Confirm that the shift is to be removed" in unconfirmed.content.decode()
        )
        assert supervisor_client.post(f"/staff/rota/{shift.pk}/remove", {"confirm": "on"}).status_code == 302
    assert not Shift.objects.exists()
    assert AuditEvent.objects.filter(kind__in=["rota_shift_changed", "rota_shift_removed"]).count() == 2


def test_a_call_handler_may_not_keep_the_rota() -> None:
    client, _ = signed_in_as(User.Role.CALL_HANDLER, username="rota-curious")
    assert client.get("/staff/rota").status_code == 403
    assert client.post("/staff/rota/add", answer()).status_code == 403
    assert 'href="/staff/rota"' not in client.get("/staff/").content.decode()


def test_gaps_are_the_times_outside_office_hours_without_a_primary_or_a_secondary() -> None:
    primary = staff_user("gap-primary", role=User.Role.CALL_HANDLER)
    secondary = staff_user("gap-secondary", role=User.Role.SUPERVISOR)
    # Monday night fully covered; Tuesday night only by a primary.
    shift_make(primary, "primary", at(9, 20), at(10, 8), "07700 900001")
    shift_make(secondary, "secondary", at(9, 20), at(10, 8), "07700 900002")
    shift_make(primary, "primary", at(10, 20), at(11, 8), "07700 900001")
    # From Monday 8am to Wednesday 8am: the helpline is open 8am to 8pm; the nights need cover.
    assert rota_gaps(at(9, 8), days=2) == [Gap(at(10, 20), at(11, 8), ("secondary",))]


def test_a_bank_holiday_needs_cover_all_day_and_an_open_day_none() -> None:
    # Good Friday 2026 (3 April): the helpline is closed all day, though it is a weekday.
    gaps = rota_gaps(datetime(2026, 4, 3, 0, 0, tzinfo=LONDON), days=1)
    assert gaps == [
        Gap(
            datetime(2026, 4, 3, 0, 0, tzinfo=LONDON),
            datetime(2026, 4, 4, 0, 0, tzinfo=LONDON),
            ("primary", "secondary"),
        )
    ]
    # A Wednesday from 9am to 7pm: open throughout, so nothing to cover.
    assert rota_gaps(at(11, 9), days=0) == []
    assert [(g.start, g.end) for g in rota_gaps(at(11, 9)) if g.start < at(12, 0)] == [(at(11, 20), at(12, 8))]


def test_the_rota_page_shows_the_gaps_in_red_and_who_is_on_call(supervisor_client: Client, settings: Any) -> None:
    shift_make(staff_user("rota-handler"), "primary", at(9, 6), at(9, 9), "07700 900001")
    with time_machine.travel(MONDAY, tick=False):
        page = supervisor_client.get("/staff/rota").content.decode()
        assert on_call_at().primary is not None
    assert 'data-testid="gaps-table"' in page and "govuk-tag--red" in page and "No secondary" in page
    assert "rota-handler until Monday 9 March, 09:00" in page
