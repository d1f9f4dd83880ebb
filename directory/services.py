"""Writes to the directory made by people (the loader command and migrations write the open data): authorities'
contacts, safeguarding partnerships and the national bodies."""

from __future__ import annotations

from collections.abc import Sequence

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.db.models import ProtectedError

from audit.trail import event_record
from directory.models import LocalAuthority, NationalBody, Partnership


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


class NationalBodyRefused(Exception):
    """A national body that cannot be saved or deleted as asked; the message says why, for the page."""


REVIEW_TEAM_STAYS = (
    "The independent national review team must stay in the directory: cases are sent to it for independent "
    "review and its reviewers work them. Change its name or contact address instead."
)


@transaction.atomic(durable=True)
def national_body_save(
    *,
    body: NationalBody | None,
    code: str,
    name: str,
    kind: str,
    contact_email: str,
    acting_user: AbstractBaseUser,
) -> tuple[NationalBody, list[str]]:
    """Add a national body (``body`` None) or change one: (the body, the names of the fields that changed).
    Codes and names are unique; there is one independent national review team. A body with referrals keeps
    its code and kind, which its referrals, the API and the audit trail name it by. Audited with its code and
    the names of the fields changed (never the address)."""
    if kind not in NationalBody.Kind.values:
        raise NationalBodyRefused("Choose what kind of body it is from the list.")
    if body is not None:
        found = NationalBody.objects.select_for_update().filter(pk=body.pk).first()
        if found is None:
            raise NationalBodyRefused("This national body has been deleted.")
        body = found
    others = NationalBody.objects.exclude(pk=body.pk) if body is not None else NationalBody.objects.all()
    if others.filter(code=code).exists():
        raise NationalBodyRefused(f"There is already a national body with the code {code}.")
    if others.filter(name__iexact=name).exists():
        raise NationalBodyRefused(f"There is already a national body called {name}.")
    if kind == NationalBody.Kind.REVIEW_TEAM and others.filter(kind=NationalBody.Kind.REVIEW_TEAM).exists():
        raise NationalBodyRefused(
            "There is already an independent national review team: there is only one, and its reviewers work "
            "every case sent for review."
        )
    if body is not None and body.kind == NationalBody.Kind.REVIEW_TEAM and kind != body.kind:
        raise NationalBodyRefused(REVIEW_TEAM_STAYS)
    if body is not None and (kind != body.kind or code != body.code) and body.referrals.exists():
        what = "kind" if kind != body.kind else "code"
        raise NationalBodyRefused(
            f"{body.name} has referrals: its {what} cannot change, because its referrals, the API and the audit "
            "trail name it by its code and kind. Add a new body instead."
        )
    wanted = {"code": code, "name": name, "kind": kind, "contact_email": contact_email}
    if body is None:
        body = NationalBody.objects.create(**wanted)
        event_record(
            kind="national_body_created",
            actor=acting_user,
            detail={"national_body": body.pk, "code": body.code, "kind": body.kind},
        )
        return body, list(wanted)
    former_code = body.code
    changed = [field for field, value in wanted.items() if getattr(body, field) != value]
    if not changed:
        return body, []
    for field in changed:
        setattr(body, field, wanted[field])
    body.save(update_fields=changed)
    detail: dict[str, object] = {"national_body": body.pk, "code": body.code, "kind": body.kind, "changed": changed}
    if "code" in changed:
        detail["former_code"] = former_code
    event_record(kind="national_body_changed", actor=acting_user, detail=detail)
    return body, changed


def national_body_delete_problem(body: NationalBody) -> str:
    """Why ``body`` cannot be deleted ("" when it can): the review team stays, and a body with referrals is
    named by them (referrals.models.Referral.body protects it)."""
    if body.kind == NationalBody.Kind.REVIEW_TEAM:
        return REVIEW_TEAM_STAYS
    referrals = body.referrals.count()
    if referrals:
        return (
            f"{body.name} cannot be deleted: {referrals} referral{'s' if referrals != 1 else ''} to it "
            f"{'are' if referrals != 1 else 'is'} on record and keep{'' if referrals != 1 else 's'} naming it. "
            "Change its name or contact address instead."
        )
    return ""


@transaction.atomic(durable=True)
def national_body_delete(*, body: NationalBody, acting_user: AbstractBaseUser) -> None:
    """Delete a national body nothing refers to; audited with its code. Refused (NationalBodyRefused) for the
    review team and for a body with referrals."""
    found = NationalBody.objects.select_for_update().filter(pk=body.pk).first()
    if found is None:
        raise NationalBodyRefused("This national body has already been deleted.")
    problem = national_body_delete_problem(found)
    if problem:
        raise NationalBodyRefused(problem)
    detail = {"national_body": found.pk, "code": found.code, "kind": found.kind}
    try:
        found.delete()
    except ProtectedError as protected:
        # A referral made since the check (the row lock makes this all but impossible): refused all the same.
        raise NationalBodyRefused(f"{found.name} cannot be deleted: referrals name it.") from protected
    event_record(kind="national_body_deleted", actor=acting_user, detail=detail)
