"""Load authorities' referral inboxes and telephone numbers from a CSV, so a deployer can set all 153 at once.

    manage.py import_authority_contacts contacts.csv [--dry-run]

The file has a header row: ``gss_code`` (current or former) and any of ``referral_email``,
``emergency_duty_phone``, ``childrens_services_contact``. A column left out, or an empty cell, leaves that
value as it is; ``-`` clears it. Every row is checked before anything is written: one bad row and nothing
changes (the errors name each row). The import is one audit event with counts only.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.validators import validate_email
from django.db import transaction

from audit.trail import event_record
from directory.models import LocalAuthority
from directory.phones import PhoneInvalid, phone_normalise

FIELDS = ("referral_email", "emergency_duty_phone", "childrens_services_contact")
CLEAR = "-"


def _value(field: str, text: str) -> str:
    """The value to store for ``text`` (``CLEAR`` → ""), or ValueError with a message."""
    if text == CLEAR:
        return ""
    if field == "referral_email":
        try:
            validate_email(text)
        except ValidationError as invalid:
            raise ValueError(f"{field}: {text!r} is not an email address") from invalid
        return text.lower() if text.isascii() else text
    try:
        return phone_normalise(text)
    except PhoneInvalid as invalid:
        raise ValueError(f"{field}: {text!r}: {invalid}") from invalid


def contacts_read(path: Path) -> tuple[dict[str, dict[str, str]], list[str]]:
    """({gss_code: {field: value}}, errors) for the file at ``path``."""
    by_code: dict[str, LocalAuthority] = {}
    for each in LocalAuthority.objects.all():
        by_code[each.gss_code] = each
        for former in each.former_gss_codes:
            by_code.setdefault(former, each)
    wanted: dict[str, dict[str, str]] = {}
    errors: list[str] = []
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        columns = set(reader.fieldnames or [])
        if "gss_code" not in columns or not columns & set(FIELDS):
            raise CommandError(f"The header needs gss_code and at least one of: {', '.join(FIELDS)}")
        for line, row in enumerate(reader, start=2):
            code = (row.get("gss_code") or "").strip().upper()
            authority = by_code.get(code)
            if authority is None:
                errors.append(f"line {line}: no authority has the code {code!r}")
                continue
            values: dict[str, str] = {}
            for field in FIELDS:
                text = (row.get(field) or "").strip()
                if not text:
                    continue
                try:
                    values[field] = _value(field, text)
                except ValueError as bad:
                    errors.append(f"line {line} ({authority.gss_code}): {bad}")
            if authority.gss_code in wanted:
                errors.append(f"line {line}: {authority.name} ({authority.gss_code}) is in the file twice")
            wanted[authority.gss_code] = values
    return wanted, errors


class Command(BaseCommand):
    help = "Set local authorities' referral inboxes and telephone numbers from a CSV file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--dry-run", action="store_true", help="Check the file and say what would change.")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"There is no file at {path}")
        if not LocalAuthority.objects.exists():
            raise CommandError("There are no authorities yet: run load_local_authorities first")
        wanted, errors = contacts_read(path)
        if errors:
            raise CommandError("Nothing was changed. Fix these rows:\n" + "\n".join(errors))
        counts = {field: 0 for field in FIELDS}
        with transaction.atomic():
            for authority in LocalAuthority.objects.select_for_update().filter(gss_code__in=wanted):
                changed = [f for f, v in wanted[authority.gss_code].items() if getattr(authority, f) != v]
                for field in changed:
                    setattr(authority, field, wanted[authority.gss_code][field])
                    counts[field] += 1
                if changed and not options["dry_run"]:
                    authority.save(update_fields=changed)
            if not options["dry_run"]:
                event_record(kind="authority_contacts_imported", detail={"rows": len(wanted), "changed": counts})
        without_inbox = LocalAuthority.objects.filter(referral_email="").count()
        verb = "would change" if options["dry_run"] else "changed"
        self.stdout.write(
            f"{len(wanted)} authorities in the file; {verb}: "
            + ", ".join(f"{field} {count}" for field, count in counts.items())
            + ("" if options["dry_run"] else f". {without_inbox} authorities have no referral inbox.")
        )
