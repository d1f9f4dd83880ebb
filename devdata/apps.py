from django.apps import AppConfig


class DevdataConfig(AppConfig):
    """Commands that fill a development or benchmark database: seed_demo, demo_totp and seed_cases. Each
    also refuses to run in production, should the app ever be installed there by mistake."""

    name = "devdata"
    verbose_name = "Development data"
