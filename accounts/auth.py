from typing import Any

from django.conf import settings
from django.contrib.auth.backends import ModelBackend


class StaffBackend(ModelBackend):
    """Username and password for staff; demo accounts never authenticate in production."""

    def user_can_authenticate(self, user: Any) -> bool:
        if settings.PRODUCTION and getattr(user, "is_demo", False):
            return False
        return super().user_can_authenticate(user)
