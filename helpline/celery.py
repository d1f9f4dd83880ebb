"""The Celery application: Redis broker, ids-only JSON messages, no results, late acks. Its settings,
the beat schedule included, are the CELERY_* names in helpline/settings.py."""

import os

from celery import Celery
from celery.signals import worker_init

# Where the settings are, before anything reads them (as manage.py and wsgi.py do).
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpline.settings")

app = Celery("helpline")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
def refuse_to_start_without_keys(**kwargs: object) -> None:
    # Imported once the worker starts: Django is set up by then, and not yet when this module is imported.
    from django.conf import settings

    from reports.checks import refuse_to_start_without_keys as check

    if settings.PRODUCTION:
        check()
