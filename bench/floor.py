"""The floor: the least a Django JSON POST in this stack can cost.

Same gunicorn, same middleware, same database as the intake API; it validates three fields and inserts
one row, with no key derivation, no encryption and no outbox. The table is the bench's own (bench/procs.py
creates it with raw SQL).
"""

from __future__ import annotations

import json

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
