"""Who may open a staff page or call a staff API: signed in, verified with a second factor, and allowed by
accounts.policy. Views name the permission they need, never a role."""

from collections.abc import Callable
from functools import wraps
from typing import Any, Protocol

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseBase
from django.shortcuts import redirect
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from accounts import policy
from accounts.models import User

# A view's answer: a page, or a streamed file (core.files).
View = Callable[..., HttpResponseBase]


def staff_required(*permissions: policy.Permission) -> Callable[[View], View]:
    """Signed in with a second factor and, when ``permissions`` are named, allowed at least one of them."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            user = request.user
            if not isinstance(user, User) or not user.is_verified():
                return redirect("accounts:login")
            if permissions and not any(policy.may(user, permission) for permission in permissions):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


class PolicyPermission(BasePermission):
    """A DRF permission: signed in with a second factor (a session verified by OTP, or a knox token, which
    accounts/api.py issues only after the second factor) and allowed ``permission`` by accounts.policy.
    Subclass it with ``permission`` set."""

    permission: policy.Permission

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if not isinstance(user, User) or not user.is_active:
            return False
        if request.auth is None and not getattr(user, "is_verified", lambda: False)():
            return False
        return policy.may(user, self.permission)


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
