"""A known year for the annual report's tests (the command's and the download's): the data, and the figures
the report must give for it."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from accounts.models import User
from referrals import services as authority_actions
from tests.factories import referral_of, staff_user
from tests.oversight.helpers import (
    CANARY,
    MANCHESTER,
    ROTHERHAM,
    SHEFFIELD,
    authority,
    helpline_supervisor,
    new_case,
    referred_case,
)
from triage import case_actions as actions
from triage.models import Case

LONDON = ZoneInfo("Europe/London")
YEAR = 2025


def at(month: int, day: int, year: int = YEAR) -> datetime:
    return datetime(year, month, day, 11, 0, tzinfo=LONDON)


@pytest.fixture
def known_year() -> list[Case]:
    """Seven reports in 2025: six referred (four to Rotherham, two to Sheffield), one about Manchester
    council sent to independent national review. Rotherham acknowledged all four, held a section 47
    enquiry on each and recorded early help; Sheffield acknowledged both, one strategy discussion, one
    "no further action". The helpline closed the four Rotherham cases as acted on. Around them, reports
    from late 2024 and early 2026 that must not be counted."""
    supervisor = helpline_supervisor()
    officer = staff_user("officer", role=User.Role.AUTHORITY_OFFICER, email="officer@example.gov.test")
    officer.authorities.add(authority(ROTHERHAM), authority(SHEFFIELD))
    cases: list[Case] = []
    for month, code in (
        (1, ROTHERHAM),
        (3, ROTHERHAM),
        (5, ROTHERHAM),
        (7, ROTHERHAM),
        (9, SHEFFIELD),
        (11, SHEFFIELD),
    ):
        with time_machine.travel(at(month, 3), tick=False):
            cases.append(referred_case(code))
    with time_machine.travel(at(12, 30), tick=False):
        cases.append(new_case(MANCHESTER, about_authority=authority(MANCHESTER)))
    assert cases[-1].independent_review

    for case in cases[:4]:
        with time_machine.travel(referral_of(case).referred_at, tick=False) as traveller:
            traveller.shift(3600)
            authority_actions.referral_acknowledge(referral=referral_of(case), acting_user=officer)
            authority_actions.referral_record_action(
                referral=referral_of(case), kind="section_47", note=f"{CANARY} enquiry", acting_user=officer
            )
            authority_actions.referral_record_outcome(
                referral=referral_of(case), outcome="early_help", note=f"{CANARY} outcome", acting_user=officer
            )
            case.refresh_from_db()
            actions.case_close(
                case=case, outcome="referred_and_acted_on", feedback=f"{CANARY} thank you", acting_user=supervisor
            )
    for case, outcome in zip(cases[4:6], ("no_further_action", ""), strict=True):
        with time_machine.travel(referral_of(case).referred_at, tick=False) as traveller:
            traveller.shift(3600)
            authority_actions.referral_acknowledge(referral=referral_of(case), acting_user=officer)
            if outcome:
                authority_actions.referral_record_action(
                    referral=referral_of(case), kind="strategy_discussion", note="", acting_user=officer
                )
                authority_actions.referral_record_outcome(
                    referral=referral_of(case), outcome=outcome, note="", acting_user=officer
                )

    # Other years: not counted.
    for moment in (at(12, 31, 2024), at(1, 1, 2026), at(6, 1, 2024)):
        with time_machine.travel(moment, tick=False):
            other = referred_case(ROTHERHAM)
            actions.case_close(case=other, outcome="substantiated", feedback="x", acting_user=supervisor)
    return cases


def figures(rows: list[list[str]]) -> dict[tuple[str, str], str]:
    assert rows[0] == ["Section", "Measure", "Count"]
    return {(section, measure): count for section, measure, count in rows[1:]}


ABOUT = "What the disclosures were about (a disclosure may name several)"
EXPECTED = {
    ("Disclosures received", "Total"): "7",
    ("Disclosures received", "Web"): "7",
    ("Disclosures received", "Phone"): "0",
    (ABOUT, "A concern was raised but not acted on"): "7",
    (ABOUT, "I was stopped or discouraged from reporting abuse"): "0",
    ("Already reported to the police or the council", "Yes"): "0",
    ("Already reported to the police or the council", "No"): "0",
    ("Already reported to the police or the council", "Not known"): "7",
    ("What was done", "Disclosures where further action was taken"): "7",
    ("What was done", "Referred to a local authority"): "6",
    ("What was done", "Sent for independent national review"): "fewer than 5",
    ("What was done", "Referred to the police"): "0",
    ("What was done", "Closed by the end of the year"): "fewer than 5",
    ("What was done", "Still open"): "fewer than 5",
    ("What local authorities did (cases)", "Acknowledged the referral"): "6",
    ("What local authorities did (cases)", "Section 47 enquiry"): "fewer than 5",
    ("What local authorities did (cases)", "Strategy discussion"): "fewer than 5",
    ("What local authorities did (cases)", "Referral to the police"): "0",
    ("Helpline outcomes", "Referred; the authority acted"): "fewer than 5",
    ("Helpline outcomes", "Concern substantiated"): "0",
    ("Local authority outcomes", "Early help"): "fewer than 5",
    ("Local authority outcomes", "No further action"): "fewer than 5",
    ("Local authority outcomes", "Child protection plan"): "0",
}
