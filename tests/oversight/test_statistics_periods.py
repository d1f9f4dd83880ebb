"""The statistics page for a chosen whole year or quarter, refusing any other period with a 400 and
GOV.UK's error summary; the page says once which authorities have no figure."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db.models import F
from django.utils import timezone

from accounts.models import User
from directory.models import LocalAuthority
from oversight import selectors
from oversight.periods import Period
from referrals.models import Referral
from tests.factories import partnership_of_region, signed_in_as
from tests.oversight.helpers import ROTHERHAM, YORKSHIRE, csv_rows, referred_case, text

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities")]


def acknowledged_on_time(count: int) -> None:
    cases = [referred_case(ROTHERHAM) for _ in range(count)]
    Referral.objects.filter(case__in=[c.pk for c in cases]).update(acknowledged_at=F("ack_due_at") - timedelta(hours=1))
    selectors.stats_refresh()


def test_the_page_shows_this_year_unless_another_period_is_chosen() -> None:
    acknowledged_on_time(6)
    client, _ = signed_in_as(User.Role.OVERSIGHT_ANALYST)
    today = timezone.localdate()
    quarter = Period(today.year, (today.month - 1) // 3 + 1)

    this_year = client.get("/staff/statistics")
    this_quarter = client.get("/staff/statistics", {"period": quarter.slug})
    last_year = client.get("/staff/statistics", {"period": str(today.year - 1)})

    assert this_year.status_code == this_quarter.status_code == 200
    assert this_year.context["period"] == Period(today.year)
    assert this_quarter.context["period"] == quarter
    assert f"Statistics for England{quarter.label}" in text(this_quarter).replace('<span class="govuk-caption-l">', "")
    for response in (this_year, this_quarter):
        ack = next(t for slug, _, t in response.context["tables"] if slug == "acknowledgements")
        assert ack.grand_total_text() == "6"
    # Last year is before any data: not on offer.
    assert last_year.status_code == 400
    offered = [value for value, _ in this_year.context["form"].fields["period"].choices]
    assert offered == [p.slug for p in this_year.context["periods"]]
    assert all(value == str(today.year) or value.startswith(f"{today.year}-Q") for value in offered)


def test_the_concern_trends_of_a_year_are_by_quarter() -> None:
    acknowledged_on_time(5)
    client, _ = signed_in_as(User.Role.OVERSIGHT_ANALYST)
    year = timezone.localdate().year

    response = client.get("/staff/statistics", {"period": str(year)})

    trends = next(t for slug, _, t in response.context["tables"] if slug == "concern-trends")
    assert trends.column_labels == [f"{year} Q{q}" for q in range(1, 5)]


@pytest.mark.parametrize(
    "period", ["1999", "2025-Q5", "2025-01-01", "2024-01-01..2024-06-30", "last-12-months", "", "9999", "2025-q1"]
)
@pytest.mark.parametrize("address", ["/staff/statistics", "/staff/statistics.csv"])
def test_any_other_period_gets_a_400_with_the_error_summary_and_no_figures(address: str, period: str) -> None:
    acknowledged_on_time(6)
    client, _ = signed_in_as(User.Role.PARTNERSHIP, partnership=partnership_of_region(YORKSHIRE))

    response = client.get(address, {"period": period})

    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    body = text(response)
    assert "govuk-error-summary" in body
    assert "There is a problem" in body
    assert "Choose a year or a quarter from the list" in body
    assert 'href="#id_period"' in body
    assert "<title>Error: " in body
    assert "Rotherham" not in body
    assert 'id="acknowledgements"' not in body


def test_a_refused_role_is_refused_before_the_period_is_looked_at() -> None:
    client, _ = signed_in_as(User.Role.CALL_HANDLER)
    assert client.get("/staff/statistics", {"period": "nonsense"}).status_code == 403


def test_the_csv_is_for_the_chosen_period() -> None:
    acknowledged_on_time(6)
    client, _ = signed_in_as(User.Role.PARTNERSHIP, partnership=partnership_of_region(YORKSHIRE))
    year = timezone.localdate().year

    response = client.get("/staff/statistics.csv", {"period": str(year)})

    assert response.status_code == 200
    assert f'filename="statistics-{year}.csv"' in response["Content-Disposition"]
    lines = csv_rows(response)
    assert lines[0][0] == f"Statistics for {YORKSHIRE}, January to December {year}"
    assert ["Rotherham", "6", "0", "0", "0", "6"] in lines


def test_the_chart_draws_authorities_with_a_figure_and_names_the_others_once() -> None:
    acknowledged_on_time(6)
    client, _ = signed_in_as(User.Role.OVERSIGHT_ANALYST)

    response = client.get("/staff/statistics")

    body = response.content.decode()
    assert [bar["label"] for bar in response.context["ack_bars"]] == ["Rotherham"]
    others = LocalAuthority.objects.count() - 1
    # The 152 have no referrals: named once for the whole page (chart and tables by authority), not under
    # the chart, which names only authorities whose figures are hidden (none here).
    assert response.context["shown"].no_referrals == sorted(
        LocalAuthority.objects.exclude(gss_code=ROTHERHAM).values_list("name", flat=True)
    )
    assert response.context["ack_without_figure"] == []
    assert f"Authorities with no referrals in this period: {others} authorities" in body
    assert body.count("Authorities with no referrals in this period") == 1
    assert 'data-testid="no-figure"' not in body
    assert "no figure (few or no referrals)" not in body
    # One row of the chart, in GOV.UK's typeface and a size from its type scale; no serif default.
    assert 'font-family="&quot;GDS Transport&quot;, arial, sans-serif"' in body
    assert 'font-size="16"' in body
    assert body.count("<rect ") == 1
    assert response.context["ack_chart_height"] == 28
