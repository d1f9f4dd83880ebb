"""Routed reports' data keys leave the long-lived helpline key (core.keystore): an open case's goes under the
open-cases key, a closed case's under the epoch key of its destruction month, and the helpline-sealed copy is
removed. Runs with the helpline's private keys and the custody key store, as the staff service and workers do."""

from django.db import migrations
from django.db.models import Max
from django.utils import timezone


def forwards(apps, schema_editor):
    from core import crypto, keystore
    from triage.retention import due_day

    Case = apps.get_model("triage", "Case")
    Message = apps.get_model("reports", "Message")
    Attachment = apps.get_model("reports", "Attachment")
    Report = apps.get_model("reports", "Report")
    pending = Case.objects.filter(report__custody_key_id="").exclude(report__helpline_key_id="")
    if not pending.exists():
        return
    if not crypto.can_decrypt():
        raise RuntimeError(
            "Moving routed reports to custody keys needs the helpline's private keys: run migrate as the "
            "staff service or a worker (HELPLINE_ROLE=staff or worker, with HELPLINE_PRIVATE_KEYS)."
        )
    for case in pending.select_related("report").order_by("pk").iterator(chunk_size=500):
        report = case.report
        destroy_on = None
        if case.closed_at is not None and case.outcome:
            days = [
                day
                for day in (
                    Message.objects.filter(report=report, direction="from_reporter").aggregate(d=Max("sent_on"))["d"],
                    Attachment.objects.filter(report=report, source="reporter").aggregate(d=Max("added_on"))["d"],
                )
                if day is not None
            ]
            destroy_on = due_day(
                closed_on=timezone.localdate(case.closed_at), outcome=case.outcome, activity=max(days, default=None)
            )
            Case.objects.filter(pk=case.pk).update(destroy_on=destroy_on)
        key_id = keystore.epoch_key_id(destroy_on) if destroy_on else keystore.open_key_id()
        fields = keystore.place(report, key_id)
        Report.objects.filter(pk=report.pk).update(**{field: getattr(report, field) for field in fields})


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0003_custody_keys"),
        ("reports", "0010_custody_and_destruction"),
        ("triage", "0017_retention_and_legal_hold"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
