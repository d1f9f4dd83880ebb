"""The published performance figures (Service Standard point 10): each worked out right on a small hand-made set,
small counts suppressed as every other figure is, a benchmark shown only when its setting gives one, the annual
report carrying them, and only the statistics roles seeing them (a partnership its own authorities')."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from accounts.models import User
from directory.models import LocalAuthority
from helpline.settings import PUBLISHED_BENCHMARKS_DEFAULTS, published_benchmarks
from oversight import published
from oversight.annual_export import annual_report_files
from reports.models import Anonymity, Attachment, Message, Report, RetaliationCheckin
from tests.factories import case_closed, partnership_make, signed_in_as
from tests.oversight.helpers import MANCHESTER, ROTHERHAM, SHEFFIELD, authority, helpline_supervisor, new_case, text
from triage.models import Case, Outcome

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities")]

URL = "/staff/statistics/figures"
NO_BENCHMARKS: dict[str, list[dict[str, str]]] = {slug: [] for slug in PUBLISHED_BENCHMARKS_DEFAULTS}


# The tests run on a day in the middle of a year, so that the year's figures and its page are those of this year
# whatever the real day; every report of the hand-made sets was received 40 days before (the figures count up to
# the end of yesterday).
TODAY = date(2026, 6, 15)
SENT_ON = TODAY - timedelta(days=40)
LATER = SENT_ON + timedelta(days=1)


@pytest.fixture(autouse=True)
def mid_year() -> Iterator[None]:
    with time_machine.travel(published.day_start(TODAY) + timedelta(hours=11), tick=True):
        yield


def year() -> int:
    return SENT_ON.year


def earlier_case(code: str = ROTHERHAM) -> Case:
    """A case of a report received on SENT_ON."""
    case = new_case(code)
    Report.objects.filter(pk=case.report_id).update(submitted_at=published.day_start(SENT_ON))
    return case


def populations(**by_code: int | None) -> None:
    """Only these authorities have a population (every other one none, as an authority the data gives none)."""
    LocalAuthority.objects.update(population=None)
    for code, population in by_code.items():
        LocalAuthority.objects.filter(gss_code=code).update(population=population)


def by_slug(figures: list[published.Figure]) -> dict[str, published.Figure]:
    return {figure.slug: figure for figure in figures}


def message(case: Case, direction: str, **fields: Any) -> None:
    fields.setdefault("sent_on", LATER)
    Message.objects.create(report=case.report, direction=direction, body=b"sealed", **fields)


def checkin(case: Case, answer: str, answered_on: date = LATER) -> None:
    RetaliationCheckin.objects.create(
        report=case.report, months=1, due_at=timezone.now(), answer=answer, answered_on=answered_on
    )


def later_file(case: Case, *, sent_with_report: bool = False) -> None:
    Attachment.objects.create(
        report=case.report,
        source=Attachment.Source.REPORTER,
        added_on=LATER,
        sent_with_report=sent_with_report,
    )


def not_anonymous(case: Case) -> None:
    Report.objects.filter(pk=case.report_id).update(anonymity=Anonymity.NAMED)


def closed_after(case: Case, outcome: str, days: int) -> None:
    case_closed(case, helpline_supervisor(), outcome)
    Case.objects.filter(pk=case.pk).update(closed_at=published.day_start(SENT_ON) + timedelta(days=days, hours=15))


@pytest.fixture
def hand_made() -> list[Case]:
    """Fifteen reports received 40 days ago: ten anonymous (one of them gave their name later) and five named.
    Five anonymous reporters came back, in each way a day records; four more reports show what is not coming back. Five
    reporters said yes to a check-in. Ten cases closed with a finding, one to ten days after the report, and a
    duplicate closed after 20 days (left out). A retaliation report filed through a check-in is not counted."""
    cases = [earlier_case() for _ in range(15)]
    anonymous, named = cases[:10], cases[10:]
    for case in named:
        not_anonymous(case)
    # Gave their name later on /check: anonymous when sent, confidential now.
    Report.objects.filter(pk=anonymous[0].report_id).update(anonymity=Anonymity.CONFIDENTIAL, contact_given_on=LATER)
    message(anonymous[1], Message.Direction.FROM_REPORTER)
    later_file(anonymous[2])
    message(anonymous[3], Message.Direction.FROM_REPORTER, kind=Message.Kind.MORE_INFORMATION)
    checkin(anonymous[4], RetaliationCheckin.Answer.NO)
    # Not coming back (as far as any day says): a reply read (never when), a file sent with the report, a message
    # sent today (counted from tomorrow), a named reporter's message.
    message(anonymous[5], Message.Direction.FROM_HELPLINE, read_by_reporter=True)
    later_file(anonymous[6], sent_with_report=True)
    message(anonymous[7], Message.Direction.FROM_REPORTER, sent_on=timezone.localdate())
    message(named[0], Message.Direction.FROM_REPORTER)
    for case in named:
        checkin(case, RetaliationCheckin.Answer.YES)
    # The retaliation report one of them filed through that check-in: the same reporter, not a new report.
    retaliation = earlier_case()
    Report.objects.filter(pk=retaliation.report_id).update(retaliation_of=named[0].report_id)
    for case, outcome in zip(
        cases,
        [Outcome.SUBSTANTIATED] * 3
        + [Outcome.PARTLY_SUBSTANTIATED] * 2
        + [Outcome.NOT_SUBSTANTIATED] * 3
        + [Outcome.NO_FURTHER_ACTION, Outcome.WITHDRAWN],
        strict=False,
    ):
        closed_after(case, outcome, days=cases.index(case) + 1)
    closed_after(cases[10], Outcome.DUPLICATE, days=20)
    return cases


def test_each_figure_is_worked_out_on_a_hand_made_year(hand_made: list[Case]) -> None:
    figures = by_slug(published.published_figures(year()))

    assert figures["anonymous-share"].value == "67% (10 of 15 reports)"
    assert figures["anonymous-follow-up"].value == "50% (5 of 10 anonymous reports)"
    assert figures["substantiation"].value == "50% (5 of 10 closed cases)"
    # Days 1 to 10: the middle two are 5 and 6. The duplicate's 20 days would make it 6.
    assert figures["days-to-close"].value == "5.5 days (the median of 10 closed cases)"
    assert figures["detriment"].value == "33% (5 of 15 reports)"
    # Over the real directory: every authority has mySociety's 2020 population.
    england = sum(population or 0 for population in LocalAuthority.objects.values_list("population", flat=True))
    assert figures["per-100000"].value == f"{published.per_100000(15, england)} (15 reports; population {england:,})"
    assert "All England's 153 authorities have one." in figures["per-100000"].definition
    assert not any(figure.suppressed for figure in figures.values())


def test_the_figures_follow_the_data(hand_made: list[Case]) -> None:
    """A control: one more anonymous reporter coming back, and a case closed later, move the figures (six of ten
    leaves four: a small count, so no percentage)."""
    message(hand_made[5], Message.Direction.FROM_REPORTER)
    Case.objects.filter(pk=hand_made[0].pk).update(closed_at=published.day_start(SENT_ON) + timedelta(days=30))

    figures = by_slug(published.published_figures(year()))

    assert figures["anonymous-follow-up"].value == "hidden of 10 anonymous reports"
    assert figures["anonymous-follow-up"].suppressed
    assert figures["days-to-close"].value == "6.5 days (the median of 10 closed cases)"


def test_what_happened_today_counts_from_tomorrow(hand_made: list[Case]) -> None:
    """As of the end of yesterday: a reporter back today, a case closed today and a check-in answered yes today
    are not counted yet; from tomorrow they are."""
    case_closed(hand_made[11], helpline_supervisor(), Outcome.SUBSTANTIATED)  # closed today, 40 days on
    checkin(hand_made[0], RetaliationCheckin.Answer.YES, answered_on=timezone.localdate())
    tomorrow = timezone.localdate() + timedelta(days=1)

    now = by_slug(published.published_figures(year()))
    then = by_slug(published.published_figures(year(), today=tomorrow))

    assert now["anonymous-follow-up"].value == "50% (5 of 10 anonymous reports)"
    assert now["substantiation"].value == "50% (5 of 10 closed cases)"
    assert now["days-to-close"].value == "5.5 days (the median of 10 closed cases)"
    assert now["detriment"].value == "33% (5 of 15 reports)"
    # The message sent today brings six of ten back (four left: hidden).
    assert then["anonymous-follow-up"].value == "hidden of 10 anonymous reports"
    assert then["substantiation"].value == "55% (6 of 11 closed cases)"
    assert then["days-to-close"].value == "6 days (the median of 11 closed cases)"
    assert then["detriment"].value == "40% (6 of 15 reports)"


def test_a_report_received_today_counts_from_tomorrow() -> None:
    new_case(ROTHERHAM)
    today = timezone.localdate()

    assert published.published_counts(today.year)["reports"] == 0
    assert published.published_counts(today.year, today=today + timedelta(days=1))["reports"] == 1


def test_a_small_count_is_suppressed_with_the_other_figures_rules() -> None:
    cases = [earlier_case() for _ in range(7)]
    for case in cases[2:]:
        not_anonymous(case)
    for days, case in enumerate(cases[:3], start=1):
        closed_after(case, Outcome.SUBSTANTIATED, days=days)

    figures = by_slug(published.published_figures(year()))

    # Two anonymous of seven: the two is "fewer than 5" and the five beside it hidden, so no percentage.
    assert figures["anonymous-share"].value == "fewer than 5 of 7 reports"
    assert figures["anonymous-share"].suppressed
    assert figures["days-to-close"].value == "Not published: fewer than 5 closed cases"
    assert figures["substantiation"].value == "fewer than 5 of fewer than 5 closed cases"
    assert figures["detriment"].value == "0% (0 of 7 reports)"
    assert not figures["detriment"].suppressed


@pytest.mark.parametrize(
    ("reports", "population", "rate"),
    [(3, 150_000, "2.0"), (7, 300_000, "2.3"), (1, 400_000, "0.3"), (1, 800_000, "0.1"), (0, 2226, "0.0")],
)
def test_reports_per_100000_people_are_given_to_one_decimal_place(reports: int, population: int, rate: str) -> None:
    # 1 in 400,000 is 0.25: a half is rounded up (0.2 would be the banker's rounding).
    assert published.per_100000(reports, population) == rate


def test_reports_per_100000_people_count_only_authorities_with_a_population(hand_made: list[Case]) -> None:
    """Fifteen Rotherham reports and five Sheffield ones over 300,000 + 200,000 people: 4.0. Manchester's five
    reports (no population) and two reports with no authority are left out, and the definition says so."""
    populations(**{ROTHERHAM: 300_000, SHEFFIELD: 200_000})
    for _ in range(5):
        earlier_case(SHEFFIELD)
    for _ in range(5):
        earlier_case(MANCHESTER)
    for case in [earlier_case(), earlier_case()]:
        Case.objects.filter(pk=case.pk).update(authority=None)

    figure = by_slug(published.published_figures(year()))["per-100000"]

    assert figure.value == "4.0 (20 reports; population 500,000)"
    assert not figure.suppressed
    assert figure.definition.startswith(published.DEFINITIONS["per-100000"][1])
    assert "mySociety's estimates for 2020 (CC BY 4.0)" in figure.definition
    assert "the people living in the 2 authorities that have one" in figure.definition
    assert "151 of England's 153 authorities have none: they are left out, with their reports." in figure.definition
    assert "Reports not yet given an authority are left out too." in figure.definition

    # A control: Manchester given a population brings its reports in (25 in 1,000,000).
    LocalAuthority.objects.filter(gss_code=MANCHESTER).update(population=500_000)
    figure = by_slug(published.published_figures(year()))["per-100000"]
    assert figure.value == "2.5 (25 reports; population 1,000,000)"
    assert "150 of England's 153 authorities have none" in figure.definition


def test_reports_per_100000_people_from_a_small_count_are_not_published() -> None:
    populations(**{ROTHERHAM: 150_000})
    cases = [earlier_case() for _ in range(3)]

    figure = by_slug(published.published_figures(year()))["per-100000"]

    # Three in 150,000 would be 2.0: three is "fewer than 5", so neither it nor the rate is shown.
    assert figure.value == "Not published: fewer than 5 reports"
    assert figure.suppressed
    assert "2.0" not in figure.value
    # A control: five are shown.
    cases += [earlier_case() for _ in range(2)]
    figure = by_slug(published.published_figures(year()))["per-100000"]
    assert figure.value == "3.3 (5 reports; population 150,000)"
    assert not figure.suppressed


def test_without_any_population_reports_per_100000_people_are_not_published(hand_made: list[Case]) -> None:
    populations()

    figure = by_slug(published.published_figures(year()))["per-100000"]

    assert figure.value == published.NO_POPULATION
    assert "the directory holds it for none of England's 153 authorities" in figure.definition


def test_no_reports_gives_no_figure_rather_than_zero_percent() -> None:
    figures = by_slug(published.published_figures(year()))

    assert figures["anonymous-share"].value == "No figure: no reports"
    assert figures["days-to-close"].value == "No figure: no closed cases"


def test_a_benchmark_is_shown_only_when_its_setting_gives_one(settings: Any, hand_made: list[Case]) -> None:
    settings.PUBLISHED_BENCHMARKS = {
        **NO_BENCHMARKS,
        "substantiation": [{"value": "46%", "source": "Test benchmark report", "date": "2099"}],
    }
    client, _ = signed_in_as(User.Role.OVERSIGHT_ANALYST)

    page = text(client.get(URL))

    assert "Benchmark: 46% (Test benchmark report, 2099)" in page
    assert page.count('data-testid="benchmark"') == 1
    assert page.count('data-testid="no-benchmark"') == len(published.DEFINITIONS) - 1
    assert "NAVEX" not in page

    settings.PUBLISHED_BENCHMARKS = NO_BENCHMARKS
    assert 'data-testid="benchmark"' not in text(client.get(URL))


def test_the_benchmarks_come_from_the_setting_which_the_environment_overrides() -> None:
    assert published_benchmarks("")["anonymous-follow-up"][0]["value"] == "26%"
    chosen = published_benchmarks('{"detriment": null, "per-100000": [{"value": "3", "source": "S", "date": "D"}]}')
    assert chosen["detriment"] == []
    assert chosen["per-100000"] == [{"value": "3", "source": "S", "date": "D"}]
    assert chosen["substantiation"] == PUBLISHED_BENCHMARKS_DEFAULTS["substantiation"]
    with pytest.raises(RuntimeError):
        published_benchmarks('{"no-such-figure": []}')
    with pytest.raises(RuntimeError):
        published_benchmarks('{"detriment": [{"value": "4%"}]}')


def test_the_page_shows_each_figure_with_its_definition(hand_made: list[Case]) -> None:
    client, _ = signed_in_as(User.Role.OVERSIGHT_ANALYST)

    response = client.get(URL, {"period": str(year())})

    assert response.status_code == 200
    page = text(response)
    assert "Published performance figures for England" in page
    for title, definition in published.DEFINITIONS.values():
        assert title in page and definition in page
    assert "67% (10 of 15 reports)" in page
    assert "Benchmark: About 50% (NAVEX" in page
    assert "15 reports; population " in page
    assert "Local authority names and populations: mySociety, CC BY 4.0." in page
    assert "no population figure" not in page


def test_a_period_not_on_offer_is_refused_with_the_error_summary() -> None:
    client, _ = signed_in_as(User.Role.OVERSIGHT_ANALYST)

    response = client.get(URL, {"period": "1999"})

    assert response.status_code == 400
    assert "There is a problem" in text(response)


def test_the_annual_report_carries_the_figures_in_csv_and_html(hand_made: list[Case]) -> None:
    files = annual_report_files(year())

    csv_text, page = files["csv"].text, files["html"].text
    assert f"{published.SECTION},Anonymous share of reports,67% (10 of 15 reports)" in csv_text
    assert "Substantiation rate: benchmark" in csv_text
    assert f"<h2>{published.SECTION}</h2>" in page
    assert "5.5 days (the median of 10 closed cases)" in page


def test_a_partnership_sees_its_own_authorities_figures_only() -> None:
    for _ in range(5):
        earlier_case(SHEFFIELD)
    for _ in range(6):
        earlier_case(ROTHERHAM)
    # A concern about Sheffield council itself: never counted in Sheffield's partnership's figures.
    about_sheffield = earlier_case(MANCHESTER)
    Case.objects.filter(pk=about_sheffield.pk).update(
        authority=authority(SHEFFIELD), conflict_authority=authority(SHEFFIELD), independent_review=True
    )
    client, _ = signed_in_as(User.Role.PARTNERSHIP, partnership=partnership_make("Sheffield partnership", SHEFFIELD))
    analyst, _ = signed_in_as(User.Role.OVERSIGHT_ANALYST, username="analyst")

    page = text(client.get(URL))

    assert "Published performance figures for Sheffield partnership" in page
    assert "100% (5 of 5 reports)" in page
    assert "100% (12 of 12 reports)" in text(analyst.get(URL))


@pytest.mark.parametrize(
    ("role", "status"),
    [
        (User.Role.OVERSIGHT_ANALYST, 200),
        (User.Role.SUPERVISOR, 200),
        (User.Role.AUTHORITY_OFFICER, 403),
        (User.Role.CALL_HANDLER, 403),
        (User.Role.NATIONAL_REVIEWER, 403),
        (User.Role.ADMINISTRATOR, 403),
    ],
)
def test_only_the_statistics_roles_see_the_figures(role: str, status: int) -> None:
    client, _ = signed_in_as(role, *((ROTHERHAM,) if role == User.Role.AUTHORITY_OFFICER else ()))

    assert client.get(URL).status_code == status


def test_a_partnership_gets_reports_per_100000_people_over_its_own_authorities() -> None:
    """Sheffield and Rotherham's partnership: Sheffield's ten reports over its 200,000 people (5.0), Rotherham
    (no population) and its reports left out; a concern about Sheffield council itself never counted. England:
    Sheffield's eleven and Manchester's four over 500,000 (3.0)."""
    populations(**{SHEFFIELD: 200_000, MANCHESTER: 300_000})
    for _ in range(10):
        earlier_case(SHEFFIELD)
    for _ in range(6):
        earlier_case(ROTHERHAM)
    for _ in range(4):
        earlier_case(MANCHESTER)
    about_sheffield = earlier_case(MANCHESTER)
    Case.objects.filter(pk=about_sheffield.pk).update(
        authority=authority(SHEFFIELD), conflict_authority=authority(SHEFFIELD), independent_review=True
    )
    client, _ = signed_in_as(
        User.Role.PARTNERSHIP, partnership=partnership_make("Sheffield and Rotherham", SHEFFIELD, ROTHERHAM)
    )
    analyst, _ = signed_in_as(User.Role.OVERSIGHT_ANALYST, username="analyst")

    page = text(client.get(URL))
    national = text(analyst.get(URL))

    assert "5.0 (10 reports; population 200,000)" in page
    assert "1 of the partnership's 2 authorities has none: it is left out, with its reports." in page
    assert "3.0 (15 reports; population 500,000)" in national
    assert "151 of England's 153 authorities have none" in national
