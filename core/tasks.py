"""Re-padding rows sealed before padding existed (core.padding), in batches on the workers.

``manage.py repad_sealed`` finds the rows of each column in REPADDED_COLUMNS whose stored length is not
a bucket's, by id and length only (it needs no key), and queues one ``core.repad_sealed`` task per batch
of ids. The task, on a worker (which holds the helpline's private key), opens each row's data key, seals
its text again padded, and commits the batch. Task arguments are a column's name and ids: never content.

Idempotent: a row that already has a bucket's length, or opens as padded, is left as it is, so a batch
delivered twice, or the command run again, changes nothing more.

Columns sealed with a key only the browser holds (a reporter's draft, ``reports.Draft.ciphertext``, and a
refused staff form kept in the session, core.form_retry) cannot be re-padded by the server: they are padded
whenever they are sealed again, and expire within ``DRAFT_IDLE_SECONDS`` and ``FORM_RETRY_SECONDS``.

Core imports no app: the columns are named here by model label, and resolved through Django's app registry.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import nacl.exceptions
from celery import shared_task
from django.apps import apps
from django.db import models, transaction
from django.db.models.functions import Length

from core import crypto, keystore, padding

log = logging.getLogger(__name__)

REPAD_TASK = "core.repad_sealed"
BATCH_SIZE = 500
# Ids and lengths read per query while looking for rows to re-pad.
SCAN_SIZE = 5000


@dataclass(frozen=True)
class SealedColumn:
    """A column sealed with a report's data key: ``report`` is the path from its row to that report
    ("" for the report itself), whose envelope the helpline's private key opens."""

    model_label: str
    field: str
    report: str

    @property
    def name(self) -> str:
        return f"{self.model_label}.{self.field}"

    def model(self) -> type[models.Model]:
        return apps.get_model(self.model_label)


REPADDED_COLUMNS: dict[str, SealedColumn] = {
    column.name: column
    for column in (
        SealedColumn("reports.Report", "content", ""),
        SealedColumn("reports.Message", "body", "report"),
        SealedColumn("triage.CaseNote", "body", "case__report"),
        SealedColumn("triage.LegalHold", "reason", "case__report"),
        SealedColumn("referrals.Referral", "summary", "case__report"),
        SealedColumn("referrals.AuthorityAction", "note", "case__report"),
    )
}


# Columns by the names batches queued before a move carry: referrals moved out of triage keeping their tables
# and ids (referrals migration 0001), so a batch queued by the older code still names the same rows.
FORMER_NAMES = {
    "triage.Referral.summary": "referrals.Referral.summary",
    "triage.AuthorityAction.note": "referrals.AuthorityAction.note",
}


def column_named(name: str) -> SealedColumn:
    column = REPADDED_COLUMNS.get(FORMER_NAMES.get(name, name))
    if column is None:
        raise ValueError(f"Not a column that is re-padded: {name!r}")
    return column


def needs_repad(length: int | None) -> bool:
    """Whether a stored value of this length is sealed and says more than its bucket (an empty value
    is no ciphertext: an authority action without a note)."""
    return bool(length) and not padding.is_padded_length(length or 0)


def repad_candidates(column: SealedColumn, *, batch_size: int = BATCH_SIZE) -> Iterator[list[int]]:
    """Batches of ids of the rows to re-pad, in id order (keyset pagination: no OFFSET, no long scan)."""
    rows = column.model()._default_manager.order_by("pk").annotate(sealed_length=Length(column.field))
    pending: list[int] = []
    last: int | None = None
    while True:
        page = rows.filter(pk__gt=last) if last is not None else rows
        scanned = list(page.values_list("pk", "sealed_length")[:SCAN_SIZE])
        for pk, length in scanned:
            if needs_repad(length):
                pending.append(pk)
                if len(pending) == batch_size:
                    yield pending
                    pending = []
        if len(scanned) < SCAN_SIZE:
            break
        last = scanned[-1][0]
    if pending:
        yield pending


@dataclass(frozen=True)
class RepadOutcome:
    resealed: int
    already_padded: int
    unreadable: list[int]


def _report_of(row: models.Model, path: str) -> Any:
    target: Any = row
    for step in path.split("__") if path else ():
        target = getattr(target, step)
    return target


@transaction.atomic(durable=True)
def repad_batch(*, column: str, ids: Sequence[int]) -> RepadOutcome:
    """Seal the rows ``ids`` of ``column`` again, padded, in one transaction (the rows locked meanwhile).

    Rows gone since the batch was queued (a retention purge) are simply not found. A row this process
    cannot open (sealed to a key id it does not hold, or damaged) is left unchanged and counted by id."""
    spec = column_named(column)
    if not crypto.can_decrypt():
        raise crypto.KeyUnavailable("This process holds no private key: re-padding runs on the workers")
    model = spec.model()
    rows = model._default_manager.select_for_update(of=("self",)).filter(pk__in=list(ids)).order_by("pk")
    if spec.report:
        rows = rows.select_related(spec.report)
    keys: dict[int, bytes] = {}
    resealed = already = 0
    unreadable: list[int] = []
    for row in rows:
        sealed = bytes(getattr(row, spec.field))
        if not needs_repad(len(sealed)):
            already += 1
            continue
        report = _report_of(row, spec.report)
        try:
            if report.pk not in keys:
                keys[report.pk] = keystore.data_key_of(report)
            padded = crypto.reseal_padded(keys[report.pk], sealed)
        except (crypto.KeyUnavailable, nacl.exceptions.CryptoError):
            unreadable.append(row.pk)
            continue
        if padded is None:
            already += 1
            continue
        model._default_manager.filter(pk=row.pk).update(**{spec.field: padded})
        resealed += 1
    return RepadOutcome(resealed=resealed, already_padded=already, unreadable=unreadable)


def repad_queue(column: SealedColumn, ids: list[int], *, queue: str | None = None) -> None:
    """Queue one batch: the column's name and ids, nothing else (on ``queue``, or the default one)."""
    if queue:
        repad_sealed.apply_async(args=(column.name, ids), retry=False, queue=queue)
    else:
        repad_sealed.apply_async(args=(column.name, ids), retry=False)


@shared_task(name=REPAD_TASK)
def repad_sealed(column: str, ids: list[int]) -> None:
    outcome = repad_batch(column=column, ids=[int(pk) for pk in ids])
    # Counts and ids only: nothing anyone wrote.
    log.info(
        "re-padded %s: %d re-sealed, %d already padded, %d unreadable",
        column,
        outcome.resealed,
        outcome.already_padded,
        len(outcome.unreadable),
    )
    if outcome.unreadable:
        log.warning("%s rows left unpadded (no key or damaged): ids %s", column, outcome.unreadable)
