"""Who may open a staff page: signed in, verified with a second factor, and in one of the roles."""

from collections.abc import Callable
from functools import wraps
from typing import Any, Protocol

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
            if not isinstance(user, User) or not user.is_verified():
                return redirect("accounts:login")
            if roles and getattr(user, "role", None) not in roles:
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


class _SignedIn(Protocol):
    """A Django request or a DRF one."""

    @property
    def user(self) -> object: ...


def staff_user(request: _SignedIn) -> User:
    """The signed-in member of staff, in a view that staff_required (or an API permission) guards."""
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied
    return user
