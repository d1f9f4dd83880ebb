import csv
from pathlib import Path

import pytest
from django.conf import settings
from pytest_django import DjangoAssertNumQueries

from directory.lookup import authority_by_code, authority_choices, normalise_postcode, resolve_postcode
from directory.models import LocalAuthority
from tests.fixtures_authorities import local_authorities  # noqa: F401

DATA_DIR = Path(settings.LOAD_LA_DEFAULT_DIR)

# Tests that look anything up are marked ``db``; the others would fail on any query.
pytestmark = pytest.mark.usefixtures("local_authorities")
db = pytest.mark.django_db


def read_rows(name: str) -> list[dict[str, str]]:
    with (DATA_DIR / name).open(newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("S60 1AA", "S60 1AA"),
        ("s601aa", "S60 1AA"),
        ("  s60   1aa ", "S60 1AA"),
        ("sw1a1aa", "SW1A 1AA"),
        ("W1A 0AX", "W1A 0AX"),
        ("ec1a", "EC1A"),
        ("S60", "S60"),
        ("s60  1", "S60 1"),
        ("sw11", "SW11"),
    ],
)
def test_normalise_postcode_upper_cases_and_spaces_full_and_partial_postcodes(text: str, expected: str) -> None:
    assert normalise_postcode(text) == expected


@pytest.mark.parametrize("text", ["", "   ", "hello", "12345", "S60 1A", "S60 1AAA", "1AA", "S60-1AA", "SS600 1AA"])
def test_normalise_postcode_returns_none_for_anything_malformed(text: str) -> None:
    assert normalise_postcode(text) is None


def test_normalise_postcode_accepts_every_district_sector_and_postcode_in_the_data() -> None:
    codes = [row["postcode_district"] for row in read_rows("postcode_district_to_utla.csv")]
    codes += [row["postcode_sector"] for row in read_rows("postcode_sector_to_utla.csv")]
    codes += [row["postcode"] for row in read_rows("postcode_unit_utla_exceptions.csv")]

    assert [code for code in codes if normalise_postcode(code) != code] == []


@db
def test_a_full_postcode_resolves_to_its_sector_majority() -> None:
    lookup = resolve_postcode("S60 2TH")

    assert lookup.kind == "resolved"
    assert lookup.postcode == "S60 2TH"
    assert lookup.authority is not None
    assert lookup.authority.name == "Rotherham"
    assert lookup.candidates == []
    assert "Rotherham" in lookup.message


@db
def test_an_exception_postcode_resolves_to_its_own_authority_not_the_sector_majority() -> None:
    # S60 5 is Rotherham bar one unit, which is Sheffield.
    assert resolve_postcode("S60 5RS").authority == LocalAuthority.objects.get(name="Rotherham")
    assert resolve_postcode("S60 5RT").authority == LocalAuthority.objects.get(name="Sheffield")


@db
def test_a_sample_of_the_exceptions_file_resolves_as_the_file_says() -> None:
    # Every nth row: 200 postcodes spread over every postcode area, the same ones on every run.
    all_rows = read_rows("postcode_unit_utla_exceptions.csv")
    rows = all_rows[:: len(all_rows) // 200][:200]
    nations = {"S": "Scotland", "W": "Wales"}

    mismatches = []
    for row in rows:
        code = row["utla_code"]
        expected = code if code.startswith("E") else nations[code[0]]
        lookup = resolve_postcode(row["postcode"])
        found = lookup.authority.gss_code if lookup.authority else lookup.nation
        if found != expected:
            mismatches.append((row["postcode"], expected, found))

    assert mismatches == []


@db
def test_lower_case_and_unspaced_postcodes_resolve_too() -> None:
    lookup = resolve_postcode("s602th")

    assert lookup.kind == "resolved"
    assert lookup.postcode == "S60 2TH"
    assert lookup.authority is not None
    assert lookup.authority.gss_code == "E08000018"


@db
def test_a_postcode_district_gives_its_english_candidates_by_size() -> None:
    lookup = resolve_postcode("EC1A")

    assert lookup.kind == "candidates"
    assert lookup.authority is None
    assert [authority.name for authority in lookup.candidates] == ["City of London", "Islington"]


@db
def test_a_postcode_sector_gives_that_sectors_candidates() -> None:
    lookup = resolve_postcode("ec1a 1")

    assert lookup.kind == "candidates"
    assert [authority.name for authority in lookup.candidates] == ["Islington", "City of London"]


@db
def test_a_partial_postcode_with_one_authority_still_asks_the_reporter_to_confirm() -> None:
    lookup = resolve_postcode("OX1")

    assert lookup.kind == "candidates"
    assert [authority.name for authority in lookup.candidates] == ["Oxfordshire"]


@db
def test_a_full_postcode_newer_than_the_data_uses_a_district_with_one_authority() -> None:
    lookup = resolve_postcode("OX1 7ZZ")  # There is no sector OX1 7 in the data.

    assert lookup.kind == "resolved"
    assert lookup.authority is not None
    assert lookup.authority.name == "Oxfordshire"


@db
def test_a_full_postcode_newer_than_the_data_in_a_split_district_asks_the_reporter_to_choose() -> None:
    lookup = resolve_postcode("S60 7ZZ")

    assert lookup.kind == "candidates"
    assert [authority.name for authority in lookup.candidates] == ["Rotherham", "Sheffield"]


@db
def test_an_unknown_district_asks_the_reporter_to_choose_from_the_full_list() -> None:
    lookup = resolve_postcode("XX1 1AA")

    assert lookup.kind == "candidates"
    assert lookup.candidates == []
    assert "Choose the council" in lookup.message


@pytest.mark.parametrize("text", ["hello", "12345", ""])
def test_malformed_input_says_so_without_touching_the_database(text: str) -> None:
    lookup = resolve_postcode(text)

    assert lookup.kind == "malformed"
    assert lookup.postcode is None
    assert lookup.message


@db
@pytest.mark.parametrize(
    ("text", "nation"),
    [
        ("EH1 1YZ", "Scotland"),
        ("CF10 1AA", "Wales"),
        ("BT1 1AA", "Northern Ireland"),
        ("IM1 1AA", "Isle of Man"),
        ("JE2 3AB", "Jersey"),
        ("GY1 1AA", "Guernsey"),
        ("BT1", "Northern Ireland"),
        ("EH1", "Scotland"),
        ("LD7 9", "Wales"),
    ],
)
def test_postcodes_outside_england_name_their_nation_and_where_to_go(text: str, nation: str) -> None:
    lookup = resolve_postcode(text)

    assert lookup.kind == "outside_england"
    assert lookup.nation == nation
    assert lookup.authority is None
    assert lookup.candidates == []
    assert lookup.message.startswith("This service covers England.")
    assert nation in lookup.message


@db
def test_a_border_district_offers_only_its_english_authority_and_mentions_the_rest() -> None:
    # LD7 (Knighton) is mostly Powys, partly Shropshire.
    lookup = resolve_postcode("LD7")

    assert lookup.kind == "candidates"
    assert [authority.name for authority in lookup.candidates] == ["Shropshire"]
    assert "Wales" in lookup.message


@db
def test_a_full_postcode_on_the_border_goes_whichever_side_it_is_on() -> None:
    assert resolve_postcode("LD7 1DY").authority == LocalAuthority.objects.get(name="Shropshire")
    assert resolve_postcode("LD7 1AA").nation == "Wales"


@db
@pytest.mark.parametrize(("text", "queries"), [("S60 5RT", 2), ("S60 2TH", 3), ("EC1A", 2), ("EH1 1YZ", 2)])
def test_a_lookup_takes_at_most_three_queries(
    text: str, queries: int, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    with django_assert_num_queries(queries):
        resolve_postcode(text)


@db
def test_authority_choices_lists_every_authority_by_name() -> None:
    choices = authority_choices()

    assert len(choices) == 153
    assert choices[0] == ("E09000002", "Barking and Dagenham")
    assert [name for _code, name in choices] == sorted(name for _code, name in choices)


@db
def test_authority_by_code_finds_current_and_former_codes() -> None:
    barnsley = authority_by_code("E08000038")

    assert barnsley is not None
    assert barnsley.name == "Barnsley"
    assert authority_by_code("E08000016") == barnsley
    assert authority_by_code(" e08000016 ") == barnsley
    assert authority_by_code("E99999999") is None
    assert authority_by_code("") is None
