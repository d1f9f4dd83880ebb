import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpline.settings")
application = get_wsgi_application()

if settings.PRODUCTION:
    from reports.checks import refuse_to_start_without_keys

    refuse_to_start_without_keys()
