"""Statistics for safeguarding partnerships (their own authorities) and national oversight (every region):
scope, refusals, known figures, and nothing that points at a person — no reference, case number, sector,
organisation or text."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db.models import F
from django.utils import timezone

from accounts.models import User
from directory.models import LocalAuthority
from oversight import selectors, tasks
from oversight.suppression import FEWER, Table
from referrals.models import Referral
from reports.models import ConcernType, ReporterSector
from tests.factories import partnership_make, partnership_of_region, signed_in_as
from tests.oversight.helpers import (
    CANARY,
    MANCHESTER,
    ORGANISATION,
    ROTHERHAM,
    SHEFFIELD,
    YORKSHIRE,
    authority,
    csv_rows,
    helpline_supervisor,
    new_case,
    referred_case,
    text,
)
from triage import case_actions as actions
from triage.models import Case

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities")]

HOUR = timedelta(hours=1)


def tables(response: object) -> dict[str, Table]:
    return {slug: t for slug, _, t in response.context["tables"]}  # type: ignore[attr-defined]


def row(t: Table, label: str) -> tuple[list[str], str]:
    index = t.row_labels.index(label)
    _, cells, total = t.rows()[index]
    return cells, total


def acknowledge(cases: list[Case], *, late: bool) -> None:
    shift = HOUR if late else -HOUR
    Referral.objects.filter(case__in=[c.pk for c in cases]).update(acknowledged_at=F("ack_due_at") + shift)


# --- scope ----------------------------------------------------------------------------------------------


def test_a_partnership_of_a_whole_region_sees_only_that_regions_authorities() -> None:
    acknowledge([referred_case(ROTHERHAM) for _ in range(5)], late=False)
    acknowledge([referred_case(MANCHESTER) for _ in range(6)], late=False)
    selectors.stats_refresh()
    client, _ = signed_in_as(User.Role.PARTNERSHIP, partnership=partnership_of_region(YORKSHIRE))

    response = client.get("/staff/statistics")

    assert response.status_code == 200
    yorkshire = sorted(LocalAuthority.objects.filter(region=YORKSHIRE).values_list("name", flat=True))
    for t in (tables(response)["acknowledgements"], tables(response)["outcome-timeliness"]):
        assert t.row_labels == yorkshire
    assert row(tables(response)["acknowledgements"], "Rotherham") == (["5", "0", "0", "0"], "5")
    body = text(response)
    assert "Manchester" not in body
    assert f"Statistics for {YORKSHIRE}" in body
    assert "Manchester" not in text(client.get("/staff/statistics.csv"))
    # The concern trends count Rotherham's five only.
    trends = tables(response)["concern-trends"]
    cells, total = row(trends, ConcernType.CONCERN_NOT_ACTED_ON.label)
    assert total == "5"


BARNSLEY = "E08000016"  # in Yorkshire and The Humber too, but in neither partnership below


def test_a_partnership_of_two_authorities_sees_both_and_no_third() -> None:
    """A partnership covering Rotherham and Sheffield: both authorities' figures, and not Barnsley's (same
    region) nor Manchester's; a single-authority partnership sees its one authority only."""
    acknowledge([referred_case(ROTHERHAM) for _ in range(5)], late=False)
    acknowledge([referred_case(SHEFFIELD) for _ in range(6)], late=True)
    acknowledge([referred_case(BARNSLEY) for _ in range(7)], late=False)
    acknowledge([referred_case(MANCHESTER) for _ in range(8)], late=False)
    two = partnership_make("Rotherham and Sheffield Safeguarding Children Partnership", ROTHERHAM, SHEFFIELD)
    one = partnership_make("Barnsley Safeguarding Children Partnership", BARNSLEY)
    selectors.stats_refresh()
    client, _ = signed_in_as(User.Role.PARTNERSHIP, username="two-authorities", partnership=two)
    single, _ = signed_in_as(User.Role.PARTNERSHIP, username="one-authority", partnership=one)

    response = client.get("/staff/statistics")

    assert response.status_code == 200
    for t in (tables(response)["acknowledgements"], tables(response)["outcome-timeliness"]):
        assert t.row_labels == ["Rotherham", "Sheffield"]
    assert row(tables(response)["acknowledgements"], "Rotherham") == (["5", "0", "0", "0"], "5")
    assert row(tables(response)["acknowledgements"], "Sheffield") == (["0", "6", "0", "0"], "6")
    assert tables(response)["acknowledgements"].totals() == ["5", "6", "0", "0"]
    assert row(tables(response)["concern-trends"], ConcernType.CONCERN_NOT_ACTED_ON.label)[1] == "11"
    body = text(response)
    assert "Statistics for Rotherham and Sheffield Safeguarding Children Partnership" in body
    assert "Barnsley" not in body and "Manchester" not in body
    assert "acknowledgements-by-region" not in dict.fromkeys(tables(response))  # no regional tables
    exported = text(client.get("/staff/statistics.csv"))
    assert "Rotherham" in exported and "Sheffield" in exported
    assert "Barnsley" not in exported and "Manchester" not in exported

    alone = single.get("/staff/statistics")
    assert tables(alone)["acknowledgements"].row_labels == ["Barnsley"]
    assert row(tables(alone)["acknowledgements"], "Barnsley") == (["7", "0", "0", "0"], "7")
    assert "Rotherham" not in text(alone) and "Sheffield" not in text(alone)


def test_a_partnership_never_sees_a_concern_about_one_of_its_own_councils() -> None:
    """Concerns about Sheffield council raised from Rotherham go to independent review: a partnership
    covering Sheffield leaves them out; one covering only Rotherham (where they were routed) too, since
    they are never referred there; national oversight counts them."""
    supervisor = helpline_supervisor()
    for _ in range(6):
        case = new_case(
            ROTHERHAM,
            about_authority=authority(SHEFFIELD),
            concern_types=(ConcernType.RECORDS_ALTERED_OR_SUPPRESSED,),
        )
        actions.case_close(case=case, outcome="substantiated", feedback="Thank you.", acting_user=supervisor)
    two = partnership_make("Rotherham and Sheffield", ROTHERHAM, SHEFFIELD)
    selectors.stats_refresh()
    client, _ = signed_in_as(User.Role.PARTNERSHIP, partnership=two)
    analyst, _ = signed_in_as(User.Role.OVERSIGHT_ANALYST)

    label = ConcernType.RECORDS_ALTERED_OR_SUPPRESSED.label
    assert row(tables(client.get("/staff/statistics"))["concern-trends"], label)[1] == "0"
    assert row(tables(analyst.get("/staff/statistics"))["concern-trends"], label)[1] == "6"


def test_a_partnership_whose_authorities_change_sees_the_new_ones_at_once() -> None:
    """An administrator adds Sheffield to a Rotherham partnership after the workers stored its figures: the
    next page shows both (figures stored for the old authorities are never read)."""
    acknowledge([referred_case(ROTHERHAM) for _ in range(5)], late=False)
    acknowledge([referred_case(SHEFFIELD) for _ in range(6)], late=False)
    partnership = partnership_make("Growing partnership", ROTHERHAM)
    tasks.refresh_statistics()
    client, _ = signed_in_as(User.Role.PARTNERSHIP, partnership=partnership)
    assert tables(client.get("/staff/statistics"))["acknowledgements"].row_labels == ["Rotherham"]

    partnership.authorities.add(authority(SHEFFIELD))

    assert tables(client.get("/staff/statistics"))["acknowledgements"].row_labels == ["Rotherham", "Sheffield"]


def test_an_oversight_analyst_sees_every_region() -> None:
    acknowledge([referred_case(ROTHERHAM) for _ in range(5)], late=False)
    acknowledge([referred_case(MANCHESTER) for _ in range(6)], late=False)
    selectors.stats_refresh()
    client, _ = signed_in_as(User.Role.OVERSIGHT_ANALYST)

    response = client.get("/staff/statistics")

    assert response.status_code == 200
    ack = tables(response)["acknowledgements"]
    assert len(ack.row_labels) == LocalAuthority.objects.count()
    assert row(ack, "Rotherham") == (["5", "0", "0", "0"], "5")
    assert row(ack, "Manchester") == (["6", "0", "0", "0"], "6")
    assert ack.totals() == ["11", "0", "0", "0"]
    assert "Statistics for England" in text(response)


def test_a_region_wide_partnership_never_sees_a_case_about_a_council_in_its_region() -> None:
    """Six concerns about Sheffield council, raised from Rotherham (so routed with Rotherham as the
    authority) and sent to independent review: the Yorkshire board must see none of them."""
    sheffield = authority(SHEFFIELD)
    supervisor = helpline_supervisor()
    about_sheffield = [
        new_case(ROTHERHAM, about_authority=sheffield, concern_types=(ConcernType.RECORDS_ALTERED_OR_SUPPRESSED,))
        for _ in range(6)
    ]
    for case in about_sheffield:
        assert case.independent_review and case.authority is not None and case.authority.gss_code == ROTHERHAM
        actions.case_close(case=case, outcome="substantiated", feedback="Thank you.", acting_user=supervisor)
    acknowledge([referred_case(ROTHERHAM) for _ in range(5)], late=False)
    selectors.stats_refresh()
    board, _ = signed_in_as(User.Role.PARTNERSHIP, partnership=partnership_of_region(YORKSHIRE))
    analyst, _ = signed_in_as(User.Role.OVERSIGHT_ANALYST)

    seen_by_board = board.get("/staff/statistics")
    seen_nationally = analyst.get("/staff/statistics")

    label = ConcernType.RECORDS_ALTERED_OR_SUPPRESSED.label
    assert row(tables(seen_by_board)["concern-trends"], label)[1] == "0"
    assert row(tables(seen_nationally)["concern-trends"], label)[1] == "6"
    substantiated = "Concern substantiated"
    assert row(tables(seen_by_board)["outcomes"], substantiated) == (["0"], "0")
    assert row(tables(seen_nationally)["outcomes"], substantiated) == (["6"], "6")
    board_csv = csv_rows(board.get("/staff/statistics.csv"))
    assert [substantiated, "0"] in board_csv  # a one-column table: no "Total" column repeating it


def test_the_statistics_survive_a_concern_about_the_reporters_own_council() -> None:
    """A Rotherham worker's concern about Rotherham council is routed with no authority and Rotherham as
    the conflict authority. Beside an ordinary Rotherham case of the same month and status, the summary
    view's key — concat_ws over (month, authority, conflict authority, ...), which skips NULLs — comes out
    the same for both ("2026-11-01|<rotherham id>|new||"), and the refresh fails on the unique index."""
    rotherham = authority(ROTHERHAM)
    ordinary = new_case(ROTHERHAM)
    about_own_council = new_case(ROTHERHAM, about_authority=rotherham)
    assert ordinary.authority_id == rotherham.pk and ordinary.conflict_authority_id is None
    assert about_own_council.authority_id is None and about_own_council.conflict_authority_id == rotherham.pk

    selectors.stats_refresh()

    from oversight.models import CaseFact, ConcernFact

    assert sum(CaseFact.objects.values_list("cases", flat=True)) == 2
    assert sum(ConcernFact.objects.values_list("cases", flat=True)) == 2


# --- refusals -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [User.Role.CALL_HANDLER, User.Role.AUTHORITY_OFFICER, User.Role.ADMINISTRATOR])
def test_other_roles_are_refused_the_statistics_and_the_csv(role: str) -> None:
    client, _ = signed_in_as(role)
    assert client.get("/staff/statistics").status_code == 403
    assert client.get("/staff/statistics.csv").status_code == 403


def test_a_partnership_member_without_a_partnership_is_refused() -> None:
    client, _ = signed_in_as(User.Role.PARTNERSHIP)
    assert client.get("/staff/statistics").status_code == 403
    assert client.get("/staff/statistics.csv").status_code == 403


def test_a_partnership_member_cannot_reach_cases_referrals_the_api_or_the_pattern_alerts() -> None:
    case = referred_case(ROTHERHAM)
    client, _ = signed_in_as(User.Role.PARTNERSHIP, partnership=partnership_of_region(YORKSHIRE))
    for path in (
        "/staff/cases",
        f"/staff/cases/{case.case_number}",
        "/staff/referrals",
        f"/staff/referrals/{case.case_number}",
        "/api/v1/cases",
        f"/api/v1/cases/{case.case_number}",
        "/staff/patterns",
    ):
        assert client.get(path).status_code == 403, path
    # Nothing on the statistics pages answers to a case number or reference either.
    selectors.stats_refresh()
    for query in ({"case": case.case_number}, {"search": case.report.reference}):
        body = text(client.get("/staff/statistics", query))
        assert case.case_number not in body
        assert case.report.reference not in body


@pytest.mark.parametrize("role", [User.Role.PARTNERSHIP, User.Role.OVERSIGHT_ANALYST, User.Role.SUPERVISOR])
def test_partnerships_oversight_and_helpline_supervisors_may_read_the_statistics(role: str) -> None:
    client, _ = signed_in_as(
        role, partnership=partnership_of_region(YORKSHIRE) if role == User.Role.PARTNERSHIP else None
    )
    assert client.get("/staff/statistics").status_code == 200
    assert client.get("/staff/statistics.csv").status_code == 200


# --- nothing that points at a person --------------------------------------------------------------------


def test_neither_page_nor_csv_carries_a_reference_case_number_sector_organisation_or_free_text() -> None:
    supervisor = helpline_supervisor()
    sector = ReporterSector.ELECTED_MEMBER
    cases = [referred_case(ROTHERHAM, reporter_sector=sector) for _ in range(6)]
    cases.append(new_case(SHEFFIELD, reporter_sector=sector))
    acknowledge(cases[:6], late=False)
    for case in cases[:6]:
        Referral.objects.filter(case_id=case.pk).update(
            outcome="early_help", outcome_at=timezone.now() - HOUR, status="outcome_recorded"
        )
        case.refresh_from_db()
        actions.case_close(
            case=case, outcome="referred_and_acted_on", feedback=f"{CANARY} feedback", acting_user=supervisor
        )
    selectors.stats_refresh()
    forbidden = [CANARY, ORGANISATION, "Brightwater", str(sector.label), "councillor"]
    for case in cases:
        forbidden += [case.case_number, case.report.reference]

    for role, extra in (
        (User.Role.PARTNERSHIP, {"partnership": partnership_of_region(YORKSHIRE)}),
        (User.Role.OVERSIGHT_ANALYST, {}),
    ):
        client, _ = signed_in_as(role, **extra)
        page = client.get("/staff/statistics")
        export = client.get("/staff/statistics.csv")
        assert page.status_code == export.status_code == 200
        for body in (text(page), export.content.decode()):
            for value in forbidden:
                assert value not in body, (role, value)
        # The closed cases appear only as counts by outcome code's label, for a whole year or quarter.
        outcomes = tables(page)["outcomes"]
        assert row(outcomes, "Referred; the authority acted") == (["6"], "6")
        assert row(tables(page)["authority-outcomes"], "Early help") == (["6"], "6")


# --- known figures --------------------------------------------------------------------------------------


def test_timeliness_by_authority_on_known_data() -> None:
    """Rotherham: 6 acknowledged on time, 5 late, 5 never and overdue; outcomes for the 6 on time."""
    on_time = [referred_case(ROTHERHAM) for _ in range(6)]
    late = [referred_case(ROTHERHAM) for _ in range(5)]
    missed = [referred_case(ROTHERHAM) for _ in range(5)]
    acknowledge(on_time, late=False)
    acknowledge(late, late=True)
    Referral.objects.filter(case__in=[c.pk for c in missed]).update(ack_due_at=timezone.now() - timedelta(days=2))
    Referral.objects.filter(case__in=[c.pk for c in on_time]).update(
        outcome="early_help", outcome_at=F("outcome_due_at") - timedelta(days=1), status="outcome_recorded"
    )
    selectors.stats_refresh()
    client, _ = signed_in_as(User.Role.PARTNERSHIP, partnership=partnership_of_region(YORKSHIRE))

    response = client.get("/staff/statistics")

    t = tables(response)
    assert t["acknowledgements"].column_labels == [
        "Acknowledged on time",
        "Acknowledged late",
        "Not acknowledged, overdue",
        "Awaiting acknowledgement",
    ]
    assert row(t["acknowledgements"], "Rotherham") == (["6", "5", "5", "0"], "16")
    assert row(t["acknowledgements"], "Sheffield") == (["0", "0", "0", "0"], "0")
    assert t["acknowledgements"].totals() == ["6", "5", "5", "0"]
    assert t["acknowledgements"].grand_total_text() == "16"
    assert row(t["outcome-timeliness"], "Rotherham") == (["6", "0", "0", "10"], "16")
    assert row(t["authority-outcomes"], "Early help") == (["6"], "6")
    bar = next(b for b in response.context["ack_bars"] if b["label"] == "Rotherham")
    assert bar["percent"] == 38  # 6 of 16
    lines = csv_rows(client.get("/staff/statistics.csv"))
    assert ["Rotherham", "6", "5", "5", "0", "16"] in lines


def test_a_small_count_shows_as_fewer_than_5_and_its_neighbour_is_hidden_too() -> None:
    """Sheffield: 5 acknowledged on time and 1 late. The 1 is "fewer than 5"; the 5 is hidden with it,
    or the total of 6 would give the 1 away; and the total is hidden too, since a hidden figure of at
    least 5 and one of at least 1 can only make 6 as 5 + 1."""
    acknowledge([referred_case(SHEFFIELD) for _ in range(5)], late=False)
    acknowledge([referred_case(SHEFFIELD)], late=True)
    selectors.stats_refresh()
    client, _ = signed_in_as(User.Role.PARTNERSHIP, partnership=partnership_of_region(YORKSHIRE))

    response = client.get("/staff/statistics")

    cells, total = row(tables(response)["acknowledgements"], "Sheffield")
    assert cells[1] == FEWER
    assert cells[0] != "5"
    assert total != "6"
    # On one line: the words are joined by non-breaking spaces.
    assert '<span data-suppressed="fewer">fewer&nbsp;than&nbsp;5</span>' in response.content.decode()
    lines = csv_rows(client.get("/staff/statistics.csv"))
    sheffield = next(line for line in lines if line and line[0] == "Sheffield")
    assert sheffield[2] == FEWER
    assert sheffield[1] != "5"
