from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    """A member of staff. Reporters never have accounts."""

    class Role(models.TextChoices):
        CALL_HANDLER = "call_handler", "Helpline call handler"
        SUPERVISOR = "supervisor", "Helpline supervisor"
        AUTHORITY_OFFICER = "authority_officer", "Local authority officer"
        BOARD_REVIEWER = "board_reviewer", "Safeguarding board reviewer"
        OVERSIGHT_ANALYST = "oversight_analyst", "National oversight analyst"
        ADMINISTRATOR = "administrator", "Administrator"

    role = models.CharField(max_length=32, choices=Role.choices, default=Role.CALL_HANDLER)
    # Local authority officers: the authorities whose referrals they handle.
    authorities = models.ManyToManyField("directory.LocalAuthority", blank=True, related_name="officers")
    # Board reviewers: the region (as in the authority directory) their partnership covers.
    area = models.CharField(max_length=64, blank=True)
    is_demo = models.BooleanField(default=False, help_text="Created by make run; refused in production.")

    def is_verified(self) -> bool:
        """Whether this session passed the second factor. django-otp's middleware replaces this on each
        request's user; a user it never saw (an API token, a script) is not verified."""
        return False

    @property
    def is_helpline(self) -> bool:
        return self.role in {self.Role.CALL_HANDLER, self.Role.SUPERVISOR}

    @property
    def is_supervisor(self) -> bool:
        return self.role == self.Role.SUPERVISOR
