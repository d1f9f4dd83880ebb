"""Invite a member of staff: a new account and a one-time link to set its password and authenticator.

The administration pages call the same service (accounts.services.staff_invite).
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from accounts import policy, services
from accounts.models import FORMER_ROLES, User, role_current
from directory.models import Partnership


class Command(BaseCommand):
    help = (
        "Create a staff account and print its one-time invitation link (valid for INVITATION_TTL_HOURS) and "
        "enrolment code. "
        "--scope: the GSS codes of an authority officer's authorities, or the name of a safeguarding "
        "partnership member's partnership (as set up on the administrators' partnerships page). "
        "--role board_reviewer, the role's former name, is still accepted and means partnership."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=[*User.Role.values, *FORMER_ROLES])
        parser.add_argument(
            "--scope", nargs="*", default=[], help="GSS codes (officers) or a partnership's name (partnerships)."
        )
        parser.add_argument("--email", default="", help="Where the staff member's alerts go.")

    def handle(self, *args: Any, **options: Any) -> None:
        role, scope = role_current(options["role"]), options["scope"]
        partnership = None
        if policy.scoped_by_partnership(role):
            name = " ".join(scope)
            partnership = Partnership.objects.filter(name__iexact=name).first()
            if partnership is None:
                raise CommandError(f"There is no safeguarding partnership called {name!r}.")
        try:
            issued = services.staff_invite(
                username=options["username"],
                email=options["email"],
                role=role,
                authority_codes=scope if policy.scoped_by_authorities(role) else (),
                partnership=partnership,
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
