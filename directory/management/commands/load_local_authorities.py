"""Load England's children's-services authorities and the postcode routing tables.

The data folder is described in its own SOURCES.md. Rerunning is safe: authorities are upserted by
GSS code so their primary keys (which cases and officers reference) never change, and none is ever
deleted. The postcode tables reference nothing, so rows that a newer data release dropped are removed:
a stale exception would otherwise keep routing a postcode to the wrong council.
"""

import csv
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from directory.models import LocalAuthority, PostcodeArea, PostcodeException

AUTHORITIES_FILE = "utla_england.csv"
DISTRICTS_FILE = "postcode_district_to_utla.csv"
SECTORS_FILE = "postcode_sector_to_utla.csv"
EXCEPTIONS_FILE = "postcode_unit_utla_exceptions.csv"

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

        authorities = list(self._authorities(path=paths[AUTHORITIES_FILE]))
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
        summary = (
            f"Loaded {len(authorities)} local authorities ({new_count} new"
            + (f", {kept_count} not in the data kept" if kept_count else "")
            + f"), {districts} postcode districts, {len(areas) - districts} postcode sectors"
            + f" and {len(exceptions)} postcode exceptions"
            + (f"; removed {removed} stale postcode rows" if removed else "")
            + f" from {directory} in {time.perf_counter() - started:.1f}s."
        )
        self.stdout.write(summary)

    def _check_files(self, *, directory: Path) -> dict[str, Path]:
        if not directory.is_dir():
            raise CommandError(f"Local authority data folder not found: {directory}")
        paths = {name: directory / name for name in (AUTHORITIES_FILE, DISTRICTS_FILE, SECTORS_FILE, EXCEPTIONS_FILE)}
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

    def _authorities(self, *, path: Path) -> Iterator[LocalAuthority]:
        for line, row in self._rows(path=path, columns=AUTHORITY_COLUMNS):
            gss_code = row["gss_code"].strip()
            if not gss_code.startswith("E"):
                raise CommandError(f"{path.name} line {line}: {gss_code!r} is not an English GSS code.")
            yield LocalAuthority(
                gss_code=gss_code,
                name=row["name"].strip(),
                official_name=row["official_name"].strip(),
                kind=row["type"].strip(),
                region=row["region"].strip(),
                mysociety_code=row["mysociety_code"].strip(),
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
