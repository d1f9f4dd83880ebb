# The mailbox's read state (issue 27, "a mailbox that shows it was read"): the day the helpline read each of
# the reporter's messages, whether the reporter has read each of the helpline's (yes or no, never when), and
# whether the unread nudge was taken for it.

from django.db import migrations, models

# Messages written before this: a reporter's message the helpline answered was read by the day of its answer;
# a helpline message the reporter answered was read. A helpline message more than 14 days old (10 working
# days are at least 14) is never nudged about now: nothing would be gained by a reminder of an old message.
READ_STATE_OF_EARLIER_MESSAGES = """
UPDATE reports_message AS m SET read_by_helpline_on = (
    SELECT MIN(h.sent_on) FROM reports_message AS h
    WHERE h.report_id = m.report_id AND h.direction = 'from_helpline' AND h.id > m.id
)
WHERE m.direction = 'from_reporter';

UPDATE reports_message AS m SET read_by_reporter = TRUE
WHERE m.direction = 'from_helpline' AND EXISTS (
    SELECT 1 FROM reports_message AS r
    WHERE r.report_id = m.report_id AND r.direction = 'from_reporter' AND r.id > m.id
);

UPDATE reports_message SET reporter_nudged = TRUE
WHERE direction = 'from_helpline' AND NOT read_by_reporter AND sent_on < CURRENT_DATE - 14;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0013_receipts"),
    ]

    operations = [
        migrations.AddField(
            model_name="message",
            name="read_by_helpline_on",
            field=models.DateField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="message",
            name="read_by_reporter",
            field=models.BooleanField(default=False),
        ),
        migrations.AddField(
            model_name="message",
            name="reporter_nudged",
            field=models.BooleanField(default=False),
        ),
        migrations.AlterField(
            model_name="message",
            name="direction",
            field=models.CharField(
                choices=[("from_reporter", "You"), ("from_helpline", "Helpline adviser")], max_length=16
            ),
        ),
        migrations.RunSQL(READ_STATE_OF_EARLIER_MESSAGES, reverse_sql=migrations.RunSQL.noop),
        migrations.AddIndex(
            model_name="message",
            index=models.Index(
                condition=models.Q(("direction", "from_reporter"), ("read_by_helpline_on__isnull", True)),
                fields=["report"],
                name="reports_msg_unread_helpline",
            ),
        ),
        migrations.AddIndex(
            model_name="message",
            index=models.Index(
                condition=models.Q(
                    ("direction", "from_helpline"), ("read_by_reporter", False), ("reporter_nudged", False)
                ),
                fields=["sent_on"],
                name="reports_msg_unread_reporter",
            ),
        ),
    ]
