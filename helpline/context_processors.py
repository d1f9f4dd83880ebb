from django.conf import settings
from django.http import HttpRequest


def service(request: HttpRequest) -> dict[str, object]:
    return {
        "service_name": "Report a concern about child sexual exploitation practice",
        "helpline_role": settings.HELPLINE_ROLE,
    }
