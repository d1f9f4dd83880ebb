"""Post/redirect/get for staff forms that fail: what was typed and why it was refused survive one redirect.

A form that fails is not rendered at its POST address (Back and refresh there would ask to send it again).
The view keeps the submitted fields and the refusal here, redirects to the page's own address, and that GET
takes them once and renders the form bound, with its errors. What staff typed can be case content, so it is
kept in the session (the database) only as ciphertext, sealed with a key that lives in the staff member's own
cookie (HttpOnly, SameSite=Strict, gone when the browser closes): like the reporter's draft, the server alone
cannot read it. A slot is taken once and lasts at most ``FORM_RETRY_SECONDS``.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

import nacl.exceptions
from django import forms
from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict

from core import crypto

COOKIE_NAME = "form_retry"
SESSION_KEY = "form_retry"
# Long enough for a redirect to be followed; not a store of what was typed.
FORM_RETRY_SECONDS = 10 * 60
# Never kept: the CSRF token is the page's, and passwords and codes are never stored, even sealed (any field
# whose name has "password" in it, too).
NOT_KEPT = frozenset({"csrfmiddlewaretoken", "password", "otp_token", "token", "code"})


def _kept(name: str) -> bool:
    return name not in NOT_KEPT and "password" not in name


@dataclass(frozen=True)
class Retry:
    """A failed form, as the page that redirected kept it."""

    slot: str
    data: QueryDict = field(default_factory=QueryDict)
    error: str = ""
    status: int = 400
    extra: dict[str, str] = field(default_factory=dict)
    # The form's own errors, for a form whose fields cannot all be kept (a password): shown as they were.
    errors: dict[str, list[str]] = field(default_factory=dict)


def _cookie_key(request: HttpRequest) -> bytes | None:
    try:
        key = base64.urlsafe_b64decode(request.COOKIES.get(COOKIE_NAME, "").encode("ascii"))
    except (ValueError, binascii.Error, UnicodeEncodeError):
        return None
    return key if len(key) == crypto.KEY_BYTES else None


def retry_redirect(
    request: HttpRequest,
    to: str,
    *,
    slot: str,
    data: QueryDict | None = None,
    error: str = "",
    status: int = 400,
    extra: dict[str, str] | None = None,
    errors: Mapping[str, Iterable[str]] | None = None,
) -> HttpResponse:
    """Keep a failed form (its fields, the refusal and the status the page should answer with, and its
    errors when given) for the page at ``to``, and redirect there."""
    key = _cookie_key(request) or crypto.new_data_key()
    fields = {name: values for name, values in (data or QueryDict()).lists() if _kept(name)}
    sealed = crypto.seal_content(
        key,
        {
            "slot": slot,
            "fields": fields,
            "error": error,
            "status": status,
            "extra": extra or {},
            "errors": {name: [str(message) for message in messages] for name, messages in (errors or {}).items()},
            "until": int(time.time()) + FORM_RETRY_SECONDS,
        },
    )
    request.session[SESSION_KEY] = base64.b64encode(sealed).decode("ascii")
    response = HttpResponseRedirect(to)
    response.set_cookie(
        COOKIE_NAME,
        base64.urlsafe_b64encode(key).decode("ascii"),
        httponly=True,
        samesite="Strict",
        secure=settings.SESSION_COOKIE_SECURE,
    )
    return response


def retry_take(request: HttpRequest, *, slot: str) -> Retry | None:
    """The failed form kept for this page, once: taking it removes it, so a refresh shows the page afresh."""
    kept = request.session.get(SESSION_KEY)
    key = _cookie_key(request)
    if not isinstance(kept, str) or key is None:
        return None
    try:
        opened = crypto.open_content(key, base64.b64decode(kept))
    except (nacl.exceptions.CryptoError, ValueError, binascii.Error, json.JSONDecodeError):
        request.session.pop(SESSION_KEY, None)
        return None
    if opened.get("slot") != slot:
        return None  # kept for another page: left for it until it expires
    request.session.pop(SESSION_KEY, None)
    until = opened.get("until")
    if not isinstance(until, int) or until < time.time():
        return None
    data = QueryDict(mutable=True)
    fields = opened.get("fields")
    if isinstance(fields, dict):
        for name, values in fields.items():
            if isinstance(values, list):
                data.setlist(str(name), [str(value) for value in values])
    data._mutable = False
    status = opened.get("status")
    extra = opened.get("extra")
    errors = opened.get("errors")
    return Retry(
        slot=slot,
        data=data,
        error=str(opened.get("error") or ""),
        status=status if isinstance(status, int) else 400,
        extra={str(k): str(v) for k, v in extra.items()} if isinstance(extra, dict) else {},
        errors={str(k): [str(m) for m in v] for k, v in errors.items() if isinstance(v, list)}
        if isinstance(errors, dict)
        else {},
    )


FormT = TypeVar("FormT", bound=forms.Form)


def with_kept_errors(form: FormT, retry: Retry) -> FormT:
    """A form bound to what was kept, showing the errors it had when it was sent (not those of what was kept:
    a password that was not kept is not "missing")."""
    form.is_valid()
    if retry.errors:
        form.errors.clear()
        for name, messages in retry.errors.items():
            for message in messages:
                form.add_error(name if name in form.fields else None, message)
    return form
