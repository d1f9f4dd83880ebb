"""Issue 22, point 11: the case search and "Link a duplicate" read references as /check does (case, spaces and
hyphens do not matter: "9vna2hrg"), and the search matches the start of a reference or a case number through
their LIKE indexes. Organisations are still matched by their whole name only, through the keyed hash."""

from __future__ import annotations

import pytest
from django.db import connection

from accounts.models import User
from core.identifiers import normalise_reference
from tests.factories import routed_case, staff_user
from triage import selectors, staff_actions
from triage.models import Case, CaseLink
from triage.selectors import CaseFilters
from triage.workflow import ActionNotAllowed

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities")]


@pytest.fixture
def handler() -> User:
    return staff_user("handler", role=User.Role.CALL_HANDLER)


def found(user: User, search: str) -> list[str]:
    return [row["case_number"] for row in selectors.case_list(user=user, filters=CaseFilters(search=search)).rows]


def typed_as_people_type_it(reference: str) -> str:
    """'HX7K-29QM' as someone reads it off a phone call: lower case, no hyphen."""
    return reference.replace("-", "").lower()


def test_a_reference_is_found_however_it_is_typed(handler: User) -> None:
    case = routed_case()
    routed_case()
    reference = case.report.reference
    for typed in (
        typed_as_people_type_it(reference),  # "9vna2hrg", which /check accepts
        f" {reference[:4].lower()} {reference[5:].lower()} ",
        reference.lower(),
        reference,
    ):
        assert normalise_reference(typed) == reference  # /check opens it
        assert found(handler, typed) == [case.case_number], typed


def test_the_start_of_a_reference_finds_it(handler: User) -> None:
    case = routed_case()
    reference = case.report.reference
    others = [routed_case() for _ in range(3)]
    for typed in (reference[:4], reference[:4].lower() + "-", typed_as_people_type_it(reference)[:6]):
        listed = found(handler, typed)
        assert case.case_number in listed, typed
        # Only cases whose reference starts so.
        start = typed.replace("-", "").upper()
        for other in others:
            assert (other.case_number in listed) == other.report.reference.replace("-", "").startswith(start)


def test_the_start_of_a_case_number_finds_it(handler: User) -> None:
    case = routed_case()
    number = case.case_number  # e.g. 2026-K7M3QX
    for typed in (number, number.lower(), number.replace("-", "").lower(), number[:7], number[:7].lower()):
        assert case.case_number in found(handler, typed), typed
    # A year alone would name every case of the year: the year and two more characters at least.
    assert found(handler, number[:4]) == []
    assert found(handler, number[:6]) == []


def test_a_search_too_short_or_not_an_identifier_finds_nothing(handler: User) -> None:
    case = routed_case()
    assert found(handler, case.report.reference[:3]) == []  # shorter than half a reference
    assert found(handler, case.case_number[:3]) == []
    assert found(handler, "ZZZZ-ZZZZ-ZZZZ") == []
    assert found(handler, case.case_number[5:]) == []  # the end of a case number is not its start


def test_organisations_are_still_matched_by_their_whole_name_only(handler: User) -> None:
    case = routed_case(organisation_name="Oakwood Academy")
    assert found(handler, "  oakwood academy ") == [case.case_number]
    assert found(handler, "Oakw") == []


@pytest.mark.parametrize(
    ("typed", "reference", "number"),
    [
        ("9vna2hrg", "9VNA-2HRG", None),
        ("9VNA-2H", "9VNA-2H", None),
        ("hx7k", "HX7K", None),
        ("HX7", None, None),  # too short
        ("HX7K29QM7", None, None),  # too long
        ("HO7K", None, None),  # O is not in the alphabet
        ("2026-k7m3qx", None, "2026-K7M3QX"),
        ("2026k7", None, "2026-K7"),
        ("2026-K", None, None),  # too short: a year and one character
        ("2026", None, None),
        ("2026-K7M3QXA", None, None),  # too long
        ("２０２６", None, None),  # full-width digits are not a year
    ],
)
def test_typed_identifiers_are_read_as_check_reads_them(typed: str, reference: str | None, number: str | None) -> None:
    from triage.selectors import case_number_prefix, reference_prefix

    assert reference_prefix(typed) == reference
    assert case_number_prefix(typed) == number


def test_the_prefix_searches_use_the_like_indexes(handler: User) -> None:
    """The reference and case number columns have Django's varchar_pattern_ops indexes: LIKE 'PREFIX%' is an
    index scan, not a scan of the table."""
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        for table, column, prefix in (
            ("reports_report", "reference", "HX7K"),
            ("triage_case", "case_number", "2026-K"),
        ):
            cursor.execute(f"EXPLAIN SELECT id FROM {table} WHERE {column} LIKE %s", [f"{prefix}%"])  # noqa: S608
            plan = " ".join(row[0] for row in cursor.fetchall())
            assert "_like" in plan and "Index" in plan, plan
        cursor.execute("RESET enable_seqscan")


# --- Link a duplicate -----------------------------------------------------------------------------------


def link(case: Case, other: str, user: User) -> str:
    return staff_actions.case_act(case=case, action="link_duplicate", data={"other": other}, acting_user=user)


def test_a_duplicate_is_linked_by_its_reference_typed_as_people_type_it(handler: User) -> None:
    case, duplicate = routed_case(), routed_case()
    assert link(case, typed_as_people_type_it(duplicate.report.reference), handler) == (
        f"Case linked to {duplicate.case_number}"
    )
    assert CaseLink.objects.filter(case=case, other=duplicate).exists()


def test_a_duplicate_is_linked_by_its_case_number_without_the_hyphen(handler: User) -> None:
    case, duplicate = routed_case(), routed_case()
    assert link(case, duplicate.case_number.replace("-", "").lower(), handler) == (
        f"Case linked to {duplicate.case_number}"
    )


def test_a_duplicate_is_never_linked_by_the_start_of_an_identifier(handler: User) -> None:
    case, duplicate = routed_case(), routed_case()
    for partial in (duplicate.report.reference[:6], duplicate.case_number[:8]):
        with pytest.raises(ActionNotAllowed, match="no case with that number"):
            link(case, partial, handler)
    assert not CaseLink.objects.exists()


def test_an_authority_officer_cannot_name_a_case_outside_their_referrals(handler: User) -> None:
    officer = staff_user("officer", role=User.Role.AUTHORITY_OFFICER)
    case = routed_case()
    assert selectors.case_by_identifier(user=handler, text=typed_as_people_type_it(case.report.reference)) == case
    assert selectors.case_by_identifier(user=officer, text=case.report.reference) is None
    assert selectors.case_by_identifier(user=officer, text=case.case_number) is None
