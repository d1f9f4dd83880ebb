"""Writing planned rows fast: binary PostgreSQL COPY (psycopg 3), one batch per transaction.

COPY skips the ORM and everything it would check, so what the database would otherwise guarantee is
done here: every column is filled (or the run stops before it starts), ids come from the tables' own
sequences, and references and case numbers are unique within a batch, among the batches being written
by other connections and against the rows already there.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Iterable
from typing import Any

from django.core.management.base import CommandError
from django.db import connection, models, transaction

from devdata.seeding import rules
from devdata.seeding.generator import CustodyWraps, Planned
from outbox.models import OutboxMessage
from referrals.models import Referral
from reports.models import ENVELOPE_FIELDS, Report
from triage.models import Case

REPORT_FIELDS = (
    "id",
    "reference",
    "channel",
    "anonymity",
    "reporter_sector",
    "concern_types",
    "local_authority_id",
    "about_authority_id",
    "child_at_immediate_risk",
    "raised_internally",
    "already_reported",
    "organisation_hash",
    "organisation_hash_key_id",
    "has_contact_email",
    "status",
    "submitted_at",
    "content",
    *ENVELOPE_FIELDS,
)
CASE_FIELDS = (
    "id",
    "case_number",
    "report_id",
    "authority_id",
    "conflict_authority_id",
    "independent_review",
    "priority",
    "status",
    "queue_id",
    "assignee_id",
    "created_at",
    "triage_due_at",
    "reporter_feedback_due_at",
    "closed_at",
    "outcome",
    "escalated",
    "escalated_to_police",
    "destroy_on",
)


class Table:
    """A model's table as COPY sees it: every column the database has, in model order. Values not given
    per row take the field's default; a required column without one stops the run before it starts."""

    def __init__(self, model: type[models.Model], given: Iterable[str]) -> None:
        table = model._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT attname, format_type(atttypid, NULL) FROM pg_attribute "
                "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
                [table],
            )
            types = dict(cursor.fetchall())
        fields = [f for f in model._meta.concrete_fields if str(f.column) in types]
        given = set(given)
        missing = [f.name for f in fields if f.attname not in given and not f.null and f.get_default() is None]
        if missing:
            raise CommandError(f"seed_cases does not know how to fill {table}.{', '.join(missing)}: update it.")
        self.table = table
        self.attnames = [f.attname for f in fields]
        self.defaults = {f.attname: (None if f.null else f.get_default()) for f in fields}
        # Binary COPY: bytea goes as it is (no hex), and dumping is cheaper on both sides.
        self.types = [types[str(f.column)] for f in fields]
        qn = connection.ops.quote_name
        columns = ", ".join(qn(str(f.column)) for f in fields)
        self.copy_sql = f"COPY {qn(table)} ({columns}) FROM STDIN (FORMAT BINARY)"
        self.sequence_sql = f"pg_get_serial_sequence('{table}', 'id')"

    def row(self, values: dict[str, Any]) -> tuple[Any, ...]:
        defaults = self.defaults
        return tuple(values[name] if name in values else defaults[name] for name in self.attnames)

    def reserve_ids(self, count: int) -> list[int]:
        """``count`` ids from the table's own sequence, so concurrent inserts never collide with ours."""
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT nextval({self.sequence_sql}) FROM generate_series(1, %s)", [count])  # noqa: S608
            return [row[0] for row in cursor.fetchall()]

    def copy(self, rows: Iterable[tuple[Any, ...]]) -> None:
        with connection.cursor() as cursor, cursor.copy(self.copy_sql) as copy:
            copy.set_types(self.types)
            for row in rows:
                copy.write_row(row)

    def sequence_check(self) -> None:
        """The sequence must be past every id (ours came from it; an explicit id from elsewhere may not)."""
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT setval(seq, top) FROM (SELECT {self.sequence_sql} AS seq, "  # noqa: S608
                f"(SELECT max(id) FROM {self.table}) AS top) AS t "
                "WHERE top > COALESCE(pg_sequence_last_value(seq::regclass), 0)"
            )


REFERRAL_FIELDS = (
    "id",
    "case_id",
    "authority_id",
    "summary",
    "identity_shared",
    "particulars",
    "referred_by_id",
    "referred_at",
    "status",
    "ack_due_at",
    "ack_escalate_at",
    "outcome_due_at",
    "outcome_escalate_at",
    "acknowledged_at",
    "outcome",
    "outcome_at",
    "withdrawn_at",
    "escalated",
)


# A report not routed yet has the outbox row that routes it, as report_submit leaves it.
OUTBOX_FIELDS = ("id", "kind", "target_id", "created_at")


def report_and_case_tables() -> tuple[Table, Table, Table]:
    return Table(Report, REPORT_FIELDS), Table(Case, CASE_FIELDS), Table(Referral, REFERRAL_FIELDS)


def outbox_table() -> Table:
    return Table(OutboxMessage, OUTBOX_FIELDS)


class Claims:
    """Unique-column values held by batches not yet committed, across writer threads: a batch's
    values are checked against these (and against the table), so two batches in flight never clash."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.held: set[str] = set()

    def release(self, values: set[str]) -> None:
        with self.lock:
            self.held -= values


def new_claims() -> dict[str, Claims]:
    """One set of claims per unique column, shared by every writer of a run."""
    return {"reference": Claims(), "case_number": Claims()}


def unique(
    planned: list[Planned],
    *,
    column: str,
    table: str,
    key: Callable[[Planned], dict[str, Any]],
    make: Callable[[Planned], str],
    claims: Claims,
    mine: set[str],
) -> int:
    """Make every planned row's ``column`` value unique: within the batch, among the batches being
    written and in ``table``. Values claimed are added to ``mine`` (release them after the commit).
    Returns how many values had to be drawn again."""
    again: dict[int, Planned] = {}
    fresh: set[str] = set()
    with claims.lock:
        for item in planned:
            value = key(item)[column]
            if value in claims.held:
                again[id(item)] = item
            else:
                claims.held.add(value)
                fresh.add(value)
    mine |= fresh
    candidates, redrawn = planned, 0
    while True:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {column} FROM {table} WHERE {column} = ANY(%s)", [list(fresh)])  # noqa: S608
            taken = {row[0] for row in cursor.fetchall()}
        again.update((id(item), item) for item in candidates if key(item)[column] in taken)
        if not again:
            return redrawn
        fresh = set()
        with claims.lock:
            for item in again.values():
                value = make(item)
                while value in claims.held:
                    value = make(item)
                key(item)[column] = value
                claims.held.add(value)
                fresh.add(value)
                redrawn += 1
        mine |= fresh
        candidates, again = list(again.values()), {}


def _case_of(item: Planned) -> dict[str, Any]:
    assert item.case is not None  # noqa: S101 - routed items only
    return item.case


def write_batch(
    planned: list[Planned],
    reports: Table,
    cases: Table,
    claims: dict[str, Claims],
    rng: random.Random,
    referrals: Table | None = None,
    *,
    custody: CustodyWraps,
    outbox: Table | None = None,
) -> int:
    """One batch, one transaction: unique references and case numbers, ids, then COPY. Returns how many
    identifiers had to be drawn again. Routed reports get their data key under their custody key from
    ``custody`` (first, outside the transaction); reports not routed yet get their outbox row."""
    size = len(planned)
    routed = [item for item in planned if item.case is not None]
    unrouted = [item for item in planned if item.case is None]
    custody.fill(routed)
    if any(item.report["helpline_sealed_key"] or not item.report["custody_wrapped_key"] for item in routed):
        raise CommandError("seed_cases: a routed report's data key must sit under its custody key alone")
    if unrouted and outbox is None:
        raise CommandError("seed_cases: reports not routed yet need the outbox table")
    held: dict[str, set[str]] = {"reference": set(), "case_number": set()}
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                # Seed data: a crash loses at most the last batches; no need to wait for the disk.
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
            redrawn = unique(
                planned,
                column="reference",
                table=reports.table,
                key=lambda item: item.report,
                make=lambda item: rules.reference(rng),
                claims=claims["reference"],
                mine=held["reference"],
            )
            redrawn += unique(
                routed,
                column="case_number",
                table=cases.table,
                key=_case_of,
                make=lambda item: rules.case_number(rng, item.report["submitted_at"].year),
                claims=claims["case_number"],
                mine=held["case_number"],
            )
            for item, report_id in zip(planned, reports.reserve_ids(size), strict=True):
                item.report["id"] = report_id
            for item, case_id in zip(routed, cases.reserve_ids(len(routed)), strict=True):
                assert item.case is not None  # noqa: S101 - filtered above
                item.case["id"] = case_id
                item.case["report_id"] = item.report["id"]
            reports.copy(reports.row(item.report) for item in planned)
            cases.copy(cases.row(item.case) for item in routed if item.case is not None)
            if outbox is not None and unrouted:
                for item, outbox_id in zip(unrouted, outbox.reserve_ids(len(unrouted)), strict=True):
                    assert item.outbox is not None  # noqa: S101 - every unrouted report has one
                    item.outbox["id"] = outbox_id
                    item.outbox["target_id"] = item.report["id"]
                outbox.copy(outbox.row(item.outbox) for item in unrouted if item.outbox is not None)
            referred = [item for item in planned if item.referral is not None]
            if referrals is not None and referred:
                for item, referral_id in zip(referred, referrals.reserve_ids(len(referred)), strict=True):
                    assert item.referral is not None  # noqa: S101 - filtered above
                    item.referral["id"] = referral_id
                    item.referral["case_id"] = _case_of(item)["id"]
                referrals.copy(referrals.row(item.referral) for item in referred if item.referral is not None)
    finally:
        for column, values in held.items():
            claims[column].release(values)
    return redrawn
