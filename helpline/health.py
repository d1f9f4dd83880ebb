"""Health: a public one-word answer for load balancers, and the detail for staff.

``/healthz`` is public and says only ``ok``, ``degraded`` or ``down``. It answers 200 whenever this web
tier can take a report (the database answers), because intake works without the broker and the workers:
the outbox keeps every report until they are back. So a broker outage is "degraded" with a 200, and
docker-compose does not restart a web tier that is still doing its job. Only a database outage is 503.

Which dependency is down, how stale the worker heartbeat is and how old the oldest unsent outbox row is
are for operators: supervisors and administrators see them at ``/staff/health``, with the malware scanner
(clamd): which one, whether it answers and how old its signatures are. The scanner is not part of
``/healthz``: reports (and their files) are still taken while it is down; the files wait to be checked.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Count, Max
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_GET, require_safe
from kombu import Connection

from accounts.decorators import staff_required
from accounts.policy import Permission
from audit.alerts import alerts_health
from core.clamd import Clamd, ScannerUnavailable
from lifecycle.schedule import schedule_health
from outbox.models import OutboxMessage, WorkerHeartbeat
from triage.selectors import authorities_unreached


def database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except Exception:  # noqa: BLE001 - any failure means "down"
        return False


def broker_ok() -> bool:
    try:
        with Connection(settings.CELERY_BROKER_URL, connect_timeout=1, transport_options={"max_retries": 0}) as conn:
            conn.ensure_connection(max_retries=0, timeout=1)
        return True
    except Exception:  # noqa: BLE001
        return False


def signatures_folder_time(folder: Path) -> datetime | None:
    """When the newest file in clamd's database folder was written (freshclam's last update, or locally the
    test signatures'), if this process can read the folder."""
    try:
        times = [entry.stat().st_mtime for entry in folder.iterdir() if entry.is_file()]
    except OSError:
        return None
    return datetime.fromtimestamp(max(times), tz=UTC) if times else None


SCANNER = "ClamAV (clamd)"


def scanner_health(now: datetime | None = None) -> dict[str, Any]:
    """The malware scanner: its name and version, whether it answers, and the age of its signatures (from
    clamd's own answer when it loaded ClamAV's database, else from its database folder)."""
    now = now or timezone.now()
    try:
        client = Clamd(timeout=2)
        answers = client.ping()
        version = client.version()
    except ScannerUnavailable:
        return {"ok": False, "name": SCANNER, "socket": settings.CLAMD_SOCKET, "signatures_age_hours": None}
    built = version.signatures_built or signatures_folder_time(Path(settings.CLAMD_DATABASE_DIR))
    age = round((now - built).total_seconds() / 3600, 1) if built is not None else None
    return {
        "ok": answers,
        "name": f"{version.engine} (clamd)" if version.engine else SCANNER,
        "socket": settings.CLAMD_SOCKET,
        "signatures_version": version.signatures_version,
        "signatures_age_hours": age,
        "signatures_stale": age is None or age > settings.CLAMD_SIGNATURES_STALE_HOURS,
    }


def health() -> tuple[bool, dict[str, Any]]:
    """(can this web tier take a report, the detail of every dependency)."""
    now = timezone.now()
    db = database_ok()
    broker = broker_ok()
    body: dict[str, Any] = {"database": {"ok": db}, "broker": {"ok": broker}}
    if db:
        last_beat = WorkerHeartbeat.objects.order_by("-beat_at").values_list("beat_at", flat=True).first()
        age = (now - last_beat).total_seconds() if last_beat else None
        body["worker"] = {
            "ok": age is not None and age < settings.WORKER_STALE_SECONDS,
            "last_heartbeat_seconds_ago": round(age, 1) if age is not None else None,
        }
        # Rows keep no creation time (core.timetrail): how long work has waited is counted in sweeps.
        pending = OutboxMessage.objects.filter(processed_at__isnull=True).aggregate(
            pending=Count("pk"), waited=Max("sweeps")
        )
        body["outbox"] = {
            "pending": pending["pending"],
            "longest_wait_sweeps": pending["waited"] or 0,
            "sweep_seconds": settings.OUTBOX_SWEEP_SECONDS,
        }
        # A break the checkpointer found in the audit trail: shown to staff until someone acts. It does not
        # change /healthz, since the service can still take reports.
        body["audit"] = alerts_health()
        # Authorities a referral email reaches nobody at: the helpline must tell them some other way.
        body["authorities"] = authorities_unreached()
    if not db:
        body["status"] = "down"
    elif broker and body["worker"]["ok"]:
        body["status"] = "ok"
    else:
        body["status"] = "degraded"
    return db, body


@require_safe  # load balancers and uptime monitors often probe with HEAD
def healthz(request: HttpRequest) -> JsonResponse:
    can_take_reports, body = health()
    return JsonResponse({"status": body["status"]}, status=200 if can_take_reports else 503)


@staff_required(Permission.SERVICE_HEALTH)
@require_GET
def staff_health(request: HttpRequest) -> HttpResponse:
    _, body = health()
    body["scanner"] = scanner_health()
    if body["status"] == "ok" and not body["scanner"]["ok"]:
        body["status"] = "degraded"
    if body["database"]["ok"]:
        # The retention schedule's last run, and the reports waiting to be routed past the limit. Neither changes
        # the status: the service still takes reports and keeps them.
        body["retention"] = schedule_health()
    if request.GET.get("format") == "json":
        return JsonResponse(body)
    audit_alerts = [
        {
            **alert,
            "raised_at": parse_datetime(alert["raised_at"]),
            "last_found_at": parse_datetime(alert["last_found_at"]),
        }
        for alert in body.get("audit", {}).get("alerts", [])
    ]
    context = {
        "health": body,
        "audit_alerts": audit_alerts,
        "retention_run_day": _day(body.get("retention", {}).get("last_run")),
        "unrouted": [
            {**row, "sent_on": date.fromisoformat(row["sent_on"]), "alerted_on": _day(row)}
            for row in body.get("retention", {}).get("unrouted", {}).get("reports", [])
        ],
        "stale_after": settings.WORKER_STALE_SECONDS,
        "signatures_stale_after": settings.CLAMD_SIGNATURES_STALE_HOURS,
    }
    return render(request, "staff/health.html", context)


def _day(row: dict[str, Any] | None) -> date | None:
    """The day a JSON row names (its "day", else its "alerted_on"), as a date for the page."""
    if not row:
        return None
    text = row.get("day") or row.get("alerted_on")
    return date.fromisoformat(text) if text else None
