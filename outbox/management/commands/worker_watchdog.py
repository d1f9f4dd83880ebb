"""Restart the Celery worker and beat through supervisord when the worker heartbeat goes stale."""

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import DatabaseError
from django.utils import timezone

from outbox.models import WorkerHeartbeat


def heartbeat_age() -> float | None:
    last = WorkerHeartbeat.objects.order_by("-beat_at").values_list("beat_at", flat=True).first()
    return (timezone.now() - last).total_seconds() if last else None


class Command(BaseCommand):
    help = "Watch the worker heartbeat; restart worker and beat under supervisord when it goes stale."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--supervisor-config", required=True)
        parser.add_argument("--interval", type=float, default=30.0)

    def handle(self, *args: Any, **options: Any) -> None:
        config = str(Path(options["supervisor_config"]).resolve())
        started = time.monotonic()
        last_restart = started
        while True:
            time.sleep(options["interval"])
            try:
                age = heartbeat_age()
            except DatabaseError:
                continue
            grace_over = time.monotonic() - last_restart > settings.WORKER_STALE_SECONDS
            if grace_over and (age is None or age > settings.WORKER_STALE_SECONDS):
                self.stdout.write(f"worker heartbeat stale ({age}s): restarting worker and beat")
                subprocess.run(  # noqa: S603 - our own supervisorctl with our own config
                    [str(Path(sys.executable).parent / "supervisorctl"), "-c", config, "restart", "worker", "beat"],
                    check=False,
                )
                last_restart = time.monotonic()
