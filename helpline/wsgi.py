import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpline.settings")
django_application = get_wsgi_application()

from helpline.errors import LastResortErrorPage  # noqa: E402 - needs the settings configured above

application = LastResortErrorPage(django_application)

if settings.PRODUCTION:
    from reports.checks import refuse_to_start_without_keys

    refuse_to_start_without_keys()
