"""State kept between a reporter's pages, never in clear on the server.

The server holds only ciphertext; the key is in the reporter's cookie (HttpOnly, SameSite=Strict,
gone when the browser closes). Rows expire after a short idle time and are dropped on submit.

Files chosen on the question pages are sealed with the same key (reports.attachments, ``draft_id``) and
live exactly as long as the draft: each page saved moves their expiry with the draft's, starting again or
"Exit this page" drops them, and the periodic purge sweeps them with the expired drafts.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import uuid
from dataclasses import dataclass, field
from datetime import datetime

import nacl.exceptions
from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from core import crypto
from core.timetrail import expiry_in
from reports.attachments import attachments_expired_sweep
from reports.models import Attachment, Draft

COOKIE_NAMES = {Draft.Purpose.DRAFT: "report_draft", Draft.Purpose.FOLLOW_UP: "report_follow_up"}


def _parse_cookie(request: HttpRequest, purpose: str) -> tuple[uuid.UUID, bytes] | None:
    raw = request.COOKIES.get(COOKIE_NAMES[Draft.Purpose(purpose)], "")
    draft_id, _, encoded_key = raw.partition(".")
    try:
        key = base64.urlsafe_b64decode(encoded_key.encode("ascii"))
        parsed = uuid.UUID(hex=draft_id)
    except (ValueError, binascii.Error, UnicodeEncodeError):
        return None
    if len(key) != crypto.KEY_BYTES:
        return None
    return parsed, key


def state_load(request: HttpRequest, *, purpose: str) -> dict[str, object] | None:
    parsed = _parse_cookie(request, purpose)
    if parsed is None:
        return None
    draft_id, key = parsed
    row = Draft.objects.filter(pk=draft_id, purpose=purpose, expires_at__gt=timezone.now()).first()
    if row is None:
        return None
    try:
        return crypto.open_content(key, bytes(row.ciphertext))
    except (nacl.exceptions.CryptoError, ValueError, json.JSONDecodeError):
        return None


def draft_id(request: HttpRequest, *, purpose: str) -> uuid.UUID | None:
    """The id of the draft the reporter's cookie names (whether or not its row still exists)."""
    parsed = _parse_cookie(request, purpose)
    return parsed[0] if parsed else None


@dataclass(frozen=True)
class DraftKey:
    """The answers in progress that this browser's cookie names and opens: for sealing files chosen on the
    question pages with the draft's key, to expire with it."""

    id: uuid.UUID
    key: bytes
    expires_at: datetime


def draft_key(request: HttpRequest) -> DraftKey | None:
    """The reporter's draft of answers (not a sent one), its key and its expiry; None when there is none or it
    has expired."""
    parsed = _parse_cookie(request, Draft.Purpose.DRAFT)
    if parsed is None:
        return None
    row = (
        Draft.objects.filter(pk=parsed[0], purpose=Draft.Purpose.DRAFT, expires_at__gt=timezone.now())
        .only("expires_at")
        .first()
    )
    return DraftKey(id=parsed[0], key=parsed[1], expires_at=row.expires_at) if row is not None else None


def draft_files_drop(draft: uuid.UUID) -> None:
    """The files chosen for a draft that will not be sent (started again, exited): gone now, not at expiry."""
    Attachment.objects.filter(draft_id=draft, report__isnull=True).delete()


def draft_sent(request: HttpRequest) -> bool:
    """Whether the reporter's answers were already sent as a report (the cookie outlived the send)."""
    parsed = _parse_cookie(request, Draft.Purpose.DRAFT)
    return parsed is not None and Draft.objects.filter(pk=parsed[0], purpose=Draft.Purpose.SENT).exists()


def sent_note_seal(request: HttpRequest, *, note: dict[str, object]) -> None:
    """Keep what the confirmation page shows (the reference, the access code and what happens next) in the
    sent draft, sealed with the key in the reporter's cookie (``sent_confirmation``)."""
    parsed = _parse_cookie(request, Draft.Purpose.DRAFT)
    if parsed is not None:
        draft_id, key = parsed
        Draft.objects.filter(pk=draft_id, purpose=Draft.Purpose.SENT).update(ciphertext=crypto.seal_content(key, note))


@dataclass(frozen=True)
class SentConfirmation:
    """What the confirmation page may show of the report just sent from this browser."""

    reference: str
    urgent: bool
    about_council: str
    # Only on the view that may show it: the first, or the one after "Continue" without confirming.
    access_code: str | None
    # The reporter said they saved the code.
    code_saved: bool
    # "Continue" was pressed without confirming that the code was saved.
    not_confirmed: bool
    # Opens the report's receipt once a worker has signed it (reports.receipts); it opens nothing else.
    receipt_key: bytes = field(default=b"", repr=False)


def _sent_note(request: HttpRequest, *, lock: bool = True) -> tuple[Draft, bytes, dict[str, object]] | None:
    """The sent draft this browser's cookie names, with its key and its note (None when emptied); locked, or
    unlocked and only while unexpired (``lock=False``, for reading alone)."""
    parsed = _parse_cookie(request, Draft.Purpose.DRAFT)
    if parsed is None:
        return None
    draft_id, key = parsed
    rows = Draft.objects.filter(pk=draft_id, purpose=Draft.Purpose.SENT)
    rows = rows.select_for_update() if lock else rows.filter(expires_at__gt=timezone.now())
    row = rows.first()
    if row is None or not bytes(row.ciphertext):
        return None
    try:
        note = crypto.open_content(key, bytes(row.ciphertext))
    except (nacl.exceptions.CryptoError, ValueError, json.JSONDecodeError):
        return None
    return row, key, note


def _sent_note_keep(row: Draft, key: bytes, note: dict[str, object]) -> None:
    row.ciphertext = crypto.seal_content(key, note)
    row.save(update_fields=["ciphertext"])


@transaction.atomic
def sent_confirmation(request: HttpRequest, *, may_show_code: bool) -> SentConfirmation | None:
    """The confirmation of a report sent from this browser, for as long as its sent draft lives.

    The reference is not secret and stays, so a refresh still shows it. The access code is shown once: on
    the first view of the confirmation page (``may_show_code``), and again only with the error when
    "Continue" was pressed without confirming it was saved. Any other view (a refresh, Back, a second tab)
    wipes it, so it is never shown twice to whoever uses the browser next."""
    found = _sent_note(request)
    if found is None:
        return None
    row, key, note = found
    code = note.get("access_code")
    not_confirmed = bool(note.pop("not_confirmed", False))
    shown: str | None = None
    if isinstance(code, str) and may_show_code and (not note.get("code_shown") or not_confirmed):
        shown = code
        note["code_shown"] = True
    else:
        note.pop("access_code", None)
    _sent_note_keep(row, key, note)
    return SentConfirmation(
        reference=str(note.get("reference", "")),
        urgent=bool(note.get("urgent")),
        about_council=str(note.get("about_council", "")),
        access_code=shown,
        code_saved=bool(note.get("code_saved")),
        not_confirmed=not_confirmed and shown is not None,
        receipt_key=_receipt_key(note),
    )


def _receipt_key(note: dict[str, object]) -> bytes:
    try:
        key = base64.b64decode(str(note.get("receipt_key") or ""), validate=True)
    except (binascii.Error, ValueError):
        return b""
    return key if len(key) == crypto.KEY_BYTES else b""


def sent_receipt_key(request: HttpRequest) -> tuple[str, bytes] | None:
    """The reference and receipt key of the report just sent from this browser, for its receipt (None once
    the sent note is gone: expired, or "Exit this page")."""
    sent = _sent_note(request, lock=False)
    if sent is None:
        return None
    note = sent[2]
    receipt_key = _receipt_key(note)
    return (str(note.get("reference", "")), receipt_key) if receipt_key else None


@transaction.atomic
def sent_code_saved(request: HttpRequest, *, saved: bool) -> None:
    """The reporter pressed "Continue" under the access code. Saved: the code is forgotten. Not confirmed: the
    next view shows it once more, with the error (when it is still held)."""
    found = _sent_note(request)
    if found is None:
        return
    row, key, note = found
    if saved:
        note.pop("access_code", None)
        note["code_saved"] = True
    elif note.get("access_code"):
        note["not_confirmed"] = True
    _sent_note_keep(row, key, note)


def state_expiry() -> datetime:
    """When state saved now ends: DRAFT_IDLE_SECONDS from now, rounded up to the time-trail bucket, so the row
    never says when the reporter last looked."""
    return expiry_in(settings.DRAFT_IDLE_SECONDS)


def state_save(
    request: HttpRequest,
    response: HttpResponse,
    *,
    purpose: str,
    state: dict[str, object],
    expires_at: datetime | None = None,
) -> None:
    """Seal ``state`` under the key in the reporter's cookie, to end at ``expires_at`` (``state_expiry()`` when
    None: a page that renders before it saves takes the expiry first, to tell the reporter how long is left)."""
    parsed = _parse_cookie(request, purpose)
    if parsed and Draft.objects.filter(pk=parsed[0]).exclude(purpose=purpose).exists():
        parsed = None  # a sent draft is never filled again: new answers start a new draft
    draft_id, key = parsed if parsed else (uuid.uuid4(), crypto.new_data_key())
    expires_at = expires_at or state_expiry()
    Draft.objects.update_or_create(
        pk=draft_id,
        defaults={"purpose": purpose, "ciphertext": crypto.seal_content(key, state), "expires_at": expires_at},
    )
    if purpose == Draft.Purpose.DRAFT:
        # The files chosen so far live as long as the answers.
        Attachment.objects.filter(draft_id=draft_id, report__isnull=True).update(expires_at=expires_at)
    response.set_cookie(
        COOKIE_NAMES[Draft.Purpose(purpose)],
        f"{draft_id.hex}.{base64.urlsafe_b64encode(key).decode('ascii')}",
        httponly=True,
        samesite="Strict",
        secure=settings.SESSION_COOKIE_SECURE,
    )


def state_expires_at(request: HttpRequest, *, purpose: str) -> datetime | None:
    """When the live state this browser's cookie names ends (None when there is none): for the page's timeout
    warning."""
    parsed = _parse_cookie(request, purpose)
    if parsed is None:
        return None
    return (
        Draft.objects.filter(pk=parsed[0], purpose=purpose, expires_at__gt=timezone.now())
        .values_list("expires_at", flat=True)
        .first()
    )


@transaction.atomic
def state_extend(request: HttpRequest, *, purpose: str) -> datetime | None:
    """ "Continue" in the timeout warning: the live state this browser's cookie names, and opens with its key,
    is kept for another DRAFT_IDLE_SECONDS, unchanged, with the files chosen for it. Only the expiry moves,
    rounded up to the time-trail bucket as on every page saved: nothing else about the reporter is written.
    None when there is nothing to keep (expired, sent, exited, or a cookie that does not open it)."""
    parsed = _parse_cookie(request, purpose)
    if parsed is None or state_load(request, purpose=purpose) is None:
        return None
    expires_at = state_expiry()
    kept = Draft.objects.filter(pk=parsed[0], purpose=purpose, expires_at__gt=timezone.now()).update(
        expires_at=expires_at
    )
    if not kept:
        return None
    if purpose == Draft.Purpose.DRAFT:
        Attachment.objects.filter(draft_id=parsed[0], report__isnull=True).update(expires_at=expires_at)
    return expires_at


def seconds_left(expires_at: datetime) -> int:
    """Whole seconds from now until ``expires_at``, rounded up (0 once it has passed). Counted from when the
    page was made, so a page's script, which starts later, runs out only after the server's expiry: the page it
    then goes to finds the answers ended, not still alive."""
    return max(0, math.ceil((expires_at - timezone.now()).total_seconds()))


def state_clear(request: HttpRequest, response: HttpResponse, *, purpose: str) -> None:
    parsed = _parse_cookie(request, purpose)
    if parsed is not None:
        # A sent draft stays (empty) until it expires, so that Send pressed again is told it was sent.
        Draft.objects.filter(pk=parsed[0]).exclude(purpose=Draft.Purpose.SENT).delete()
        if purpose == Draft.Purpose.DRAFT:
            draft_files_drop(parsed[0])  # a sent draft's files are the report's now, and not touched here
    response.delete_cookie(COOKIE_NAMES[Draft.Purpose(purpose)], samesite="Strict")


def state_forget_expired(request: HttpRequest, response: HttpResponse, *, purpose: str) -> None:
    """The page that says the reporter's answers (or unlocked concern) have ended: the cookie goes, and the
    expired row it names goes now rather than at the next purge, with its files. A live row is never touched
    here."""
    parsed = _parse_cookie(request, purpose)
    if parsed is not None:
        expired = Draft.objects.filter(pk=parsed[0], purpose=purpose, expires_at__lte=timezone.now())
        if expired.delete()[0] and purpose == Draft.Purpose.DRAFT:
            draft_files_drop(parsed[0])
    if COOKIE_NAMES[Draft.Purpose(purpose)] in request.COOKIES:
        response.delete_cookie(COOKIE_NAMES[Draft.Purpose(purpose)], samesite="Strict")


def reporter_forget(request: HttpRequest, response: HttpResponse) -> None:
    """Exit this page: everything this browser holds of a reporter on the server ends now (answers in
    progress, an unlocked concern, the confirmation of a report just sent) and the cookies go. A sent draft
    stays, emptied, so that Send pressed again is still told the report was sent."""
    for purpose in COOKIE_NAMES:
        parsed = _parse_cookie(request, purpose)
        if parsed is not None:
            Draft.objects.filter(pk=parsed[0], purpose=Draft.Purpose.SENT).update(ciphertext=b"")
        state_clear(request, response, purpose=purpose)


def drafts_purge() -> int:
    """Expired drafts, and with them their files and the uploads nobody kept (the beat's purge_expired)."""
    now = timezone.now()
    deleted, _ = Draft.objects.filter(expires_at__lte=now).delete()
    return deleted + attachments_expired_sweep(now)
