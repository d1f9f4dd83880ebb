from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from triage import deadlines, routing

LONDON = ZoneInfo("Europe/London")


def facts(**overrides: object) -> routing.RoutingFacts:
    values: dict[str, object] = {
        "child_at_immediate_risk": False,
        "concern_types": ("concern_not_acted_on",),
        "authority_code": "E08000018",
        "about_authority_code": None,
        "region": "Yorkshire and The Humber",
    }
    values.update(overrides)
    return routing.RoutingFacts(**values)  # type: ignore[arg-type]


def test_a_child_at_immediate_risk_makes_the_case_urgent_and_puts_it_in_the_urgent_queue() -> None:
    decision = routing.decide(facts(child_at_immediate_risk=True))
    assert decision.urgent
    assert decision.queue_slug == "urgent"


def test_other_cases_go_to_the_national_queue_unless_regional_queues_are_configured() -> None:
    assert routing.decide(facts()).queue_slug == "national"
    regional = routing.decide(facts(), regional_queues=frozenset({"Yorkshire and The Humber"}))
    assert regional.queue_slug == "region-yorkshire-and-the-humber"


def test_a_concern_about_the_council_itself_goes_to_independent_review_and_never_to_it() -> None:
    decision = routing.decide(
        facts(concern_types=("cover_up_to_protect_reputation",), about_authority_code="E08000018")
    )
    assert decision.independent_review
    assert decision.conflict_authority_code == "E08000018"
    assert decision.refer_to_authority_code is None


def test_a_concern_about_another_council_still_goes_to_the_area_authority() -> None:
    decision = routing.decide(facts(about_authority_code="E08000019"))
    assert decision.independent_review
    assert decision.refer_to_authority_code == "E08000018"


def test_an_unknown_authority_is_left_for_the_helpline() -> None:
    decision = routing.decide(facts(authority_code=None, region=None))
    assert decision.refer_to_authority_code is None
    assert not decision.independent_review


def test_urgent_triage_is_due_in_an_hour() -> None:
    submitted = datetime(2026, 11, 20, 17, 30, tzinfo=LONDON)
    assert deadlines.triage_due(submitted, urgent=True) == datetime(2026, 11, 20, 18, 30, tzinfo=LONDON)


@pytest.mark.parametrize(
    ("submitted", "due"),
    [
        (
            datetime(2026, 11, 19, 10, 0, tzinfo=LONDON),
            datetime(2026, 11, 20, 23, 59, 59, tzinfo=LONDON),
        ),  # Thursday -> end of Friday
        (
            datetime(2026, 11, 20, 10, 0, tzinfo=LONDON),
            datetime(2026, 11, 23, 23, 59, 59, tzinfo=LONDON),
        ),  # Friday -> end of Monday
        (
            datetime(2026, 11, 21, 10, 0, tzinfo=LONDON),
            datetime(2026, 11, 23, 23, 59, 59, tzinfo=LONDON),
        ),  # Saturday -> end of Monday, the next working day after the day sent
        (
            datetime(2026, 11, 22, 10, 0, tzinfo=LONDON),
            datetime(2026, 11, 23, 23, 59, 59, tzinfo=LONDON),
        ),  # Sunday -> end of Monday
        (
            datetime(2026, 8, 31, 10, 0, tzinfo=LONDON),
            datetime(2026, 9, 1, 23, 59, 59, tzinfo=LONDON),
        ),  # the summer bank holiday (Monday) -> end of Tuesday
        (
            datetime(2026, 12, 24, 10, 0, tzinfo=LONDON),
            datetime(2026, 12, 29, 23, 59, 59, tzinfo=LONDON),
        ),  # Christmas and Boxing Day (Monday 28th)
    ],
)
def test_standard_triage_is_due_by_the_end_of_the_next_working_day(submitted: datetime, due: datetime) -> None:
    assert deadlines.triage_due(submitted, urgent=False) == due
    # A report keeps the day it was sent only: any time that day gives the same deadline.
    assert deadlines.triage_due(submitted.replace(hour=0), urgent=False) == due


def test_the_authority_outcome_is_due_at_the_end_of_the_45th_working_day_after_referral() -> None:
    # Counted by hand: 21 working days left in March, 20 in April (Good Friday 3rd and Easter Monday 6th
    # skipped), then Friday 1 May, the early May bank holiday on the 4th skipped, and 5th, 6th, 7th.
    referred = datetime(2026, 3, 2, 9, 0, tzinfo=LONDON)
    assert deadlines.authority_outcome_due(referred) == datetime(2026, 5, 7, 23, 59, 59, tzinfo=LONDON)


def test_reporter_feedback_is_due_three_calendar_months_later_clamped_to_month_end() -> None:
    assert deadlines.reporter_feedback_due(datetime(2026, 11, 30, 0, 0, tzinfo=LONDON)) == datetime(
        2027, 2, 28, 23, 59, 59, tzinfo=LONDON
    )


def test_a_configured_region_gets_its_own_queue(settings, fast_kdf, local_authorities, db) -> None:  # type: ignore[no-untyped-def]
    from tests.factories import submit_report
    from triage.intake import report_route

    settings.REGIONAL_QUEUES = ["Yorkshire and The Humber"]
    case = report_route(report_id=submit_report().report.pk)
    assert case.queue.slug == "region-yorkshire-and-the-humber"
    assert case.queue.region == "Yorkshire and The Humber"
