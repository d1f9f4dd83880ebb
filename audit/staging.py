"""Chaining at commit: events written inside a transaction wait in memory and join the chain just before it
commits, so the chain's lock is held for that last moment only (docs/adr/0003-audit-chain-lock.md).

Each row links to the row before it, so whoever chains a row must hold the chain's lock until the row is
committed: otherwise the next writer could link to a row that then rolls back, or commit first with a
later id. Taken where the event is written, the lock queued every writer behind the whole rest of that
transaction (routing, an action's emails, a bulk action). Taken just before the commit, it covers reading
the head, inserting the rows and the commit itself.

Where the event's own block is the application's outermost (a case view in autocommit), there is nothing
after it, so it is chained at once. Otherwise it is staged: kept as an ``on_commit`` entry of the
connection, so Django's own bookkeeping drops it with a rolled-back savepoint or transaction, exactly as
the row would have been dropped. The rows, their MACs and their links are computed in this process, from
the values the caller gave: nothing the database could alter is MACed, and the MAC key never reaches it.

The staged events are chained:
* just before ``commit()`` (installed on every connection as it opens, by audit.apps);
* when the application's outermost block ends inside a test case's own transaction, which never commits,
  so tests see what production commits;
* before the transaction reads the trail (audit.models' manager), so it reads its own writes; the lock is
  then held to its commit, as before.
A failure while chaining is a DatabaseError, so the atomic block rolls the whole transaction back: an
action that cannot be audited does not happen.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db import DatabaseError
from django.db.backends.base.base import BaseDatabaseWrapper

if TYPE_CHECKING:
    from audit.models import AuditEvent

_HOOKED = "_audit_chain_at_commit"


@dataclass(eq=False)
class StagedEvent:
    """An event waiting for its transaction's commit, with the key it will be MACed with."""

    event: AuditEvent
    key: bytes = field(repr=False)
    chained: bool = False

    def __call__(self) -> None:
        """Run by Django after the commit, as every on_commit entry is: the event was chained before it."""


def application_outermost(connection: BaseDatabaseWrapper) -> bool:
    """Whether the innermost atomic block is the application's outermost: nothing encloses it but a test
    case's own blocks."""
    return _test_blocks_only(connection.atomic_blocks[:-1])


def _test_blocks_only(blocks: list[Any]) -> bool:
    return all(getattr(block, "_from_testcase", False) for block in blocks)


def stage(connection: BaseDatabaseWrapper, staged: StagedEvent) -> None:
    connection.on_commit(staged)


def staged_events(connection: BaseDatabaseWrapper) -> list[StagedEvent]:
    """This transaction's events not chained yet, in the order they were written (none rolled back)."""
    entries: list[tuple[Any, ...]] = getattr(connection, "run_on_commit", [])
    return [entry[1] for entry in entries if isinstance(entry[1], StagedEvent) and not entry[1].chained]


def chain_staged(connection: BaseDatabaseWrapper) -> None:
    """Chain this transaction's staged events now; any failure is a DatabaseError (the caller rolls back)."""
    from audit.trail import chain_events

    waiting = staged_events(connection)
    if not waiting:
        return
    try:
        chain_events(connection, waiting)
    except DatabaseError:
        raise
    except Exception as exc:
        raise DatabaseError("the audit events could not be chained") from exc


def install(sender: object, connection: BaseDatabaseWrapper, **kwargs: object) -> None:
    """connection_created: chain staged events before this connection commits, or before the application's
    outermost block releases its savepoint inside a test case's transaction. Once per connection object."""
    if getattr(connection, _HOOKED, False):
        return
    setattr(connection, _HOOKED, True)
    commit: Callable[[], None] = connection.commit
    savepoint_commit: Callable[[str], None] = connection.savepoint_commit

    def commit_chained() -> None:
        chain_staged(connection)
        commit()

    def savepoint_commit_chained(sid: str) -> None:
        # Atomic.__exit__ has already removed the ending block: only a test case's blocks left means the
        # application's outermost block is ending, where production would commit.
        if connection.atomic_blocks and _test_blocks_only(connection.atomic_blocks):
            chain_staged(connection)
        savepoint_commit(sid)

    connection.commit = commit_chained  # type: ignore[method-assign]
    connection.savepoint_commit = savepoint_commit_chained  # type: ignore[method-assign]
