"""outbox.registry and outbox.services.outbox_process: who handles each kind, and what processing a row does
with the handler's answer (done, Retry, an error, or no handler at all)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from outbox import registry, services
from outbox.models import OutboxMessage, WorkerHeartbeat
from outbox.registry import KindAlreadyRegistered, Registration, Retry
from outbox.services import outbox_add, outbox_due, outbox_process

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 11, 9, 0, tzinfo=ZoneInfo("Europe/London"))


@pytest.fixture(autouse=True)
def own_registry(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Registration]]:
    """A copy of the registry for each test: whatever a test registers is gone afterwards."""
    original = registry._handlers
    monkeypatch.setattr(registry, "_handlers", dict(original))
    yield registry._handlers
    assert registry._handlers is not original


class Recorder:
    """A handler that writes a heartbeat row per call (database work), then answers as told."""

    def __init__(self, answer: Callable[[int], Retry | None] = lambda target_id: None) -> None:
        self.calls: list[int] = []
        self.depths: list[int] = []
        self.answer = answer

    def __call__(self, target_id: int) -> Retry | None:
        self.calls.append(target_id)
        self.depths.append(len(connection.atomic_blocks))
        WorkerHeartbeat.objects.create(name=f"handled-{target_id}-{len(self.calls)}", beat_at=timezone.now())
        return self.answer(target_id)


def row(kind: str, target_id: int = 7) -> OutboxMessage:
    return outbox_add(kind=kind, target_id=target_id)


def fresh(message: OutboxMessage) -> OutboxMessage:
    return OutboxMessage.objects.get(pk=message.pk)


def written() -> int:
    return WorkerHeartbeat.objects.filter(name__startswith="handled-").count()


# --- the registry ----------------------------------------------------------------------------------------


def test_the_apps_register_their_kinds_at_startup() -> None:
    kinds = {kind: registry.registration_for(kind) for kind in ("route_report", "reporter_replied", "send_email")}
    assert all(kinds.values()), kinds
    assert {kind: reg.atomic for kind, reg in kinds.items() if reg} == {
        "route_report": True,
        "reporter_replied": True,
        "send_email": False,
    }
    assert set(kinds) <= registry.registered_kinds()


def test_an_unknown_kind_has_no_registration() -> None:
    assert registry.registration_for("test_nobody") is None
    assert "test_nobody" not in registry.registered_kinds()


def test_registering_the_same_handler_again_is_allowed() -> None:
    handler = Recorder()
    registry.register("test_kind", handler, atomic=True)
    registry.register("test_kind", handler, atomic=True)
    assert registry.registration_for("test_kind") == Registration(handler=handler, atomic=True)


def test_a_different_handler_for_a_taken_kind_is_refused_and_the_first_stays() -> None:
    first, second = Recorder(), Recorder()
    registry.register("test_kind", first, atomic=True)
    with pytest.raises(KindAlreadyRegistered, match="test_kind"):
        registry.register("test_kind", second, atomic=False)
    assert registry.registration_for("test_kind") == Registration(handler=first, atomic=True)


def test_an_apps_kind_cannot_be_taken_over() -> None:
    original = registry.registration_for("send_email")
    with pytest.raises(KindAlreadyRegistered):
        registry.register("send_email", Recorder(), atomic=False)
    assert registry.registration_for("send_email") == original


# --- processing a row ------------------------------------------------------------------------------------


def test_an_atomic_handler_runs_in_the_rows_transaction_and_its_row_is_processed() -> None:
    handler = Recorder()
    registry.register("test_atomic", handler, atomic=True)
    message = row("test_atomic")
    outside = len(connection.atomic_blocks)
    outbox_process(outbox_id=message.pk)
    assert handler.calls == [7]
    assert handler.depths == [outside + 1], "the handler runs inside outbox_process's transaction"
    assert written() == 1
    assert fresh(message).processed_at is not None
    assert fresh(message).claimed_until is None


def test_an_atomic_handlers_writes_are_undone_when_marking_processed_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    registry.register("test_atomic", Recorder(), atomic=True)
    message = row("test_atomic")

    def broken(*, outbox_id: int) -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr(services, "outbox_mark_processed", broken)
    with pytest.raises(RuntimeError):
        outbox_process(outbox_id=message.pk)
    assert written() == 0, "the handler's writes commit only together with processed"


def test_an_atomic_handler_that_fails_leaves_nothing_and_the_row_unprocessed() -> None:
    def write_then_fail(target_id: int) -> Retry | None:
        WorkerHeartbeat.objects.create(name="handled-then-failed", beat_at=timezone.now())
        raise RuntimeError("handler broke")

    registry.register("test_atomic", write_then_fail, atomic=True)
    message = row("test_atomic")
    with pytest.raises(RuntimeError):
        outbox_process(outbox_id=message.pk)
    assert written() == 0
    assert fresh(message).processed_at is None


def test_a_non_atomic_handler_runs_outside_any_transaction_of_the_outbox() -> None:
    handler = Recorder()
    registry.register("test_own_transactions", handler, atomic=False)
    message = row("test_own_transactions")
    outside = len(connection.atomic_blocks)
    outbox_process(outbox_id=message.pk)
    assert handler.depths == [outside]
    assert fresh(message).processed_at is not None


def test_a_non_atomic_handlers_own_writes_stay_when_it_fails_afterwards() -> None:
    def write_then_fail(target_id: int) -> Retry | None:
        WorkerHeartbeat.objects.create(name="handled-then-failed", beat_at=timezone.now())
        raise RuntimeError("handler broke")

    registry.register("test_own_transactions", write_then_fail, atomic=False)
    message = row("test_own_transactions")
    with pytest.raises(RuntimeError):
        outbox_process(outbox_id=message.pk)
    assert WorkerHeartbeat.objects.filter(name="handled-then-failed").exists()
    assert fresh(message).processed_at is None


@pytest.mark.parametrize("atomic", [True, False])
def test_a_retry_releases_the_row_until_its_time(atomic: bool) -> None:
    answers: list[Retry | None] = [Retry(at=NOW + timedelta(minutes=5), error="Busy"), None]
    handler = Recorder(lambda target_id: answers.pop(0))
    registry.register("test_retry", handler, atomic=atomic)
    with time_machine.travel(NOW, tick=False) as traveller:
        message = row("test_retry")
        outbox_process(outbox_id=message.pk)
        released = fresh(message)
        assert (released.processed_at, released.claimed_until, released.last_error) == (
            None,
            NOW + timedelta(minutes=5),
            "Busy",
        )
        traveller.move_to(NOW + timedelta(minutes=4, seconds=59))
        outbox_process(outbox_id=message.pk)
        assert len(handler.calls) == 1, "not before retry.at"
        assert message.pk not in outbox_due()
        traveller.move_to(NOW + timedelta(minutes=5, seconds=1))
        assert message.pk in outbox_due()
        outbox_process(outbox_id=message.pk)
    assert len(handler.calls) == 2
    assert fresh(message).processed_at is not None
    assert fresh(message).attempts == 2


def test_a_long_retry_error_is_cut_to_the_column() -> None:
    registry.register("test_retry", Recorder(lambda target_id: Retry(at=NOW, error="x" * 300)), atomic=False)
    message = row("test_retry")
    outbox_process(outbox_id=message.pk)
    assert fresh(message).last_error == "x" * 255


def test_an_unknown_kind_is_logged_and_left_unprocessed(caplog: pytest.LogCaptureFixture) -> None:
    message = row("test_nobody", target_id=42)
    with caplog.at_level(logging.ERROR, logger="outbox.services"):
        outbox_process(outbox_id=message.pk)
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [
        (logging.ERROR, f"outbox {message.pk} has an unknown kind test_nobody")
    ]
    left = fresh(message)
    assert left.processed_at is None
    assert left.attempts == 1


def test_a_processed_row_is_not_handled_again() -> None:
    handler = Recorder()
    registry.register("test_atomic", handler, atomic=True)
    message = row("test_atomic")
    outbox_process(outbox_id=message.pk)
    outbox_process(outbox_id=message.pk)
    assert handler.calls == [7]
    assert written() == 1
