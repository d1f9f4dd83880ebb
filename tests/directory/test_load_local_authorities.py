import io
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from directory.models import LocalAuthority, PostcodeArea, PostcodeException
from tests.fixtures_authorities import local_authorities  # noqa: F401

pytestmark = [
    pytest.mark.slow,
    pytest.mark.isolated,
    pytest.mark.django_db,
    pytest.mark.usefixtures("local_authorities"),
]

DATA_DIR = Path(settings.LOAD_LA_DEFAULT_DIR)
DATA_FILES = (
    "utla_england.csv",
    "postcode_district_to_utla.csv",
    "postcode_sector_to_utla.csv",
    "postcode_unit_utla_exceptions.csv",
    "uk_local_authorities_current.csv",
)
# The authorities created in April 2023 and the 2020 population mySociety gives each (the total of the
# councils it replaced: Allerdale, Carlisle and Copeland are Cumberland's 97,831 + 108,524 + 68,041).
NEW_IN_2023 = {
    "Cumberland": 274396,
    "Westmorland and Furness": 225385,
    "North Yorkshire": 620610,
    "Somerset": 563851,
}


def load(*args: str) -> str:
    out = io.StringIO()
    call_command("load_local_authorities", *args, stdout=out)
    return out.getvalue()


def linked_data_dir(*, into: Path, leave_out: str) -> Path:
    """A folder that points at the real data files (never copies them), less one."""
    for name in DATA_FILES:
        if name != leave_out:
            (into / name).symlink_to(DATA_DIR / name)
    return into


def test_it_loads_the_153_english_childrens_services_authorities() -> None:
    assert LocalAuthority.objects.count() == 153
    assert not LocalAuthority.objects.exclude(gss_code__startswith="E").exists()
    assert LocalAuthority.objects.filter(kind="County council").count() == 21


def test_it_loads_every_postcode_district_sector_and_exception() -> None:
    assert PostcodeArea.objects.filter(level=PostcodeArea.Level.DISTRICT).count() == 2864
    assert PostcodeArea.objects.filter(level=PostcodeArea.Level.SECTOR).count() == 10847
    assert PostcodeException.objects.count() == 40618


def test_it_fills_in_each_authoritys_details() -> None:
    barnsley = LocalAuthority.objects.get(gss_code="E08000038")

    assert barnsley.name == "Barnsley"
    assert barnsley.official_name == "Barnsley Metropolitan Borough Council"
    assert barnsley.kind == "Metropolitan district"
    assert barnsley.region == "Yorkshire and The Humber"
    assert barnsley.mysociety_code == "BNS"
    assert barnsley.gov_uk_slug == "barnsley"
    assert barnsley.former_gss_codes == ["E08000016"]
    assert barnsley.population == 248071


def test_it_sets_every_authoritys_2020_population_from_mysocietys_register() -> None:
    assert not LocalAuthority.objects.filter(population__isnull=True).exists()
    assert LocalAuthority.objects.get(gss_code="E08000018").population == 264984  # Rotherham
    assert LocalAuthority.objects.get(name="Isles of Scilly").population == 2226
    assert dict(LocalAuthority.objects.filter(name__in=NEW_IN_2023).values_list("name", "population")) == NEW_IN_2023


def test_a_blank_or_missing_population_is_none_and_the_summary_counts_the_rest(tmp_path: Path) -> None:
    folder = linked_data_dir(into=tmp_path, leave_out="uk_local_authorities_current.csv")
    # Rotherham blank, Sheffield given (as the register writes it), every other authority missing.
    (folder / "uk_local_authorities_current.csv").write_text(
        "local-authority-code,nice-name,pop-2020\nROT,Rotherham,\nSHF,Sheffield,589214.0\n"
    )
    assert LocalAuthority.objects.get(gss_code="E08000018").population is not None  # control: the full data's

    output = load(str(folder))

    assert LocalAuthority.objects.get(gss_code="E08000018").population is None
    assert LocalAuthority.objects.get(gss_code="E08000039").population == 589214
    assert list(LocalAuthority.objects.filter(population__isnull=False).values_list("name", flat=True)) == ["Sheffield"]
    assert "1 of them with a 2020 population" in output


def test_a_population_that_is_not_a_number_of_people_is_a_clear_command_error(tmp_path: Path) -> None:
    folder = linked_data_dir(into=tmp_path, leave_out="uk_local_authorities_current.csv")
    (folder / "uk_local_authorities_current.csv").write_text("local-authority-code,pop-2020\nROT,264984.5\n")

    with pytest.raises(CommandError, match="line 2: pop-2020 '264984.5' is not a number of people"):
        load(str(folder))
    assert LocalAuthority.objects.get(gss_code="E08000018").population == 264984


def test_it_reads_candidates_as_code_name_and_unit_count_lists() -> None:
    ec1a = PostcodeArea.objects.get(level=PostcodeArea.Level.DISTRICT, code="EC1A")

    assert ec1a.authority_code == "E09000001"
    assert ec1a.candidates == [["E09000001", "City of London", 99], ["E09000019", "Islington", 65]]


def test_a_rerun_updates_authorities_in_place_and_keeps_their_primary_keys() -> None:
    rotherham = LocalAuthority.objects.get(gss_code="E08000018")
    LocalAuthority.objects.filter(pk=rotherham.pk).update(name="Renamed", former_gss_codes=["E99999999"])

    load()

    reloaded = LocalAuthority.objects.get(gss_code="E08000018")
    assert reloaded.pk == rotherham.pk
    assert reloaded.name == "Rotherham"
    assert reloaded.former_gss_codes == []
    assert LocalAuthority.objects.count() == 153


def test_a_rerun_keeps_the_referral_email_that_staff_set() -> None:
    LocalAuthority.objects.filter(gss_code="E08000018").update(referral_email="mash@rotherham.example")

    load()

    assert LocalAuthority.objects.get(gss_code="E08000018").referral_email == "mash@rotherham.example"


def test_a_rerun_never_deletes_an_authority_the_data_no_longer_lists() -> None:
    LocalAuthority.objects.create(gss_code="E10000099", name="Old County", official_name="Old", kind="County")

    output = load()

    assert LocalAuthority.objects.filter(gss_code="E10000099").exists()
    assert "1 not in the data kept" in output


def test_a_rerun_removes_postcode_rows_the_data_no_longer_has() -> None:
    PostcodeException.objects.create(postcode="S60 2ZZ", authority_code="E08000039")
    PostcodeArea.objects.create(level=PostcodeArea.Level.SECTOR, code="S60 7", authority_code="E08000039")
    PostcodeException.objects.filter(postcode="S60 5RT").update(authority_code="E08000018")

    output = load()

    assert not PostcodeException.objects.filter(postcode="S60 2ZZ").exists()
    assert not PostcodeArea.objects.filter(code="S60 7").exists()
    assert PostcodeException.objects.get(postcode="S60 5RT").authority_code == "E08000039"
    assert PostcodeException.objects.count() == 40618
    assert "removed 2 stale postcode rows" in output


def test_it_prints_a_one_line_summary_of_what_it_loaded() -> None:
    output = load(str(DATA_DIR))

    assert output.count("\n") == 1
    assert "153 local authorities" in output
    assert "153 of them with a 2020 population" in output
    assert "2864 postcode districts" in output
    assert "10847 postcode sectors" in output
    assert "40618 postcode exceptions" in output


def test_a_missing_folder_is_a_clear_command_error(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="data folder not found"):
        load(str(tmp_path / "nowhere"))


def test_a_missing_file_is_a_clear_command_error_naming_it(tmp_path: Path) -> None:
    folder = linked_data_dir(into=tmp_path, leave_out="postcode_sector_to_utla.csv")

    with pytest.raises(CommandError, match="Missing from .*: postcode_sector_to_utla.csv$"):
        load(str(folder))
    assert PostcodeArea.objects.count() == 2864 + 10847


def test_a_missing_population_register_is_a_clear_command_error_too(tmp_path: Path) -> None:
    folder = linked_data_dir(into=tmp_path, leave_out="uk_local_authorities_current.csv")

    with pytest.raises(CommandError, match="Missing from .*: uk_local_authorities_current.csv$"):
        load(str(folder))


def test_a_file_without_the_expected_columns_is_a_clear_command_error(tmp_path: Path) -> None:
    folder = linked_data_dir(into=tmp_path, leave_out="postcode_unit_utla_exceptions.csv")
    (folder / "postcode_unit_utla_exceptions.csv").write_text("pcd,code\nS60 5RT,E08000039\n")

    with pytest.raises(CommandError, match="has no column postcode, utla_code"):
        load(str(folder))


def test_a_population_register_without_the_population_column_is_a_clear_command_error(tmp_path: Path) -> None:
    folder = linked_data_dir(into=tmp_path, leave_out="uk_local_authorities_current.csv")
    (folder / "uk_local_authorities_current.csv").write_text("local-authority-code,pop-2021\nROT,264984\n")

    with pytest.raises(CommandError, match="uk_local_authorities_current.csv has no column pop-2020"):
        load(str(folder))
    assert LocalAuthority.objects.get(gss_code="E08000018").population == 264984
