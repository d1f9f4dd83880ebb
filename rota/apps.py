from django.apps import AppConfig


class RotaConfig(AppConfig):
    """The on-call rota: who answers urgent pages outside office hours (and unclaimed urgent cases inside
    them), as primary and secondary, from when to when. Triage pages whoever it names (triage/paging.py);
    the start page promises an hour day and night only while it names someone."""

    name = "rota"
    verbose_name = "On-call rota"
