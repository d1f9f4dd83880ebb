"""Who does each kind of outbox work. Apps register their handlers in AppConfig.ready; the outbox looks a
kind up here when a worker picks a row, and never imports the app that handles it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Retry:
    """Not done yet: try again once ``at`` has passed (the sweeper re-sends the row then)."""

    at: datetime
    error: str


# A handler takes the row's target id. It returns None when the work is done, or a Retry.
Handler = Callable[[int], "Retry | None"]


@dataclass(frozen=True)
class Registration:
    handler: Handler
    # True: the handler's writes and "processed" commit together (it must not send anything outside the
    # database). False: the handler does its own transactions, e.g. sending an email and then recording it.
    atomic: bool


_handlers: dict[str, Registration] = {}


class KindAlreadyRegistered(Exception):
    pass


def register(kind: str, handler: Handler, *, atomic: bool) -> None:
    existing = _handlers.get(kind)
    if existing is not None and existing.handler is not handler:
        raise KindAlreadyRegistered(f"Outbox kind {kind!r} already has a handler")
    _handlers[kind] = Registration(handler=handler, atomic=atomic)


def registration_for(kind: str) -> Registration | None:
    return _handlers.get(kind)


def registered_kinds() -> frozenset[str]:
    return frozenset(_handlers)
