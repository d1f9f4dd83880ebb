"""Who may open a staff page: signed in, verified with a second factor, and in one of the roles."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from accounts.models import User

HELPLINE = (User.Role.CALL_HANDLER, User.Role.SUPERVISOR)

View = Callable[..., HttpResponse]


def staff_required(*roles: str) -> Callable[[View], View]:
    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            user = request.user
            if not user.is_authenticated or not user.is_verified():  # type: ignore[union-attr,attr-defined]
                return redirect("accounts:login")
            if roles and getattr(user, "role", None) not in roles:
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
