"""accounts.policy against a hand-written table of who may do what: docs/overview.md's role table in code. The
view-access tests (tests/test_view_access.py) check every URL against the same table, so a page guarded by
the wrong permission and a permission given to the wrong role both fail."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied

from accounts import policy
from accounts.models import User
from accounts.policy import Permission
from referrals.models import Referral
from tests.factories import (
    ROTHERHAM,
    SHEFFIELD,
    authority,
    partnership_make,
    partnership_of_region,
    referral_make,
    routed_case,
    staff_user,
)
from triage.models import Case

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities")]

R = User.Role
P = Permission

# Written by hand from the role table of docs/overview.md, never computed from policy.RULES.
EXPECTED: dict[Permission, set[str]] = {
    P.HELPLINE_WORK: {R.CALL_HANDLER, R.SUPERVISOR},
    P.REOPEN_CASE: {R.SUPERVISOR},
    P.CASE_ACCESS_HISTORY: {R.SUPERVISOR},
    P.AUTHORITY_WORK: {R.AUTHORITY_OFFICER},
    P.NATIONAL_REVIEW: {R.NATIONAL_REVIEWER},
    P.REFERRAL_WORK: {R.AUTHORITY_OFFICER, R.NATIONAL_REVIEWER},
    P.ADMINISTER: {R.ADMINISTRATOR},
    P.SERVICE_HEALTH: {R.SUPERVISOR, R.ADMINISTRATOR},
    P.STATISTICS: {R.PARTNERSHIP, R.OVERSIGHT_ANALYST, R.SUPERVISOR},
    P.NATIONAL_STATISTICS: {R.OVERSIGHT_ANALYST, R.SUPERVISOR},
    P.PATTERN_ALERTS: {R.OVERSIGHT_ANALYST, R.SUPERVISOR},
    P.OPEN_REVIEW_CASE: {R.OVERSIGHT_ANALYST, R.SUPERVISOR},
    P.TOLD_OF_ESCALATIONS: {R.SUPERVISOR},
    P.TOLD_OF_OVERSIGHT_ALERTS: {R.OVERSIGHT_ANALYST},
    # Files: the helpline all of a case's, an officer or reviewer only those shared with their referral.
    P.CASE_FILES: {R.CALL_HANDLER, R.SUPERVISOR, R.AUTHORITY_OFFICER, R.NATIONAL_REVIEWER},
    P.DELETE_CASE_FILE: {R.SUPERVISOR},
    # Evidence export: supervisors only (and a second supervisor approves).
    P.EVIDENCE_EXPORT: {R.SUPERVISOR},
    # Legal hold: placed, reviewed and released by supervisors, reviewed and released by administrators too
    # (from the list of held cases: case numbers and dates, never content).
    P.LEGAL_HOLD: {R.SUPERVISOR, R.ADMINISTRATOR},
    P.DESTRUCTION_DUE: {R.SUPERVISOR},
    P.DESTROY_EARLY: {R.SUPERVISOR},
    # A reporter's contact details: hidden by default, shown to the helpline with a reason; never revealed by a
    # recipient, a partnership, oversight or an administrator (a recipient sees only a sharing for its referral).
    P.REVEAL_CONTACT: {R.CALL_HANDLER, R.SUPERVISOR},
    # Identity shared under a legal duty: proposed by one supervisor, approved by another.
    P.IDENTITY_LEGAL_DUTY: {R.SUPERVISOR},
    # Bulk triage from the case list (a flood of reports): supervisors only.
    P.BULK_TRIAGE: {R.SUPERVISOR},
    # The on-call rota: kept by supervisors (issue 28).
    P.MANAGE_ROTA: {R.SUPERVISOR},
}


def test_the_table_covers_every_permission() -> None:
    assert set(EXPECTED) == set(Permission)


@pytest.mark.parametrize("permission", list(Permission), ids=str)
@pytest.mark.parametrize("role", [role for role, _ in R.choices])
def test_each_role_may_exactly_what_the_table_says(role: str, permission: Permission) -> None:
    user = staff_user(f"policy-{role}", role=role, partnership=partnership_of_region("Yorkshire and The Humber"))
    assert policy.may(user, permission) is (role in EXPECTED[permission])


@pytest.mark.parametrize("permission", list(Permission), ids=str)
def test_a_disabled_account_or_a_visitor_may_do_nothing(permission: Permission) -> None:
    disabled = staff_user("policy-disabled", role=R.SUPERVISOR, is_active=False)
    assert not policy.may(disabled, permission)
    assert not policy.may(AnonymousUser(), permission)
    assert not policy.may(None, permission)


def test_a_partnership_member_without_a_partnership_sees_no_statistics() -> None:
    member = staff_user("policy-no-partnership", role=R.PARTNERSHIP)
    assert not policy.may(member, P.STATISTICS)
    with pytest.raises(PermissionDenied):
        policy.statistics_partnership(member)


def test_statistics_are_national_for_oversight_and_supervisors_and_a_partnerships_for_its_members() -> None:
    assert policy.statistics_partnership(staff_user("policy-sup", role=R.SUPERVISOR)) is None
    assert policy.statistics_partnership(staff_user("policy-oa", role=R.OVERSIGHT_ANALYST)) is None
    pan_dorset = partnership_make("Pan-Dorset", "E06000058", "E06000059")
    member = staff_user("policy-member", role=R.PARTNERSHIP, partnership=pan_dorset)
    assert policy.statistics_partnership(member) == pan_dorset
    for role in (R.CALL_HANDLER, R.AUTHORITY_OFFICER, R.ADMINISTRATOR):
        with pytest.raises(PermissionDenied):
            policy.statistics_partnership(staff_user(f"policy-stats-{role}", role=role, partnership=pan_dorset))


def test_only_an_officer_is_scoped_by_authorities_and_only_a_partnership_member_by_partnership() -> None:
    assert [role for role, _ in R.choices if policy.scoped_by_authorities(role)] == [R.AUTHORITY_OFFICER]
    assert [role for role, _ in R.choices if policy.scoped_by_partnership(role)] == [R.PARTNERSHIP]


def test_the_partnerships_told_about_an_authority_are_those_that_cover_it() -> None:
    pan_dorset = partnership_make("Pan-Dorset", "E06000058", "E06000059")
    rotherham = partnership_make("Rotherham", "E08000018")
    dorset_member = staff_user("policy-dorset", role=R.PARTNERSHIP, partnership=pan_dorset)
    staff_user("policy-rotherham", role=R.PARTNERSHIP, partnership=rotherham)
    staff_user("policy-dorset-left", role=R.PARTNERSHIP, partnership=pan_dorset, is_active=False)
    staff_user("policy-dorset-analyst", role=R.OVERSIGHT_ANALYST, partnership=pan_dorset)
    for code in ("E06000058", "E06000059"):
        assert list(policy.partnership_audience(authority(code))) == [dorset_member]
    assert not policy.partnership_audience(authority("E06000052")).exists()  # Cornwall: nobody's here
    # A concern about one of its own councils is never told to that partnership.
    assert not policy.partnership_audience(authority("E06000058"), conflict=authority("E06000059")).exists()


def test_each_role_starts_on_its_own_page() -> None:
    expected = {
        R.CALL_HANDLER: "triage:home",
        R.SUPERVISOR: "triage:home",
        R.AUTHORITY_OFFICER: "referrals:referral_list",
        R.ADMINISTRATOR: "triage:admin_authorities",
        R.PARTNERSHIP: "oversight:statistics",
        R.OVERSIGHT_ANALYST: "oversight:statistics",
        R.NATIONAL_REVIEWER: "referrals:referral_list",
    }
    for role, url_name in expected.items():
        assert (
            policy.home(
                staff_user(f"policy-home-{role}", role=role, partnership=partnership_make("London", "E09000001"))
            )
            == url_name
        ), role


def test_a_refusal_says_why_to_helpline_staff_and_only_that_it_is_the_helplines_to_others() -> None:
    handler = staff_user("policy-handler", role=R.CALL_HANDLER)
    officer = staff_user("policy-officer", role=R.AUTHORITY_OFFICER)
    assert policy.refusal(handler, P.REOPEN_CASE) == "Only a supervisor can reopen a closed case."
    assert policy.refusal(officer, P.REOPEN_CASE) == "Only helpline staff can act on a case."


def test_holders_are_the_active_accounts_of_the_permitted_roles() -> None:
    supervisor = staff_user("policy-holder-sup", role=R.SUPERVISOR)
    staff_user("policy-holder-gone", role=R.SUPERVISOR, is_active=False)
    staff_user("policy-holder-handler", role=R.CALL_HANDLER)
    assert list(policy.holders(P.TOLD_OF_ESCALATIONS)) == [supervisor]


def test_an_officer_sees_only_referrals_to_their_own_authorities_and_never_about_their_own_council() -> None:
    rotherham, sheffield = authority(ROTHERHAM), authority(SHEFFIELD)
    officer = staff_user("policy-rotherham", role=R.AUTHORITY_OFFICER)
    officer.authorities.add(rotherham)
    placed = routed_case(local_authority=authority(SHEFFIELD))
    to_rotherham = referral_make(placed, authority=rotherham)
    to_sheffield = referral_make(placed, authority=sheffield)
    about_rotherham = routed_case(local_authority=authority(SHEFFIELD))
    Case.objects.filter(pk=about_rotherham.pk).update(conflict_authority=rotherham, independent_review=True)
    hidden = referral_make(about_rotherham, authority=rotherham)
    reviewed = referral_make(routed_case(), authority=rotherham)
    Case.objects.filter(pk=reviewed.case_id).update(independent_review=True)

    referrals, cases = policy.referral_scope(officer), policy.case_scope(officer)
    assert referrals is not None and cases is not None
    assert set(Referral.objects.filter(referrals)) == {to_rotherham}
    assert {hidden, to_sheffield, reviewed}.isdisjoint(Referral.objects.filter(referrals))
    assert set(Case.objects.filter(cases).distinct()) == {placed}


@pytest.mark.parametrize("role", [R.CALL_HANDLER, R.SUPERVISOR])
def test_the_helpline_sees_every_referral(role: str) -> None:
    assert policy.referral_scope(staff_user(f"policy-all-{role}", role=role)) is None
    assert policy.case_scope(staff_user(f"policy-all-{role}", role=role)) is None


@pytest.mark.parametrize("role", [R.PARTNERSHIP, R.OVERSIGHT_ANALYST, R.ADMINISTRATOR])
def test_partnership_oversight_and_administrators_see_no_referral_or_case(role: str) -> None:
    referral_make(routed_case())
    user = staff_user(f"policy-none-{role}", role=role, partnership=partnership_of_region("Yorkshire and The Humber"))
    referrals, cases = policy.referral_scope(user), policy.case_scope(user)
    assert referrals is not None and cases is not None
    assert Referral.objects.exists() and not Referral.objects.filter(referrals).exists()
    assert Case.objects.exists() and not Case.objects.filter(cases).exists()


# A role compared anywhere but the policy: `user.role == ...`, `role in (Role.X, ...)`, `role=User.Role.X` in a
# query, `{% if user.role ... %}` in a template. Naming a role to create an account or describe one is fine.
ROLE_COMPARED = re.compile(
    r"\.role\s*(==|!=|\bin\b|\bnot in\b)"
    r"|(==|!=|\bin\b)\s*[(\[{]?\s*(User\.)?Role\.(?!values|choices|labels)"
    r"|role(__in)?\s*=\s*[(\[]?\s*(User\.)?Role\."
)
APPS = (
    "accounts",
    "audit",
    "core",
    "directory",
    "helpline",
    "notify",
    "outbox",
    "oversight",
    "referrals",
    "reports",
    "triage",
)


def test_nothing_but_the_policy_compares_roles() -> None:
    root = Path(__file__).resolve().parents[2]
    sources = [path for app in APPS for path in (root / app).rglob("*.py") if "migrations" not in path.parts]
    templates = list((root / "templates").rglob("*.html"))
    found = [
        f"{path.relative_to(root)}:{number}"
        for path in sources + templates
        if path != root / "accounts" / "policy.py"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if ROLE_COMPARED.search(line) or (path.suffix == ".html" and "user.role" in line)
    ]
    assert found == [], "Ask accounts.policy instead of comparing roles"


def test_the_role_check_finds_a_comparison() -> None:
    for line in (
        "if user.role == User.Role.SUPERVISOR:",
        "role in (User.Role.A, User.Role.B)",
        "filter(role=User.Role.X)",
        "filter(role__in=[User.Role.X])",
        "if acting_user.role != 'x'",
    ):
        assert ROLE_COMPARED.search(line), line
    assert not ROLE_COMPARED.search('User.Role.AUTHORITY_OFFICER: "Sees referrals",')
    assert not ROLE_COMPARED.search("if role not in User.Role.values:")
