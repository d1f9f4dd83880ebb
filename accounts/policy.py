"""Who may do or see what: the one place the service decides it. Views (``staff_required``), the APIs
(``PolicyPermission``), services, selectors and templates (the ``can`` context) ask this module, never a role.

Two kinds of question:
- **May this user do this?** ``may(user, Permission.X)``: a role rule, for an active account.
- **Which of them?** ``authority_ids``, ``referral_scope``, ``case_scope``, ``statistics_partnership``: what
  an authority officer or a safeguarding partnership sees of the cases, referrals and figures their role
  opens, and ``partnership_audience``: which partnerships hear about an authority.

The role table in the README says the same in words; ``tests/accounts/test_policy.py`` holds it as a
hand-written matrix, and ``tests/test_view_access.py`` checks every URL against both.
"""

from __future__ import annotations

from enum import StrEnum

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet

from accounts.models import User
from directory.models import LocalAuthority, NationalBody, Partnership

R = User.Role


class Permission(StrEnum):
    # The helpline's workspace: the case list, every case page and action, phone reports, the helpline API.
    # Also who may be assigned a case and who may open the cases behind a pattern alert.
    HELPLINE_WORK = "helpline_work"
    # Reopen a closed case; see who has opened a case's content.
    REOPEN_CASE = "reopen_case"
    CASE_ACCESS_HISTORY = "case_access_history"
    # The authority workspace and API: referrals to the officer's own authorities only (referral_scope).
    AUTHORITY_WORK = "authority_work"
    # Independent national review: the referrals of cases sent for review (referral_scope), in the same
    # workspace and API; records findings and refers a case on (Ofsted, the police, the review panel).
    NATIONAL_REVIEW = "national_review"
    # The referral workspace and API themselves: whoever works referrals sent to them (either of the above).
    REFERRAL_WORK = "referral_work"
    # Staff accounts, authorities' referral inboxes, approvals of another administrator's request.
    ADMINISTER = "administer"
    # The service health page (queues, outbox, mail, authorities without an inbox).
    SERVICE_HEALTH = "service_health"
    # Published statistics: of a safeguarding partnership's own authorities, or national (NATIONAL_STATISTICS).
    STATISTICS = "statistics"
    NATIONAL_STATISTICS = "national_statistics"
    # National pattern alerts and the annual report's figures.
    PATTERN_ALERTS = "pattern_alerts"
    # Turn a pattern alert into a case for independent national review (a case with no report, referred to
    # the review team): its summary is the alert's figures only. Opening it is not seeing it: national
    # oversight never sees a case (case_scope).
    OPEN_REVIEW_CASE = "open_review_case"
    # Emailed when a case escalates (an acknowledgement or outcome overdue, a question unanswered).
    TOLD_OF_ESCALATIONS = "told_of_escalations"
    # Emailed when a referral's outcome is overdue past the ladder's last rung, nationally.
    TOLD_OF_OVERSIGHT_ALERTS = "told_of_oversight_alerts"
    # A case's files (evidence the reporter sent, files the helpline added): the helpline sees them all; a
    # referral's recipient only those the helpline shared with that referral (attachment_scope).
    CASE_FILES = "case_files"
    # Delete a case's file for good, with a reason.
    DELETE_CASE_FILE = "delete_case_file"
    # Prepare an evidence export for an inquiry, a court or the police, or approve another supervisor's
    # (lifecycle.evidence: never one's own), and download a bundle one prepared or approved.
    EVIDENCE_EXPORT = "evidence_export"
    # Legal hold: put a case (and its linked cases) on hold, review each hold every year, release it. The list
    # of held cases shows case numbers, legal bases and dates, never content.
    LEGAL_HOLD = "legal_hold"
    # The cases due for destruction under the retention schedule in the next 30 days, to hold any that must stay.
    DESTRUCTION_DUE = "destruction_due"
    # Ask for a closed case to be destroyed before its time, or approve or refuse another's request.
    DESTROY_EARLY = "destroy_early"
    # A confidential or named reporter's contact details are hidden on the case page, even from the helpline:
    # showing them takes a reason from a short list, and is an audit event supervisors see
    # (CASE_ACCESS_HISTORY). Nobody else ever reveals them: a referral's recipient sees only what a sharing for
    # its own referral covers.
    REVEAL_CONTACT = "reveal_contact"
    # Share a reporter's identity with a referral's recipient without their consent, under a legal duty (a
    # child at immediate risk, a court order): proposed by one supervisor, approved by another.
    IDENTITY_LEGAL_DUTY = "identity_legal_duty"
    # Act on many cases at once from the case list (assign, set priority, link as duplicates of one case, close):
    # a supervisor's, on a bad day. Each case still takes the action only as its workflow allows.
    BULK_TRIAGE = "bulk_triage"
    # Keep the on-call rota (who is paged for urgent cases, primary and secondary, from when to when).
    MANAGE_ROTA = "manage_rota"


RULES: dict[Permission, frozenset[str]] = {
    Permission.HELPLINE_WORK: frozenset({R.CALL_HANDLER, R.SUPERVISOR}),
    Permission.REOPEN_CASE: frozenset({R.SUPERVISOR}),
    Permission.CASE_ACCESS_HISTORY: frozenset({R.SUPERVISOR}),
    Permission.AUTHORITY_WORK: frozenset({R.AUTHORITY_OFFICER}),
    Permission.NATIONAL_REVIEW: frozenset({R.NATIONAL_REVIEWER}),
    Permission.REFERRAL_WORK: frozenset({R.AUTHORITY_OFFICER, R.NATIONAL_REVIEWER}),
    Permission.ADMINISTER: frozenset({R.ADMINISTRATOR}),
    Permission.SERVICE_HEALTH: frozenset({R.SUPERVISOR, R.ADMINISTRATOR}),
    Permission.STATISTICS: frozenset({R.PARTNERSHIP, R.OVERSIGHT_ANALYST, R.SUPERVISOR}),
    Permission.NATIONAL_STATISTICS: frozenset({R.OVERSIGHT_ANALYST, R.SUPERVISOR}),
    Permission.PATTERN_ALERTS: frozenset({R.OVERSIGHT_ANALYST, R.SUPERVISOR}),
    Permission.OPEN_REVIEW_CASE: frozenset({R.OVERSIGHT_ANALYST, R.SUPERVISOR}),
    Permission.TOLD_OF_ESCALATIONS: frozenset({R.SUPERVISOR}),
    Permission.TOLD_OF_OVERSIGHT_ALERTS: frozenset({R.OVERSIGHT_ANALYST}),
    Permission.CASE_FILES: frozenset({R.CALL_HANDLER, R.SUPERVISOR, R.AUTHORITY_OFFICER, R.NATIONAL_REVIEWER}),
    Permission.DELETE_CASE_FILE: frozenset({R.SUPERVISOR}),
    Permission.EVIDENCE_EXPORT: frozenset({R.SUPERVISOR}),
    Permission.LEGAL_HOLD: frozenset({R.SUPERVISOR, R.ADMINISTRATOR}),
    Permission.DESTRUCTION_DUE: frozenset({R.SUPERVISOR}),
    Permission.DESTROY_EARLY: frozenset({R.SUPERVISOR}),
    Permission.REVEAL_CONTACT: frozenset({R.CALL_HANDLER, R.SUPERVISOR}),
    Permission.IDENTITY_LEGAL_DUTY: frozenset({R.SUPERVISOR}),
    Permission.BULK_TRIAGE: frozenset({R.SUPERVISOR}),
    Permission.MANAGE_ROTA: frozenset({R.SUPERVISOR}),
}

# Why a refused action was refused, where the page says so (a helpline member who is not a supervisor).
REFUSALS: dict[Permission, str] = {
    Permission.REOPEN_CASE: "Only a supervisor can reopen a closed case.",
    Permission.DELETE_CASE_FILE: "Only a supervisor can delete a file.",
    Permission.LEGAL_HOLD: "Only a supervisor can put a case on legal hold or release it.",
    Permission.DESTROY_EARLY: "Only a supervisor can ask for a case to be destroyed early.",
    Permission.IDENTITY_LEGAL_DUTY: "Only a supervisor can propose or approve sharing a reporter's identity under a "
    "legal duty.",
    Permission.BULK_TRIAGE: "Only a supervisor can act on many cases at once.",
}
NOT_HELPLINE = "Only helpline staff can act on a case."


def role_may(role: str, permission: Permission) -> bool:
    return role in RULES[permission]


def may(user: object, permission: Permission) -> bool:
    """Whether ``user`` (anybody, signed in or not) may do ``permission``. A disabled account may do nothing."""
    if not isinstance(user, User) or not user.is_active:
        return False
    if permission == Permission.STATISTICS and scoped_by_partnership(user.role) and user.partnership_id is None:
        return False  # a partnership member with no partnership has no figures to see
    return role_may(user.role, permission)


def require(user: object, permission: Permission) -> None:
    if not may(user, permission):
        raise PermissionDenied(REFUSALS.get(permission, ""))


def refusal(user: User, permission: Permission) -> str:
    """What to tell a member of staff who may not: the rule's own reason for helpline staff, else that only
    the helpline acts on cases."""
    if may(user, Permission.HELPLINE_WORK):
        return REFUSALS.get(permission, NOT_HELPLINE)
    return NOT_HELPLINE


def holders(permission: Permission) -> QuerySet[User]:
    """Every active account whose role holds ``permission`` (an email's audience, the assignee list)."""
    return User.objects.filter(role__in=sorted(RULES[permission]), is_active=True)


def capabilities(user: object) -> dict[str, bool]:
    """Every permission by name, for templates: ``{% if can.service_health %}``."""
    return {permission.value: may(user, permission) for permission in Permission}


# --- which of them: scope ------------------------------------------------------------------------------


def authority_ids(user: User) -> QuerySet[LocalAuthority, int]:
    """The authorities whose referrals an officer works (their scope); nothing for every other role."""
    if not may(user, Permission.AUTHORITY_WORK):
        return user.authorities.none().values_list("pk", flat=True)
    return user.authorities.values_list("pk", flat=True)


def referral_scope(user: User, *, case: str = "case__", authority: str = "authority", body: str = "body") -> Q | None:
    """The referrals ``user`` may open, as a filter over a referral (``case``, ``authority`` and ``body``
    name the paths to its case and recipient); None for all of them, and a filter matching nothing for a
    role that sees none. An officer sees referrals to their own authorities, never one on a case about their
    own council or one under independent review; a national reviewer sees the referrals to the independent
    national review team."""
    if may(user, Permission.HELPLINE_WORK):
        return None
    if may(user, Permission.NATIONAL_REVIEW):
        return Q(**{f"{body}__kind": NationalBody.Kind.REVIEW_TEAM})
    if not may(user, Permission.AUTHORITY_WORK):
        return Q(pk__in=[])
    mine = authority_ids(user)
    return Q(**{f"{authority}__in": mine, f"{case}independent_review": False}) & ~Q(
        **{f"{case}conflict_authority__in": mine}
    )


def case_scope(user: User) -> Q | None:
    """The cases ``user`` may open, as a filter over a case: all of them for the helpline (None), those
    referred to an officer's own authorities (what of each they may read is their referral's), else none."""
    if may(user, Permission.HELPLINE_WORK):
        return None
    if not may(user, Permission.REFERRAL_WORK):
        return Q(pk__in=[])
    return referral_scope(user, case="", authority="referrals__authority", body="referrals__body")


def attachment_scope(user: User, *, shared: str = "referrals__") -> Q | None:
    """The case files ``user`` may open, as a filter over an attachment (``shared`` names the path to the
    referrals it was shared with): every file for the helpline (None); for an officer or a national
    reviewer, only those the helpline shared with a referral they may open (referral_scope); none for
    anybody else: a safeguarding partnership, national oversight and administrators never see a file."""
    if may(user, Permission.HELPLINE_WORK):
        return None
    if not may(user, Permission.CASE_FILES):
        return Q(pk__in=[])
    return referral_scope(user, case=f"{shared}case__", authority=f"{shared}authority", body=f"{shared}body")


def scoped_by_authorities(role: str) -> bool:
    """Whether an account with ``role`` is scoped to the authorities it lists (an officer's)."""
    return role_may(role, Permission.AUTHORITY_WORK)


def scoped_by_partnership(role: str) -> bool:
    """Whether an account with ``role`` is scoped to a safeguarding partnership's authorities (one or more):
    whoever sees statistics but not England's."""
    return role_may(role, Permission.STATISTICS) and not role_may(role, Permission.NATIONAL_STATISTICS)


def scope_label(role: str, authority_names: list[str], partnership: str) -> str:
    """What an account with ``role`` and this scope sees, in the administrator's words."""
    if role_may(role, Permission.HELPLINE_WORK):
        return "All helpline cases"
    if scoped_by_authorities(role):
        return ", ".join(authority_names) or "No authorities"
    if scoped_by_partnership(role):
        return partnership or "No partnership"
    if role_may(role, Permission.NATIONAL_STATISTICS):
        return "National"
    if role_may(role, Permission.NATIONAL_REVIEW):
        return "Cases sent for independent review"
    return "Not scoped"


def statistics_partnership(user: User) -> Partnership | None:
    """The safeguarding partnership whose authorities' statistics ``user`` sees, or None for England;
    PermissionDenied for everybody else. Supervisors see national statistics and alerts so the helpline can
    see what its own cases add up to. (Regions stay in the national figures, for oversight and patterns.)"""
    if may(user, Permission.NATIONAL_STATISTICS):
        return None
    if may(user, Permission.STATISTICS) and user.partnership is not None:
        return user.partnership
    raise PermissionDenied


def partnership_audience(authority: LocalAuthority, *, conflict: LocalAuthority | None = None) -> QuerySet[User]:
    """The active members of the safeguarding partnerships that cover ``authority``: who hears that it
    missed a deadline. Never a partnership that also covers ``conflict`` (the council a concern is about),
    whose statistics leave that concern out too."""
    members = holders(Permission.STATISTICS).filter(
        role__in=[role for role in RULES[Permission.STATISTICS] if scoped_by_partnership(role)],
        partnership__authorities=authority,
    )
    if conflict is not None:
        members = members.exclude(partnership__authorities=conflict)
    return members


def home(user: User) -> str:
    """The URL name of each role's first page after signing in."""
    for permission, url_name in (
        (Permission.HELPLINE_WORK, "triage:home"),
        (Permission.REFERRAL_WORK, "referrals:referral_list"),
        (Permission.ADMINISTER, "triage:admin_authorities"),
        (Permission.STATISTICS, "oversight:statistics"),
    ):
        if may(user, permission):
            return url_name
    return "triage:home"
