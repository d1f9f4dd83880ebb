"""Issue 25: partnership reviewers and national oversight never see a file; the statistics count the files received
with the reports (sent by reporters; emailed in by callers and added by the helpline), never the files the
helpline sent, with the small-number suppression, on the page and in its CSV. Never a name or a type. A case
referred to several recipients counts its files once, and a partnership does not count the files of a concern
about one of its own councils."""

from __future__ import annotations

import pytest

from accounts.models import User
from oversight import selectors
from oversight.suppression import FEWER, HIDDEN, Table
from reports.models import Attachment, Message
from tests.factories import attachment_make, partnership_make, signed_in_as
from tests.oversight.helpers import (
    ROTHERHAM,
    SHEFFIELD,
    authority,
    csv_rows,
    csv_sections,
    new_case,
    page_tables,
    referred_case,
    text,
)
from triage.models import Case

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities")]

FILES = "files-received"
TITLE = "Files received with the reports"
REPORTERS = "Sent by reporters"
CALLERS = "Emailed in by callers and added by the helpline"
NAME = "FILENAME-CANARY-rota.pdf"


def tables(response: object) -> dict[str, Table]:
    return {slug: t for slug, _, t in response.context["tables"]}  # type: ignore[attr-defined]


def figures(t: Table) -> dict[str, str]:
    return {label: cells[0] for label, cells, _ in t.rows()}


def files_of(case: Case, count: int, **kept: object) -> None:
    for _ in range(count):
        attachment_make(case, b"%PDF-1.4\n%%EOF\n", name=NAME, content_type="application/pdf", **kept)


@pytest.fixture
def cases() -> dict[str, Case]:
    """Rotherham: 6 files from reporters on a case referred to its authority and the police (counted once), 1
    more removed since (still received); 6 files callers emailed in; 3 the helpline sent a reporter (never
    counted). Sheffield: 2 files from reporters, and 5 on a concern about Rotherham council made there."""
    from referrals import services as referral_services
    from tests.factories import national_body
    from tests.oversight.helpers import helpline_supervisor

    made = {
        "rotherham": referred_case(ROTHERHAM),
        "phoned": new_case(ROTHERHAM),
        "sheffield": new_case(SHEFFIELD),
        "about_rotherham": new_case(SHEFFIELD, about_authority=authority(ROTHERHAM)),
    }
    referral_services.case_escalate_police(
        case=made["rotherham"],
        force=national_body("police-south-yorkshire"),
        how_sent="telephone",
        acting_user=helpline_supervisor(),
    )
    files_of(made["rotherham"], 6)
    files_of(made["rotherham"], 1, status=Attachment.Status.REMOVED)
    files_of(made["phoned"], 6, source=Attachment.Source.HELPLINE)
    message = Message.objects.create(
        report=made["phoned"].report,
        direction=Message.Direction.FROM_HELPLINE,
        body=b"sealed",
        sent_on=made["phoned"].created_at.date(),
    )
    files_of(made["phoned"], 3, source=Attachment.Source.HELPLINE, message_id=message.pk)
    files_of(made["sheffield"], 2)
    files_of(made["about_rotherham"], 5)
    selectors.stats_refresh()
    return made


def test_national_statistics_count_the_files_received_on_the_page_and_in_the_csv(cases: dict[str, Case]) -> None:
    client, _ = signed_in_as(User.Role.OVERSIGHT_ANALYST)

    response = client.get("/staff/statistics")

    assert response.status_code == 200
    received = tables(response)[FILES]
    assert received.row_labels == [REPORTERS, CALLERS]
    # 6 + 1 removed in Rotherham (once, though referred twice), 2 + 5 in Sheffield; the 3 sent are not counted.
    assert figures(received) == {REPORTERS: "14", CALLERS: "6"}
    assert received.grand_total_text() == "20"
    on_page = page_tables(response)[FILES]
    assert on_page == [["", "Files"], [REPORTERS, "14"], [CALLERS, "6"], ["Total", "20"]]
    exported = csv_sections(csv_rows(client.get("/staff/statistics.csv")))[TITLE]
    assert exported == on_page
    assert NAME not in text(response) and "PDF" not in text(response), "a count: never a name or a type"


def test_a_partnership_counts_its_authorities_files_with_the_suppression_and_not_those_about_its_councils(
    cases: dict[str, Case],
) -> None:
    rotherham = partnership_make("Rotherham Safeguarding Children Partnership", ROTHERHAM)
    sheffield = partnership_make("Sheffield Safeguarding Children Partnership", SHEFFIELD)
    client, _ = signed_in_as(User.Role.PARTNERSHIP, username="rotherham", partnership=rotherham)
    alone, _ = signed_in_as(User.Role.PARTNERSHIP, username="sheffield", partnership=sheffield)

    assert figures(tables(client.get("/staff/statistics"))[FILES]) == {REPORTERS: "7", CALLERS: "6"}
    # Sheffield's own 2, and the 5 of the concern about Rotherham council made there (not Rotherham's to see).
    sheffield_files = tables(alone.get("/staff/statistics"))[FILES]
    assert figures(sheffield_files) == {REPORTERS: "7", CALLERS: "0"}
    both = partnership_make("Rotherham and Sheffield Safeguarding Children Partnership", ROTHERHAM, SHEFFIELD)
    together, _ = signed_in_as(User.Role.PARTNERSHIP, username="both", partnership=both)
    # The concern about Rotherham council is not counted for a partnership that covers Rotherham.
    assert figures(tables(together.get("/staff/statistics"))[FILES]) == {REPORTERS: "9", CALLERS: "6"}


def test_a_small_count_of_files_is_never_shown_as_it_is() -> None:
    case = new_case(SHEFFIELD)
    files_of(case, 2)
    files_of(new_case(ROTHERHAM), 9, source=Attachment.Source.HELPLINE)
    selectors.stats_refresh()
    client, _ = signed_in_as(User.Role.OVERSIGHT_ANALYST)

    received = figures(tables(client.get("/staff/statistics"))[FILES])

    assert received == {REPORTERS: FEWER, CALLERS: HIDDEN}, "the other row would give the small one away"
