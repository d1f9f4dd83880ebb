"""WSGI entry point for the benchmark: the portal with the floor view mounted.

Run as `gunicorn -c gunicorn.conf.py bench.wsgi:application` from the project root: the command-line
app overrides `wsgi_app` in gunicorn.conf.py.
"""

import os

from django.core.wsgi import get_wsgi_application

# Not setdefault: an inherited DJANGO_SETTINGS_MODULE=helpline.settings would hide the floor.
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
application = get_wsgi_application()
