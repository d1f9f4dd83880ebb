"""What the statistics page and its CSV show of the published (suppressed) tables: authorities with no
referrals named once instead of a row of zeros each, one-column tables without a "Total" column repeating
them, and a CSV that is the page's tables, row for row. Nothing shown un-hides a figure."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db.models import F
from django.utils import timezone

from accounts.models import User
from directory.models import LocalAuthority
from oversight import selectors
from oversight.suppression import FEWER, HIDDEN
from referrals.models import Referral
from tests.factories import partnership_of_region, signed_in_as
from tests.oversight.helpers import (
    ROTHERHAM,
    SHEFFIELD,
    YORKSHIRE,
    csv_rows,
    csv_sections,
    helpline_supervisor,
    new_case,
    page_tables,
    referred_case,
    text,
)
from triage import case_actions as actions
from triage.models import Case

HOUR = timedelta(hours=1)
LEEDS = "E08000035"
NO_REFERRALS = "Authorities with no referrals in this period"


def mentions(body: str, name: str) -> int:
    """How many times an authority's name stands on its own in the page ("York" is not in "North
    Yorkshire")."""
    return len(re.findall(rf"(?<![\w-]){re.escape(name)}(?![\w-])", body))


def acknowledged(code: str, count: int, *, late: bool = False) -> list[Case]:
    cases = [referred_case(code) for _ in range(count)]
    Referral.objects.filter(case__in=[c.pk for c in cases]).update(
        acknowledged_at=F("ack_due_at") + (HOUR if late else -HOUR)
    )
    return cases


def yorkshire() -> list[str]:
    return sorted(LocalAuthority.objects.filter(region=YORKSHIRE).values_list("name", flat=True))


# --- authorities with no referrals ----------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.usefixtures("fast_kdf", "local_authorities")
def test_a_boards_authorities_with_no_referrals_are_named_once_not_given_rows_of_zeros() -> None:
    """Rotherham has six referrals; the other 14 authorities of Yorkshire have none. Each of the 14 is
    named once on the page and once in the CSV, in "Authorities with no referrals in this period" — not as
    a row of zeros in each table by authority and again under the chart."""
    acknowledged(ROTHERHAM, 6)
    selectors.stats_refresh()
    client, _ = signed_in_as(User.Role.PARTNERSHIP, partnership=partnership_of_region(YORKSHIRE))

    response = client.get("/staff/statistics")

    assert response.status_code == 200
    others = [name for name in yorkshire() if name != "Rotherham"]
    assert len(others) == 14
    tables = page_tables(response)
    for slug in ("acknowledgements", "outcome-timeliness"):
        assert [row[0] for row in tables[slug][1:]] == ["Rotherham", "Total"], slug
    assert tables["acknowledgements"][1] == ["Rotherham", "6", "0", "0", "0", "6"]
    body = text(response)
    # Fourteen names: in a GOV.UK details, said once.
    assert f"{NO_REFERRALS}: 14 authorities" in body
    assert f"{', '.join(others)}." in body
    assert body.count(NO_REFERRALS) == 1
    for name in others:
        assert mentions(body, name) == 1, name
    assert response.context["shown"].no_referrals == others
    # The published tables still hold every authority: only what is shown of them changed.
    published = {slug: t for slug, _, t in response.context["tables"]}
    assert published["acknowledgements"].row_labels == yorkshire()

    lines = csv_rows(client.get("/staff/statistics.csv"))
    sections = csv_sections(lines)
    assert sections[NO_REFERRALS] == [[name] for name in others]
    assert sections["Acknowledgement of referrals, by authority"][1:] == [
        ["Rotherham", "6", "0", "0", "0", "6"],
        ["Total", "6", "0", "0", "0", "6"],
    ]
    for name in others:
        assert sum(line.count(name) for line in lines) == 1, name


@pytest.mark.django_db
@pytest.mark.usefixtures("fast_kdf", "local_authorities")
def test_nationally_the_authorities_with_no_referrals_are_named_once_in_a_details() -> None:
    """Not 153 rows of which 152 are zeros: one row, and the 152 named once (in a GOV.UK details, as a list
    that long would push the tables down the page)."""
    acknowledged(ROTHERHAM, 6)
    selectors.stats_refresh()
    client, _ = signed_in_as(User.Role.OVERSIGHT_ANALYST)

    response = client.get("/staff/statistics")

    names = sorted(LocalAuthority.objects.values_list("name", flat=True))
    assert len(names) == 153
    others = [name for name in names if name != "Rotherham"]
    tables = page_tables(response)
    for slug in ("acknowledgements", "outcome-timeliness"):
        assert [row[0] for row in tables[slug][1:]] == ["Rotherham", "Total"], slug
    body = text(response)
    assert '<details class="govuk-details" data-testid="no-referrals">' in body
    assert f"{NO_REFERRALS}: 152 authorities" in body
    assert ", ".join(others) in body
    # "City of London" stands on its own, and "London" is a region, so count the authorities' own names.
    for name in ("Barnsley", "Cornwall", "Manchester", "York", "Wigan", "Isles of Scilly"):
        assert mentions(body, name) == 1, name
    assert csv_sections(csv_rows(client.get("/staff/statistics.csv")))[NO_REFERRALS] == [[n] for n in others]


@pytest.mark.django_db
@pytest.mark.usefixtures("fast_kdf", "local_authorities")
def test_an_authority_whose_figures_are_hidden_keeps_its_row_and_is_named_under_the_chart() -> None:
    """Sheffield (6 on time, 1 late) and Leeds (7 on time, 2 late) have referrals: their figures are
    suppressed, not zero, so they keep their rows with "fewer than 5" and "hidden" as published, are not
    among the authorities with no referrals, and the chart says once that they are not drawn."""
    acknowledged(ROTHERHAM, 6)
    acknowledged(SHEFFIELD, 6)
    acknowledged(SHEFFIELD, 1, late=True)
    acknowledged(LEEDS, 7)
    acknowledged(LEEDS, 2, late=True)
    selectors.stats_refresh()
    client, _ = signed_in_as(User.Role.PARTNERSHIP, partnership=partnership_of_region(YORKSHIRE))

    response = client.get("/staff/statistics")

    published = {slug: t for slug, _, t in response.context["tables"]}["acknowledgements"]
    on_page = {row[0]: row for row in page_tables(response)["acknowledgements"]}
    for name in ("Leeds", "Sheffield"):
        r = published.row_labels.index(name)
        assert on_page[name] == [name, *[published.cell(r, c) for c in range(4)], published.row_total_text(r)]
        assert on_page[name][2] == FEWER
        assert on_page[name][1] == HIDDEN, "the on-time count would give the late one away"
    assert response.context["ack_without_figure"] == ["Leeds", "Sheffield"]
    assert [bar["label"] for bar in response.context["ack_bars"]] == ["Rotherham"]
    body = text(response)
    assert "Not drawn, as their figures are hidden so that small counts cannot be worked out: Leeds, Sheffield." in body
    none = [name for name in yorkshire() if name not in ("Leeds", "Rotherham", "Sheffield")]
    assert response.context["shown"].no_referrals == none
    assert f"{NO_REFERRALS}: 12 authorities" in body
    assert f">{', '.join(none)}." in body


# --- one-column tables ----------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.usefixtures("fast_kdf", "local_authorities")
def test_a_one_column_table_shows_each_figure_once_with_its_suppression() -> None:
    """Closed cases by outcome: 6 substantiated, 2 withdrawn. The table had a "Closed cases" column and a
    "Total" column with the same figures; now one. The 2 is still "fewer than 5", the 6 still hidden with
    it, on the page and in the CSV; the total of 8 is shown, as before."""
    supervisor = helpline_supervisor()
    for outcome, count in (("substantiated", 6), ("withdrawn", 2)):
        for _ in range(count):
            actions.case_close(case=new_case(ROTHERHAM), outcome=outcome, feedback="Thank you.", acting_user=supervisor)
    selectors.stats_refresh()
    client, _ = signed_in_as(User.Role.PARTNERSHIP, partnership=partnership_of_region(YORKSHIRE))

    response = client.get("/staff/statistics")

    outcomes = page_tables(response)["outcomes"]
    assert outcomes[0] == ["", "Closed cases"]
    rows = {row[0]: row[1:] for row in outcomes[1:]}
    assert rows["Concern substantiated"] == [HIDDEN]
    assert rows["Withdrawn by the reporter"] == [FEWER]
    assert rows["Total"] == ["8"]
    assert page_tables(response)["authority-outcomes"][0] == ["", "Referrals"]
    sections = csv_sections(csv_rows(client.get("/staff/statistics.csv")))
    assert sections["Closed cases by outcome"][0] == ["", "Closed cases"]
    assert ["Concern substantiated", HIDDEN] in sections["Closed cases by outcome"]
    assert ["Withdrawn by the reporter", FEWER] in sections["Closed cases by outcome"]
    assert ["Total", "8"] in sections["Closed cases by outcome"]
    # A quarter's concern types are one column too; the year's four quarters keep their "Total".
    today = timezone.localdate()
    quarter = client.get("/staff/statistics", {"period": f"{today.year}-Q{(today.month - 1) // 3 + 1}"})
    assert page_tables(quarter)["concern-trends"][0] == ["", f"{today.year} Q{(today.month - 1) // 3 + 1}"]
    assert page_tables(response)["concern-trends"][0][-1] == "Total"


@pytest.mark.django_db
@pytest.mark.usefixtures("fast_kdf", "local_authorities")
@pytest.mark.parametrize("role", [User.Role.PARTNERSHIP, User.Role.OVERSIGHT_ANALYST])
def test_the_csv_is_the_pages_tables_row_for_row(role: str) -> None:
    acknowledged(ROTHERHAM, 6)
    acknowledged(SHEFFIELD, 5)
    acknowledged(SHEFFIELD, 1, late=True)
    actions.case_close(
        case=new_case(SHEFFIELD), outcome="substantiated", feedback="x", acting_user=helpline_supervisor()
    )
    selectors.stats_refresh()
    client, _ = signed_in_as(
        role, partnership=partnership_of_region(YORKSHIRE) if role == User.Role.PARTNERSHIP else None
    )

    response = client.get("/staff/statistics")
    sections = csv_sections(csv_rows(client.get("/staff/statistics.csv")))

    shown = response.context["shown"]
    on_page = page_tables(response)
    assert [t.slug for t in [*shown.regions, *shown.tables]] == [slug for slug in on_page if slug]
    for table in [*shown.regions, *shown.tables]:
        assert sections[table.title] == on_page[table.slug], table.slug
    assert sections[NO_REFERRALS] == [[name] for name in shown.no_referrals]
    assert len(sections) == len(on_page) + 1


@pytest.mark.django_db
@pytest.mark.usefixtures("fast_kdf", "local_authorities")
def test_with_no_referrals_at_all_the_tables_by_authority_say_so_instead_of_fifteen_rows_of_zeros() -> None:
    new_case(ROTHERHAM)  # a concern, not referred
    selectors.stats_refresh()
    client, _ = signed_in_as(User.Role.PARTNERSHIP, partnership=partnership_of_region(YORKSHIRE))

    response = client.get("/staff/statistics")

    body = text(response)
    assert "acknowledgements" not in page_tables(response)
    assert '<h2 class="govuk-heading-m" id="acknowledgements">Acknowledgement of referrals, by authority</h2>' in body
    assert body.count("No referrals in this period.") == 2  # under each table by authority
    assert f"{NO_REFERRALS}: 15 authorities" in body
    assert response.context["shown"].no_referrals == yorkshire()
    sections = csv_sections(csv_rows(client.get("/staff/statistics.csv")))
    assert sections["Acknowledgement of referrals, by authority"] == [["No referrals in this period."]]
    assert sections[NO_REFERRALS] == [[name] for name in yorkshire()]


# --- before the first refresh ----------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.usefixtures("fast_kdf", "local_authorities")
def test_before_the_first_refresh_the_page_says_its_zeros_are_not_figures_yet() -> None:
    client, _ = signed_in_as(User.Role.OVERSIGHT_ANALYST)
    referred_case(ROTHERHAM)

    before = text(client.get("/staff/statistics"))
    assert "The figures have not been worked out yet, so every count below shows as 0." in before

    selectors.stats_refresh()
    after = text(client.get("/staff/statistics"))
    assert "have not been worked out yet" not in after
    assert "these were worked out at" in after
