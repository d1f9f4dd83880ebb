"""Keeping the rota: a shift added, changed or removed by a supervisor, each an audit event (ids and roles
only: a handover note is staff text about shifts, never case content, and is not copied into the trail)."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from accounts.models import User
from audit.trail import event_record
from rota import selectors
from rota.models import Shift


class RotaRefused(Exception):
    """The shift breaks a rule of the rota (the form checks first; this guards a race)."""


def _detail(shift: Shift) -> dict[str, object]:
    return {
        "shift": shift.pk,
        "person": shift.person_id,
        "role": shift.role,
        "starts_at": shift.starts_at.isoformat(),
        "ends_at": shift.ends_at.isoformat(),
    }


@transaction.atomic
def shift_save(
    *,
    shift: Shift | None,
    person: User,
    role: str,
    starts_at: datetime,
    ends_at: datetime,
    phone: str,
    handover_note: str,
    acting_user: User,
) -> Shift:
    """Add a shift (``shift`` None) or change one."""
    if ends_at <= starts_at:
        raise RotaRefused("The shift must end after it starts")
    if not selectors.on_call_staff().filter(pk=person.pk).exists():
        raise RotaRefused("Choose an active member of the helpline staff")
    # One primary at a time: taken under a lock on the primaries, so two supervisors cannot both add one.
    list(Shift.objects.select_for_update().filter(role=Shift.Role.PRIMARY).values_list("pk", flat=True))
    if role == Shift.Role.PRIMARY and selectors.primary_overlapping(
        starts_at, ends_at, exclude_id=shift.pk if shift else None
    ):
        raise RotaRefused("There is already a primary on call then")
    adding = shift is None
    if shift is None:
        shift = Shift(created_by=acting_user)
    shift.person, shift.role, shift.starts_at, shift.ends_at = person, role, starts_at, ends_at
    shift.phone, shift.handover_note = phone, handover_note
    shift.save()
    event_record(kind="rota_shift_added" if adding else "rota_shift_changed", actor=acting_user, detail=_detail(shift))
    return shift


@transaction.atomic
def shift_remove(*, shift: Shift, acting_user: User) -> None:
    detail = _detail(shift)
    shift.delete()
    event_record(kind="rota_shift_removed", actor=acting_user, detail=detail)
