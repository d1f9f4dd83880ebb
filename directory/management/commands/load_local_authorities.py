"""Load England's children's-services authorities and the postcode routing tables.

The data folder is described in its own SOURCES.md. Rerunning is safe: authorities are upserted by
GSS code so their primary keys (which cases and officers reference) never change, and none is ever
deleted. Each authority's population comes from mySociety's register (uk_local_authorities_current.csv),
joined on the mySociety code; none when the register gives none. The postcode tables reference nothing,
so rows that a newer data release dropped are removed: a stale exception would otherwise keep routing a
postcode to the wrong council.
"""

import csv
import time
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from directory.models import POPULATION_YEAR, LocalAuthority, PostcodeArea, PostcodeException

AUTHORITIES_FILE = "utla_england.csv"
DISTRICTS_FILE = "postcode_district_to_utla.csv"
SECTORS_FILE = "postcode_sector_to_utla.csv"
EXCEPTIONS_FILE = "postcode_unit_utla_exceptions.csv"
POPULATION_FILE = "uk_local_authorities_current.csv"  # mySociety's register: every UK authority, past and present
DATA_FILES = (AUTHORITIES_FILE, DISTRICTS_FILE, SECTORS_FILE, EXCEPTIONS_FILE, POPULATION_FILE)

AUTHORITY_COLUMNS = (
    "gss_code",
    "name",
    "official_name",
    "type",
    "region",
    "mysociety_code",
    "gov_uk_slug",
    "former_gss_codes",
)
AREA_COLUMNS = ("utla_code", "candidates")
EXCEPTION_COLUMNS = ("postcode", "utla_code")
POPULATION_COLUMNS = ("local-authority-code", f"pop-{POPULATION_YEAR}")

BATCH_SIZE = 2000

Candidate = list[str | int]


def parse_candidates(*, text: str) -> list[Candidate]:
    """Turn ``"E09000001:City of London:99;E09000019:Islington:65"`` into ``[[code, name, units], ...]``."""
    candidates: list[Candidate] = []
    for item in text.split(";"):
        if not item.strip():
            continue
        # Split from both ends so that a name containing ":" would survive.
        code, rest = item.split(":", 1)
        name, units = rest.rsplit(":", 1)
        candidates.append([code.strip(), name.strip(), int(units)])
    return candidates


class Command(BaseCommand):
    help = "Load the 153 English children's-services authorities and the postcode routing tables."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "directory",
            nargs="?",
            default=None,
            help="Folder holding the local authority CSV files (default: settings.LOAD_LA_DEFAULT_DIR).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        directory = Path(options["directory"] or settings.LOAD_LA_DEFAULT_DIR)
        paths = self._check_files(directory=directory)

        populations = self._populations(path=paths[POPULATION_FILE])
        authorities = list(self._authorities(path=paths[AUTHORITIES_FILE], populations=populations))
        areas = list(self._areas(path=paths[DISTRICTS_FILE], level=PostcodeArea.Level.DISTRICT))
        areas += list(self._areas(path=paths[SECTORS_FILE], level=PostcodeArea.Level.SECTOR))
        exceptions = list(self._exceptions(path=paths[EXCEPTIONS_FILE]))
        if not authorities:
            raise CommandError(f"{paths[AUTHORITIES_FILE]} lists no authorities.")

        with transaction.atomic():
            known_codes = set(LocalAuthority.objects.values_list("gss_code", flat=True))
            LocalAuthority.objects.bulk_create(
                authorities,
                batch_size=BATCH_SIZE,
                update_conflicts=True,
                unique_fields=["gss_code"],
                # referral_email is not in the data: it is kept as staff set it.
                update_fields=[
                    "name",
                    "official_name",
                    "kind",
                    "region",
                    "mysociety_code",
                    "gov_uk_slug",
                    "former_gss_codes",
                    "population",
                ],
            )
            PostcodeArea.objects.bulk_create(
                areas,
                batch_size=BATCH_SIZE,
                update_conflicts=True,
                unique_fields=["level", "code"],
                update_fields=["authority_code", "candidates"],
            )
            PostcodeException.objects.bulk_create(
                exceptions,
                batch_size=BATCH_SIZE,
                update_conflicts=True,
                unique_fields=["postcode"],
                update_fields=["authority_code"],
            )
            removed = self._remove_stale_postcode_rows(areas=areas, exceptions=exceptions)

        file_codes = {authority.gss_code for authority in authorities}
        new_count = len(file_codes - known_codes)
        kept_count = len(known_codes - file_codes)
        districts = sum(1 for area in areas if area.level == PostcodeArea.Level.DISTRICT)
        with_population = sum(1 for authority in authorities if authority.population is not None)
        summary = (
            f"Loaded {len(authorities)} local authorities ({new_count} new"
            + (f", {kept_count} not in the data kept" if kept_count else "")
            + f"), {with_population} of them with a {POPULATION_YEAR} population"
            + f", {districts} postcode districts, {len(areas) - districts} postcode sectors"
            + f" and {len(exceptions)} postcode exceptions"
            + (f"; removed {removed} stale postcode rows" if removed else "")
            + f" from {directory} in {time.perf_counter() - started:.1f}s."
        )
        self.stdout.write(summary)

    def _check_files(self, *, directory: Path) -> dict[str, Path]:
        if not directory.is_dir():
            raise CommandError(f"Local authority data folder not found: {directory}")
        paths = {name: directory / name for name in DATA_FILES}
        missing = sorted(name for name, path in paths.items() if not path.is_file())
        if missing:
            raise CommandError(f"Missing from {directory}: {', '.join(missing)}")
        return paths

    def _rows(self, *, path: Path, columns: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str]]]:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            absent = [column for column in columns if column not in (reader.fieldnames or [])]
            if absent:
                raise CommandError(f"{path.name} has no column {', '.join(absent)}.")
            for row in reader:
                yield reader.line_num, row

    def _populations(self, *, path: Path) -> dict[str, int | None]:
        """Each authority's population by mySociety code: None where the column is blank. The register
        writes whole numbers as decimals ("279516.0")."""
        column = POPULATION_COLUMNS[1]
        populations: dict[str, int | None] = {}
        for line, row in self._rows(path=path, columns=POPULATION_COLUMNS):
            text = (row[column] or "").strip()
            try:
                number = Decimal(text) if text else None
            except InvalidOperation:
                number = None
            if number is not None and (not number.is_finite() or number < 0 or number != number.to_integral_value()):
                number = None
            if text and number is None:
                raise CommandError(f"{path.name} line {line}: {column} {text!r} is not a number of people.")
            populations[row["local-authority-code"].strip()] = None if number is None else int(number)
        return populations

    def _authorities(self, *, path: Path, populations: dict[str, int | None]) -> Iterator[LocalAuthority]:
        for line, row in self._rows(path=path, columns=AUTHORITY_COLUMNS):
            gss_code = row["gss_code"].strip()
            if not gss_code.startswith("E"):
                raise CommandError(f"{path.name} line {line}: {gss_code!r} is not an English GSS code.")
            mysociety_code = row["mysociety_code"].strip()
            yield LocalAuthority(
                gss_code=gss_code,
                name=row["name"].strip(),
                official_name=row["official_name"].strip(),
                kind=row["type"].strip(),
                region=row["region"].strip(),
                mysociety_code=mysociety_code,
                population=populations.get(mysociety_code) if mysociety_code else None,
                gov_uk_slug=row["gov_uk_slug"].strip(),
                former_gss_codes=[code.strip() for code in row["former_gss_codes"].split(";") if code.strip()],
            )

    def _areas(self, *, path: Path, level: PostcodeArea.Level) -> Iterator[PostcodeArea]:
        key = f"postcode_{level.value}"
        for line, row in self._rows(path=path, columns=(key, *AREA_COLUMNS)):
            try:
                candidates = parse_candidates(text=row["candidates"])
            except ValueError as error:
                raise CommandError(f"{path.name} line {line}: unreadable candidates ({error}).") from error
            yield PostcodeArea(
                level=level,
                code=row[key].strip().upper(),
                authority_code=row["utla_code"].strip(),
                candidates=candidates,
            )

    def _exceptions(self, *, path: Path) -> Iterator[PostcodeException]:
        for _line, row in self._rows(path=path, columns=EXCEPTION_COLUMNS):
            yield PostcodeException(postcode=row["postcode"].strip().upper(), authority_code=row["utla_code"].strip())

    def _remove_stale_postcode_rows(self, *, areas: list[PostcodeArea], exceptions: list[PostcodeException]) -> int:
        removed = 0
        wanted_areas = {(area.level, area.code) for area in areas}
        stale_area_ids = [
            pk
            for pk, level, code in PostcodeArea.objects.values_list("pk", "level", "code")
            if (level, code) not in wanted_areas
        ]
        wanted_postcodes = {exception.postcode for exception in exceptions}
        stale_postcodes = [
            postcode
            for postcode in PostcodeException.objects.values_list("postcode", flat=True)
            if postcode not in wanted_postcodes
        ]
        for start in range(0, len(stale_area_ids), BATCH_SIZE):
            removed += PostcodeArea.objects.filter(pk__in=stale_area_ids[start : start + BATCH_SIZE]).delete()[0]
        for start in range(0, len(stale_postcodes), BATCH_SIZE):
            batch = stale_postcodes[start : start + BATCH_SIZE]
            removed += PostcodeException.objects.filter(postcode__in=batch).delete()[0]
        return removed
