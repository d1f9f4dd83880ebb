"""The floors: the least a Django JSON POST, and a multipart upload, in this stack can cost.

``floor_view``: same gunicorn, same middleware, same database as the intake API; it validates three fields and
inserts one row, with no key derivation, no encryption and no outbox. The table is the bench's own
(bench/procs.py creates it with raw SQL).

``upload_floor_view`` (bench/attachments.py): the same multipart body as POST /api/v1/reports/attachments, read
through Django's multipart parser in the same 64 KiB chunks, and thrown away: no sealing, no database, no key
derivation. It sits under /api/ like the real address, so that helpline.errors.MalformedBodyMiddleware leaves
the body to the view in both.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.files.uploadhandler import FileUploadHandler, StopFutureHandlers
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from rest_framework import serializers


class FloorSerializer(serializers.Serializer):  # type: ignore[type-arg]
    a = serializers.CharField(max_length=100)
    b = serializers.CharField(max_length=2000)
    c = serializers.IntegerField(min_value=0)


@csrf_exempt
@require_POST
def floor_view(request: HttpRequest) -> JsonResponse:
    try:
        payload = json.loads(request.body)
    except ValueError:
        return JsonResponse({"detail": "The body must be JSON."}, status=400)
    serializer = FloorSerializer(data=payload)
    if not serializer.is_valid():
        return JsonResponse(serializer.errors, status=400)
    data = serializer.validated_data
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO bench_floor (a, b, c) VALUES (%s, %s, %s) RETURNING id", [data["a"], data["b"], data["c"]]
        )
        (row_id,) = cursor.fetchone()
    return JsonResponse({"id": row_id}, status=201)


class DiscardingUploadHandler(FileUploadHandler):
    """Counts every file's bytes as Django's parser hands them over (in ``chunk_size`` pieces, 64 KiB as the
    portal's SealingUploadHandler), and keeps none of them."""

    def __init__(self, request: HttpRequest | None = None) -> None:
        super().__init__(request)
        self.files = 0
        self.received = 0

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self.files += 1
        raise StopFutureHandlers()

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        self.received += len(raw_data)

    def file_complete(self, file_size: int) -> None:
        return None  # nothing to put in request.FILES


@csrf_exempt
@require_POST
def upload_floor_view(request: HttpRequest) -> JsonResponse:
    """Read a multipart body to its end and discard its files: 201 with the fields' names and the bytes read."""
    handler = DiscardingUploadHandler(request)
    request.upload_handlers = [handler]
    fields = sorted(request.POST)  # parses the whole body
    if not handler.files:
        return JsonResponse({"detail": "The body must be multipart/form-data with one file."}, status=400)
    return JsonResponse({"fields": fields, "files": handler.files, "bytes": handler.received}, status=201)
