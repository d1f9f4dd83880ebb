"""The portal's settings, with the bench urlconf (the app's URLs plus the floor view)."""

from helpline.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
WSGI_APPLICATION = "bench.wsgi.application"
