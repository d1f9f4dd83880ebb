"""Telling administrators that a decision waits for them (an MFA reset, an account to enable again).

Staff email is sent by the app that owns the mail queue (triage: an EmailRecord and a "send_email" outbox row,
committed with the change), which sits above accounts: accounts cannot import it. So, as with outbox kinds
(outbox.registry), that app registers here, in its AppConfig.ready, the function that queues the email, and
accounts calls it inside the transaction that records the request. The notice names nobody and nothing: the
email says only that an approval waits, and links to the staff page that lists it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class ApprovalWaiting:
    """A request one administrator made that another must approve or cancel."""

    request_id: int
    action: str  # MfaResetRequest.Action
    recipients: tuple[str, ...]  # the email addresses of the administrators who may decide it


Sender = Callable[[ApprovalWaiting], None]

_senders: list[Sender] = []


def register(sender: Sender) -> None:
    """Called once by the app that sends staff email (AppConfig.ready); registering again changes nothing."""
    if sender not in _senders:
        _senders.append(sender)


def unregister(sender: Sender) -> None:
    if sender in _senders:
        _senders.remove(sender)


def registered() -> tuple[Sender, ...]:
    return tuple(_senders)


def approval_waiting_tell(notice: ApprovalWaiting) -> None:
    """Queue the email to each recipient, in the caller's transaction (nothing is sent before it commits)."""
    if not notice.recipients:
        return
    for sender in _senders:
        sender(notice)
