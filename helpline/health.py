"""/healthz: each dependency's state, for load balancers and operators. No case data."""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_GET
from kombu import Connection

from triage.models import OutboxMessage, WorkerHeartbeat

WORKER_STALE_SECONDS = int(os.environ.get("WORKER_STALE_SECONDS", "90"))


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


def health() -> tuple[bool, dict[str, Any]]:
    now = timezone.now()
    db = database_ok()
    broker = broker_ok()
    body: dict[str, Any] = {"database": {"ok": db}, "broker": {"ok": broker}}
    if db:
        last_beat = WorkerHeartbeat.objects.order_by("-beat_at").values_list("beat_at", flat=True).first()
        age = (now - last_beat).total_seconds() if last_beat else None
        body["worker"] = {
            "ok": age is not None and age < WORKER_STALE_SECONDS,
            "last_heartbeat_seconds_ago": round(age, 1) if age is not None else None,
        }
        oldest = (
            OutboxMessage.objects.filter(processed_at__isnull=True)
            .order_by("created_at")
            .values_list("created_at", flat=True)
            .first()
        )
        body["outbox"] = {"oldest_pending_seconds": round((now - oldest).total_seconds(), 1) if oldest else 0}
    ok = db and broker
    body["status"] = "ok" if ok and body.get("worker", {}).get("ok") else ("degraded" if ok else "down")
    return ok, body


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    ok, body = health()
    return JsonResponse(body, status=200 if ok else 503)
