"""Invite a member of staff: a new account and a one-time link to set its password and authenticator.

The administration pages call the same service (accounts.services.staff_invite).
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from accounts import policy, services
from accounts.models import User


class Command(BaseCommand):
    help = (
        "Create a staff account and print its one-time invitation link (valid for INVITATION_TTL_HOURS) and "
        "enrolment code. "
        "--scope: the GSS codes of an authority officer's authorities, or a board reviewer's region."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=User.Role.values)
        parser.add_argument("--scope", nargs="*", default=[], help="GSS codes (officers) or a region (boards).")
        parser.add_argument("--email", default="", help="Where the staff member's alerts go.")

    def handle(self, *args: Any, **options: Any) -> None:
        role, scope = options["role"], options["scope"]
        try:
            issued = services.staff_invite(
                username=options["username"],
                email=options["email"],
                role=role,
                authority_codes=scope if policy.scoped_by_authorities(role) else (),
                area=" ".join(scope) if policy.scoped_by_area(role) else "",
                acting_user=None,
            )
        except services.InvitationRefused as refused:
            raise CommandError(str(refused)) from refused
        until = timezone.localtime(issued.invitation.expires_at)
        self.stdout.write(f"Invitation for {issued.invitation.user.username}, valid until {until:%d %b %Y %H:%M}:")
        self.stdout.write(issued.link)
        self.stdout.write(f"Enrolment code: {issued.enrolment_code}")
        self.stdout.write(
            "The link is emailed to them when they have an address; give them the code by phone or in person, "
            "separately. The link works once, with the code. Neither is shown again."
        )
