"""Writes to the authority directory made by people (the loader command writes the open data)."""

from __future__ import annotations

from collections.abc import Sequence

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction

from audit.trail import event_record
from directory.models import LocalAuthority, Partnership


@transaction.atomic(durable=True)
def authority_inbox_set(*, authority: LocalAuthority, referral_email: str, acting_user: AbstractBaseUser) -> None:
    """Set (or clear, with "") where an authority's referral notifications go; audited."""
    authority.referral_email = referral_email
    authority.save(update_fields=["referral_email"])
    event_record(kind="authority_inbox_set", actor=acting_user, detail={"authority": authority.gss_code})


@transaction.atomic(durable=True)
def authority_contacts_set(
    *,
    authority: LocalAuthority,
    referral_email: str,
    emergency_duty_phone: str,
    childrens_services_contact: str,
    acting_user: AbstractBaseUser,
) -> list[str]:
    """Set (or clear, with "") an authority's referral inbox and telephone numbers, as an administrator
    gave them (already checked by the form); audited with the names of the fields that changed."""
    wanted = {
        "referral_email": referral_email,
        "emergency_duty_phone": emergency_duty_phone,
        "childrens_services_contact": childrens_services_contact,
    }
    changed = [name for name, value in wanted.items() if getattr(authority, name) != value]
    for name in changed:
        setattr(authority, name, wanted[name])
    if changed:
        authority.save(update_fields=changed)
        # The inbox keeps its own event kind (as authority_inbox_set records it); the numbers theirs.
        if "referral_email" in changed:
            event_record(kind="authority_inbox_set", actor=acting_user, detail={"authority": authority.gss_code})
        phones = [name for name in changed if name != "referral_email"]
        if phones:
            event_record(
                kind="authority_phones_set",
                actor=acting_user,
                detail={"authority": authority.gss_code, "changed": phones},
            )
    return changed


class PartnershipRefused(Exception):
    """A safeguarding partnership that cannot be saved as asked; the message says why, for the page."""


@transaction.atomic(durable=True)
def partnership_save(
    *,
    partnership: Partnership | None,
    name: str,
    authorities: Sequence[LocalAuthority],
    acting_user: AbstractBaseUser,
) -> Partnership:
    """Set up a safeguarding partnership (``partnership`` None) or change one: its name and the authorities
    it covers, one or more. Its members see those authorities' statistics from then on. Audited with the
    authorities' codes."""
    if not authorities:
        raise PartnershipRefused("A safeguarding partnership covers at least one authority.")
    same_name = Partnership.objects.filter(name__iexact=name)
    if partnership is not None:
        same_name = same_name.exclude(pk=partnership.pk)
    if same_name.exists():
        raise PartnershipRefused(f"There is already a safeguarding partnership called {name}.")
    created = partnership is None
    if partnership is None:
        partnership = Partnership.objects.create(name=name)
    else:
        partnership = Partnership.objects.select_for_update().get(pk=partnership.pk)
        partnership.name = name
        partnership.save(update_fields=["name"])
    partnership.authorities.set(authorities)
    event_record(
        kind="partnership_created" if created else "partnership_changed",
        actor=acting_user,
        detail={
            "partnership": partnership.pk,
            "authorities": sorted(authority.gss_code for authority in authorities),
        },
    )
    return partnership
