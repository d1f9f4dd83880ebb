"""What triage asks of the referrals app, which sits above it (docs/adr/0001-layers.md) and so cannot be
imported here: the referrals app plugs its functions in when it is ready (referrals/hooks.py).

Triage keeps the case; a referral's actions (refer, reply to or update an authority, relay a question to
the reporter), the questions an authority is waiting on, withdrawing a case's open referrals and sweeping
the referrals' clocks are the referrals app's."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from accounts.models import User
    from triage.models import Case


# Whom the helpline's thread with a case's recipients addresses when no one recipient is meant (the case has
# several, or none yet): the words the pages used for every recipient before they named it.
SOME_AUTHORITY = "the authority"


@dataclass(frozen=True)
class ReferralPort:
    # The helpline's actions on a case that belong to its referrals, by name: run one with its form's
    # cleaned data and say what happened (the page's banner).
    actions: dict[str, Callable[[Case, dict[str, Any], User], str]]
    # Whether an authority waits for an answer on the case, and its questions as form choices.
    has_unanswered_question: Callable[[Case], bool]
    question_choices: Callable[[Case], list[tuple[str, str]]]
    # The authorities the case has an open referral to, as form choices (GSS code, name).
    open_recipients: Callable[[Case], list[tuple[str, str]]]
    # Who the helpline's reply, relay or update on the case goes to, as a sentence names it ("the
    # independent review team", "Rotherham"; "the authority" when the case has several).
    addressee: Callable[[Case], str]
    # The case left its authorities (closed, or sent to independent review): its open referrals stop.
    withdraw_open: Callable[[Case, User | None], int]
    # One pass of the referrals' deadline sweeper: how many escalation steps it took.
    sweep: Callable[[datetime, int], int]
    # The reporter's identity: the referrals a sharing may be asked or proposed for, and the legal-duty
    # proposals waiting for a second supervisor, as form choices (id, label).
    identity_referrals: Callable[[Case], list[tuple[str, str]]] = lambda case: []
    identity_proposals: Callable[[Case], list[tuple[str, str]]] = lambda case: []


_registered: list[ReferralPort] = []


def register(port: ReferralPort) -> None:
    _registered[:] = [port]


def referral_port() -> ReferralPort:
    if not _registered:
        raise RuntimeError("The referrals app is not installed: triage cannot refer a case.")
    return _registered[0]
