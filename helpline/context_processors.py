from django.conf import settings
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from core.flood import flood_state

PUBLIC_SERVICE_NAME = "Report a concern about child sexual exploitation practice"
STAFF_SERVICE_NAME = "Helpline workspace"
# The staff side's name where whose workspace it is is not known: before signing in (whoever signs in), and on
# an error page (rendered without the request, helpline.errors).
STAFF_SIDE_SERVICE_NAME = "Staff services"
# Each staff role's own name for the part of the service it uses, in the header and the page titles: an
# authority officer or a safeguarding partnership member is not working in the helpline's workspace.
STAFF_SERVICE_NAMES = {
    "authority_officer": "Local authority referrals",
    "national_reviewer": "Independent national review",
    "partnership": "Safeguarding statistics",
    "oversight_analyst": "National oversight",
    "administrator": "Service administration",
}


def service(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    role = getattr(user, "role", "") if user is not None and user.is_authenticated else ""
    return {
        "service_name": PUBLIC_SERVICE_NAME,
        "staff_service_name": STAFF_SERVICE_NAMES.get(role, STAFF_SERVICE_NAME) if role else STAFF_SIDE_SERVICE_NAME,
        "helpline_role": settings.HELPLINE_ROLE,
        "helpline_phone": settings.HELPLINE_PHONE,
        "helpline_hours": settings.HELPLINE_HOURS,
    }


def flood(request: HttpRequest) -> dict[str, object]:
    """``flood`` in every template: whether a flood of reports is under way and about how many arrived in the
    last 10 minutes (rounded to tens: core.flood). Lazy, so Redis is asked only where a page shows the banner
    (the helpline workspace, to those who work it: templates/staff/flood_banner.html)."""
    return {"flood": SimpleLazyObject(flood_state)}
