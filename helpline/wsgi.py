import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpline.settings")
application = get_wsgi_application()

from reports.checks import refuse_to_start_without_keys  # noqa: E402 - needs the app loaded

refuse_to_start_without_keys()
