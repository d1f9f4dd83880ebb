from django.conf import settings
from django.http import HttpRequest

PUBLIC_SERVICE_NAME = "Report a concern about child sexual exploitation practice"
STAFF_SERVICE_NAME = "Helpline workspace"


def service(request: HttpRequest) -> dict[str, object]:
    return {
        "service_name": PUBLIC_SERVICE_NAME,
        "staff_service_name": STAFF_SERVICE_NAME,
        "helpline_role": settings.HELPLINE_ROLE,
        "helpline_phone": settings.HELPLINE_PHONE,
        "helpline_hours": settings.HELPLINE_HOURS,
    }
