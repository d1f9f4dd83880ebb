"""Writes to the authority directory made by people (the loader command writes the open data)."""

from __future__ import annotations

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction

from audit.trail import event_record
from directory.models import LocalAuthority


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
