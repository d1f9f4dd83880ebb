"""Run pattern detection now (beat runs it after every refresh of the statistics): oversight.detection.

    manage.py detect_patterns [--format text|json]

With ``--format json`` it prints the open alerts as a JSON list, each with the fields of
``GET /api/v1/patterns/alerts``.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from oversight.alerts import alert_row, alerts_listed
from oversight.detection import detect
from oversight.models import PatternAlert


class Command(BaseCommand):
    help = (
        "Run pattern detection now: judge the latest complete week of every series, store new alerts. "
        "--format json prints the open alerts as a JSON list (the API's fields)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--format", choices=["text", "json"], default="text", help="What to print (text).")

    def handle(self, *args: Any, **options: Any) -> None:
        run = detect()
        if options["format"] == "json":
            open_alerts = alerts_listed().filter(status=PatternAlert.Status.OPEN)
            self.stdout.write(json.dumps([alert_row(alert) for alert in open_alerts], indent=2))
            return
        self.stdout.write(
            f"Judged {run.judged} series for the week of {run.weeks.last:%-d %B %Y}: "
            f"{len(run.findings)} alerts found, {len(run.created)} new."
        )
        for alert in run.created:
            self.stdout.write(f"  {alert.kind} {alert.series_key} observed {alert.observed}")
