"""``can`` in every template: what the signed-in user may do, by accounts.policy's permission names
(``{% if can.service_health %}``), so a template never compares roles."""

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from accounts import policy


def permissions(request: HttpRequest) -> dict[str, Any]:
    return {"can": SimpleLazyObject(lambda: policy.capabilities(getattr(request, "user", None)))}
