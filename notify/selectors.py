"""Reads of notifications, for the app that owns their subject (the case page lists its emails)."""

from collections.abc import Iterable

from django.db.models import Q, QuerySet

from notify.models import Notification


def notifications_about(*, subjects: Iterable[tuple[str, int]]) -> QuerySet[Notification]:
    """The notifications about any of ``subjects`` (each a kind and an id)."""
    about = Q(pk__in=[])
    for kind, subject_id in subjects:
        about |= Q(subject_kind=kind, subject_id=subject_id)
    return Notification.objects.filter(about)
