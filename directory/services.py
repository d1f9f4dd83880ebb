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
