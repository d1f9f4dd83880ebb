"""Issue 22 point 4: an urgent report's promise depends on the helpline's hours. Outside them: when the
helpline will see it, and 999, the council's emergency duty team and police 101 first; the council's
number only when someone gave it, else its GOV.UK page. Never a made-up number."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.template.loader import render_to_string

from core.office_hours import HoursUnreadable, helpline_hours, spans
from directory import lookup
from directory.contacts import urgent_out_of_hours_context
from directory.models import LocalAuthority

LONDON = ZoneInfo("Europe/London")
HOURS = "Monday to Friday, 8am to 8pm; Saturday, 9am to 1pm"
SUNDAY_EVENING = datetime(2026, 12, 6, 19, 30, tzinfo=LONDON)
SHEFFIELD = "E08000039"


@pytest.mark.parametrize(
    ("now", "open_now", "next_opening"),
    [
        (SUNDAY_EVENING, False, datetime(2026, 12, 7, 8, 0, tzinfo=LONDON)),
        (datetime(2026, 12, 7, 9, 0, tzinfo=LONDON), True, None),
        (datetime(2026, 12, 7, 7, 59, tzinfo=LONDON), False, datetime(2026, 12, 7, 8, 0, tzinfo=LONDON)),
        (datetime(2026, 12, 4, 20, 0, tzinfo=LONDON), False, datetime(2026, 12, 5, 9, 0, tzinfo=LONDON)),
        (datetime(2026, 12, 5, 12, 30, tzinfo=LONDON), True, None),
        (datetime(2026, 12, 5, 13, 0, tzinfo=LONDON), False, datetime(2026, 12, 7, 8, 0, tzinfo=LONDON)),
        # The summer bank holiday (Monday 31 August 2026) is closed: Tuesday at 8am.
        (datetime(2026, 8, 31, 10, 0, tzinfo=LONDON), False, datetime(2026, 9, 1, 8, 0, tzinfo=LONDON)),
        # Christmas: Friday 25, Boxing Day (Saturday 26) and its substitute Monday 28 December are closed.
        (datetime(2026, 12, 24, 21, 0, tzinfo=LONDON), False, datetime(2026, 12, 29, 8, 0, tzinfo=LONDON)),
    ],
)
def test_whether_the_helpline_is_open_and_when_it_next_opens(
    now: datetime, open_now: bool, next_opening: datetime | None
) -> None:
    hours = helpline_hours(now, HOURS)
    assert (hours.open_now, hours.next_opening) == (open_now, next_opening)


def test_other_ways_of_writing_the_hours_are_read() -> None:
    assert len(spans("Monday, Wednesday and Friday, 9:30am to 5pm")) == 3
    with pytest.raises(HoursUnreadable):
        spans("weekdays, office hours")


def render(authority: LocalAuthority | None, now: datetime) -> str:
    return render_to_string(
        "reports/includes/urgent_out_of_hours.html", urgent_out_of_hours_context(authority=authority, now=now)
    )


@pytest.fixture
def hours(settings: pytest.FixtureRequest) -> None:
    settings.HELPLINE_HOURS = HOURS  # type: ignore[attr-defined]


@pytest.mark.django_db
@pytest.mark.usefixtures("local_authorities", "hours")
def test_on_a_sunday_evening_the_page_signposts_first_and_says_when_the_helpline_will_see_it() -> None:
    sheffield = lookup.authority_by_code(SHEFFIELD)
    page = render(sheffield, SUNDAY_EVENING)
    assert "within 1 hour" not in page
    assert "8am on Monday 7 December 2026" in page
    first_999, edt, police = page.index("999"), page.index("emergency duty team"), page.index("101")
    assert first_999 < edt < police < page.index("8am on Monday 7 December 2026")
    # No number in the directory for Sheffield: its GOV.UK page, never a made-up number.
    assert 'href="https://www.gov.uk/find-local-council/sheffield"' in page
    assert "01632" not in page


@pytest.mark.django_db
@pytest.mark.usefixtures("local_authorities", "hours")
def test_the_councils_own_number_is_given_when_set() -> None:
    LocalAuthority.objects.filter(gss_code=SHEFFIELD).update(
        emergency_duty_phone="01632 960004", childrens_services_contact="01632 960003"
    )
    page = render(lookup.authority_by_code(SHEFFIELD), SUNDAY_EVENING)
    assert 'href="tel:01632960004"' in page and "01632 960004" in page
    assert "01632 960003" in page
    assert "find-local-council/sheffield" not in page


@pytest.mark.usefixtures("hours")
def test_without_a_known_council_the_page_points_to_gov_uk_find_your_council() -> None:
    page = render(None, SUNDAY_EVENING)
    assert 'href="https://www.gov.uk/find-local-council"' in page and "999" in page and "101" in page


@pytest.mark.usefixtures("hours")
def test_inside_the_hours_the_one_hour_promise_stands() -> None:
    page = render(None, datetime(2026, 12, 7, 10, 0, tzinfo=LONDON))
    assert "will look at your report within 1 hour" in page
    assert "helpline is closed" not in page
