from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser

from audit.alerts import alert_acknowledge
from audit.models import AuditAlert


class Command(BaseCommand):
    help = (
        "Acknowledge the open audit alerts (or one, with --alert) as the supervisor or administrator USERNAME, "
        "who has taken the break on: the emails stop and the acknowledgement is an audit event. The checkpointer "
        "still signs nothing while the trail does not extend its last checkpoint."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", help="The supervisor or administrator acting on the alert.")
        parser.add_argument("--alert", type=int, default=None, help="Only this alert (its id on /staff/health).")

    def handle(self, *args: Any, **options: Any) -> None:
        user = get_user_model().objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"No user {options['username']!r}.")
        alerts = AuditAlert.objects.filter(acknowledged_at__isnull=True).order_by("id")
        if options["alert"] is not None:
            alerts = alerts.filter(pk=options["alert"])
        if not alerts:
            self.stdout.write("No open audit alert to acknowledge.")
            return
        for alert in alerts:
            try:
                alert_acknowledge(alert, by=user)
            except (PermissionError, ImproperlyConfigured) as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(
                f"Acknowledged audit alert {alert.pk} (raised {alert.raised_at:%Y-%m-%d %H:%M}): {alert.reason}"
            )
