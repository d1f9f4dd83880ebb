"""The duty to report in the figures: the two new concern types and "already reported to the police or the
council" (yes, no, not known) in the statistics and the annual report, with small numbers suppressed."""

from __future__ import annotations

from pathlib import Path

import pytest
import time_machine

from accounts.models import User
from oversight import selectors
from oversight.annual import annual_report
from oversight.suppression import Table
from reports.services import PriorReport
from tests.factories import partnership_of_region, signed_in_as
from tests.oversight.helpers import MANCHESTER, ROTHERHAM, YORKSHIRE, new_case
from tests.oversight.known_year import at

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities")]

YES = PriorReport(answer="yes", by="reporter", to="police", on="2025-02-01", reference="P-1")
NO = PriorReport(answer="no")
DETERRED = "prevented_from_reporting"
COMMUNITY = "action_avoided_over_community_concerns"


def tables(response: object) -> dict[str, Table]:
    return {slug: t for slug, _, t in response.context["tables"]}  # type: ignore[attr-defined]


def figures(t: Table) -> dict[str, str]:
    return {label: total for label, _, total in t.rows()}


def seven_cases() -> None:
    """In March 2025, in Rotherham: five already reported (each about a deterred report and community
    worries), one not and one not known (community worries); in Manchester, one more already reported (community
    worries). So five concern about a deterred report, eight community worries, and no other concern type."""
    with time_machine.travel(at(3, 4), tick=False):
        for _ in range(5):
            new_case(ROTHERHAM, already_reported=YES, concern_types=(DETERRED, COMMUNITY))
        new_case(ROTHERHAM, already_reported=NO, concern_types=(COMMUNITY,))
        new_case(ROTHERHAM, concern_types=(COMMUNITY,))
        new_case(MANCHESTER, already_reported=YES, concern_types=(COMMUNITY,))


def test_national_oversight_sees_already_reported_and_the_new_concern_types() -> None:
    seven_cases()
    selectors.stats_refresh()
    client, _ = signed_in_as(User.Role.OVERSIGHT_ANALYST)

    response = client.get("/staff/statistics?period=2025")

    assert response.status_code == 200
    reported = tables(response)["already-reported"]
    assert reported.row_labels == ["Yes", "No", "Not known"]
    # No and not known are one each: hidden. Yes is hidden too, or the total less it (2) would say that each
    # of the two (each at least 1) is 1.
    assert figures(reported) == {"Yes": "hidden", "No": "fewer than 5", "Not known": "fewer than 5"}
    assert reported.grand_total_text() == "8"
    trends = figures(tables(response)["concern-trends"])
    assert trends["I was stopped or discouraged from reporting abuse"] == "5"
    assert trends["Action was avoided because of worries about ethnicity, religion or community relations"] == "8"
    assert trends["A concern was raised but not acted on"] == "0"
    assert "Already reported to the police or the council" in response.content.decode()


def test_a_partnership_sees_its_own_authorities_only() -> None:
    seven_cases()
    selectors.stats_refresh()
    client, _ = signed_in_as(User.Role.PARTNERSHIP, partnership=partnership_of_region(YORKSHIRE))

    reported = tables(client.get("/staff/statistics?period=2025"))["already-reported"]

    # Rotherham's seven (Manchester's is not Yorkshire's): yes hidden for the same reason as nationally.
    assert figures(reported) == {"Yes": "hidden", "No": "fewer than 5", "Not known": "fewer than 5"}


def test_the_annual_report_counts_them_and_hides_small_numbers(tmp_path: Path) -> None:
    seven_cases()

    rows = {(section, label): text for section, label, text in annual_report(2025).rows()}

    about = "What the disclosures were about (a disclosure may name several)"
    assert rows[(about, "I was stopped or discouraged from reporting abuse")] == "5"
    community = "Action was avoided because of worries about ethnicity, religion or community relations"
    assert rows[(about, community)] == "8"
    assert rows[(about, "Something else")] == "0"
    already = "Already reported to the police or the council"
    assert rows[(already, "No")] == "fewer than 5"
    assert rows[(already, "Not known")] == "fewer than 5"
    assert rows[(already, "Yes")] == "hidden"  # or "Disclosures received: Total" less it would give the two away
    assert rows[("Disclosures received", "Total")] == "8"
