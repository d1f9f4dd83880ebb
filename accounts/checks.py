from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, register
from django.db import DatabaseError

from accounts.models import User


@register(Tags.database)
def demo_users_refused_in_production(app_configs: Any, databases: Any = None, **kwargs: Any) -> list[CheckMessage]:
    if not settings.PRODUCTION or not databases:
        return []
    try:
        demo = User.objects.filter(is_demo=True, is_active=True).count()
    except DatabaseError:
        return []
    if demo:
        return [Error(f"{demo} demo users are active: production refuses them.", id="accounts.E001")]
    return []
