"""Demo staff accounts and demo cases for `make run`. Refused in production. Safe to run again."""

import hashlib
import json
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from accounts.models import SealedTOTPDevice, User
from accounts.services import totp_device_create
from directory import lookup
from directory.models import NationalBody, Partnership
from referrals.services import case_send_for_review
from reports.models import (
    AlreadyReported,
    Anonymity,
    ConcernType,
    PriorReportBy,
    PriorReportTo,
    RaisedInternally,
    Report,
    ReporterSector,
)
from reports.services import Contact, PriorReport, ReportInput, report_submit
from rota.models import Shift
from rota.services import shift_save
from triage.intake import report_route

DEMO_PASSWORD = "demo-password-change-me"  # noqa: S105 - demo only; production refuses demo users


def demo_totp_key(username: str) -> str:
    """A fixed authenticator key per demo user, so `manage.py demo_totp USER` can print the code."""
    return hashlib.sha1(f"demo-totp-{username}".encode(), usedforsecurity=False).hexdigest()


# Two safeguarding partnerships, as administrators set them up: one for a single authority (where the demo
# cases are) and one that covers two (as Pan-Dorset covers Bournemouth, Christchurch and Poole, and Dorset).
DEMO_PARTNERSHIPS = {
    "Rotherham Safeguarding Children Partnership": ["E08000018"],
    "Pan-Dorset Safeguarding Children Partnership": ["E06000058", "E06000059"],
}

# (username, role, email, authorities' GSS codes, safeguarding partnership)
DEMO_USERS = [
    ("handler", User.Role.CALL_HANDLER, "handler@helpline.localhost", [], ""),
    ("supervisor", User.Role.SUPERVISOR, "supervisor@helpline.localhost", [], ""),
    ("rotherham", User.Role.AUTHORITY_OFFICER, "lado@rotherham.localhost", ["E08000018"], ""),
    (
        "partnership",
        User.Role.PARTNERSHIP,
        "partnership@rotherham.localhost",
        [],
        "Rotherham Safeguarding Children Partnership",
    ),
    (
        "dorset",
        User.Role.PARTNERSHIP,
        "partnership@dorset.localhost",
        [],
        "Pan-Dorset Safeguarding Children Partnership",
    ),
    ("oversight", User.Role.OVERSIGHT_ANALYST, "oversight@helpline.localhost", [], ""),
    ("admin", User.Role.ADMINISTRATOR, "admin@helpline.localhost", [], ""),
    ("reviewer", User.Role.NATIONAL_REVIEWER, "reviewer@review.localhost", [], ""),
]

DEMO_REPORTS = [
    ReportInput(
        anonymity=Anonymity.ANONYMOUS,
        reporter_sector=ReporterSector.CHILDRENS_SOCIAL_CARE,
        concern_types=(ConcernType.CONCERN_NOT_ACTED_ON, ConcernType.VICTIM_DISBELIEVED_OR_BLAMED),
        local_authority=None,
        about_authority=None,
        organisation_name="Demo Children's Home",
        summary="Demo: repeated missing-from-care episodes not acted on",
        details="Demo case. A girl in placement has gone missing repeatedly; managers call it a lifestyle choice.",
        child_at_immediate_risk=False,
        raised_internally=RaisedInternally.YES,
        internal_response="Demo: told to stop raising it.",
    ),
    ReportInput(
        anonymity=Anonymity.CONFIDENTIAL,
        reporter_sector=ReporterSector.EDUCATION,
        concern_types=(ConcernType.KNOWN_RISK_PERSON_WITH_ACCESS,),
        local_authority=None,
        about_authority=None,
        organisation_name="Demo Academy",
        summary="Demo: adult known to police collecting pupils",
        details="Demo case. An adult known to police is collecting pupils from school and nobody has acted.",
        child_at_immediate_risk=True,
        raised_internally=RaisedInternally.NO,
        internal_response="",
        contact=Contact(name="Demo Reporter", email="demo.reporter@example.com"),
    ),
    ReportInput(
        anonymity=Anonymity.ANONYMOUS,
        reporter_sector=ReporterSector.HEALTH,
        concern_types=(ConcernType.PREVENTED_FROM_REPORTING, ConcernType.ACTION_AVOIDED_OVER_COMMUNITY_CONCERNS),
        local_authority=None,
        about_authority=None,
        organisation_name="Demo Health Centre",
        summary="Demo: told not to report a suspicion of abuse to the council",
        details="Demo case. A practice manager told a nurse not to tell children's services, for fear of a row.",
        child_at_immediate_risk=False,
        raised_internally=RaisedInternally.YES,
        internal_response="Demo: told it would cause trouble with the community.",
        already_reported=PriorReport(
            answer=AlreadyReported.YES,
            by=PriorReportBy.SOMEONE_ELSE,
            to=PriorReportTo.POLICE,
            on="2026-03-02",
            reference="DEMO-0001",
        ),
    ),
]


# Rotherham and Sheffield: drama-range numbers for the demo (directory.phones.DRAMA_PREFIX).
DEMO_PHONES = {
    "E08000018": ("01632 960001", "01632 960002"),
    "E08000039": ("01632 960003", "01632 960004"),
}


class Command(BaseCommand):
    help = "Create demo staff accounts and demo cases (development only), then print the logins."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--print-only", action="store_true", help="Only print the demo logins.")

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError("Demo users and cases are refused in production.")
        if not options["print_only"]:
            self._users()
            self._rota()
            self._reports()
        if options["verbosity"] > 0:
            self._print()

    def _partnerships(self) -> dict[str, Partnership]:
        made = {}
        for name, codes in DEMO_PARTNERSHIPS.items():
            partnership, _ = Partnership.objects.get_or_create(name=name)
            partnership.authorities.set([a for a in (lookup.authority_by_code(c) for c in codes) if a])
            made[name] = partnership
        return made

    def _users(self) -> None:
        partnerships = self._partnerships()
        for username, role, email, codes, partnership in DEMO_USERS:
            user, created = User.objects.get_or_create(
                username=username,
                defaults={"role": role, "email": email, "is_demo": True, "partnership": partnerships.get(partnership)},
            )
            if partnership and user.partnership != partnerships[partnership]:
                user.partnership = partnerships[partnership]  # a demo account from before partnerships
                user.save(update_fields=["partnership"])
            if created:
                user.set_password(DEMO_PASSWORD)
                user.save(update_fields=["password"])
            if codes:
                user.authorities.set([a for a in (lookup.authority_by_code(c) for c in codes) if a])
            if not SealedTOTPDevice.objects.filter(user=user, name="Demo authenticator").exists():
                secret = bytes.fromhex(demo_totp_key(username))
                totp_device_create(user=user, name="Demo authenticator", confirmed=True, secret=secret)

    def _rota(self) -> None:
        """A week of cover from today: the demo handler primary for six days, the supervisor secondary for
        seven, so the rota shows its last day's gap in red. Numbers from Ofcom's drama range (07700 900xxx)."""
        if Shift.objects.exists():
            return
        handler, supervisor = (User.objects.filter(username=name).first() for name in ("handler", "supervisor"))
        if handler is None or supervisor is None:
            return
        today = datetime.combine(timezone.localdate(), time(0, 0), tzinfo=timezone.get_current_timezone())
        for person, role, days, phone in (
            (handler, Shift.Role.PRIMARY, 6, "07700 900101"),
            (supervisor, Shift.Role.SECONDARY, 7, "07700 900102"),
        ):
            shift_save(
                shift=None,
                person=person,
                role=role,
                starts_at=today,
                ends_at=today + timedelta(days=days),
                phone=phone,
                handover_note="",
                acting_user=supervisor,
            )

    def _reports_file(self) -> Path:
        return Path(settings.BASE_DIR) / "var" / "demo-reports.json"

    def _reports(self) -> None:
        path = self._reports_file()
        if path.exists() and Report.objects.exists():
            return
        rotherham = lookup.authority_by_code("E08000018")
        if rotherham is not None and not rotherham.referral_email:
            rotherham.referral_email = "referrals@rotherham.localhost"
            rotherham.save(update_fields=["referral_email"])
        # Demo telephone numbers only from Ofcom's drama range (01632 960xxx), which reaches nobody: never a
        # real council's number. Other authorities keep none, and pages show 999, 101 and GOV.UK instead.
        for code, (front_door, duty) in DEMO_PHONES.items():
            authority = lookup.authority_by_code(code)
            if authority is not None and not (authority.childrens_services_contact or authority.emergency_duty_phone):
                authority.childrens_services_contact, authority.emergency_duty_phone = front_door, duty
                authority.save(update_fields=["childrens_services_contact", "emergency_duty_phone"])
        NationalBody.objects.filter(kind=NationalBody.Kind.REVIEW_TEAM, contact_email="").update(
            contact_email="review-team@review.localhost"
        )
        created = []
        cases = []
        for template in DEMO_REPORTS:
            data = ReportInput(**{**template.__dict__, "local_authority": rotherham})
            submitted = report_submit(data=data)
            cases.append(report_route(report_id=submitted.report.pk))
            created.append({"reference": submitted.report.reference, "access_code": submitted.access_code})
        # One case under independent national review, for the demo reviewer.
        supervisor = User.objects.filter(username="supervisor").first()
        if cases and supervisor is not None:
            case_send_for_review(
                case=cases[-1],
                reason="Demo: the concern is about the council's own children's services, so it cannot go to them.",
                acting_user=supervisor,
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(created, indent=2))
        path.chmod(0o600)

    def _print(self) -> None:
        self.stdout.write(f"Demo staff logins at {settings.STAFF_SITE_URL}/staff/ (password for all: {DEMO_PASSWORD}).")
        self.stdout.write("Each needs a security code: `.venv/bin/python manage.py demo_totp USERNAME` prints it.")
        for username, role, email, _codes, partnership in DEMO_USERS:
            self.stdout.write(f"  {username:<11} {role.label:<32} {email}{f'  ({partnership})' if partnership else ''}")
        path = self._reports_file()
        if path.exists():
            self.stdout.write("Demo reports you can check at /check (reference / access code):")
            for item in json.loads(path.read_text()):
                self.stdout.write(f"  {item['reference']}  {item['access_code']}")
