"""The chain's lock is held only from just before a transaction commits (audit.staging), and the chain stays
one total order: ids follow commit order, so every id below a head the checkpointer sees is final.

Two transactions at once need two connections: the second runs in a thread, which Django gives its own.
Nothing here measures time; a writer that would wait on the lock gives up after LOCK_TIMEOUT instead of
hanging the run.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import Any

import psycopg
import pytest
from django.db import DatabaseError, connection, transaction

from audit import trail
from audit.checkpoints import checkpoint_write
from audit.models import AuditAlert, AuditEvent
from audit.trail import audit_verify, event_record
from tests.concurrency import at_once

LOCK_TIMEOUT = "10s"


def chain_lock_holders() -> int:
    """How many sessions hold the chain's advisory lock, seen from a connection of its own."""
    params = connection.settings_dict
    with psycopg.connect(
        host=params["HOST"], port=params["PORT"], dbname=params["NAME"], user=params["USER"], autocommit=True
    ) as other:
        row = other.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = 0 AND objid = %s"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            [trail._CHAIN_LOCK],
        ).fetchone()
    return int(row[0]) if row else 0


def in_other_transaction(work: Callable[[], Any]) -> Any:
    """Run ``work`` in a transaction of another connection (a thread), to its commit; its result."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
                outcome["result"] = work()
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            outcome["error"] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("result")


def kinds() -> list[str]:
    return list(AuditEvent.objects.order_by("id").values_list("kind", flat=True))


@pytest.mark.django_db(transaction=True)
def test_a_transaction_holds_no_chain_lock_until_it_commits_and_ids_follow_commit_order() -> None:
    with transaction.atomic():
        late = event_record(kind="written_first_committed_last")
        assert late.pk is None
        assert chain_lock_holders() == 0
        early = in_other_transaction(lambda: event_record(kind="written_second_committed_first"))
    assert chain_lock_holders() == 0
    assert early.pk < late.pk
    assert late.previous_hash == early.row_hash
    assert kinds() == ["written_second_committed_first", "written_first_committed_last"]
    assert audit_verify() == []


@pytest.mark.django_db(transaction=True)
def test_the_checkpointer_never_sees_a_gap_below_its_head() -> None:
    """A checkpoint signed while another transaction's event waits for its commit: that event must land
    above the signed head, so the next checkpoint still extends the first."""
    with transaction.atomic():
        event_record(kind="waiting_for_commit")
        in_other_transaction(lambda: event_record(kind="committed_meanwhile"))
        first = in_other_transaction(checkpoint_write)
    assert first is not None and first.event_count == 1
    second = checkpoint_write()  # raises TrailBroken if an event appeared below the first head
    assert second is not None
    assert second.event_count == 2 and second.last_event_id > first.last_event_id
    assert audit_verify() == []


@pytest.mark.django_db(transaction=True)
def test_events_of_a_rolled_back_savepoint_or_transaction_never_join_the_chain() -> None:
    with transaction.atomic():
        event_record(kind="kept")
        with contextlib.suppress(RuntimeError), transaction.atomic():
            event_record(kind="rolled_back_with_its_savepoint")
            raise RuntimeError
        event_record(kind="kept_too")
    with contextlib.suppress(RuntimeError), transaction.atomic():
        event_record(kind="rolled_back_with_its_transaction")
        raise RuntimeError
    assert kinds() == ["kept", "kept_too"]
    assert chain_lock_holders() == 0
    assert audit_verify() == []


@pytest.mark.django_db(transaction=True)
def test_a_failure_while_chaining_at_commit_rolls_the_whole_transaction_back(monkeypatch: Any) -> None:
    """An action that cannot be audited does not happen, even when the chaining fails at its commit."""

    def refuse(*args: object) -> str:
        raise ValueError("no MAC today")

    monkeypatch.setattr(trail, "_row_mac", refuse)
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditAlert.objects.create(
            fingerprint="the action", reason="", raised_at="2026-12-07T00:00Z", last_found_at="2026-12-07T00:00Z"
        )
        event_record(kind="cannot_be_chained")
    assert not AuditAlert.objects.exists()
    assert kinds() == []


@pytest.mark.django_db
def test_a_transaction_reads_the_events_it_has_written() -> None:
    with transaction.atomic():
        event = event_record(kind="mine")
        assert event.pk is None
        assert kinds() == ["mine"]  # chained on reading, so the read sees it
        assert event.pk is not None
        event_record(kind="mine_too")
    assert kinds() == ["mine", "mine_too"]
    assert audit_verify() == []


@pytest.mark.django_db
def test_events_of_a_block_are_chained_when_it_ends_inside_a_test_case_transaction() -> None:
    """Tests run inside a transaction that never commits: the application's outermost block ending stands
    for the commit, so what the tests see is what production commits."""
    with transaction.atomic():
        first = event_record(kind="one")
        second = event_record(kind="two")
        assert first.pk is None and second.pk is None
    assert first.pk is not None and second.pk == first.pk + 1
    assert second.previous_hash == first.row_hash
    assert audit_verify() == []


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_and_the_checkpointer_keep_one_unbroken_chain() -> None:
    """Writers of two events per transaction, and a checkpointer signing as they go: every checkpoint
    extends the one before, each transaction's events are consecutive, and the chain verifies."""
    writers, transactions = 4, 8
    done = threading.Event()
    signed: list[int] = []
    errors: list[BaseException] = []

    def write(number: int) -> None:
        for n in range(transactions):
            with transaction.atomic():
                event_record(kind="pair_first", detail={"writer": number, "n": n})
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_sleep(0.002)")  # the rest of the transaction
                event_record(kind="pair_second", detail={"writer": number, "n": n})

    def checkpoints() -> None:
        try:
            while not done.is_set():
                line = checkpoint_write()
                if line is not None:
                    signed.append(line.event_count)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    checkpointer = threading.Thread(target=checkpoints)
    checkpointer.start()
    try:
        at_once(writers, write)
    finally:
        done.set()
        checkpointer.join()
    assert errors == []
    assert checkpoint_write() is not None
    rows = list(AuditEvent.objects.order_by("id").values_list("id", "kind", "detail"))
    assert len(rows) == writers * transactions * 2
    for (first_id, first_kind, first_detail), (second_id, second_kind, second_detail) in zip(
        rows[::2], rows[1::2], strict=True
    ):
        assert (first_kind, second_kind) == ("pair_first", "pair_second")
        assert first_detail == second_detail and second_id == first_id + 1
    assert signed == sorted(signed)
    assert audit_verify() == []
