"""Rows written before reporter times were kept to the day (core.timetrail): coarsen them the same way.

Days are London days. Unrouted urgent reports first get their urgent clock from the old exact time. The
audit trail is append-only and hash-chained, so events written before this keep their times; the README's
"Time trail" section says so.
"""

# ruff: noqa: S608 - the SQL is built from constants in this file only; no value comes from outside
from django.db import migrations

DAY = "(date_trunc('day', {column} AT TIME ZONE 'Europe/London') AT TIME ZONE 'Europe/London')"
DAY_END = (
    "(date_trunc('day', {column} AT TIME ZONE 'Europe/London') + interval '23:59:59') AT TIME ZONE 'Europe/London'"
)
IN_TRIAGE = "('new', 'in_triage', 'awaiting_reporter')"

SQL = [
    # The urgent clock of a report not routed yet, from its exact time, before that time goes.
    """UPDATE reports_report SET urgent_triage_due_at = submitted_at + interval '1 hour'
       WHERE status = 'received' AND child_at_immediate_risk AND urgent_triage_due_at IS NULL""",
    f"UPDATE reports_report SET submitted_at = {DAY.format(column='submitted_at')}",
    f"UPDATE reports_retaliationcheckin SET due_at = {DAY.format(column='due_at')}",
    f"UPDATE triage_case SET created_at = {DAY.format(column='created_at')}",
    f"UPDATE triage_case SET reporter_feedback_due_at = {DAY_END.format(column='reporter_feedback_due_at')}",
    # A met triage clock keeps the day; a running standard one ends with its day (at most a day longer).
    f"UPDATE triage_case SET triage_due_at = {DAY.format(column='triage_due_at')} WHERE status NOT IN {IN_TRIAGE}",
    f"""UPDATE triage_case SET triage_due_at = {DAY_END.format(column="triage_due_at")}
        WHERE status IN {IN_TRIAGE} AND priority <> 'urgent'""",
    f"""UPDATE triage_escalation SET deadline = {DAY.format(column="deadline")}
        WHERE step = 'triage_overdue'
          AND case_id IN (SELECT id FROM triage_case WHERE status NOT IN {IN_TRIAGE})""",
    f"UPDATE triage_caselink SET created_at = {DAY.format(column='created_at')} WHERE linked_by_id IS NULL",
    f"""UPDATE triage_outboxmessage SET created_at = {DAY.format(column="created_at")},
        processed_at = {DAY.format(column="processed_at")}""",
    f"""UPDATE triage_emailrecord SET created_at = {DAY.format(column="created_at")},
        sent_at = {DAY.format(column="sent_at")} WHERE recipient = 'reporter'""",
]


class Migration(migrations.Migration):
    dependencies = [
        ("triage", "0009_moved_to_lower_layers"),
        ("reports", "0006_idempotency_sent_drafts_urgent_clock"),
        ("outbox", "0002_sweeps_not_clock"),
    ]

    operations = [migrations.RunSQL(statement, reverse_sql=migrations.RunSQL.noop) for statement in SQL]
