"""Issue 24, point 4: the statistics count referrals by kind of recipient (a local authority, independent national
review, Ofsted, the Care Quality Commission, the police, the Child Safeguarding Practice Review Panel), with
the small-number suppression, on the page and in its CSV. A referral to a national body has no authority: it
is never an authority's row, never a blank or "None" row, and never an authority's missed acknowledgement. A
safeguarding partnership counts the body referrals of its authorities' cases, never of a case about one of
its own councils."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import User
from directory.models import NationalBody
from oversight import selectors
from oversight.suppression import FEWER, SUPPRESSED, Table
from referrals import services as referral_services
from referrals.models import RECIPIENT_KINDS, Referral
from tests.factories import national_body, partnership_make, referral_make, signed_in_as
from tests.oversight.helpers import (
    MANCHESTER,
    ROTHERHAM,
    SHEFFIELD,
    authority,
    csv_rows,
    csv_sections,
    helpline_supervisor,
    new_case,
    page_tables,
    referred_case,
)
from triage.models import Case

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities")]

BY_RECIPIENT = "referrals-by-recipient"
TITLE = "Referrals by kind of recipient"
KINDS = [label for _, label in RECIPIENT_KINDS]


def tables(response: object) -> dict[str, Table]:
    return {slug: t for slug, _, t in response.context["tables"]}  # type: ignore[attr-defined]


def figures(t: Table) -> dict[str, str]:
    return {label: cells[0] for label, cells, _ in t.rows()}


def sent_for_review(code: str, **overrides: object) -> Case:
    case = new_case(code, **overrides)
    referral_services.case_send_for_review(case=case, reason="About a council.", acting_user=helpline_supervisor())
    return case


def to_the_police(case: Case) -> None:
    referral_services.case_escalate_police(
        case=case,
        force=national_body("police-south-yorkshire"),
        how_sent="telephone",
        acting_user=helpline_supervisor(),
    )


@pytest.fixture
def referrals() -> dict[str, list[Case]]:
    """Six referrals to Rotherham, two of those cases also to the police; five Rotherham cases sent for
    review; one Sheffield case referred to the Care Quality Commission; a concern about Manchester council
    (so with no authority of its own) and one about Rotherham council from Sheffield, both sent for review.
    Every referral's acknowledgement is overdue and none was acknowledged."""
    cases = {
        "rotherham": [referred_case(ROTHERHAM) for _ in range(6)],
        "reviewed": [sent_for_review(ROTHERHAM) for _ in range(5)],
        "cqc": [new_case(SHEFFIELD)],
        "about_manchester": [sent_for_review(MANCHESTER, about_authority=authority(MANCHESTER))],
        "about_rotherham": [sent_for_review(SHEFFIELD, about_authority=authority(ROTHERHAM))],
    }
    for case in cases["rotherham"][:2]:
        to_the_police(case)
    referral_make(cases["cqc"][0], body=national_body("cqc"))
    assert cases["about_manchester"][0].authority_id is None
    Referral.objects.update(ack_due_at=timezone.now() - timedelta(days=2))
    selectors.stats_refresh()
    return cases


def test_every_kind_of_national_body_is_a_kind_of_recipient() -> None:
    assert [code for code, _ in RECIPIENT_KINDS] == ["local_authority", *NationalBody.Kind.values]


def test_national_statistics_count_referrals_by_kind_of_recipient_on_the_page_and_in_the_csv(
    referrals: dict[str, list[Case]],
) -> None:
    client, _ = signed_in_as(User.Role.OVERSIGHT_ANALYST)

    response = client.get("/staff/statistics")

    assert response.status_code == 200
    by_recipient = tables(response)[BY_RECIPIENT]
    assert by_recipient.row_labels == KINDS
    shown = figures(by_recipient)
    assert shown["Local authority"] == "6"
    assert shown["Independent national review"] == "7"
    assert shown["Ofsted"] == "0" and shown["Child Safeguarding Practice Review Panel"] == "0"
    # One referral to the Care Quality Commission and two to the police: never shown as they are.
    assert shown["Care Quality Commission"] in SUPPRESSED and shown["Police"] in SUPPRESSED
    on_page = page_tables(response)[BY_RECIPIENT]
    assert on_page[0] == ["", "Referrals"]
    assert [row[0] for row in on_page[1:]] == [*KINDS, "Total"]
    assert on_page[1] == ["Local authority", "6"] and on_page[3] == ["Ofsted", "0"]
    exported = csv_sections(csv_rows(client.get("/staff/statistics.csv")))[TITLE]
    assert exported == on_page


def test_a_body_referral_is_never_an_authoritys_row_nor_its_missed_acknowledgement(
    referrals: dict[str, list[Case]],
) -> None:
    client, _ = signed_in_as(User.Role.OVERSIGHT_ANALYST)

    response = client.get("/staff/statistics")

    t = tables(response)
    for slug in ("acknowledgements", "outcome-timeliness"):
        assert "" not in t[slug].row_labels and "None" not in t[slug].row_labels
        assert t[slug].grand_total_text() == "6", slug  # Rotherham's six: no review, police or CQC referral
    rotherham = t["acknowledgements"].row_labels.index("Rotherham")
    assert t["acknowledgements"].rows()[rotherham][1:] == (["0", "0", "6", "0"], "6")  # six missed, not 13
    sheffield = t["acknowledgements"].row_labels.index("Sheffield")
    assert t["acknowledgements"].rows()[sheffield][2] == "0"  # its cases went to the CQC and to review only
    # The authorities' referrals by kind are the tables by authority's referrals, suppressed alike.
    assert figures(t[BY_RECIPIENT])["Local authority"] == t["acknowledgements"].grand_total_text()
    assert t["authority-outcomes"].grand_total_text() == "0"
    on_page = page_tables(response)
    assert "Sheffield" not in [row[0] for row in on_page["acknowledgements"]]  # no referral: named once
    for rows in on_page.values():
        assert all(row[0] not in ("", "None") for row in rows[1:]), rows


def test_a_partnership_counts_the_body_referrals_of_its_authorities_cases_only(
    referrals: dict[str, list[Case]],
) -> None:
    """Rotherham and Sheffield's partnership: the five Rotherham cases under review, the police and CQC
    referrals, and not the concern about Rotherham council (nor Manchester's, of no authority of its own). A
    partnership of Sheffield alone does count the concern about Rotherham council made there."""
    both = partnership_make("Rotherham and Sheffield Safeguarding Children Partnership", ROTHERHAM, SHEFFIELD)
    sheffield = partnership_make("Sheffield Safeguarding Children Partnership", SHEFFIELD)
    client, _ = signed_in_as(User.Role.PARTNERSHIP, username="both", partnership=both)
    alone, _ = signed_in_as(User.Role.PARTNERSHIP, username="sheffield", partnership=sheffield)

    response = client.get("/staff/statistics")

    assert response.status_code == 200
    shown = figures(tables(response)[BY_RECIPIENT])
    assert shown["Local authority"] == "6" and shown["Independent national review"] == "5"
    assert shown["Care Quality Commission"] in SUPPRESSED and shown["Police"] in SUPPRESSED
    assert "counted in the table of referrals by kind of recipient only" in response.content.decode()
    assert tables(response)["acknowledgements"].grand_total_text() == "6"

    sheffield_only = figures(tables(alone.get("/staff/statistics"))[BY_RECIPIENT])
    assert sheffield_only["Independent national review"] == FEWER  # the concern about Rotherham council
    assert sheffield_only["Care Quality Commission"] == FEWER
    assert sheffield_only["Local authority"] == "0" and sheffield_only["Police"] == "0"


def test_a_case_with_no_authority_sent_for_review_is_counted_nationally_without_an_authority_row() -> None:
    sent_for_review(MANCHESTER, about_authority=authority(MANCHESTER))
    selectors.stats_refresh()
    client, _ = signed_in_as(User.Role.OVERSIGHT_ANALYST)

    response = client.get("/staff/statistics")

    assert response.status_code == 200
    t = tables(response)
    assert figures(t[BY_RECIPIENT])["Independent national review"] == FEWER
    assert t["acknowledgements"].grand_total_text() == "0"
    assert t["acknowledgements-by-region"].grand_total_text() == "0"
    assert "Manchester" in response.context["shown"].no_referrals
