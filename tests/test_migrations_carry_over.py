"""A database written before the move to the lower layers comes through ``migrate`` intact.

The models that moved (the directory, the outbox, the throttle) kept their tables; the case events became
the audit trail (audit_event) with a subject instead of a case and a chain_version. This test builds a
throwaway database at the pre-move migrations, writes rows there with raw SQL in the old schema (a report
really sealed to the helpline key and the reporter's access code, and case events chained with the hash
of the old triage/audit.py), migrates it to the latest schema and checks that:

* every carried row is unchanged, and the moved models (directory, outbox, core) read them;
* the report still opens, both as the helpline and with the reporter's access code;
* the case events are audit events with their subjects, chain_version 1, and the chain verifies;
* an event appended after the migration verifies, and the trail is still append-only and tamper-evident.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest
from django.conf import settings
from psycopg import sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from core import crypto, keystore
from tests.live import ROOT, process_env

PRE_MOVE_TARGETS = [
    ("triage", "0008_case_list_indexes"),
    ("reports", "0004_report_pattern_indexes"),
    ("accounts", "0002_initial"),
    ("oversight", "0002_null_safe_summary_keys"),
    # The framework's apps were at their latest then too.
    *((app, None) for app in ("auth", "contenttypes", "sessions", "otp_static", "otp_totp")),
]
# Tables that keep their name and every value: (table, column to order by).
KEPT_TABLES = [
    ("accounts_user", "id"),
    ("accounts_user_authorities", "id"),
    ("triage_localauthority", "id"),
    ("triage_postcodearea", "id"),
    ("triage_postcodeexception", "postcode"),
    ("reports_report", "id"),
    ("triage_case", "id"),
    ("triage_outboxmessage", "id"),
    ("triage_workerheartbeat", "name"),
    ("reports_accessthrottle", "key"),
]
NORTH, SOUTH, OFFICER, REPORT, CASE = 701, 702, 711, 721, 731
CONTENT = {"what_happened": "Concerns were raised in March and nobody acted.", "organisation": "Northtown Care"}

# Everything but the report (whose envelope is sealed at run time). Foreign keys are checked at commit.
OLD_ROWS = f"""
INSERT INTO triage_localauthority (id, gss_code, name, official_name, kind, region, mysociety_code, gov_uk_slug,
                                   former_gss_codes, referral_email) VALUES
    ({NORTH}, 'E06000901', 'Northtown', 'Northtown Council', 'unitary', 'North East', 'NTN', 'northtown',
     '{{E06000001}}', 'mash@northtown.example'),
    ({SOUTH}, 'E06000902', 'Southtown', 'Southtown Council', 'unitary', 'South West', '', '', '{{}}', '');
INSERT INTO triage_postcodearea (level, code, authority_code, candidates)
    VALUES ('district', 'NT1', 'E06000901', '["E06000901", "E06000902"]');
INSERT INTO triage_postcodeexception (postcode, authority_code) VALUES ('NT1 9ZZ', 'E06000902');
INSERT INTO accounts_user (id, password, is_superuser, username, first_name, last_name, email, is_staff, is_active,
                           date_joined, role, area, is_demo)
    VALUES ({OFFICER}, '!', false, 'carry.officer', 'Carry', 'Over', 'carry@northtown.example', false, true,
            '2024-11-04 08:30+00', 'authority_officer', '', false);
INSERT INTO accounts_user_authorities (user_id, localauthority_id) VALUES ({OFFICER}, {NORTH});
INSERT INTO triage_case (id, case_number, independent_review, priority, status, created_at, triage_due_at,
                         reporter_feedback_due_at, referred_at, assignee_id, report_id, authority_id,
                         conflict_authority_id, queue_id, escalated_to_police, outcome, authority_outcome, escalated)
    SELECT {CASE}, '2024-K7M3QX', true, 'standard', 'referred', '2024-11-04 08:30+00', '2024-11-05 17:00+00',
           '2025-02-04 17:00+00', '2024-11-05 09:15+00', {OFFICER}, {REPORT}, {NORTH}, {SOUTH}, id, false, '', '', false
    FROM triage_queue WHERE slug = 'national';
INSERT INTO triage_outboxmessage (kind, target_id, created_at, attempts, last_error)
    VALUES ('route_report', {REPORT}, '2024-11-04 08:30+00', 2, 'SMTP 451');
INSERT INTO triage_workerheartbeat (name, beat_at) VALUES ('worker@carry', '2024-11-05 09:20+00');
INSERT INTO reports_accessthrottle (key, failures, expires_at) VALUES (repeat('c', 64), 3, '2024-11-05 10:00+00');
"""  # noqa: S608 - only the ids above are interpolated
REPORT_ROW = f"""
INSERT INTO reports_report (id, reference, channel, anonymity, reporter_sector, concern_types, child_at_immediate_risk,
                            raised_internally, organisation_hash, has_contact_email, status, submitted_at,
                            local_authority_id, content, helpline_key_id, helpline_sealed_key, reporter_kdf_salt,
                            reporter_kdf_opslimit, reporter_kdf_memlimit, reporter_wrapped_key)
    VALUES ({REPORT}, 'HX7K-29QM', 'phone', 'confidential', 'education', '{{concern_not_acted_on}}', false, 'yes',
            repeat('ab', 32), false, 'routed', '2024-11-04 08:30+00', {NORTH}, %s, %s, %s, %s, %s, %s, %s)
"""  # noqa: S608 - only the ids above are interpolated
# (case_id, actor_id, kind, detail, created_at): one event about the case, two with no case.
OLD_EVENTS = [
    (CASE, OFFICER, "case_referred", {"authority": "E06000901"}, datetime(2024, 11, 5, 9, 15, 2, 123456, tzinfo=UTC)),
    (None, None, "report_taken_by_phone", {"report_id": REPORT}, datetime(2024, 11, 5, 9, 16, tzinfo=UTC)),
    (None, OFFICER, "signed_in", {}, datetime(2024, 11, 5, 9, 17, 0, 5, tzinfo=UTC)),
]

# After the migration the app's own models read the rows back, the reporter unlocks the report, and one
# event is appended: printed as JSON for the test.
READ_BACK = """
import json, os
from accounts.models import User
from audit.trail import event_record
from core.models import AccessThrottle
from directory.models import PostcodeArea, PostcodeException
from outbox.models import OutboxMessage, WorkerHeartbeat
from reports.services import report_read, report_unlock
from triage.models import Case
user = User.objects.get(username="carry.officer")
case = Case.objects.select_related("authority", "conflict_authority", "report__local_authority").get()
report, data_key = report_unlock(reference=case.report.reference, access_code=os.environ["CARRY_CODE"], client="c")
event = event_record(kind="carry_over_checked", subject=("case", case.pk), actor=user)
print(json.dumps({
    "officer_authorities": sorted(user.authorities.values_list("gss_code", flat=True)),
    "case_authorities": [case.authority.gss_code, case.conflict_authority.gss_code],
    "report_authority": case.report.local_authority.gss_code,
    "report_content": report_read(report=report, data_key=data_key).content,
    "postcodes": [list(PostcodeArea.objects.values_list("code", "authority_code", "candidates")),
                  list(PostcodeException.objects.values_list("postcode", "authority_code"))],
    "outbox": list(OutboxMessage.objects.values_list("kind", "target_id", "attempts", "last_error")),
    "heartbeats": list(WorkerHeartbeat.objects.values_list("name", flat=True)),
    "throttle": list(AccessThrottle.objects.filter(key="c" * 64).values_list("key", "failures")),
    "appended_event_subject": [event.subject_kind, event.subject_id],
}))
"""


def old_row_hash(previous: str, case_id: int | None, actor_id: int | None, kind: str, detail: dict, at: str) -> str:
    """The hash triage/audit.py wrote before the move (git show 6999963:triage/audit.py)."""
    payload = json.dumps([previous, case_id, actor_id, kind, detail, at], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def server_conninfo(dbname: str) -> str:
    db = settings.DATABASES["default"]
    return psycopg.conninfo.make_conninfo(host=db["HOST"], port=db["PORT"], user=db["USER"], dbname=dbname)


@pytest.fixture
def carry_db() -> Iterator[str]:
    """A throwaway database on the test server, dropped afterwards whatever happens."""
    name = f"helpline_carry_{secrets.token_hex(6)}"
    with psycopg.connect(server_conninfo("postgres"), autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield name
    finally:
        with psycopg.connect(server_conninfo("postgres"), autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def manage(dbname: str, *args: str, check: bool = True, **env: str) -> subprocess.CompletedProcess[str]:
    """manage.py in its own process against ``dbname``, with the test run's key file."""
    db = settings.DATABASES["default"]
    url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{dbname}"
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=process_env(DATABASE_URL=url, **env),
        capture_output=True,
        text=True,
        timeout=300,
    )
    if check:
        assert result.returncode == 0, f"manage.py {args[0]} failed:\n{result.stdout}\n{result.stderr}"
    return result


def snapshot(conn: psycopg.Connection, table: str, order_by: str) -> list[dict]:
    query = sql.SQL("SELECT * FROM {} ORDER BY {}").format(sql.Identifier(table), sql.Identifier(order_by))
    return conn.cursor(row_factory=dict_row).execute(query).fetchall()


def write_old_data(conn: psycopg.Connection, access_code: str) -> list[int]:
    """Rows in the pre-move schema, as the old code left them; returns the case events' ids."""
    data_key = crypto.new_data_key()
    key_id, helpline_sealed = crypto.seal_key_for_helpline(data_key)
    wrap = crypto.wrap_key_for_reporter(data_key, access_code)
    envelope = [crypto.seal_content(data_key, CONTENT), key_id, helpline_sealed, wrap.salt]
    envelope += [wrap.params.opslimit, wrap.params.memlimit, wrap.wrapped_key]
    event_ids, previous = [], "0" * 64
    with conn.transaction():
        conn.execute(REPORT_ROW, envelope)
        conn.execute(OLD_ROWS)
        for case_id, actor_id, kind, detail, created_at in OLD_EVENTS:
            row_hash = old_row_hash(previous, case_id, actor_id, kind, detail, created_at.isoformat())
            inserted = conn.execute(
                "INSERT INTO triage_caseevent (case_id, actor_id, kind, detail, created_at, previous_hash, row_hash)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id",
                [case_id, actor_id, kind, Jsonb(detail), created_at, previous, row_hash],
            )
            event_ids.append(inserted.fetchone()[0])
            previous = row_hash
    return event_ids


# The case's columns that moved to its referral.
# A staff account's region gave way to a safeguarding partnership (accounts 0010-0012): the officer here had
# none, and tests/accounts/test_partnerships.py follows a board reviewer's.
SCOPE_MOVED = {"area"}
# A routed report's data key left the helpline key for a custody key (triage 0018): followed below.
CUSTODY_MOVED = {"helpline_key_id", "helpline_sealed_key"}
REFERRAL_STATE = {
    "referred_at",
    "authority_ack_due_at",
    "authority_outcome_due_at",
    "authority_ack_escalate_at",
    "authority_outcome_escalate_at",
    "authority_acknowledged_at",
    "authority_outcome",
    "authority_outcome_at",
}
# Reporter times that triage 0010 keeps to the (London) day, by table.
LONDON = ZoneInfo("Europe/London")
DAY_ONLY = {
    "reports_report": {"submitted_at"},
    "triage_case": {"created_at", "reporter_feedback_due_at", "triage_due_at"},
    "triage_outboxmessage": {"created_at", "processed_at"},
}


def day_kept(table: str, row: dict[str, Any]) -> dict[str, Any]:
    return {
        column: value.astimezone(LONDON).date() if column in DAY_ONLY.get(table, ()) and value is not None else value
        for column, value in row.items()
    }


@pytest.mark.slow
@pytest.mark.isolated
def test_a_pre_move_database_migrates_with_its_rows_keys_and_audit_chain(carry_db, fast_kdf):
    access_code = crypto.generate_access_code()
    # One process, one migrate per app to its pre-move target: the move's migrations are never applied.
    calls = [f"call_command('migrate', *{[p for p in pair if p]!r}, verbosity=0)" for pair in PRE_MOVE_TARGETS]
    script = "\n".join(["from django.core.management import call_command", *calls])
    manage(carry_db, "shell", "--no-imports", "-c", script)

    with psycopg.connect(server_conninfo(carry_db), autocommit=True) as conn:
        moved = conn.execute(
            "SELECT app, name FROM django_migrations WHERE app IN ('audit', 'core', 'directory', 'outbox')"
            " OR name LIKE '%moved_to_lower_layers' OR name LIKE '%authorities_from_the_directory'"
        ).fetchall()
        assert moved == [], "the pre-move database must not have the move's migrations"
        event_ids = write_old_data(conn, access_code)
        before = {table: snapshot(conn, table, key) for table, key in KEPT_TABLES}
        events_before = snapshot(conn, "triage_caseevent", "id")
    assert [len(before[table]) for table, _ in KEPT_TABLES] == [1, 1, 2, 1, 1, 1, 1, 1, 1, 1]

    manage(carry_db, "migrate", "--no-input")

    with psycopg.connect(server_conninfo(carry_db), autocommit=True) as conn:
        after = {table: snapshot(conn, table, key) for table, key in KEPT_TABLES}
        for table, _ in KEPT_TABLES:
            # Columns added by later migrations (e.g. the outbox's sweep count) are not the move's concern,
            # and the times a later migration kept to the day (triage 0010) must keep their day.
            # The referral's state left the case for the referral (referrals 0002-0004, triage 0014): the
            # test below follows it there.
            kept = [
                {column: row[column] for column in old if column not in REFERRAL_STATE | SCOPE_MOVED | CUSTODY_MOVED}
                for row, old in zip(after[table], before[table], strict=True)
            ]
            before[table] = [
                {
                    column: value
                    for column, value in row.items()
                    if column not in REFERRAL_STATE | SCOPE_MOVED | CUSTODY_MOVED
                }
                for row in before[table]
            ]
            assert [day_kept(table, row) for row in kept] == [day_kept(table, row) for row in before[table]], (
                f"{table} changed in the migration"
            )
            for row in kept:
                for column in DAY_ONLY.get(table, ()):
                    local = row[column].astimezone(LONDON) if row[column] else None
                    assert local is None or local.time() in (time(0), time(23, 59, 59)), (table, column, local)
        assert conn.execute("SELECT to_regclass('triage_caseevent')").fetchone()[0] is None
        events_after = snapshot(conn, "audit_event", "id")

    # The carried events: the same rows and hashes, each with its subject, in chain version 1.
    assert [event["id"] for event in events_after] == event_ids
    subjects = [("case", CASE), ("report", REPORT), ("", None)]
    for old, new, subject in zip(events_before, events_after, subjects, strict=True):
        assert (new.pop("subject_kind"), new.pop("subject_id"), new.pop("chain_version")) == (*subject, 1)
        assert new == {column: value for column, value in old.items() if column != "case_id"}

    # The sealed content still opens, as the helpline (now through the open-cases key: the routed report's
    # helpline-sealed copy is gone) and with the reporter's access code.
    report = after["reports_report"][0]
    assert report["helpline_key_id"] == "" and bytes(report["helpline_sealed_key"]) == b""
    folder = Path(settings.CUSTODY_KEY_DIR or Path(settings.BASE_DIR) / "var" / "custody-keys" / carry_db)
    custody_key = keystore.FolderKeyStore(folder).load(report["custody_key_id"])
    assert custody_key is not None and report["custody_key_id"].startswith("open-")
    data_key = crypto.open_key_with(custody_key, bytes(report["custody_wrapped_key"]))
    assert crypto.open_content(data_key, report["content"]) == CONTENT
    params = crypto.KdfParams(report["reporter_kdf_opslimit"], report["reporter_kdf_memlimit"])
    wrap = crypto.ReporterWrap(report["reporter_kdf_salt"], params, report["reporter_wrapped_key"])
    assert crypto.unwrap_key_for_reporter(wrap, access_code) == data_key

    assert "3 events verified" in manage(carry_db, "verify_audit").stdout

    # The moved models read the same rows; the reporter's unlock works; an event appended now verifies.
    read_back = json.loads(manage(carry_db, "shell", "--no-imports", "-c", READ_BACK, CARRY_CODE=access_code).stdout)
    assert read_back == {
        "officer_authorities": ["E06000901"],
        "case_authorities": ["E06000901", "E06000902"],
        "report_authority": "E06000901",
        "report_content": CONTENT,
        "postcodes": [[["NT1", "E06000901", ["E06000901", "E06000902"]]], [["NT1 9ZZ", "E06000902"]]],
        "outbox": [["route_report", REPORT, 2, "SMTP 451"]],
        "heartbeats": ["worker@carry"],
        "throttle": [["c" * 64, 3]],
        "appended_event_subject": ["case", CASE],
    }
    assert "4 events verified" in manage(carry_db, "verify_audit").stdout

    # Still append-only; and with the trigger off, pointing the report row at another report is detected.
    report_event = event_ids[1]
    with psycopg.connect(server_conninfo(carry_db), autocommit=True) as conn:
        with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
            conn.execute("UPDATE audit_event SET kind = 'x' WHERE id = %s", [report_event])
        # A database migrated the production way keeps the TRUNCATE guard (the test database drops it).
        with pytest.raises(psycopg.errors.RaiseException, match="TRUNCATE refused"):
            conn.execute("TRUNCATE audit_event")
        conn.execute("ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only")
        conn.execute("UPDATE audit_event SET subject_id = subject_id + 1000 WHERE id = %s", [report_event])
        conn.execute("ALTER TABLE audit_event ENABLE TRIGGER audit_event_append_only")
    tampered = manage(carry_db, "verify_audit", check=False)
    assert tampered.returncode != 0
    assert f"event {report_event}: row subject does not match its hash" in tampered.stderr

    # Clearing the subject (dropping the row out of the report's history) is detected too.
    with psycopg.connect(server_conninfo(carry_db), autocommit=True) as conn:
        conn.execute("ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only")
        conn.execute("UPDATE audit_event SET subject_kind = '', subject_id = NULL WHERE id = %s", [report_event])
        conn.execute("ALTER TABLE audit_event ENABLE TRIGGER audit_event_append_only")
    cleared = manage(carry_db, "verify_audit", check=False)
    assert cleared.returncode != 0
    assert f"event {report_event}: row subject does not match its hash" in cleared.stderr


# --- the referral's state moves from the case to the referral (referrals 0001-0004, triage 0015) ----------

BEFORE_REFERRALS = [("triage", "0013_emailrecord_to_notify"), ("oversight", "0005_stored_statistics")]
# Writes cases in the schema before referrals owned their state, through the historical models of that
# state (so every column the schema had gets a value), and prints the ids as JSON.
OLD_REFERRALS = """
import json
from datetime import datetime, timedelta, timezone
from django.core.management import call_command
from django.db import connection, models
from django.db.migrations.executor import MigrationExecutor

TARGETS = %(targets)r
for app, name in TARGETS:
    call_command("migrate", app, name, verbosity=0)
apps = MigrationExecutor(connection).loader.project_state(TARGETS).apps
T0 = datetime(2025, 3, 3, 9, 0, tzinfo=timezone.utc)
DAY = timedelta(days=1)

def make(model, **given):
    values = {}
    for field in apps.get_model(*model.split("."))._meta.concrete_fields:
        if field.name in given or field.attname in given or field.null or field.has_default() or field.primary_key:
            continue
        kind = field.get_internal_type()
        values[field.name] = 1 if kind.endswith("IntegerField") else {
            "BinaryField": b"sealed", "DateTimeField": T0, "BooleanField": False, "JSONField": {},
            "ArrayField": [], "DateField": T0.date(),
        }.get(kind, "x")
    values.update(given)
    return apps.get_model(*model.split(".")).objects.create(**values)

north = make("directory.LocalAuthority", gss_code="E06000901", name="Northtown", region="North East")
south = make("directory.LocalAuthority", gss_code="E06000902", name="Southtown", region="South West")
handler = make("accounts.User", username="carry.handler", role="call_handler")
Queue = apps.get_model("triage", "Queue")
queue = Queue.objects.get_or_create(slug="national", defaults={"name": "National", "kind": "national"})[0]
numbers = iter(range(1, 100))
from core import crypto
KEY_ID, SEALED_KEY = crypto.seal_key_for_helpline(crypto.new_data_key())

def case(**given):
    given = {"outcome": "", "authority_outcome": "", **given}
    n = next(numbers)
    report = make("reports.Report", reference=f"HX7K-{n:04d}", local_authority=north, submitted_at=T0,
                  helpline_key_id=KEY_ID, helpline_sealed_key=SEALED_KEY,
                    concern_types=["concern_not_acted_on"])
    return make("triage.Case", case_number=f"2025-CARRY{n}", report=report, authority=north, queue=queue,
                priority="standard", created_at=T0, triage_due_at=T0 + DAY, reporter_feedback_due_at=T0 + 90 * DAY,
                **given)

def referral(on, at, authority=north):
    return make("triage.Referral", case=on, authority=authority, summary=b"sealed-summary", referred_by=handler,
                referred_at=at)

def action(on, kind, at):
    return make("triage.AuthorityAction", case=on, kind=kind, recorded_by=handler, created_at=at, note=b"")

# Once: referred, acknowledged, a question asked, the first rung of the outcome ladder taken.
once = case(status="referred", referred_at=T0, authority_ack_due_at=T0 + DAY, authority_ack_escalate_at=T0 + 3 * DAY,
            authority_outcome_due_at=T0 + 60 * DAY, authority_outcome_escalate_at=T0 + 62 * DAY,
            authority_acknowledged_at=T0 + DAY / 2)
once_referral = referral(once, T0)
once_actions = [action(once, "acknowledged", T0 + DAY / 2).pk, action(once, "question", T0 + DAY).pk]
make("triage.Escalation", case=once, step="outcome_overdue", deadline=T0 + 60 * DAY, created_at=T0 + 61 * DAY)
make("triage.Escalation", case=once, step="triage_overdue", deadline=T0 + DAY, created_at=T0 + DAY)
# Twice: referred, reopened, referred again; the authority answered the second referral.
T2 = T0 + 10 * DAY
twice = case(status="referred", referred_at=T2, authority_ack_due_at=T2 + DAY, authority_ack_escalate_at=T2 + 3 * DAY,
             authority_outcome_due_at=T2 + 60 * DAY, authority_outcome_escalate_at=T2 + 62 * DAY,
             authority_acknowledged_at=T2 + DAY, authority_outcome="early_help", authority_outcome_at=T2 + 5 * DAY)
first, second = referral(twice, T0), referral(twice, T2)
twice_actions = [action(twice, "acknowledged", T0 + DAY).pk, action(twice, "outcome", T2 + 5 * DAY).pk]
# Legacy: marked referred with no referral row; and a case never referred.
legacy = case(status="closed", referred_at=T0, authority_ack_due_at=T0 + DAY, authority_ack_escalate_at=T0 + 3 * DAY,
              authority_outcome_due_at=T0 + 60 * DAY, authority_outcome_escalate_at=T0 + 62 * DAY,
              assignee=handler, closed_at=T0 + 20 * DAY, outcome="no_further_action")
never = case(status="in_triage")
print(json.dumps({"once": once.pk, "once_referral": once_referral.pk, "once_actions": once_actions,
                  "twice": twice.pk, "first": first.pk, "second": second.pk, "twice_actions": twice_actions,
                  "legacy": legacy.pk, "never": never.pk, "handler": handler.pk}))
"""
READ_REFERRALS = """
import json
from django.db import connection
from referrals.models import AuthorityAction, Referral, ReferralEscalation
from triage.models import Case, Escalation

def when(moment):
    return moment.isoformat() if moment else None

print(json.dumps({
    "referrals": [
        {"id": r.id, "case": r.case_id, "authority": r.authority.gss_code, "status": r.status,
         "ack_due_at": when(r.ack_due_at), "ack_escalate_at": when(r.ack_escalate_at),
         "outcome_due_at": when(r.outcome_due_at), "acknowledged_at": when(r.acknowledged_at),
         "outcome": r.outcome, "outcome_at": when(r.outcome_at), "withdrawn_at": when(r.withdrawn_at),
         "summary": bytes(r.summary).decode(), "referred_by": r.referred_by_id}
        for r in Referral.objects.order_by("case_id", "referred_at", "id")
    ],
    "actions": {str(a.id): a.referral_id for a in AuthorityAction.objects.all()},
    "referral_escalations": [[e.referral_id, e.step, when(e.deadline)] for e in ReferralEscalation.objects.all()],
    "case_escalations": sorted(Escalation.objects.values_list("step", flat=True)),
    "case_columns": [
        column.name for column in connection.introspection.get_table_description(connection.cursor(), "triage_case")
    ],
}))
"""


@pytest.mark.slow
@pytest.mark.isolated
def test_each_cases_referral_state_moves_onto_its_referral(carry_db, fast_kdf):
    script = OLD_REFERRALS % {"targets": BEFORE_REFERRALS}
    ids = json.loads(manage(carry_db, "shell", "--no-imports", "-c", script).stdout)
    manage(carry_db, "migrate", "--no-input")
    after = json.loads(manage(carry_db, "shell", "--no-imports", "-c", READ_REFERRALS).stdout)

    day = "2025-03-0{}T09:00:00+00:00".format
    by_id = {row["id"]: row for row in after["referrals"]}
    once = by_id[ids["once_referral"]]
    assert once == {
        "id": ids["once_referral"],
        "case": ids["once"],
        "authority": "E06000901",
        "status": "acknowledged",
        "ack_due_at": day(4),
        "ack_escalate_at": day(6),
        "outcome_due_at": "2025-05-02T09:00:00+00:00",
        "acknowledged_at": "2025-03-03T21:00:00+00:00",
        "outcome": "",
        "outcome_at": None,
        "withdrawn_at": None,
        "summary": "sealed-summary",
        "referred_by": ids["handler"],
    }
    # Referred twice: the earlier referral was superseded (withdrawn when the second was made), the latest
    # has the case's state; each thread entry is on the referral current when it was written.
    first, second = by_id[ids["first"]], by_id[ids["second"]]
    assert (first["status"], first["withdrawn_at"], first["outcome"]) == ("withdrawn", "2025-03-13T09:00:00+00:00", "")
    assert (second["status"], second["outcome"], second["outcome_at"]) == (
        "outcome_recorded",
        "early_help",
        "2025-03-18T09:00:00+00:00",
    )
    assert first["ack_due_at"] is not None and first["ack_due_at"] < second["ack_due_at"]
    assert [after["actions"][str(pk)] for pk in ids["once_actions"]] == [ids["once_referral"]] * 2
    assert [after["actions"][str(pk)] for pk in ids["twice_actions"]] == [ids["first"], ids["second"]]
    # A case marked referred with no referral row gets one, made by its assignee, with no summary; closed
    # before the authority answered, it is withdrawn.
    (legacy,) = [row for row in after["referrals"] if row["case"] == ids["legacy"]]
    assert (legacy["status"], legacy["summary"], legacy["referred_by"]) == ("withdrawn", "", ids["handler"])
    assert legacy["ack_due_at"] == day(4) and legacy["withdrawn_at"] == "2025-03-23T09:00:00+00:00"
    assert not [row for row in after["referrals"] if row["case"] == ids["never"]]
    assert len(after["referrals"]) == 4
    # The authority's ladder moved to the referral; the helpline's stayed on the case.
    assert after["referral_escalations"] == [[ids["once_referral"], "outcome_overdue", "2025-05-02T09:00:00+00:00"]]
    assert after["case_escalations"] == ["triage_overdue"]
    moved = {"referred_at", "authority_ack_due_at", "authority_outcome_due_at", "authority_acknowledged_at"}
    assert not moved & set(after["case_columns"])
